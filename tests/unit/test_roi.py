"""ROI against a fixture computed by hand: every figure below is worked out in the comments.

Store T (tier B, convenience, East) runs activity A from 2 to 11 March 2026 (10 days, margin
30 %, budget ¥1,000.00). Its pre-period is 2 Feb – 1 Mar (28 days). Activity B ran at T from 20
to 24 Feb, so those 5 days are not part of T's baseline. Three control stores in T's group sold
¥50.00 a day before and ¥55.00 a day during A; a fourth store of the group had an activity in the
window (not a control), a fifth sold nothing (no data), a sixth is in another channel."""
from datetime import date, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select

from field.activities.models import ActivityStatus as S, Review, Verdict
from field.claims.models import Claim, LedgerKind, LedgerLine
from field.extensions import db
from field.roi import queries
from field.roi.models import SalesDaily
from field.roi.queries import Filters, Settings
from field.sales.models import Sale
from tests.factories import make_activity, make_product, make_store, make_type

A_START, A_END = date(2026, 3, 2), date(2026, 3, 11)
AS_OF = date(2026, 4, 1)
EVERYTHING = Filters(date(2026, 1, 1), date(2026, 12, 31))


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def sell(store, day: date, *amounts: int, product=None):
    for i, amount in enumerate(amounts):
        db.session.add(Sale(store_id=store.id, sold_on=day, product=product, amount=amount, quantity=1,
                            source="import", source_key=f"{store.code}|{day}|{i}"))


@pytest.fixture
def world(org):
    product = make_product()
    kind = make_type(name="堆头", margin="30.00")
    t = make_store(rep=org.rep, code="T", tier="B", channel="convenience")
    controls = [make_store(rep=org.teammate, code=f"C{i}", tier="B", channel="convenience") for i in (1, 2, 3)]
    busy = make_store(rep=org.teammate, code="C4", tier="B", channel="convenience")
    silent = make_store(rep=org.teammate, code="C5", tier="B", channel="convenience")
    other_channel = make_store(rep=org.teammate, code="X6", tier="B", channel="supermarket")
    a = make_activity(org.rep, [t], budget=100_000, kind=kind, status=S.ENDED, start=A_START, end=A_END, title="A")
    b = make_activity(org.rep, [t], budget=50_000, kind=kind, status=S.ENDED, start=date(2026, 2, 20),
                      end=date(2026, 2, 24), title="B")
    make_activity(org.rep, [busy], kind=kind, status=S.ENDED, start=date(2026, 3, 5), end=date(2026, 3, 8),
                  title="at C4")
    for day in days(date(2026, 2, 2), date(2026, 3, 1)):
        if date(2026, 2, 20) <= day <= date(2026, 2, 24):
            sell(t, day, 30_000, product=product)        # inside B: ¥300.00 a day, not baseline
        elif date(2026, 2, 25) <= day <= date(2026, 2, 27):
            sell(t, day, 4_000, product=product)         # the dip after B: ¥40.00 a day
        else:
            sell(t, day, 10_000, product=product)        # ¥100.00 a day
        for c in controls:
            sell(c, day, 5_000)
        sell(busy, day, 90_000)
        sell(other_channel, day, 70_000)
    for day in days(A_START, A_END):
        sell(t, day, 12_000, 6_000, product=product)     # ¥180.00 a day in two lines
        for c in controls:
            sell(c, day, 2_500, 3_000)                   # ¥55.00 a day
        sell(busy, day, 90_000)
        sell(other_channel, day, 1_000)
    sell(t, A_END + timedelta(days=1), 99_999)           # after A: not counted
    db.session.commit()
    return {"t": t, "a": a, "b": b, "controls": controls, "silent": silent, "org": org}


def line_of(world, settings=Settings(), filters=EVERYTHING, user=None):
    found = queries.lines(filters, user or world["org"].admin, AS_OF, settings)
    return next(line for line in found if line.activity.id == world["a"].id)


