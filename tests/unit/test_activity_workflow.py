"""The activity state machine and the operations around it: every legal and illegal move, who may
make it, the second approver above the threshold, the calendar, and budgets that cannot change."""
from datetime import timedelta
from decimal import Decimal
from itertools import product

import pytest
from sqlalchemy import func, select

from field import permissions
from field.activities import operations as ops
from field.activities import workflow
from field.activities.models import Activity, ActivityStatus as S, ActivityStore, ActivityTransition
from field.audit import AuditEvent
from field.auth.models import Role
from field.core import Conflict, DomainError
from field.extensions import db
from field.core import company_today
from tests.factories import make_activity, make_store, make_type, make_user

pytestmark = pytest.mark.usefixtures("request_ctx")


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def actions() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.fixture
def east_store(org):
    return make_store(rep=org.rep, code="E-1")


@pytest.fixture
def manager2(org):
    return make_user(Role.MANAGER, login="manager2", regions=[org.east])


# --- the table -------------------------------------------------------------------------------

def test_every_move_outside_the_table_is_a_conflict_and_writes_nothing(org, east_store):
    for frm, to in product(list(S), list(S)):
        if (frm, to) in workflow.TRANSITIONS:
            continue
        activity = make_activity(org.rep, [east_store], status=frm, title=f"{frm}-{to}")
        before = (count(ActivityTransition), count(AuditEvent))
        with pytest.raises(Conflict):
            workflow.transition(activity, to, org.manager, comment="x")
        db.session.expire_all()
        assert db.session.get(Activity, activity.id).status == frm, (frm, to)
        assert (count(ActivityTransition), count(AuditEvent)) == before, (frm, to)


def test_approving_a_draft_says_it_must_be_submitted_first(org, east_store):
    activity = make_activity(org.rep, [east_store])
    with pytest.raises(Conflict, match="submitted before anyone can approve"):
        ops.approve(activity, org.manager)


LEGAL = [
    (S.DRAFT, S.SUBMITTED, "rep"),
    (S.SUBMITTED, S.DRAFT, "rep"),
    (S.SECOND_APPROVAL, S.DRAFT, "rep"),
    (S.SUBMITTED, S.APPROVED, "manager"),
    (S.SUBMITTED, S.SECOND_APPROVAL, "manager"),
    (S.SECOND_APPROVAL, S.APPROVED, "admin"),
    (S.SUBMITTED, S.REJECTED, "manager"),
    (S.SECOND_APPROVAL, S.REJECTED, "admin"),
    (S.REJECTED, S.DRAFT, "rep"),
    (S.APPROVED, S.RUNNING, None),
    (S.RUNNING, S.ENDED, None),
]


def test_the_legal_list_is_the_whole_table():
    assert {(f, t) for f, t, _ in LEGAL} == set(workflow.TRANSITIONS)


@pytest.mark.parametrize("frm,to,who", LEGAL)
def test_each_legal_move_is_made_recorded_and_audited(org, east_store, frm, to, who):
    activity = make_activity(org.rep, [east_store], status=frm)
    actor = getattr(org, who) if who else None
    workflow.transition(activity, to, actor, comment="ok")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Activity, activity.id).status == to
    moved = db.session.execute(select(ActivityTransition)).scalar_one()
    assert (moved.from_status, moved.to_status, moved.actor_id) == (frm, to, actor.id if actor else None)
    event = db.session.execute(select(AuditEvent)).scalar_one()
    assert event.action == workflow.TRANSITIONS[(frm, to)][0]
    assert event.object_type == "activities" and event.object_id == activity.id
    assert event.details["from"] == frm and event.details["to"] == to


# --- who may ---------------------------------------------------------------------------------

def test_nobody_approves_their_own_activity(org):
    store = make_store(rep=org.rep, region=org.east)
    mine = make_activity(org.manager, [store], status=S.SUBMITTED)
    with pytest.raises(DomainError, match="your own") as refused:
        ops.approve(mine, org.manager)
    assert refused.value.status == 422
    assert db.session.get(Activity, mine.id).status == S.SUBMITTED and count(ActivityTransition) == 0


