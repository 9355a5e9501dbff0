"""What the current user may see: the only place that rule lives.

A rep sees what they own, a supervisor what their team owns or what lies in
their regions, a manager what lies in their regions, an admin everything.

A scoped model names two columns, `scope_rep_column` and `scope_region_column`
(either may be None), or reaches its region through a relationship with
`scope_region_via = ("store", Store)`; a model that inherits its scope from another (a visit from
its store, say) declares `scope_via = ("store", Store)` — the relationship
attribute and the model it points at — and is filtered through it. Every view
starts its query here; single records come from get_or_404()."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, false, or_, select, true

from field.auth.models import Region, Role, User
from field.core import MAX_ID
from field.extensions import db


def _user(user=None) -> User:
    user = user if user is not None else current_user
    if user is None or not user.is_authenticated:
        abort(404)
    return user


def region_ids(user: User) -> Select:
    """Ids of the user's regions and every region below them."""
    paths = [r.path for r in user.regions]
    if not paths:
        return select(Region.id).where(false())
    return select(Region.id).where(or_(*[Region.path.startswith(p) for p in paths]))


def team_ids(user: User) -> Select:
    """Ids of the reps who report to this supervisor."""
    return select(User.id).where(User.supervisor_id == user.id)


def rule(model, user=None):
    """The WHERE clause that limits `model` to what `user` may see."""
    user = _user(user)
    if user.role == Role.ADMIN:
        return true()
    if user.role == Role.DEALER:
        return _dealer_rule(model, user)
    via = getattr(model, "scope_via", None)
    if via is not None:
        attr, target = via
        return _through(model, attr, target, rule(target, user))
    rep_col = getattr(model, model.scope_rep_column) if model.scope_rep_column else None
    clauses = []
    if user.role == Role.REP:
        if rep_col is not None:
            clauses.append(rep_col == user.id)
    elif user.role == Role.SUPERVISOR:
        if rep_col is not None:
            clauses.append(rep_col.in_(team_ids(user)))
        region = _in_regions(model, user)
        if region is not None:
            clauses.append(region)
    elif user.role == Role.MANAGER:
        region = _in_regions(model, user)
        if region is not None:
            clauses.append(region)
        if rep_col is not None:
            # Reps whose supervisor works in the manager's regions.
            clauses.append(rep_col.in_(
                select(User.id).where(User.supervisor_id.in_(users_in_regions(user)))))
    return or_(*clauses) if clauses else false()


def _dealer_rule(model, user: User):
    """A dealer's staff see their dealer, the stores it supplies and the records that name it (a model's
    `scope_dealer_column`, orders); nothing else — no visit, sale, photo or person of those stores."""
    from field.dealers.models import Dealer
    from field.stores.models import Store
    if user.dealer_id is None:
        return false()
    if model is Store:
        return Store.dealer_id == user.dealer_id
    if model is Dealer:
        return Dealer.id == user.dealer_id
    column = getattr(model, "scope_dealer_column", None)
    if column:
        return getattr(model, column) == user.dealer_id
    return false()


def _in_regions(model, user: User):
    """The clause 'this record lies in the user's regions', through a relationship if the model says so."""
    if getattr(model, "scope_region_column", None):
        return getattr(model, model.scope_region_column).in_(region_ids(user))
    via = getattr(model, "scope_region_via", None)
    if via is not None:
        attr, target = via
        return _through(model, attr, target, getattr(target, target.scope_region_column).in_(region_ids(user)))
    return None


def _through(model, attr: str, target, clause):
    """'The record's `attr` (a many-to-one) meets `clause`': its key IN (SELECT target.id WHERE clause).

    Not `relationship.has()`: that EXISTS is correlated, which SQLite runs once per outer row; the IN
    list is made once. The same rows in a WHERE (a NULL key is in neither); never negate it."""
    (column,) = getattr(model, attr).property.local_columns
    return getattr(model, column.key).in_(select(target.id).where(clause))


