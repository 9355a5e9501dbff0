"""What each role may do (field/permissions.py), as a table of role × action, then the checks that read the
record too: whose visit, who supervises whom, who applied or claimed, what the user's scope holds."""
import inspect

import pytest

from field import permissions
from field.activities.models import ActivityStatus as S
from field.core import DomainError
from field.visits.models import VisitStatus
from tests.factories import make_activity, make_claim, make_photo, make_store, make_visit, promo_visit

pytestmark = pytest.mark.usefixtures("request_ctx")

ROLES = ("rep", "supervisor", "manager", "admin")

# What a role may do whatever the record: one row per check, one column per role (rep, supervisor, manager, admin).
ROLE_TABLE = {
    "may_administer":          (False, False, False, True),
    "may_edit_stores":         (False, False, True,  True),
    "may_edit_products":       (False, False, True,  True),
    "may_import_sales":        (False, False, True,  True),
    "may_run_visits":          (True,  False, False, False),
    "may_plan":                (False, True,  True,  True),
    "may_watch_team":          (False, True,  True,  True),
    "may_review":              (False, True,  True,  False),
    "may_void_photo":          (False, True,  True,  False),
    "may_apply":               (True,  True,  True,  False),
    "may_decide_activities":   (False, False, True,  True),
    "may_claim":               (True,  True,  True,  False),
    "may_decide_claims":       (False, False, True,  True),
    "may_read_ledger":         (False, False, True,  True),
    "may_read_roi":            (False, False, True,  True),
    "may_set_targets":         (False, False, True,  True),
    # Notifications
    "may_watch_deliveries":    (False, False, False, True),
    # Dashboards (issue 15)
    "may_read_dashboards":     (False, False, True,  True),
}
# Alerts (issue 15): appended here as their own rows.
ROLE_TABLE.update({
    "may_handle_alerts":       (False, True,  True,  True),
    "may_edit_alert_rules":    (False, False, True,  True),
})
# Incentives (issue 16): appended here as their own rows.
ROLE_TABLE.update({
    "may_manage_incentives":   (False, False, True,  True),
    "may_redeem_rewards":      (False, True,  True,  True),
    "may_earn_points":         (True,  False, False, False),
})

# Competitor intelligence (issue 17)
ROLE_TABLE.update({
    "may_read_competitors":      (False, True,  True,  True),
    "may_edit_competitor_lists": (False, False, False, True),
})

# Orders to dealers (issue 17): the orders list is for dealer staff and the people above reps.
ROLE_TABLE.update({
    "may_see_orders":          (False, True,  True,  True),
})

# The working day (issue 16): travel-expense claims.
ROLE_TABLE.update({
    "may_decide_travel_claims": (False, True,  True,  True),
    "may_void_receipt":         (True,  True,  True,  False),
})

# Dealers and their tiers (issue 17).
ROLE_TABLE.update({
    "may_read_dealers":        (False, True,  True,  True),
    "may_edit_dealers":        (False, False, True,  True),
    "may_set_dealer_tiers":    (False, False, True,  True),
})

# The checks that need a record; each has its own tests below.
RECORD_CHECKS = {"may_cancel_visit", "may_score_visit", "may_answer_checklist", "may_edit_activity", "may_approve",
                 "may_decide_claim", "may_void_photo", "may_split_target",
                 "may_reach", "may_handle_order", "may_cancel_order"}  # orders: tests/unit/test_orders.py


@pytest.mark.parametrize("check", sorted(ROLE_TABLE))
def test_the_role_table(org, check):
    answers = tuple(getattr(permissions, check)(getattr(org, role)) for role in ROLES)
    expected = ROLE_TABLE[check]
    assert answers == expected, "\n".join(f"{check}({role}) is {got}, expected {want}"
                                          for role, got, want in zip(ROLES, answers, expected) if got != want)


def test_every_check_is_in_the_table_or_tested_with_its_record():
    checks = {name for name, fn in inspect.getmembers(permissions, inspect.isfunction) if name.startswith("may_")}
    untested = sorted(checks - set(ROLE_TABLE) - RECORD_CHECKS)
    assert not untested, f"add these checks to ROLE_TABLE or RECORD_CHECKS in tests/unit/test_permissions.py: {untested}"
    assert not (set(ROLE_TABLE) | RECORD_CHECKS) - checks, "the table names checks permissions.py no longer has"


# --- visits -------------------------------------------------------------------------------------------

@pytest.fixture
def shop(org):
    return make_store(rep=org.rep, code="E-SHOP")


