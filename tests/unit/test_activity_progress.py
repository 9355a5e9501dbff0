"""What runs at a store on a day, the evidence a store has for a period, compliance from reviews,
and which activities each role may see."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from field import scope
from field.activities import progress
from field.activities.models import Activity, ActivityStatus as S, Review, Verdict
from field.activities.rules import Compliance
from field.extensions import db
from tests.factories import make_activity, make_store, make_type

MONDAY = date(2026, 3, 2)


def review(line, index, verdict, reviewer, reason=""):
    db.session.add(Review(activity_store=line, period_index=index, verdict=verdict, reason=reason, note="",
                          reviewer=reviewer))
    db.session.commit()


@pytest.fixture
def shops(org):
    return {"mine": make_store(rep=org.rep, code="E-MINE"), "mine2": make_store(rep=org.rep, code="E-MINE2"),
            "team": make_store(rep=org.teammate, code="E-TEAM"), "west": make_store(rep=org.west_rep, code="W-1")}


# --- running_for_store -----------------------------------------------------------------------------

def test_running_for_store_lists_live_activities_with_the_day_period(org, shops):
    weekly = make_type(name="周检")
    running = make_activity(org.rep, [shops["mine"], shops["team"]], kind=weekly, status=S.RUNNING,
                            start=MONDAY, end=MONDAY + timedelta(days=27), title="running")
    approved = make_activity(org.rep, [shops["mine"]], kind=weekly, status=S.APPROVED,
                             start=MONDAY, end=MONDAY + timedelta(days=13), title="approved")
    for status in (S.DRAFT, S.SUBMITTED, S.SECOND_APPROVAL, S.REJECTED, S.ENDED):
        make_activity(org.rep, [shops["mine"]], kind=weekly, status=status, start=MONDAY,
                      end=MONDAY + timedelta(days=27), title=str(status))
    make_activity(org.rep, [shops["mine"]], kind=weekly, status=S.RUNNING, start=MONDAY + timedelta(days=20),
                  end=MONDAY + timedelta(days=27), title="later")

    day = MONDAY + timedelta(days=9)  # the second week
    found = progress.running_for_store([shops["mine"].id, shops["mine2"].id, shops["team"].id], day, org.admin)
    assert sorted(found) == [shops["mine"].id, shops["team"].id]
    mine = found[shops["mine"].id]
    assert [(i.activity.id, i.period.index, i.period.start, i.period.end) for i in mine] == [
        (approved.id, 1, MONDAY + timedelta(days=7), MONDAY + timedelta(days=13)),
        (running.id, 1, MONDAY + timedelta(days=7), MONDAY + timedelta(days=13))]
    assert progress.running_for_store([], day, org.admin) == {}
    assert progress.running_for_store([shops["mine"].id], MONDAY - timedelta(days=1), org.admin) == {}


def test_running_for_store_keeps_to_the_user_scope(org, shops):
    make_activity(org.west_rep, [shops["west"]], status=S.RUNNING, start=MONDAY, title="west")
    make_activity(org.rep, [shops["team"]], status=S.RUNNING, start=MONDAY, title="team")
    ids = [s.id for s in shops.values()]
    assert list(progress.running_for_store(ids, MONDAY, org.rep)) == [shops["team"].id]  # the applicant sees it
    assert list(progress.running_for_store(ids, MONDAY, org.teammate)) == [shops["team"].id]
    assert list(progress.running_for_store(ids, MONDAY, org.west_rep)) == [shops["west"].id]
    assert sorted(progress.running_for_store(ids, MONDAY, org.supervisor)) == [shops["team"].id]
    assert sorted(progress.running_for_store(ids, MONDAY, org.manager)) == [shops["team"].id]
    assert sorted(progress.running_for_store(ids, MONDAY, org.admin)) == sorted([shops["team"].id, shops["west"].id])


def test_each_visit_periods_follow_each_store_frequency(org):
    fast = make_store(rep=org.rep, code="FAST", tier="A")            # every 7 days
    slow = make_store(rep=org.rep, code="SLOW", visit_every_days=10)
    kind = make_type(name="每次拜访", check_period="each_visit")
    make_activity(org.rep, [fast, slow], kind=kind, status=S.RUNNING, start=MONDAY, end=MONDAY + timedelta(days=29))
    found = progress.running_for_store([fast.id, slow.id], MONDAY + timedelta(days=8), org.rep)
    assert found[fast.id][0].period.index == 1 and found[fast.id][0].period.days == 7
    assert found[slow.id][0].period.index == 0 and found[slow.id][0].period.days == 10


# --- evidence and compliance -----------------------------------------------------------------------

def test_evidence_status_counts_what_the_period_asks_for(org, shops):
    kind = make_type(name="三张", photos=3, checklist=("价签", "堆头", "海报"))
    activity = make_activity(org.rep, [shops["mine"]], kind=kind, status=S.RUNNING, start=MONDAY)
    line = activity.stores[0]
    period = progress.store_periods(line)[0]
    status = progress.evidence_status(line, period)
    assert (status.photos_required, status.photos_have, status.photos_missing, status.checklist_items) == (3, 0, 3, 3)
    assert status.needs_evidence and status.verdict is None


def test_the_latest_review_stands(org, shops):
    activity = make_activity(org.rep, [shops["mine"]], status=S.RUNNING, start=MONDAY)
    line = activity.stores[0]
    first, second = progress.store_periods(line)[:2]
    review(line, 0, Verdict.APPROVED, org.supervisor)
    review(line, 0, Verdict.REJECTED, org.supervisor, reason="blurry")
    review(line, 1, Verdict.REJECTED, org.supervisor)
    review(line, 1, Verdict.APPROVED, org.supervisor)
    assert progress.evidence_status(line, first).verdict == Verdict.REJECTED
    assert progress.evidence_status(line, first).needs_evidence
    assert progress.evidence_status(line, second).verified
    assert not progress.evidence_status(line, second).needs_evidence
    assert len(db.session.execute(select(Review)).scalars().all()) == 4  # nothing replaced


def test_store_and_activity_compliance_from_reviews(org, shops):
    activity = make_activity(org.rep, [shops["mine"], shops["mine2"]], status=S.RUNNING, start=MONDAY,
                             end=MONDAY + timedelta(days=27))
    one, two = activity.stores
    for index in (0, 1, 2):
        review(one, index, Verdict.APPROVED, org.supervisor)
    review(two, 0, Verdict.APPROVED, org.supervisor)
    review(two, 1, Verdict.REJECTED, org.supervisor)
    as_of = MONDAY + timedelta(days=21)  # three weeks over
    per_store = progress.compliance_by_store([one, two], as_of)
    assert per_store[one.id] == Compliance(3, 3) and per_store[two.id] == Compliance(1, 3)
    assert progress.activity_compliance([activity.id], as_of, org.rep)[activity.id] == Compliance(4, 6)
    # A user who sees only one of the stores gets the roll-up over that one.
    other = make_activity(org.teammate, [shops["mine"], shops["team"]], status=S.RUNNING, start=MONDAY,
                          title="shared")
    review(other.stores[1], 0, Verdict.APPROVED, org.supervisor)
    assert progress.activity_compliance([other.id], as_of, org.rep)[other.id] == Compliance(0, 3)
    assert progress.activity_compliance([other.id], as_of, org.supervisor)[other.id] == Compliance(1, 6)


# --- scope -----------------------------------------------------------------------------------------

def visible(user) -> set[str]:
    return set(db.session.execute(scope.activities(user).with_only_columns(Activity.title)).scalars())


def test_each_role_sees_the_activities_of_its_stores(org, shops):
    make_activity(org.rep, [shops["mine"]], title="mine")
    make_activity(org.teammate, [shops["team"]], title="team")
    make_activity(org.west_rep, [shops["west"]], title="west")
    make_activity(org.manager, [shops["mine"], shops["west"]], title="both")
    make_activity(org.supervisor, [], title="empty draft")
    assert visible(org.rep) == {"mine", "both"}
    assert visible(org.teammate) == {"team"}
    assert visible(org.supervisor) == {"mine", "team", "both", "empty draft"}
    assert visible(org.west_supervisor) == {"west", "both"}
    assert visible(org.manager) == {"mine", "team", "both"}
    assert visible(org.admin) == {"mine", "team", "west", "both", "empty draft"}


def store_codes(user) -> set[str]:
    return {a.store.code for a in db.session.execute(scope.activity_stores(user)).scalars()}


def test_the_stores_of_an_activity_a_user_sees(org, shops):
    make_activity(org.manager, [shops["mine"], shops["team"], shops["west"]], title="wide")
    assert store_codes(org.rep) == {"E-MINE"}
    assert store_codes(org.supervisor) == {"E-MINE", "E-TEAM"}
    assert store_codes(org.manager) == {"E-MINE", "E-TEAM", "W-1"}  # the applicant sees all of their own
    assert store_codes(org.west_rep) == {"W-1"}
