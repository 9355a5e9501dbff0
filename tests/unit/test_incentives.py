"""The points rules (field/incentives/rules.py): points only from verified outcomes, granted once (also by the
database), reversed once when a first-time approval is rejected later, a task edited afterwards leaving the
past as granted; the ledger is append-only; levels are reached at their thresholds; bad task and level input
is refused whole."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from field.activities import queue, reviews
from field.activities.models import Evidence, Verdict
from field.core import FieldError, company_today, now
from field.extensions import db
from field.incentives import operations as ops
from field.incentives import queries, rules
from field.incentives.models import IncentiveLevel, IncentiveTask, PointsEntry
from field.visits.models import FollowUp, VisitStatus
from tests.factories import make_photo, make_store, make_visit, promo_visit, running

pytestmark = pytest.mark.usefixtures("request_ctx")


def task(org, kind, points=10, target=1, start=None, end=None, region=None) -> IncentiveTask:
    today = company_today()
    t = IncentiveTask(name=f"{kind} task", kind=kind, points=points, target=target, region=region or org.east,
                      period_start=start or today - timedelta(days=20), period_end=end or today + timedelta(days=10),
                      active=True, created_by=org.manager)
    db.session.add(t)
    db.session.commit()
    return t


def ledger(rep=None) -> list[tuple[str, int]]:
    stmt = select(PointsEntry.kind, PointsEntry.points).order_by(PointsEntry.id)
    if rep is not None:
        stmt = stmt.where(PointsEntry.rep_id == rep.id)
    return [tuple(r) for r in db.session.execute(stmt)]


def with_evidence(rep, line):
    visit, step = promo_visit(rep, line.store)
    photo = make_photo(visit, step)
    db.session.add(Evidence(activity_store=line, period_index=1, photo=photo,
                            checklist={i: True for i in line.activity.type.checklist}, created_by_id=rep.id))
    db.session.commit()


def decide(line, verdict, who, reason=""):
    item = queue.one(line, 1, company_today(), who)
    review = reviews.record(item, verdict, who, reason=reason, note="", seen_review=item.review_id,
                            seen_evidence=item.newest)
    db.session.commit()
    return review


@pytest.fixture
def line(org):
    return running(org.rep, [make_store(rep=org.rep, code="E-1")], photos=1).stores[0]


# --- evidence approved at first submission ------------------------------------------------------------

def test_a_first_time_approval_grants_the_rep_once(org, line):
    task(org, rules.FIRST_APPROVED, points=15)
    with_evidence(org.rep, line)
    decide(line, Verdict.APPROVED, org.supervisor)
    assert ledger(org.rep) == [("grant", 15)]
    assert rules.evaluate_all() == rules.Result(0, 0)          # the command again: nothing new
    assert ledger() == [("grant", 15)]
    assert queries.total(org.rep) == 15


def test_a_later_rejection_reverses_the_points_once(org, line):
    task(org, rules.FIRST_APPROVED, points=15)
    with_evidence(org.rep, line)
    decide(line, Verdict.APPROVED, org.supervisor)
    decide(line, Verdict.REJECTED, org.manager, reason="unclear")
    assert ledger(org.rep) == [("grant", 15), ("reversal", -15)]
    rules.evaluate_all()
    decide(line, Verdict.APPROVED, org.supervisor)               # approved again: not at first submission
    assert ledger(org.rep) == [("grant", 15), ("reversal", -15)]
    assert queries.total(org.rep) == 0


def test_evidence_rejected_first_earns_nothing(org, line):
    task(org, rules.FIRST_APPROVED)
    with_evidence(org.rep, line)
    decide(line, Verdict.REJECTED, org.supervisor, reason="unclear")
    with_evidence(org.rep, line)
    decide(line, Verdict.APPROVED, org.supervisor)
    assert ledger() == []


def test_a_task_of_another_region_pays_nothing(org, line):
    task(org, rules.FIRST_APPROVED, region=org.west)
    with_evidence(org.rep, line)
    decide(line, Verdict.APPROVED, org.supervisor)
    assert ledger() == []


def test_an_edited_task_leaves_the_past_as_granted(org, line):
    t = task(org, rules.FIRST_APPROVED, points=15)
    with_evidence(org.rep, line)
    decide(line, Verdict.APPROVED, org.supervisor)
    data = ops.read_task({"name": "renamed", "kind": t.kind, "points": "99", "region": str(org.east.id),
                          "start": t.period_start.isoformat(), "end": t.period_end.isoformat()}, [org.east])
    ops.edit_task(t, data, org.manager)
    db.session.commit()
    decide(line, Verdict.REJECTED, org.manager, reason="unclear")
    rows = db.session.execute(select(PointsEntry).order_by(PointsEntry.id)).scalars().all()
    assert [(r.points, r.task_name) for r in rows] == [(15, "first_approved task"), (-15, "first_approved task")]


# --- the ledger holds --------------------------------------------------------------------------------

def test_the_database_refuses_a_second_grant_for_one_outcome(org):
    t = task(org, rules.ROUTE_DAYS)
    assert rules.grant(t, org.rep.id, "route:1", company_today()) is not None
    assert rules.grant(t, org.rep.id, "route:1", company_today()) is None
    db.session.commit()
    db.session.add(PointsEntry(rep_id=org.rep.id, task_id=t.id, outcome="route:1", kind="grant", points=10,
                               earned_on=company_today(), task_name="x", note=""))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert ledger() == [("grant", 10)]


def test_the_points_ledger_is_append_only(org):
    t = task(org, rules.ROUTE_DAYS)
    rules.grant(t, org.rep.id, "route:1", company_today())
    db.session.commit()
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE points_ledger SET points = 500"))
        db.session.flush()
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError):
            db.session.execute(text("DELETE FROM points_ledger"))
        db.session.rollback()
    assert ledger() == [("grant", 10)]


# --- complete routes, A-tier frequency, follow-ups ---------------------------------------------------

def test_route_days_count_only_complete_unflagged_days(org):
    task(org, rules.ROUTE_DAYS, points=30, target=2)
    def on(days_ago):
        return company_today() - timedelta(days=days_ago)
    make_visit(org.rep, at=now() - timedelta(days=3), minutes=30, planned_for=on(3))
    make_visit(org.rep, at=now() - timedelta(days=3), minutes=40, planned_for=on(3))
    make_visit(org.rep, at=now() - timedelta(days=2), minutes=30, planned_for=on(2),
               flags=[{"code": "outside_geofence"}])
    make_visit(org.rep, at=now() - timedelta(days=1), minutes=30, planned_for=on(1))
    make_visit(org.rep, planned_for=on(1), status=VisitStatus.PLANNED)       # planned, never done
    rules.evaluate_all()
    assert ledger() == []                                       # one complete day of the two asked
    make_visit(org.rep, at=now() - timedelta(days=5), minutes=20, planned_for=on(5))
    rules.evaluate_all()
    assert ledger(org.rep) == [("grant", 30)]


def test_all_a_tier_stores_on_frequency(org):
    task(org, rules.A_TIER, points=50, start=company_today() - timedelta(days=6), end=company_today())
    a1 = make_store(rep=org.rep, tier="A")
    a2 = make_store(rep=org.rep, tier="A", visit_every_days=7)
    make_store(rep=org.rep, tier="C")                           # not A: never asked
    make_visit(org.rep, a1, at=now() - timedelta(days=5), minutes=20)
    rules.evaluate_all()
    assert ledger() == []
    make_visit(org.rep, a2, at=now() - timedelta(days=2), minutes=20, flags=[{"code": "too_short"}])
    rules.evaluate_all()
    assert ledger() == []                                       # a flagged visit is not verified
    make_visit(org.rep, a2, at=now() - timedelta(days=1), minutes=20)
    rules.evaluate_all()
    assert ledger(org.rep) == [("grant", 50)]


def test_a_follow_up_closed_on_time(org):
    task(org, rules.FOLLOW_UP, points=5)
    store = make_store(rep=org.rep)
    visit = make_visit(org.rep, store, at=now() - timedelta(days=2), minutes=20)
    on_time = FollowUp(store=store, text="fix the shelf", owner=org.rep, due_on=company_today(), status="done",
                       closed_visit_id=visit.id, created_by_id=org.supervisor.id, closed_at=visit.checkout_at)
    late = FollowUp(store=store, text="late", owner=org.rep, due_on=company_today() - timedelta(days=5),
                    status="done", closed_visit_id=visit.id, created_by_id=org.supervisor.id, closed_at=visit.checkout_at)
    db.session.add_all([on_time, late])
    db.session.commit()
    rules.evaluate_all()
    assert db.session.execute(select(PointsEntry.outcome)).scalars().all() == [f"follow_up:{on_time.id}"]


# --- levels ------------------------------------------------------------------------------------------

def levels():
    return [IncentiveLevel(name="Bronze", threshold=0, rewards=[]),
            IncentiveLevel(name="Silver", threshold=100, rewards=["Movie tickets"]),
            IncentiveLevel(name="Gold", threshold=300, rewards=["Day off"])]


@pytest.mark.parametrize("points, level, nxt, to_go", [
    (0, "Bronze", "Silver", 100), (99, "Bronze", "Silver", 1), (100, "Silver", "Gold", 200),
    (299, "Silver", "Gold", 1), (300, "Gold", None, 0), (5000, "Gold", None, 0)])
def test_levels_are_reached_at_their_thresholds(points, level, nxt, to_go):
    s = rules.standing(points, levels())
    assert (s.level.name, s.next.name if s.next else None, s.to_go) == (level, nxt, to_go)


def test_below_the_first_threshold_there_is_no_level():
    s = rules.standing(5, [IncentiveLevel(name="Silver", threshold=10, rewards=[])])
    assert s.level is None and s.to_go == 5 and s.pct == 50


@pytest.mark.parametrize("thresholds", [("0", "100", "100"), ("0", "200", "100"), ("0", "-5", "10"),
                                        ("0", "1.5", "10"), ("0", "abc", "10")])
def test_levels_whose_thresholds_do_not_increase_are_refused(thresholds):
    with pytest.raises(FieldError):
        ops.read_levels(["A", "B", "C"], list(thresholds), ["", "", ""])


@pytest.mark.parametrize("points", ["-5", "0", "10001", "1e3", "", "99999999999"])
def test_absurd_points_are_refused(org, points):
    with pytest.raises(FieldError) as caught:
        ops.read_task({"name": "x", "kind": rules.FIRST_APPROVED, "points": points, "region": str(org.east.id),
                       "start": "2026-03-01", "end": "2026-03-31"}, [org.east])
    assert caught.value.field == "points"


def test_a_route_task_asks_for_days_within_its_period(org):
    form = {"name": "x", "kind": rules.ROUTE_DAYS, "points": "10", "region": str(org.east.id),
            "start": "2026-03-01", "end": "2026-03-07", "target": "8"}
    with pytest.raises(FieldError):
        ops.read_task(form, [org.east])
    assert ops.read_task({**form, "target": "7"}, [org.east]).target == 7


# --- the command, and whose tasks apply ----------------------------------------------------------------

def test_the_grant_command_pays_what_was_done_before_the_task_and_only_once(app, org):
    make_visit(org.rep, at=now() - timedelta(days=2), minutes=30, planned_for=company_today() - timedelta(days=2))
    task(org, rules.ROUTE_DAYS, points=30)                     # set after the work was done
    runner = app.test_cli_runner()
    first = runner.invoke(args=["incentives-grant"])
    assert first.exit_code == 0 and "1 granted, 0 reversed" in first.output
    again = runner.invoke(args=["incentives-grant"])
    assert "0 granted, 0 reversed" in again.output
    assert runner.invoke(args=["incentives-grant", "--day", "soon"]).exit_code != 0
    assert ledger(org.rep) == [("grant", 30)]


def test_a_task_of_a_region_above_applies_to_the_reps_below_it(org):
    from field import scope
    country = task(org, rules.ROUTE_DAYS, region=org.china)
    west = task(org, rules.ROUTE_DAYS, region=org.west)
    assert set(db.session.execute(scope.region_reps(org.china)).scalars()) == {org.rep.id, org.teammate.id,
                                                                                 org.west_rep.id}
    seen = set(db.session.execute(scope.incentive_tasks(org.rep)).scalars())
    assert country in seen and west not in seen
    assert set(db.session.execute(scope.query(IncentiveTask, org.manager)).scalars()) == set()  # East only


# --- a new store opened (issue 16) ---------------------------------------------------------------------

def new_store(org, days_ago=5, **kw):
    return make_store(rep=org.rep, created_at=now() - timedelta(days=days_ago), **kw)


def test_a_new_store_pays_the_rep_of_its_first_clean_visit_once(org):
    task(org, rules.NEW_STORE, points=40)
    store = new_store(org)
    make_visit(org.rep, store, at=now() - timedelta(days=3), minutes=25)
    make_visit(org.rep, store, at=now() - timedelta(days=1), minutes=25)        # a second visit: no more points
    rules.evaluate_all()
    assert db.session.execute(select(PointsEntry.outcome, PointsEntry.points)).all() == [
        (f"new_store:{store.id}", 40)]
    assert rules.evaluate_all() == rules.Result(0, 0)                          # again: nothing new


def test_a_store_added_before_the_period_or_never_visited_pays_nothing(org):
    task(org, rules.NEW_STORE, start=company_today() - timedelta(days=10))
    old = new_store(org, days_ago=30)                                           # added before the period
    make_visit(org.rep, old, at=now() - timedelta(days=2), minutes=25)
    new_store(org, days_ago=3)                                                  # added, never visited
    planned = new_store(org, days_ago=3)
    make_visit(org.rep, planned, at=now() - timedelta(hours=2))                 # in progress: not completed
    rules.evaluate_all()
    assert ledger() == []


def test_a_flagged_first_visit_pays_nobody_even_after_a_clean_one(org):
    task(org, rules.NEW_STORE)
    store = new_store(org)
    make_visit(org.rep, store, at=now() - timedelta(days=3), minutes=25, flags=[{"code": "outside_geofence"}])
    make_visit(org.rep, store, at=now() - timedelta(days=1), minutes=25)
    rules.evaluate_all()
    assert ledger() == []


def test_the_first_visit_by_another_rep_pays_them_not_this_rep(org):
    task(org, rules.NEW_STORE)
    store = new_store(org)
    make_visit(org.teammate, store, at=now() - timedelta(days=3), minutes=25)
    make_visit(org.rep, store, at=now() - timedelta(days=1), minutes=25)
    rules.evaluate_all()
    assert ledger(org.rep) == [] and ledger(org.teammate) == [("grant", 10)]


def test_a_first_visit_flagged_later_reverses_the_points_once(org):
    task(org, rules.NEW_STORE, points=40)
    store = new_store(org)
    visit = make_visit(org.rep, store, at=now() - timedelta(days=3), minutes=25)
    rules.evaluate_all()
    assert ledger(org.rep) == [("grant", 40)]
    visit.flags = [{"code": "impossible_travel"}]
    db.session.commit()
    assert rules.evaluate_all() == rules.Result(0, 1)
    assert ledger(org.rep) == [("grant", 40), ("reversal", -40)]
    assert rules.evaluate_all() == rules.Result(0, 0)                          # reversed once, not paid again
    assert queries.total(org.rep) == 0
    note = db.session.execute(select(PointsEntry.note).where(PointsEntry.kind == "reversal")).scalar_one()
    assert "flagged" in note


def test_a_first_visit_after_the_period_pays_nothing(org):
    end = company_today() - timedelta(days=2)
    task(org, rules.NEW_STORE, start=company_today() - timedelta(days=10), end=end)
    store = new_store(org, days_ago=5)
    make_visit(org.rep, store, at=now() - timedelta(hours=5), minutes=25)     # after the period ended
    rules.evaluate_all()
    assert ledger() == []


def test_a_new_store_is_granted_at_check_out(org):
    """The check-out hook evaluates the new-store kind for the rep (field/incentives/hooks.py)."""
    from field.incentives import hooks
    task(org, rules.NEW_STORE, points=7)
    store = new_store(org, days_ago=1)
    visit = make_visit(org.rep, store, at=now() - timedelta(hours=1), minutes=20)
    hooks.on_checkout(visit)
    db.session.commit()
    assert ledger(org.rep) == [("grant", 7)]