def test_reps_supervisors_and_other_regions_managers_cannot_approve(org, east_store):
    activity = make_activity(org.teammate, [east_store], status=S.SUBMITTED)
    west_manager = make_user(Role.MANAGER, login="westmgr", regions=[org.west])
    for outsider in (org.rep, org.supervisor, west_manager):
        with pytest.raises(DomainError) as refused:
            ops.approve(activity, outsider)
        assert refused.value.status == 403
    assert count(ActivityTransition) == 0


def test_a_manager_must_hold_every_store_of_the_activity(org, east_store):
    west = make_store(rep=org.west_rep, code="W-1")
    activity = make_activity(org.admin, [east_store, west], status=S.SUBMITTED)
    assert not permissions.may_approve(org.manager, activity)
    with pytest.raises(DomainError):
        ops.approve(activity, org.manager)


def test_only_the_applicant_submits_withdraws_and_reopens(org, east_store):
    draft = make_activity(org.rep, [east_store])
    with pytest.raises(DomainError) as refused:
        ops.submit(draft, org.teammate)
    assert refused.value.status == 403
    rejected = make_activity(org.rep, [east_store], status=S.REJECTED, title="r")
    with pytest.raises(DomainError):
        ops.reopen(rejected, org.manager)


def test_the_calendar_moves_are_not_for_people(org, east_store):
    activity = make_activity(org.rep, [east_store], status=S.APPROVED)
    with pytest.raises(Conflict):
        workflow.transition(activity, S.RUNNING, org.manager)


def test_a_rejection_needs_a_reason(org, east_store):
    activity = make_activity(org.rep, [east_store], status=S.SUBMITTED)
    with pytest.raises(DomainError, match="why"):
        ops.reject(activity, org.manager, "   ")
    assert db.session.get(Activity, activity.id).status == S.SUBMITTED
    ops.reject(activity, org.manager, "预算太高")
    assert activity.status == S.REJECTED and activity.transitions[-1].comment == "预算太高"


# --- the threshold -----------------------------------------------------------------------------

def test_up_to_the_threshold_one_approval_is_enough(org, east_store):
    activity = make_activity(org.rep, [east_store], budget=5_000_000, status=S.SUBMITTED)  # ¥50,000.00
    assert ops.approve(activity, org.manager) == S.APPROVED


def test_above_the_threshold_a_second_person_approves(org, east_store, manager2):
    activity = make_activity(org.rep, [east_store], budget=5_000_001, status=S.SUBMITTED)
    assert ops.approve(activity, org.manager, "fine") == S.SECOND_APPROVAL
    with pytest.raises(DomainError, match="another manager") as refused:
        ops.approve(activity, org.manager)
    assert refused.value.status == 422
    assert db.session.get(Activity, activity.id).status == S.SECOND_APPROVAL
    assert ops.approve(activity, manager2) == S.APPROVED
    assert [t.actor_id for t in activity.transitions] == [org.manager.id, manager2.id]


def test_an_admin_may_be_the_second_approver(org, east_store):
    activity = make_activity(org.rep, [east_store], budget=6_000_000, status=S.SECOND_APPROVAL)
    assert ops.approve(activity, org.admin) == S.APPROVED


def test_the_threshold_comes_from_the_config(app, org, east_store):
    app.config["ACTIVITY_SECOND_APPROVAL_ABOVE"] = "500.00"
    try:
        activity = make_activity(org.rep, [east_store], budget=50_001, status=S.SUBMITTED)
        assert ops.approve(activity, org.manager) == S.SECOND_APPROVAL
    finally:
        del app.config["ACTIVITY_SECOND_APPROVAL_ABOVE"]
    assert workflow.second_approval_above() == 5_000_000


def test_of_two_approvers_at_the_same_moment_one_wins(org, east_store, manager2):
    activity = make_activity(org.rep, [east_store], status=S.SUBMITTED)
    # The other manager's approval lands between our read and our write.
    db.session.execute(Activity.__table__.update().where(Activity.id == activity.id).values(status=S.APPROVED))
    with pytest.raises(Conflict, match="changed in the meantime"):
        workflow.transition(activity, S.APPROVED, manager2)
    assert count(ActivityTransition) == 0 and count(AuditEvent) == 0


# --- submitting ------------------------------------------------------------------------------

