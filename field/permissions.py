"""What a user may *do*: the only place, with scope.py, where roles are compared.

scope.py says what a user may see; a `may_*` check here says whether they may act — on their
role and, where it matters, on the record. Views, operations, templates (`may.review()`,
`may.cancel_visit(visit)`) and the navigation ask these; nobody compares roles by hand.

One answer for "not allowed": a record outside the user's scope is 404 (scope.get_or_404 says so
before any check here runs); a record in scope whose action is not this user's is 403, which
`require()` raises as a DomainError so operations and views refuse the same way."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from field import scope
from field.auth.models import Role, User
from field.core import DomainError
from field.extensions import db


class NotAllowed(DomainError):
    """The record is the user's to see but the action is not theirs."""

    status = 403


def require(allowed: bool, message: str | None = None) -> None:
    """Refuse with 403 (and `message`, or the common one) unless `allowed`."""
    if not allowed:
        raise NotAllowed(message or _("You are not allowed to do that."))


# --- who someone is (for rules about a person, not the signed-in user's rights) ------------------

def is_rep(user: User | None) -> bool:
    return user is not None and user.role == Role.REP


def is_supervisor(user: User | None) -> bool:
    return user is not None and user.role == Role.SUPERVISOR


def is_manager(user: User | None) -> bool:
    return user is not None and user.role == Role.MANAGER


def is_admin(user: User | None) -> bool:
    return user is not None and user.role == Role.ADMIN


def reports_to_supervisor(role: str) -> bool:
    """Reps report to a supervisor; nobody else does."""
    return role == Role.REP


def supervises(supervisor: User, rep: User | None) -> bool:
    """The rep reports to this supervisor."""
    return is_supervisor(supervisor) and rep is not None and rep.supervisor_id == supervisor.id


def home_of(user: User) -> str:
    """Which home a user lands on: 'rep', 'team', 'regions' or 'admin'."""
    return {Role.REP: "rep", Role.SUPERVISOR: "team", Role.MANAGER: "regions", Role.ADMIN: "admin",
            Role.DEALER: "dealer"}[Role(user.role)]


# --- administration -----------------------------------------------------------------------------

def may_administer(user: User) -> bool:
    """Users, regions, visit types, activity types, the audit log: the administrator's."""
    return is_admin(user)


def may_edit_stores(user: User) -> bool:
    """Add, change, import and export stores (in scope)."""
    return user.role in (Role.ADMIN, Role.MANAGER)


def may_edit_products(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.MANAGER)


def may_import_sales(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.MANAGER)


# --- visits ------------------------------------------------------------------------------------

def may_run_visits(user: User) -> bool:
    """Check in at stores and do visits: the rep's work (Today, an unplanned check-in)."""
    return is_rep(user)


def may_plan(user: User) -> bool:
    """Plan reps' weeks from the due list."""
    return user.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)


def may_watch_team(user: User) -> bool:
    """The team's day, a rep's day and week, flagged visits."""
    return user.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)


def may_cancel_visit(user: User, visit) -> bool:
    """Its rep, whoever planned it, or anyone above reps — while it is planned or in progress."""
    if visit.status not in ("planned", "in_progress"):
        return False
    return user.id in (visit.rep_id, visit.planned_by_id) or user.role in (Role.SUPERVISOR, Role.MANAGER,
                                                                            Role.ADMIN)


def may_score_visit(user: User, visit) -> bool:
    """A co-visit is scored by the rep's own supervisor, once the visit has started."""
    return supervises(user, visit.rep) and visit.status in ("in_progress", "completed")


# --- evidence -------------------------------------------------------------------------------------

def may_review(user: User) -> bool:
    """Verify evidence: supervisors and managers (on what their scope holds)."""
    return user.role in (Role.SUPERVISOR, Role.MANAGER)


def may_void_photo(user: User, photo=None) -> bool:
    """Supervisors and managers take a photo out of play (once)."""
    return user.role in (Role.SUPERVISOR, Role.MANAGER) and (photo is None or photo.voided_at is None)


def may_answer_checklist(user: User, store_id: int) -> bool:
    """Checklist evidence comes from a rep of the store, like its photos."""
    if not is_rep(user):
        return False
    from field.stores.models import Store
    return db.session.execute(scope.stores(user).where(Store.id == store_id).with_only_columns(Store.id)).first() \
        is not None


