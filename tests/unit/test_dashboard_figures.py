"""The dashboards' figures on small hand-made data: periods and their comparisons (环比, 同比),
coverage, visit-frequency compliance, visits per rep per day, time in store, the charts' buckets."""
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from field.home import charts, dashboards as dash
from field.home.dashboards import Figure, Period
from tests.factories import make_store, make_visit

SH = ZoneInfo("Asia/Shanghai")
WEEK = Period("week", date(2026, 3, 2), date(2026, 3, 8))   # Monday to Sunday


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH).astimezone(timezone.utc)


# --- periods ------------------------------------------------------------------------------------

def test_a_month_to_date_compares_with_as_many_days_of_last_month_and_of_last_year():
    p = dash.period_for("month", None, date(2026, 3, 31))
    assert (p.start, p.end, p.days) == (date(2026, 3, 1), date(2026, 3, 31), 31)
    assert (p.previous().start, p.previous().end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (p.last_year().start, p.last_year().end) == (date(2025, 3, 1), date(2025, 3, 31))
    mid = dash.period_for("month", None, date(2026, 3, 12))
    assert (mid.end, mid.previous().end, mid.last_year().end) == (date(2026, 3, 12), date(2026, 2, 12),
                                                                  date(2025, 3, 12))


def test_a_week_starts_on_monday_and_last_year_is_the_same_weekdays():
    p = dash.period_for("week", date(2026, 3, 5), date(2026, 12, 31))
    assert (p.start, p.end) == (WEEK.start, WEEK.end)
    assert p.previous().start == date(2026, 2, 23)
    ly = p.last_year()
    assert ly.start.weekday() == 0 and ly.start == date(2025, 3, 3)


def test_a_period_never_reaches_past_today_and_a_bad_kind_is_a_month():
    p = dash.period_for("decade", date(2027, 1, 1), date(2026, 3, 12))
    assert (p.kind, p.start, p.end) == ("month", date(2026, 3, 1), date(2026, 3, 12))


def test_deltas_are_differences_with_the_previous_period_and_last_year():
    f = Figure(Fraction(3, 4), Fraction(1, 2), Fraction(4, 5))
    assert f.mom == Fraction(1, 4) and f.yoy == Fraction(-1, 20)
    assert Figure(Fraction(1), None, None).mom is None and Figure(None, Fraction(1)).mom is None


# --- coverage and frequency ------------------------------------------------------------------------

@pytest.fixture
def stores(org):
    """The rep's four stores, one per tier, and the west rep's A (out of the east manager's scope)."""
    a = make_store(rep=org.rep, tier="A", channel="ka")          # every 7 days
    b = make_store(rep=org.rep, tier="B", channel="ka")          # every 14 days
    c = make_store(rep=org.rep, tier="C", channel="supermarket")  # every 30 days
    d = make_store(rep=org.rep, tier="D", channel="supermarket")  # every 90 days
    west = make_store(rep=org.west_rep, tier="A", channel="ka")
    return a, b, c, d, west


def test_coverage_counts_due_stores_visited_in_the_period(org, stores):
    a, b, c, d, west = stores
    make_visit(org.rep, a, at=at(date(2026, 3, 3)), minutes=20)     # A: visited in the week
    make_visit(org.rep, c, at=at(date(2026, 2, 1)), minutes=20)     # C: last 1 Feb + 30 days ≤ 8 Mar: due, not visited
    make_visit(org.rep, d, at=at(date(2026, 2, 20)), minutes=20)    # D: 20 Feb + 90 days: not due
    # B was never visited: due.
    make_visit(org.west_rep, west, at=at(date(2026, 3, 3)), minutes=20)  # out of scope
    cov = dash.coverage(org.manager, [WEEK], SH)
    total = cov.total
    assert (total.stores, total.due[0], total.visited[0]) == (4, 3, 1)
    assert total.coverage.value == Fraction(1, 3)
    tiers = cov.by_tier
    assert (tiers["A"].due[0], tiers["A"].visited[0]) == (1, 1)
    assert (tiers["B"].due[0], tiers["B"].visited[0]) == (1, 0)
    assert (tiers["D"].due[0], tiers["D"].stores) == (0, 1) and tiers["D"].coverage.value is None
    assert set(cov.by_channel) == {"ka", "supermarket"}
    assert cov.by_channel["ka"].coverage.value == Fraction(1, 2)
    # The admin sees the west store too.
    assert dash.coverage(org.admin, [WEEK], SH).total.stores == 5


def test_frequency_compliance_is_the_share_of_stores_visited_within_their_frequency_at_the_end(org, stores):
    a, b, c, d, _west = stores
    make_visit(org.rep, a, at=at(date(2026, 3, 2)), minutes=20)   # within 7 days of the end (9 Mar 00:00): on
    make_visit(org.rep, b, at=at(date(2026, 2, 20)), minutes=20)  # 14-day frequency: 16 days ago, off
    make_visit(org.rep, c, at=at(date(2026, 2, 10)), minutes=20)  # 30 days: on
    d.visit_every_days = 10                                          # its own frequency wins over the tier's
    make_visit(org.rep, d, at=at(date(2026, 2, 20)), minutes=20)  # 10 days: off
    total = dash.coverage(org.manager, [WEEK], SH).total
    assert total.on_schedule[0] == 2 and total.schedule.value == Fraction(1, 2)


def test_coverage_of_the_previous_period_and_last_year_side_by_side(org, stores):
    a, *_rest = stores
    make_visit(org.rep, a, at=at(date(2026, 3, 4)), minutes=20)
    make_visit(org.rep, a, at=at(date(2025, 3, 4)), minutes=20)     # last year, same week
    periods = [WEEK, WEEK.previous(), WEEK.last_year()]
    tier_a = dash.coverage(org.manager, periods, SH).by_tier["A"]
    assert tier_a.visited == [1, 0, 1]
    assert tier_a.coverage.value == 1 and tier_a.coverage.mom == 1 and tier_a.coverage.yoy == 0


def test_planned_and_cancelled_visits_do_not_cover_a_store(org, stores):
    a, *_rest = stores
    make_visit(org.rep, a, planned_for=date(2026, 3, 4))
    make_visit(org.rep, a, at=at(date(2026, 3, 4)), status="cancelled")
    assert dash.coverage(org.manager, [WEEK], SH).by_tier["A"].visited[0] == 0


# --- visits per rep per day and time in store ----------------------------------------------------

def test_visits_per_rep_per_day_count_days_worked_and_time_in_store_averages_visits(org, stores):
    a, b, c, d, west = stores
    monday, tuesday = date(2026, 3, 2), date(2026, 3, 3)
    make_visit(org.rep, a, at=at(monday, 9), minutes=10)
    make_visit(org.rep, b, at=at(monday, 11), minutes=20)
    make_visit(org.rep, c, at=at(monday, 14), minutes=30)
    make_visit(org.rep, d, at=at(tuesday, 9), minutes=40)
    make_visit(org.rep, a, at=at(tuesday, 12))                     # in progress: not counted
    make_visit(org.west_rep, west, at=at(monday), minutes=60)      # out of scope
    found = dash.productivity(org.manager, [WEEK], SH)
    (line,) = found.reps
    assert (line.rep_id, line.visits, line.days) == (org.rep.id, 4, 2)
    assert line.per_day == 2 and found.per_day.value == 2
    assert line.minutes == 25 and found.minutes.value == 25
    assert found.in_band.value == Fraction(2, 4)                    # 20 and 30 minutes lie in 16–37


def test_a_local_day_is_the_company_calendar_day_not_utc(org, stores):
    a, *_rest = stores
    # 07:00 and 23:30 in Shanghai on the same day straddle midnight UTC: one day worked.
    make_visit(org.rep, a, at=at(date(2026, 3, 4), 7), minutes=20)
    make_visit(org.rep, a, at=datetime(2026, 3, 4, 23, 30, tzinfo=SH).astimezone(timezone.utc), minutes=20)
    (line,) = dash.productivity(org.manager, [WEEK], SH).reps
    assert line.days == 1 and line.per_day == 2


def test_productivity_compares_periods(org, stores):
    a, *_rest = stores
    make_visit(org.rep, a, at=at(date(2026, 3, 4)), minutes=20)
    make_visit(org.rep, a, at=at(date(2026, 2, 25)), minutes=20)
    make_visit(org.rep, a, at=at(date(2026, 2, 25), 12), minutes=40)
    found = dash.productivity(org.manager, [WEEK, WEEK.previous(), WEEK.last_year()], SH)
    assert found.per_day.value == 1 and found.per_day.previous == 2 and found.per_day.mom == -1
    assert found.minutes.previous == 30 and found.per_day.last_year is None


# --- the team's week ---------------------------------------------------------------------------------

def test_team_week_counts_done_and_open_visits_per_rep_per_day(org, stores):
    a, b, *_rest = stores
    make_visit(org.rep, a, at=at(date(2026, 3, 3)), minutes=30)
    make_visit(org.rep, b, planned_for=date(2026, 3, 3))
    make_visit(org.teammate, make_store(rep=org.teammate), planned_for=date(2026, 3, 5))
    week = dash.team_week(org.supervisor, [org.rep, org.teammate], WEEK.start, SH)
    tuesday = week.cells[org.rep.id][1]
    assert (tuesday.completed, tuesday.open, round(tuesday.minutes)) == (1, 1, 30)
    assert week.cells[org.teammate.id][3].open == 1
    assert [c.completed + c.open for c in week.totals()] == [0, 2, 0, 1, 0, 0, 0]


# --- charts -----------------------------------------------------------------------------------------

def test_histogram_buckets_values_and_places_the_benchmark_inside_its_bucket():
    h = charts.histogram([Fraction(1), Fraction(73, 10), Fraction(7), Fraction(12), None], list(range(0, 11)),
                         anchor=Fraction(73, 10))
    counts = {c.label: c.count for c in h.columns}
    assert counts["1–2"] == 1 and counts["7–8"] == 2 and counts["10+"] == 1 and h.total == 4
    step = 100 / 11
    assert h.anchor_x == pytest.approx(7.3 * step, abs=0.01)


@pytest.mark.parametrize("visits,days,seconds", [(0, 0, 0.0), (7, 1, 25 * 60 * 7), (15, 2, 16 * 60 * 15 - 4),
                                                  (22, 3, 36.96 * 60 * 22), (1, 1, 59.94), (3, 2, 64 * 60 * 3 + 2),
                                                  (10, 1, 8 * 60 * 10 - 1)])
def test_the_charts_bucket_a_rep_by_the_whole_part_of_the_figures_shown(visits, days, seconds):
    # The histograms read the figures rounded down in integers; they are the floors of the fractions shown.
    line = dash.RepLine(1, visits, days, seconds)
    floor = lambda value: None if value is None else value.numerator // value.denominator  # noqa: E731
    assert (line.per_day_floor, line.minutes_floor) == (floor(line.per_day), floor(line.minutes))


def test_share_bars_scale_to_one_hundred_percent():
    chart = charts.share_bars([("A", Fraction(1, 2), "50 %", "/x"), ("B", None, "—", "")])
    assert chart.bars[0].width == pytest.approx(22.0) and chart.bars[1].width == 0


# --- evidence, spend, ROI ------------------------------------------------------------------------------

def test_spend_of_the_three_periods_is_the_roi_pages_total_of_each(org, stores):
    from field.activities.models import ActivityStatus
    from field.core import company_today
    from field.extensions import db
    from field.roi import figures
    from field.roi.queries import Filters
    from tests.factories import make_activity
    a, b, c, d, west = stores
    today = company_today()
    period = dash.period_for("month", None, today)
    periods = [period, period.previous(), period.last_year()]
    make_activity(org.manager, [a, b], status=ActivityStatus.RUNNING, start=period.start - timedelta(days=3),
                  end=today + timedelta(days=10), budget=50_000)
    make_activity(org.manager, [c], status=ActivityStatus.ENDED, start=periods[1].start,
                  end=periods[1].end, budget=70_000)
    make_activity(org.manager, [d, west], status=ActivityStatus.ENDED, start=periods[2].start - timedelta(days=40),
                  end=periods[2].start, budget=90_000)
    found = dash.spend(org.manager, periods, today)
    expected = [figures.rollups(Filters(p.start, p.end), org.manager, today).total for p in periods]
    assert [vars(t) for t in found.totals] == [vars(t) for t in expected]
    # The west store counts too: the manager applied for that activity (scope.activity_stores).
    assert [t.lines for t in found.totals] == [2, 1, 2]
    assert found.cost.value == 100_000 and found.cost.previous == 70_000 and found.cost.last_year == 180_000
    db.session.rollback()