def test_submit_needs_stores_and_a_period_not_over(org, east_store):
    empty = make_activity(org.rep, [])
    with pytest.raises(DomainError, match="at least one store"):
        ops.submit(empty, org.rep)
    today = company_today()
    past = make_activity(org.rep, [east_store], start=today - timedelta(days=10), end=today - timedelta(days=1),
                         title="past")
    with pytest.raises(DomainError, match="period is over"):
        ops.submit(past, org.rep)
    assert count(ActivityTransition) == 0


def test_submit_recounts_the_total_and_stamps_the_time(org, east_store):
    other = make_store(rep=org.rep, code="E-2")
    activity = make_activity(org.rep, [east_store, other], budget=12_345)
    ops.submit(activity, org.rep)
    assert activity.status == S.SUBMITTED and activity.budget_total == 24_690
    assert activity.submitted_at is not None


def test_an_activity_approved_on_or_after_its_first_day_starts_at_once(org, east_store):
    today = company_today()
    activity = make_activity(org.rep, [east_store], status=S.SUBMITTED, start=today, end=today + timedelta(days=6))
    assert ops.approve(activity, org.manager) == S.RUNNING
    assert [t.to_status for t in activity.transitions] == [S.APPROVED, S.RUNNING]


def test_the_calendar_starts_and_ends_activities(org, east_store):
    today = company_today()
    starting = make_activity(org.rep, [east_store], status=S.APPROVED, start=today, title="a")
    later = make_activity(org.rep, [east_store], status=S.APPROVED, start=today + timedelta(days=3), title="b")
    over = make_activity(org.rep, [east_store], status=S.RUNNING, start=today - timedelta(days=9),
                         end=today - timedelta(days=1), title="c")
    skipped = make_activity(org.rep, [east_store], status=S.APPROVED, start=today - timedelta(days=9),
                            end=today - timedelta(days=2), title="d")
    assert ops.advance_by_dates(select(Activity), today) == 3
    db.session.expire_all()
    assert [db.session.get(Activity, a.id).status for a in (starting, later, over, skipped)] == [
        S.RUNNING, S.APPROVED, S.ENDED, S.ENDED]
    assert [t.to_status for t in db.session.get(Activity, skipped.id).transitions] == [S.RUNNING, S.ENDED]
    assert all(t.actor_id is None for t in db.session.execute(select(ActivityTransition)).scalars())
    assert ops.advance_by_dates(select(Activity), today) == 0


# --- budgets -----------------------------------------------------------------------------------

def test_an_approved_activity_budget_cannot_change(org, east_store):
    activity = make_activity(org.rep, [east_store], status=S.APPROVED)
    line = activity.stores[0]
    with pytest.raises(Conflict, match="can no longer change"):
        ops.set_budgets_by_line(activity, {line.id: 1}, org.rep)
    with pytest.raises(Conflict):
        ops.set_store_budgets(activity, {make_store(rep=org.rep): 500}, org.rep, "activity.add_stores")
    with pytest.raises(Conflict):
        ops.remove_store(activity, line, org.rep)
    with pytest.raises(Conflict):
        ops.update_activity(activity, {"title": "new"}, org.rep)
    db.session.expire_all()
    assert db.session.get(ActivityStore, line.id).budget == 100_000 and count(ActivityStore) == 1
    assert count(AuditEvent) == 0


@pytest.mark.parametrize("budget", [0, -100, "12", None, True])
def test_a_store_budget_is_a_positive_amount(org, east_store, budget):
    activity = make_activity(org.rep, [])
    with pytest.raises(DomainError):
        ops.set_store_budgets(activity, {east_store: budget}, org.rep, "activity.add_stores")
    assert count(ActivityStore) == 0


def test_stores_outside_the_applicant_scope_are_refused(org, east_store):
    activity = make_activity(org.rep, [])
    theirs = make_store(rep=org.teammate, code="E-T")
    with pytest.raises(DomainError, match="E-T"):
        ops.set_store_budgets(activity, {east_store: 100, theirs: 100}, org.rep, "activity.add_stores")
    assert count(ActivityStore) == 0