@pytest.mark.parametrize("status", [VisitStatus.PLANNED, VisitStatus.IN_PROGRESS])
def test_a_live_visit_is_cancelled_by_its_rep_its_planner_or_anyone_above_reps(org, shop, status):
    visit = make_visit(org.rep, shop, status=status)
    assert permissions.may_cancel_visit(org.rep, visit)
    assert not permissions.may_cancel_visit(org.teammate, visit)  # another rep
    for boss in (org.supervisor, org.manager, org.admin):
        assert permissions.may_cancel_visit(boss, visit)
    visit.planned_by_id = org.teammate.id
    assert permissions.may_cancel_visit(org.teammate, visit)      # whoever planned it


@pytest.mark.parametrize("status", [VisitStatus.COMPLETED, VisitStatus.CANCELLED])
def test_a_finished_or_cancelled_visit_is_cancelled_by_nobody(org, shop, status):
    visit = make_visit(org.rep, shop, status=status)
    visit.planned_by_id = org.supervisor.id
    for user in (org.rep, org.supervisor, org.manager, org.admin):
        assert not permissions.may_cancel_visit(user, visit), user.login


def test_a_started_visit_is_scored_by_the_reps_own_supervisor_only(org, shop):
    for status in (VisitStatus.IN_PROGRESS, VisitStatus.COMPLETED):
        visit = make_visit(org.rep, shop, status=status)
        assert permissions.may_score_visit(org.supervisor, visit)
        assert not permissions.may_score_visit(org.west_supervisor, visit)   # another team's supervisor
        for user in (org.rep, org.manager, org.admin):
            assert not permissions.may_score_visit(user, visit), user.login
    planned = make_visit(org.rep, shop, status=VisitStatus.PLANNED)
    assert not permissions.may_score_visit(org.supervisor, planned)


# --- evidence -----------------------------------------------------------------------------------------

def test_a_voided_photo_is_voided_by_nobody(org, shop):
    visit, step = promo_visit(org.rep, shop)
    live, voided = make_photo(visit, step), make_photo(visit, step, voided=True)
    for user in (org.supervisor, org.manager):
        assert permissions.may_void_photo(user, live)
        assert not permissions.may_void_photo(user, voided)
    for user in (org.rep, org.admin):
        assert not permissions.may_void_photo(user, live)


def test_a_checklist_is_answered_by_a_rep_whose_scope_holds_the_store(org, shop):
    west = make_store(rep=org.west_rep, code="W-SHOP")
    assert permissions.may_answer_checklist(org.rep, shop.id)
    assert not permissions.may_answer_checklist(org.rep, west.id)          # out of the rep's scope
    assert permissions.may_answer_checklist(org.west_rep, west.id)
    for user in (org.supervisor, org.manager, org.admin):                 # in scope, but not a rep
        assert not permissions.may_answer_checklist(user, shop.id), user.login


# --- activities ---------------------------------------------------------------------------------------

def test_a_draft_is_edited_by_its_applicant_only(org, shop):
    draft = make_activity(org.rep, [shop])
    assert permissions.may_edit_activity(org.rep, draft)
    for user in (org.teammate, org.supervisor, org.manager, org.admin):
        assert not permissions.may_edit_activity(user, draft), user.login
    submitted = make_activity(org.rep, [shop], status=S.SUBMITTED)
    assert not permissions.may_edit_activity(org.rep, submitted)


def test_an_activity_is_approved_by_a_manager_covering_every_store_or_an_admin_never_the_applicant(org, shop):
    west = make_store(rep=org.west_rep, code="W-SHOP")
    east_only = make_activity(org.rep, [shop], status=S.SUBMITTED)
    both = make_activity(org.rep, [shop, west], status=S.SUBMITTED)
    assert permissions.may_approve(org.manager, east_only)
    assert not permissions.may_approve(org.manager, both)                  # the west store is not in his regions
    assert permissions.may_approve(org.admin, east_only) and permissions.may_approve(org.admin, both)
    for user in (org.rep, org.supervisor):
        assert not permissions.may_approve(user, east_only), user.login
    own = make_activity(org.manager, [shop], status=S.SUBMITTED)
    assert not permissions.may_approve(org.manager, own)                   # the applicant, however senior
    admins_own = make_activity(org.admin, [shop], status=S.SUBMITTED)
    assert not permissions.may_approve(org.admin, admins_own)
    nothing = make_activity(org.rep, [], status=S.SUBMITTED)
    assert not permissions.may_approve(org.manager, nothing)               # no stores: covers nothing