def users_in_regions(user: User) -> Select:
    from field.auth.models import user_regions
    return select(user_regions.c.user_id).where(user_regions.c.region_id.in_(region_ids(user)))


def query(model, user=None) -> Select:
    """select(model) limited to what the user may see."""
    return select(model).where(rule(model, user))


def stores(user=None) -> Select:
    from field.stores.models import Store
    return query(Store, user)


def visits(user=None) -> Select:
    from field.visits.models import Visit
    return query(Visit, user)


def follow_ups(user=None) -> Select:
    """Follow-ups a user may see: their own, and any at a store they may see (the next visitor acts on them)."""
    from field.stores.models import Store
    from field.visits.models import FollowUp
    if _user(user).role == Role.DEALER:
        return select(FollowUp).where(false())
    return select(FollowUp).where(or_(rule(FollowUp, user), FollowUp.store.has(rule(Store, user))))


def photos(user=None) -> Select:
    """Photos a user may see: a rep their own, a supervisor their team's or their regions',
    a manager their regions' (the same rule as the visits they were taken on)."""
    from field.photos.models import Photo
    return query(Photo, user)


def sales(user=None) -> Select:
    from field.sales.models import Sale
    return query(Sale, user)


def users(user=None) -> Select:
    """The people a user may see: themselves, their team, or their regions' people."""
    user = _user(user)
    if user.role == Role.ADMIN:
        return select(User)
    if user.role in (Role.REP, Role.DEALER):
        return select(User).where(User.id == user.id)
    if user.role == Role.SUPERVISOR:
        return select(User).where(or_(User.id == user.id, User.supervisor_id == user.id))
    in_regions = users_in_regions(user)
    return select(User).where(or_(User.id == user.id, User.id.in_(in_regions),
                                  User.supervisor_id.in_(in_regions)))


def users_with_role(role: str, user=None) -> Select:
    """The people a user may see who hold `role` (a list filtered by role)."""
    return users(user).where(User.role == role)


def reps(user=None, active_only: bool = True) -> Select:
    """The reps a user may see (active ones unless asked), for pickers and team lists."""
    stmt = users_with_role(Role.REP, user)
    return stmt.where(User.active.is_(True)) if active_only else stmt


def supervisors(user=None, active_only: bool = True) -> Select:
    """The supervisors a user may see (active ones unless asked)."""
    stmt = users_with_role(Role.SUPERVISOR, user)
    return stmt.where(User.active.is_(True)) if active_only else stmt


def regions(user=None) -> Select:
    user = _user(user)
    if user.role == Role.ADMIN:
        return select(Region).order_by(Region.path)
    return select(Region).where(Region.id.in_(region_ids(user))).order_by(Region.path)


def get_or_404(stmt: Select, ident: int):
    """The one record with this id inside the scoped query, or 404 — never a wider lookup."""
    if not 0 < ident <= MAX_ID:
        abort(404)
    entity = stmt.column_descriptions[0]["entity"]
    obj = db.session.execute(stmt.where(entity.id == ident)).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


def activity_rule(user=None):
    """An activity is visible to its applicant and to whoever may see one of its stores."""
    from field.activities.models import Activity, ActivityStore
    user = _user(user)
    if user.role == Role.ADMIN:
        return true()
    return or_(Activity.applicant_id == user.id, Activity.stores.any(rule(ActivityStore, user)))


def activities(user=None) -> Select:
    from field.activities.models import Activity
    return select(Activity).where(activity_rule(user))


def activity_stores(user=None) -> Select:
    """The stores of activities a user may see: those at stores in scope, and every store of their own applications."""
    from field.activities.models import Activity, ActivityStore
    user = _user(user)
    return select(ActivityStore).where(or_(rule(ActivityStore, user),
                                           ActivityStore.activity.has(Activity.applicant_id == user.id)))


def claims(user=None) -> Select:
    """Claims a user may see: those at stores in their scope, and their own."""
    from field.claims.models import Claim
    user = _user(user)
    return select(Claim).where(or_(rule(Claim, user), Claim.claimant_id == user.id))