def test_daily_sales_follow_the_sales_lines(world):
    t = world["t"]
    row = db.session.execute(select(SalesDaily).where(SalesDaily.store_id == t.id,
                                                      SalesDaily.day == A_START)).scalar_one()
    assert (row.amount, row.lines) == (18_000, 2)
    sale = db.session.execute(select(Sale).where(Sale.store_id == t.id, Sale.sold_on == A_START)
                              .order_by(Sale.id)).scalars().first()
    sale.amount, sale.sold_on = 12_500, A_START + timedelta(days=1)   # moved to the next day
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(SalesDaily, (t.id, A_START)).amount == 6_000
    assert db.session.get(SalesDaily, (t.id, A_START + timedelta(days=1))).amount == 18_000 + 12_500
    db.session.delete(sale)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(SalesDaily, (t.id, A_START + timedelta(days=1))).amount == 18_000


def test_baseline_skips_days_inside_other_activities_and_adjusts_by_controls(world):
    line = line_of(world)
    assert line.days == 10
    assert line.actual == 180_000                        # 10 × ¥180.00
    assert line.blocked_days == 5 and line.baseline_days == 23
    # Pre-period without B's days: 20 days × ¥100.00 + 3 dip days × ¥40.00 = ¥2,120.00 over 23 days.
    assert line.pre_sales == 212_000
    assert line.pre_rate == Fraction(212_000, 23)
    # Controls C1–C3 (C4 was busy, C5 has no data, X6 is another channel): 3 × 28 × ¥50.00 before,
    # 3 × 10 × ¥55.00 during → their daily sales moved by +¥5.00.
    assert (line.controls, line.control_pre, line.control_during) == (3, 420_000, 165_000)
    assert line.control_trend == 500
    # Baseline = (212000/23 + 500) × 10 = 97,173.91… → ¥971.74.
    assert line.baseline == 97_174
    assert line.incremental == 180_000 - 97_174 == 82_826
    assert line.incremental_gp == 24_848                 # 82,826 × 30 % = 24,847.8 → 24,848
    assert line.cost_basis == "committed" and line.cost == 100_000
    assert line.roi == Fraction(24_848 - 100_000, 100_000)  # −75.152 %


def test_a_dip_window_also_skips_the_days_after_another_activity(world):
    line = line_of(world, Settings(dip_days=3))
    # B's 5 days and the 3 dip days are out: 20 days × ¥100.00.
    assert (line.blocked_days, line.pre_sales) == (8, 200_000)
    assert line.baseline == (10_000 + 500) * 10 == 105_000
    assert line.incremental == 75_000
    assert line.incremental_gp == 22_500


def test_without_three_controls_the_baseline_is_the_pre_period_rate(world):
    line = line_of(world, Settings(dip_days=3, min_controls=4))
    assert line.controls == 3 and line.control_trend is None
    assert line.baseline == 10_000 * 10
    assert line.incremental_gp == 24_000


def pay(world, claimed: int, paid: int) -> None:
    """An approved claim on A at T, and the payment that stands for it."""
    org, activity_store = world["org"], world["a"].stores[0]
    claim = Claim(activity_store=activity_store, claimant=org.rep, amount=claimed, status="approved", note="",
                  reason="")
    db.session.add(claim)
    db.session.flush()
    db.session.add(LedgerLine(kind=LedgerKind.PAYMENT, claim_id=claim.id, activity_id=world["a"].id,
                              activity_store_id=activity_store.id, store_id=world["t"].id, amount=paid,
                              actor_id=org.admin.id, posted_on=AS_OF, reason=""))
    db.session.commit()


def test_cost_is_what_was_written_off_once_a_payment_stands(world):
    pay(world, 30_000, 20_000)
    line = line_of(world, Settings(dip_days=3))
    assert (line.cost_basis, line.cost, line.written_off) == ("written_off", 20_000, 20_000)
    assert line.roi == Fraction(22_500 - 20_000, 20_000)  # +12.5 %


def test_a_store_whose_whole_pre_period_is_blocked_has_no_baseline(org):
    kind = make_type(name="全覆盖")
    store = make_store(rep=org.rep, code="FULL")
    make_activity(org.rep, [store], kind=kind, status=S.ENDED, start=date(2026, 2, 1), end=date(2026, 3, 1))
    late = make_activity(org.rep, [store], kind=kind, status=S.ENDED, start=A_START, end=A_END)
    sell(store, A_START, 5_000)
    db.session.commit()
    line = next(x for x in queries.lines(EVERYTHING, org.admin, AS_OF) if x.activity.id == late.id)
    assert line.baseline_days == 0 and not line.has_baseline
    assert line.baseline is None and line.roi is None and line.actual == 5_000
    rolled = queries.total([line])
    assert rolled.measured == 0 and rolled.roi is None and rolled.cost == line.budget