def test_budgets_add_up_and_are_audited(org, east_store):
    other = make_store(rep=org.rep, code="E-2")
    activity = make_activity(org.rep, [])
    assert ops.set_store_budgets(activity, {east_store: 100_00, other: 250_50}, org.rep,
                                 "activity.add_stores") == (2, 0)
    assert activity.budget_total == 350_50
    line = next(a for a in activity.stores if a.store_id == other.id)
    assert ops.set_budgets_by_line(activity, {line.id: 50_00}, org.rep) == 1
    assert activity.budget_total == 150_00
    ops.remove_store(activity, line, org.rep)
    assert activity.budget_total == 100_00
    assert actions() == ["activity.add_stores", "activity.budgets", "activity.remove_store"]


def test_a_budget_for_a_store_not_in_the_activity_is_refused(org, east_store):
    activity = make_activity(org.rep, [])
    ops.set_store_budgets(activity, {east_store: 100_00}, org.rep, "activity.add_stores")
    with pytest.raises(DomainError, match="not part of this activity"):
        ops.set_budgets_by_line(activity, {999_999: 50_00}, org.rep)
    assert activity.budget_total == 100_00


def test_a_draft_takes_active_types_and_sane_dates(org):
    retired = make_type(name="旧", active=False)
    today = company_today()
    values = {"type": retired, "title": "t", "period_start": today, "period_end": today + timedelta(days=3),
              "expected_lift_pct": None, "margin_pct": Decimal("10"), "notes": ""}
    with pytest.raises(DomainError, match="no longer in use"):
        ops.create_activity(values, org.rep)
    kind = make_type(name="新")
    with pytest.raises(DomainError, match="ends before it starts"):
        ops.create_activity({**values, "type": kind, "period_end": today - timedelta(days=1)}, org.rep)
    with pytest.raises(DomainError, match="at most"):
        ops.create_activity({**values, "type": kind, "period_end": today + timedelta(days=400)}, org.rep)
    with pytest.raises(DomainError):
        ops.create_activity({**values, "type": kind}, org.admin)
    assert count(Activity) == 0
    activity = ops.create_activity({**values, "type": kind}, org.rep)
    assert activity.status == S.DRAFT and activity.applicant_id == org.rep.id and actions() == ["activity.create"]
    assert activity.code == f"ACT-{activity.id:05d}"


def test_activity_types_are_for_admins_and_need_some_evidence(org):
    values = {"name": "试吃", "name_en": "Tasting", "check_period": "once", "photos_per_period": 0,
              "checklist": [], "compliance_floor_pct": Decimal("60"), "margin_pct": Decimal("25")}
    with pytest.raises(DomainError) as refused:
        ops.create_type(values, org.manager)
    assert refused.value.status == 403
    with pytest.raises(DomainError, match="at least one photo"):
        ops.create_type(values, org.admin)
    kind = ops.create_type({**values, "photos_per_period": 3}, org.admin)
    with pytest.raises(DomainError, match="already exists"):
        ops.create_type({**values, "photos_per_period": 3}, org.admin)
    assert ops.set_type_active(kind, False, org.admin) and not kind.active
    assert not ops.set_type_active(kind, False, org.admin)
    assert actions() == ["activity_type.create", "activity_type.deactivate"]


def test_the_inbox_holds_only_what_this_manager_may_decide(org, east_store, manager2):
    unplaced = make_store(rep=org.west_rep, code="NOWHERE", region=None)
    unplaced.region = None
    db.session.commit()
    mine = make_activity(org.rep, [east_store], status=S.SUBMITTED, title="east")
    mixed = make_activity(org.rep, [east_store, unplaced], status=S.SUBMITTED, title="mixed")
    own = make_activity(org.manager, [east_store], status=S.SUBMITTED, title="own")
    second = make_activity(org.rep, [east_store], status=S.SECOND_APPROVAL, title="second")
    db.session.add(ActivityTransition(activity=second, from_status=S.SUBMITTED, to_status=S.SECOND_APPROVAL,
                                      actor=org.manager, comment=""))
    db.session.commit()

    def inbox(user):
        return [a.title for a in db.session.execute(ops.awaiting(user)).scalars()]
    assert inbox(org.manager) == ["east"]
    assert sorted(inbox(manager2)) == ["east", "own", "second"]
    assert sorted(inbox(org.admin)) == ["east", "mixed", "own", "second"]
    assert not permissions.may_approve(org.manager, mixed) and permissions.may_approve(org.manager, mine)
    assert own.id and inbox(org.supervisor) == []