def ledger_lines(user=None) -> Select:
    """Write-off lines a user may see: those at stores in their scope, and travel lines of reps in it."""
    from field.claims.models import LedgerLine, TravelClaim
    return select(LedgerLine).where(or_(rule(LedgerLine, user), LedgerLine.travel_claim.has(rule(TravelClaim, user))))


def travel_claims(user=None) -> Select:
    """Travel-expense claims a user may see: their own, their team's, their regions' reps'."""
    from field.claims.models import TravelClaim
    return query(TravelClaim, user)


def own_photos(user=None) -> Select:
    """A rep's own photos (receipts, selfies) a user may see: a rep their own, a supervisor their team's, a manager
    their regions' reps' (no store: scoped by the rep alone)."""
    from field.photos.models import OwnPhoto
    return query(OwnPhoto, user)


def expense_receipts(user=None) -> Select:
    """Stand-alone travel receipts a user may see: scoped like the travel claims they are for."""
    from field.claims.models import ExpenseReceipt
    return query(ExpenseReceipt, user)


def orders(user=None) -> Select:
    """Orders a user may see: a dealer's staff their dealer's; anyone else those at stores in scope."""
    from field.orders.models import Order
    return query(Order, user)


def notifications(user=None) -> Select:
    """A user's own notifications: nobody reads another's, an admin neither."""
    from field.notifications.models import Notification
    return select(Notification).where(Notification.user_id == _user(user).id)


# --- incentives (issue 16) ---------------------------------------------------------------------------

def incentive_tasks(user=None) -> Select:
    """Incentive tasks a user may see: those of their regions and below, and those of a region above one of
    theirs (a task for the whole East applies to the reps of its areas). Editing takes query(IncentiveTask)."""
    from field.incentives.models import IncentiveTask
    user = _user(user)
    if user.role == Role.ADMIN:
        return select(IncentiveTask)
    prefixes = {"/" + "/".join(r.path.strip("/").split("/")[:n]) + "/"
                for r in user.regions for n in range(1, r.path.strip("/").count("/") + 2)}
    above = select(Region.id).where(Region.path.in_(prefixes)) if prefixes else select(Region.id).where(false())
    return select(IncentiveTask).where(or_(IncentiveTask.region_id.in_(region_ids(user)),
                                           IncentiveTask.region_id.in_(above)))


def region_reps(region: Region) -> Select:
    """Ids of the active reps working in this region or below (whom a task of the region is for)."""
    from field.auth.models import user_regions
    below = select(Region.id).where(Region.path.startswith(region.path))
    return select(User.id).where(User.role == Role.REP, User.active.is_(True), User.id.in_(
        select(user_regions.c.user_id).where(user_regions.c.region_id.in_(below))))


def leaderboard_reps(user=None) -> Select:
    """Ids of the active reps on a user's leaderboard: a rep's team (those sharing their supervisor), a
    supervisor's team, a manager's regions' reps, every rep for an admin."""
    user = _user(user)
    reps_ = select(User.id).where(User.role == Role.REP, User.active.is_(True))
    if user.role == Role.ADMIN:
        return reps_
    if user.role == Role.REP:
        if user.supervisor_id is None:
            return reps_.where(User.id == user.id)
        return reps_.where(User.supervisor_id == user.supervisor_id)
    if user.role == Role.SUPERVISOR:
        return reps_.where(User.supervisor_id == user.id)
    return reps(user).with_only_columns(User.id)


def points_entries(user=None) -> Select:
    """Points ledger lines a user may see: a rep their own, a supervisor their team's, a manager their regions'."""
    from field.incentives.models import PointsEntry
    return query(PointsEntry, user)


def competitor_sightings(user=None) -> Select:
    """Competitor sightings a user may see: scoped like the visits they come from (rep, store's region)."""
    from field.competitors.models import CompetitorSighting
    return query(CompetitorSighting, user)