# --- activities -----------------------------------------------------------------------------------

def may_apply(user: User) -> bool:
    """Apply for a promotion: reps, supervisors and managers."""
    return user.role in (Role.REP, Role.SUPERVISOR, Role.MANAGER)


def may_edit_activity(user: User, activity) -> bool:
    """A draft is changed by its applicant only."""
    return activity.status == "draft" and activity.applicant_id == user.id


def may_decide_activities(user: User) -> bool:
    """Managers and admins have an approval inbox."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def covers_all_stores(user: User, activity) -> bool:
    """Every store of the activity lies in the user's scope (and it has stores)."""
    from field.activities.models import ActivityStore
    from field.stores.models import Store
    ids = select(ActivityStore.store_id).where(ActivityStore.activity_id == activity.id)
    total = db.session.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
    seen = db.session.execute(select(func.count()).select_from(
        scope.stores(user).where(Store.id.in_(ids)).subquery())).scalar_one() if total else 0
    return total > 0 and seen == total


def may_approve(user: User, activity) -> bool:
    """A manager whose regions hold every store of the activity, or an admin — never the applicant."""
    if user.id == activity.applicant_id:
        return False
    if is_admin(user):
        return True
    return is_manager(user) and covers_all_stores(user, activity)


# --- claims and money -----------------------------------------------------------------------------

def may_claim(user: User) -> bool:
    """File expense claims: reps, supervisors and managers (on activities that may be claimed)."""
    return user.role in (Role.REP, Role.SUPERVISOR, Role.MANAGER)


def may_decide_claims(user: User) -> bool:
    return user.role in (Role.MANAGER, Role.ADMIN)


def may_decide_claim(user: User, claim) -> bool:
    """A manager whose scope holds the claim's store, or an admin — never the claimant."""
    if user.id == claim.claimant_id:
        return False
    if is_admin(user):
        return True
    if not is_manager(user):
        return False
    from field.stores.models import Store
    seen = db.session.execute(scope.stores(user).where(Store.id == claim.activity_store.store_id)
                              .with_only_columns(Store.id)).first()
    return seen is not None


def may_decide_travel_claims(user: User) -> bool:
    """Approve or reject the travel-expense claims of reps in scope (the rep's supervisor first of all)."""
    return user.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)


def may_void_receipt(user: User, receipt=None) -> bool:
    """Take a stand-alone travel receipt out of play (once): its rep, or a supervisor or manager who sees it."""
    if receipt is not None and receipt.voided_at is not None:
        return False
    if is_rep(user):
        return receipt is None or receipt.rep_id == user.id
    return user.role in (Role.SUPERVISOR, Role.MANAGER)


def may_read_ledger(user: User) -> bool:
    return user.role in (Role.MANAGER, Role.ADMIN)


def may_read_roi(user: User) -> bool:
    return user.role in (Role.MANAGER, Role.ADMIN)


# --- for templates ----------------------------------------------------------------------------------

class Checks:
    """`may` in templates: `may.review()`, `may.cancel_visit(visit)` ask for the signed-in user."""

    def __init__(self, user):
        self._user = user

    def __getattr__(self, name: str):
        check = globals().get(f"may_{name}")
        if check is None:
            raise AttributeError(name)
        user = self._user
        return lambda *args: bool(user is not None and user.is_authenticated and check(user, *args))


def for_current_user() -> Checks:
    return Checks(current_user)


# --- alerts ----------------------------------------------------------------------------------------

def may_handle_alerts(user: User) -> bool:
    """See the alerts of one's scope, acknowledge and resolve them: supervisors, managers (and admins)."""
    return user.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)


def may_edit_alert_rules(user: User) -> bool:
    """Set the alert thresholds of one's regions: managers (and admins)."""
    return user.role in (Role.MANAGER, Role.ADMIN)


# --- targets (销售指标) -------------------------------------------------------------------------------