def test_a_running_activity_is_measured_through_yesterday(world):
    line = line_of(world, Settings(dip_days=3))
    running = queries.lines(EVERYTHING, world["org"].admin, A_START + timedelta(days=4), Settings(dip_days=3))
    early = next(x for x in running if x.activity.id == world["a"].id)
    assert early.days == 4 and early.actual == 4 * 18_000
    assert line.days == 10


def test_roll_ups_add_lines_and_recompute_roi(world):
    found = queries.lines(EVERYTHING, world["org"].admin, AS_OF, Settings(dip_days=3))
    a = next(x for x in found if x.activity.id == world["a"].id)
    only_a = queries.total([x for x in found if x.activity.id == world["a"].id])
    assert only_a.incremental_gp == a.incremental_gp
    assert only_a.roi == a.roi
    everything = queries.total(found)
    assert everything.lines == len(found) == 3            # A and B at T, and the activity at C4
    assert everything.budget == 100_000 + 50_000 + 100_000
    assert everything.cost_basis == "committed"


def test_compliance_comes_from_reviews(world):
    activity_store = world["a"].stores[0]
    db.session.add(Review(activity_store=activity_store, period_index=0, verdict=Verdict.APPROVED, reason="",
                          note="", reviewer=world["org"].supervisor))
    db.session.commit()
    line = line_of(world)
    assert (line.compliance.verified, line.compliance.required) == (1, 2)  # weekly: 7 + 3 days


def test_filters_and_scope(world, org):
    west = make_store(rep=org.west_rep, code="W1")
    make_activity(org.west_rep, [west], kind=world["a"].type, status=S.ENDED, start=A_START, end=A_END)
    assert len(queries.lines(EVERYTHING, org.admin, AS_OF)) == 4
    assert all(x.store.code != "W1" for x in queries.lines(EVERYTHING, org.manager, AS_OF))
    assert [x.store.code for x in queries.lines(EVERYTHING, org.west_rep, AS_OF)] == ["W1"]
    march = Filters(date(2026, 3, 1), date(2026, 3, 31), region=org.west)
    assert [x.store.code for x in queries.lines(march, org.admin, AS_OF)] == ["W1"]
    february = Filters(date(2026, 2, 1), date(2026, 2, 28))
    assert {x.activity.title for x in queries.lines(february, org.admin, AS_OF)} == {"B"}
    other_type = make_type(name="品鉴")
    assert queries.lines(Filters(date(2026, 1, 1), date(2026, 12, 31), type_id=other_type.id),
                         org.admin, AS_OF) == []


def test_unapproved_activities_are_not_measured(org):
    store = make_store(rep=org.rep, code="D")
    for status in (S.DRAFT, S.SUBMITTED, S.REJECTED):
        make_activity(org.rep, [store], status=status, start=A_START, end=A_END)
    assert queries.lines(EVERYTHING, org.admin, AS_OF) == []


def test_actual_against_baseline_by_day(world):
    found = [x for x in queries.lines(EVERYTHING, world["org"].admin, AS_OF, Settings(dip_days=3))
             if x.activity.id == world["a"].id]
    series = queries.daily(world["a"], found, world["org"].admin)
    assert series[0].day == date(2026, 2, 2) and series[-1].day == A_END
    by_day = {d.day: d for d in series}
    assert by_day[date(2026, 2, 2)].actual == 10_000 and by_day[date(2026, 2, 2)].baseline is None
    assert by_day[A_START].actual == 18_000 and by_day[A_START].baseline == 10_500
    assert sum(d.actual for d in series if d.day >= A_START) == 180_000


def test_fen_rounds_half_up_away_from_zero():
    assert queries.fen(Fraction(5, 2)) == 3
    assert queries.fen(Fraction(-5, 2)) == -3
    assert queries.fen(Fraction(248_478, 10)) == 24_848
    assert queries.fen(Fraction(49, 100)) == 0