# --- claims -------------------------------------------------------------------------------------------

def test_a_claim_is_decided_by_a_manager_in_scope_or_an_admin_never_the_claimant(org, shop):
    west = make_store(rep=org.west_rep, code="W-SHOP")
    activity = make_activity(org.manager, [shop, west], status=S.APPROVED)
    east_line, west_line = sorted(activity.stores, key=lambda line: line.store.code)
    east_claim = make_claim(east_line, org.rep)
    west_claim = make_claim(west_line, org.west_rep)
    assert permissions.may_decide_claim(org.manager, east_claim)
    assert not permissions.may_decide_claim(org.manager, west_claim)       # out of the manager's scope
    assert permissions.may_decide_claim(org.admin, east_claim) and permissions.may_decide_claim(org.admin, west_claim)
    for user in (org.rep, org.teammate, org.supervisor):
        assert not permissions.may_decide_claim(user, east_claim), user.login
    another = make_activity(org.admin, [shop], status=S.APPROVED)          # a store has one live claim at a time
    managers_own = make_claim(another.stores[0], org.manager)
    assert not permissions.may_decide_claim(org.manager, managers_own)     # the claimant never
    assert permissions.may_decide_claim(org.admin, managers_own)


# --- refusing -----------------------------------------------------------------------------------------

def test_require_passes_quietly_or_refuses_with_403():
    assert permissions.require(True) is None
    with pytest.raises(DomainError) as refused:
        permissions.require(False)
    assert refused.value.status == 403 and isinstance(refused.value, permissions.NotAllowed)
    assert str(refused.value) == "You are not allowed to do that."
    with pytest.raises(permissions.NotAllowed) as refused:
        permissions.require(False, "Only the rep's supervisor scores a co-visit.")
    assert refused.value.status == 403 and str(refused.value) == "Only the rep's supervisor scores a co-visit."


def test_templates_ask_the_same_checks_for_the_signed_in_user(org, shop):
    may = permissions.Checks(org.supervisor)
    assert may.review() is True and may.administer() is False
    assert may.cancel_visit(make_visit(org.rep, shop, status=VisitStatus.PLANNED)) is True
    assert permissions.Checks(None).review() is False
    with pytest.raises(AttributeError):
        may.fly()


# --- targets (销售指标) -----------------------------------------------------------------------------------

def test_targets_are_set_by_managers_and_admins_and_split_down_by_whose_they_are(org):
    from datetime import date as _date
    from field.targets.models import Target
    region = Target(month=_date(2026, 3, 1), level="region", subject_id=org.east.id, region_id=org.east.id, amount=1)
    rep_part = Target(month=_date(2026, 3, 1), level="rep", subject_id=org.rep.id, region_id=org.east.id,
                      rep_id=org.rep.id, amount=1)
    rep_part.rep = org.rep
    store_part = Target(month=_date(2026, 3, 1), level="store", subject_id=1, region_id=org.east.id, amount=1)
    for user in (org.manager, org.admin):
        assert permissions.may_set_targets(user)
        assert permissions.may_split_target(user, region) and permissions.may_split_target(user, rep_part)
        assert not permissions.may_split_target(user, store_part)          # a store's target is not split
    for user in (org.rep, org.teammate, org.supervisor, org.west_supervisor):
        assert not permissions.may_set_targets(user), user.login
        assert not permissions.may_split_target(user, region), user.login
    assert permissions.may_split_target(org.supervisor, rep_part)           # their team's rep: to the stores
    assert not permissions.may_split_target(org.west_supervisor, rep_part)  # not their rep
    assert not permissions.may_split_target(org.rep, rep_part)              # a rep reads their own


# --- stand-alone travel receipts (issue 16) -------------------------------------------------------------

def test_a_receipt_is_voided_by_its_rep_or_above_reps_once(org):
    from types import SimpleNamespace
    mine = SimpleNamespace(rep_id=org.rep.id, voided_at=None)
    assert permissions.may_void_receipt(org.rep, mine)
    assert not permissions.may_void_receipt(org.teammate, mine)       # another rep
    assert permissions.may_void_receipt(org.supervisor, mine) and permissions.may_void_receipt(org.manager, mine)
    assert not permissions.may_void_receipt(org.admin, mine)
    mine.voided_at = "already"
    for user in (org.rep, org.supervisor, org.manager):
        assert not permissions.may_void_receipt(user, mine)