def may_set_targets(user: User) -> bool:
    """Set, import and take away regions' monthly targets (regions in scope): managers and admins."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def may_split_target(user: User, target) -> bool:
    """Split a target (in scope) into parts: a region's to its reps, by managers and admins; a rep's to
    their stores, by managers, admins and the rep's own supervisor. A store's target is not split."""
    if target.level == "region":
        return may_set_targets(user)
    if target.level == "rep":
        return may_set_targets(user) or supervises(user, target.rep)
    return False


# --- Notifications -----------------------------------------------------------------------------------
# Everyone reads their own notifications (scope.notifications); the delivery queue of the whole company
# (e-mails and group-robot messages, their errors, sending a given-up one again) is the admin's.

def may_watch_deliveries(user: User) -> bool:
    return user.role == Role.ADMIN


# --- dashboards (issue 15) --------------------------------------------------------------------------

def may_read_dashboards(user: User) -> bool:
    """The manager's dashboard (coverage, frequency, productivity, evidence, spend and ROI) and its
    drill-downs: managers and admins. Supervisors watch their team's (may_watch_team)."""
    return user.role in (Role.MANAGER, Role.ADMIN)


# --- incentives (issue 16) ----------------------------------------------------------------------------

def may_manage_incentives(user: User) -> bool:
    """Set the incentive tasks of one's regions and the company's levels and rewards: managers and admins."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def may_redeem_rewards(user: User) -> bool:
    """Record a reward handed to a rep in scope: supervisors, managers and admins."""
    return user.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)


def may_earn_points(user: User) -> bool:
    """Points are earned by reps (their home shows the card)."""
    return user.role == Role.REP


# --- competitor intelligence (竞品采集, issue 17) ---------------------------------------------------

def may_read_competitors(user: User) -> bool:
    """The competitor report, its sightings and export (over one's scope): supervisors, managers, admins."""
    return user.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)


def may_edit_competitor_lists(user: User) -> bool:
    """The list of competitor promotion types a rep picks from: the administrator's."""
    return is_admin(user)


# --- dealers' staff and their orders -------------------------------------------------------------

def is_dealer(user: User | None) -> bool:
    return user is not None and user.role == Role.DEALER


DEALER_PAGES = ("static", "app_shell.favicon", "app_shell.manifest", "app_shell.service_worker", "app_shell.offline",
                "auth.login", "auth.logout", "auth.profile", "auth.change_password", "auth.language",
                "auth.sign_out_everywhere", "home.index", "stores.index", "stores.detail")
"""What a dealer's staff may open besides their orders (orders.*) and their own notifications: signing in and out, their profile, their
stores. Every other page answers them 403, whatever its own checks say."""


def binds_to_dealer(role: str) -> bool:
    """A user of this role works for one dealer (users.dealer_id), and must name it."""
    return role == Role.DEALER


def may_reach(user: User | None, endpoint: str | None) -> bool:
    """Whether a signed-in user may open this page at all (a dealer's staff: their pages only)."""
    if not is_dealer(user) or endpoint is None:
        return True
    return endpoint.startswith(("orders.", "notifications.")) or endpoint in DEALER_PAGES


def may_see_orders(user: User) -> bool:
    """The orders list: a dealer's staff (their dealer's), and the people who follow orders in their scope."""
    return is_dealer(user) or user.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)


def may_handle_order(user: User, order=None) -> bool:
    """Confirm, deliver or cancel an order: the staff of the order's dealer only."""
    return is_dealer(user) and user.dealer_id is not None and (order is None or order.dealer_id == user.dealer_id)


def may_cancel_order(user: User, order) -> bool:
    """Cancel an order not yet delivered: the dealer's staff, or the rep who took it while it is only submitted."""
    if may_handle_order(user, order):
        return True
    return is_rep(user) and order.rep_id == user.id and order.status == "submitted"


# --- dealers and their tiers (issue 17) ----------------------------------------------------------------

def may_read_dealers(user: User) -> bool:
    """The dealers of one's regions, their scorecards and proposals: supervisors, managers and admins."""
    return user.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)


def may_edit_dealers(user: User) -> bool:
    """Add, change, import and export dealers (in scope): managers and admins."""
    return user.role in (Role.MANAGER, Role.ADMIN)


def may_set_dealer_tiers(user: User) -> bool:
    """Name and order the tiers, set their criteria, confirm or reject proposals: managers and admins."""
    return user.role in (Role.MANAGER, Role.ADMIN)
