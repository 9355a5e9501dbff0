"""Everything that changes an activity or an activity type.

Each operation checks its rules before touching a record, then stages its changes and audits them
— or raises a DomainError (422), Conflict (409) or a 403; the request (or command) that called it
commits once, or rolls back what a refusal left. Only the applicant changes a draft, and only a
draft: once submitted, an activity's stores, budget and dates are fixed."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable

from flask_babel import gettext as _
from sqlalchemy import and_, false, func, not_, or_, select
from sqlalchemy.exc import IntegrityError

from field import audit, permissions, scope
from field.activities import workflow
from field.activities.models import Activity, ActivityStatus as S, ActivityStore, ActivityTransition, ActivityType
from field.activities.rules import DEFAULT_FLOOR_PCT
from field.auth.models import User
from field.core import MAX_MONEY, Conflict, DomainError, company_today
from field.extensions import db
from field.stores.models import Store
from field.core import FieldError

MAX_DAYS = 366
MAX_STORES = 2000
MAX_STORE_BUDGET = int(MAX_MONEY * 100)
ACTIVITY_FIELDS = ("title", "type", "period_start", "period_end", "expected_lift_pct", "margin_pct", "notes")
TYPE_FIELDS = ("name", "name_en", "check_period", "photos_per_period", "checklist", "compliance_floor_pct",
               "margin_pct")


# --- who may -------------------------------------------------------------------------------

def require_editable(activity: Activity, actor: User) -> None:
    """A draft, changed by its applicant; anything else is refused with the reason."""
    if activity.status != S.DRAFT:
        raise Conflict(_("This activity is %(state)s: its stores, budget and dates can no longer change.",
                         state=workflow.state_label(activity.status)))
    permissions.require(permissions.may_edit_activity(actor, activity), _("Only the applicant may change a draft."))


# --- activity types ------------------------------------------------------------------------

def active_types() -> list[ActivityType]:
    # Activity types are company-wide settings, like the product catalogue: no scope to apply.
    return list(db.session.execute(select(ActivityType).where(ActivityType.active.is_(True))
                                   .order_by(ActivityType.name)).scalars())


def all_types() -> list[ActivityType]:
    return list(db.session.execute(select(ActivityType).order_by(ActivityType.active.desc(), ActivityType.name))
                .scalars())


def _name_taken(name: str, kind: ActivityType | None) -> bool:
    stmt = select(ActivityType.id).where(func.lower(ActivityType.name) == name.lower())
    if kind is not None and kind.id is not None:
        stmt = stmt.where(ActivityType.id != kind.id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _check_type(values: dict, kind: ActivityType | None) -> None:
    if _name_taken(values["name"], kind):
        raise FieldError("name", _("An activity type with this name already exists."))
    if values["photos_per_period"] == 0 and not values["checklist"]:
        raise FieldError("photos_per_period", _("Ask for at least one photo or one checklist item: "
                                                "otherwise there is no evidence to check."))


def _apply(obj, values: dict, fields: Iterable[str]) -> dict[str, list]:
    changes: dict[str, list] = {}
    for key in fields:
        if key not in values:
            continue
        old, new = getattr(obj, key), values[key]
        if key == "type":
            if old is not None and old.id == new.id:
                continue
            changes[key] = [old.name if old else None, new.name]
        elif old == new:
            continue
        else:
            changes[key] = [old, new]
        setattr(obj, key, new)
    return changes


def _require_admin(actor: User) -> None:
    permissions.require(permissions.may_administer(actor), _("Only an administrator may change activity types."))


def _save_type(kind: ActivityType) -> None:
    """Write the type in a savepoint: a name taken by another request at the same moment is the
    form's error, and the rest of the request stands."""
    try:
        with db.session.begin_nested():
            db.session.add(kind)
            db.session.flush()
    except IntegrityError:
        raise FieldError("name", _("An activity type with this name already exists.")) from None


def create_type(values: dict, actor: User) -> ActivityType:
    """Add an activity type (admins)."""
    _require_admin(actor)
    _check_type(values, None)
    kind = ActivityType(active=True, compliance_floor_pct=DEFAULT_FLOOR_PCT)
    _apply(kind, values, TYPE_FIELDS)
    _save_type(kind)
    audit.record("activity_type.create", kind, actor=actor, name=kind.name)
    return kind


def update_type(kind: ActivityType, values: dict, actor: User) -> dict:
    """Change a type's rules; activities already approved keep their periods as the type now says."""
    _require_admin(actor)
    _check_type(values, kind)
    changes = _apply(kind, values, TYPE_FIELDS)
    if changes:
        _save_type(kind)
        audit.record("activity_type.update", kind, actor=actor, changes=changes)
    return changes


def set_type_active(kind: ActivityType, active: bool, actor: User) -> bool:
    """Deactivate (or reactivate) a type: new applications cannot use it, existing ones keep it."""
    _require_admin(actor)
    if kind.active == active:
        return False
    kind.active = active
    audit.record("activity_type.activate" if active else "activity_type.deactivate", kind, actor=actor,
                 name=kind.name)
    return True


# --- drafting --------------------------------------------------------------------------------

def _check_period(start: date, end: date) -> None:
    if end < start:
        raise FieldError("period_end", _("The activity ends before it starts."))
    if (end - start).days + 1 > MAX_DAYS:
        raise FieldError("period_end", _("An activity runs at most %(days)s days.", days=MAX_DAYS))


def _check_type_usable(kind: ActivityType, activity: Activity | None) -> None:
    if not kind.active and (activity is None or activity.type_id != kind.id):
        raise FieldError("type", _("This activity type is no longer in use."))


def create_activity(values: dict, actor: User) -> Activity:
    """Start a draft application; the applicant adds stores and budgets next."""
    permissions.require(permissions.may_apply(actor), _("Reps, supervisors and managers apply for activities."))
    _check_type_usable(values["type"], None)
    _check_period(values["period_start"], values["period_end"])
    activity = Activity(applicant=actor, status=S.DRAFT, budget_total=0, notes="")
    _apply(activity, values, ACTIVITY_FIELDS)
    db.session.add(activity)
    db.session.flush()
    audit.record("activity.create", activity, actor=actor, title=activity.title, type=activity.type.name,
                 period=[activity.period_start, activity.period_end])
    return activity


def update_activity(activity: Activity, values: dict, actor: User) -> dict:
    """Change a draft's title, type, dates, expected lift, margin or notes."""
    require_editable(activity, actor)
    _check_type_usable(values.get("type", activity.type), activity)
    _check_period(values.get("period_start", activity.period_start), values.get("period_end", activity.period_end))
    changes = _apply(activity, values, ACTIVITY_FIELDS)
    if changes:
        audit.record("activity.update", activity, actor=actor, changes=changes)
    return changes


def check_budget(budget: int) -> int:
    """A store's budget: a whole number of fen above zero and within the money cap."""
    if not isinstance(budget, int) or isinstance(budget, bool):
        raise DomainError(_("A budget is an amount in yuan."))
    if budget <= 0:
        raise DomainError(_("A store's budget must be more than zero."))
    if budget > MAX_STORE_BUDGET:
        raise DomainError(_("A store's budget is at most ¥%(max)s.", max=f"{MAX_MONEY:,.2f}"))
    return budget


def recount_budget(activity: Activity) -> None:
    db.session.flush()
    activity.budget_total = db.session.execute(
        select(func.coalesce(func.sum(ActivityStore.budget), 0)).where(ActivityStore.activity_id == activity.id)
    ).scalar_one()


def pickable_stores(actor: User):
    """The stores an applicant may put into an activity: active ones in their scope."""
    return scope.stores(actor).where(Store.active.is_(True))


def set_store_budgets(activity: Activity, budgets: dict[Store, int], actor: User, action: str,
                      **detail) -> tuple[int, int]:
    """Add these stores with their budgets, or set the budget of those already in; returns (added, changed).

    Every store must be active and in the actor's scope; the caller found them through scope."""
    require_editable(activity, actor)
    for budget in budgets.values():
        check_budget(budget)
    allowed = set(db.session.execute(pickable_stores(actor).where(Store.id.in_([s.id for s in budgets]))
                                     .with_only_columns(Store.id)).scalars()) if budgets else set()
    outside = [s for s in budgets if s.id not in allowed]
    if outside:
        raise DomainError(_("Store %(code)s is not one of your active stores.", code=outside[0].code))
    existing = {a.store_id: a for a in activity.stores}
    if len(set(existing) | {s.id for s in budgets}) > MAX_STORES:
        raise DomainError(_("An activity has at most %(n)s stores.", n=MAX_STORES))
    added = changed = 0
    before = activity.budget_total
    try:
        with db.session.begin_nested():
            for store, budget in budgets.items():
                line = existing.get(store.id)
                if line is None:
                    db.session.add(ActivityStore(activity=activity, store=store, budget=budget))
                    added += 1
                elif line.budget != budget:
                    line.budget = budget
                    changed += 1
            if not added and not changed:
                return 0, 0
            recount_budget(activity)
    except IntegrityError:  # the same store added by another request at the same moment
        raise Conflict(_("This activity was changed in the meantime. Reload and try again.")) from None
    audit.record(action, activity, actor=actor, added=added, changed=changed,
                 budget_total=[before, activity.budget_total], **detail)
    return added, changed


def set_budgets_by_line(activity: Activity, budgets: dict[int, int], actor: User) -> int:
    """Set budgets of stores already in the activity, by activity-store id; returns how many changed."""
    require_editable(activity, actor)
    lines = {a.id: a for a in activity.stores}
    unknown = [i for i in budgets if i not in lines]
    if unknown:
        raise DomainError(_("That store is not part of this activity."), 404)
    return set_store_budgets(activity, {lines[i].store: b for i, b in budgets.items()}, actor,
                             "activity.budgets")[1]


def remove_store(activity: Activity, line: ActivityStore, actor: User) -> None:
    """Take a store out of a draft."""
    require_editable(activity, actor)
    if line.activity_id != activity.id:
        raise DomainError(_("That store is not part of this activity."), 404)
    code, budget = line.store.code, line.budget
    db.session.delete(line)
    before = activity.budget_total
    recount_budget(activity)
    audit.record("activity.remove_store", activity, actor=actor, store=code, budget=budget,
                 budget_total=[before, activity.budget_total])


# --- the workflow ----------------------------------------------------------------------------

def submit(activity: Activity, actor: User) -> None:
    """Send a draft for approval: it needs stores, each with a budget, and a period not yet over."""
    require_editable(activity, actor)
    if not activity.stores:
        raise DomainError(_("Add at least one store before submitting."))
    for line in activity.stores:
        check_budget(line.budget)
    if activity.period_end < company_today():
        raise DomainError(_("The activity's period is over; change its dates before submitting."))
    if not activity.type.active:
        raise DomainError(_("This activity type is no longer in use; choose another before submitting."))
    recount_budget(activity)
    workflow.transition(activity, S.SUBMITTED, actor)


def approve(activity: Activity, actor: User, comment: str = "") -> str:
    """Approve as the next approver; the activity starts at once if its first day has come."""
    if activity.status not in (S.SUBMITTED, S.SECOND_APPROVAL):
        workflow.transition(activity, S.APPROVED, actor, comment)  # refused with the reason
    to = workflow.next_approval_status(activity)
    workflow.transition(activity, to, actor, comment)
    if to == S.APPROVED:
        for step in workflow.due_moves(activity, company_today()):
            workflow.transition(activity, step, None)
    return activity.status


def reject(activity: Activity, actor: User, comment: str) -> None:
    workflow.transition(activity, S.REJECTED, actor, comment)


def withdraw(activity: Activity, actor: User) -> None:
    """The applicant takes a submission back to draft, before anyone has decided."""
    workflow.transition(activity, S.DRAFT, actor)


def reopen(activity: Activity, actor: User) -> None:
    """The applicant turns a rejected application back into a draft to change and submit again."""
    if activity.status != S.REJECTED:
        raise Conflict(_("Only a rejected activity can be reopened."))
    workflow.transition(activity, S.DRAFT, actor)


def advance_by_dates(stmt, today: date) -> int:
    """Start and end the activities of `stmt` whose dates say so; returns how many moved.

    A move someone else made first is skipped, so one lost race does not undo the others; the
    request (or the command) that asked commits them."""
    due = db.session.execute(stmt.where(or_(
        and_(Activity.status == S.APPROVED, Activity.period_start <= today),
        and_(Activity.status == S.RUNNING, Activity.period_end < today)))).scalars().all()
    return sum(1 for activity in due if workflow.advance(activity, today))


# --- reading ---------------------------------------------------------------------------------

def awaiting(user: User):
    """The approval inbox: activities waiting for this user's decision, oldest submission first."""
    stmt = scope.activities(user).where(Activity.status.in_((S.SUBMITTED, S.SECOND_APPROVAL)),
                                        Activity.applicant_id != user.id)
    if not permissions.may_decide_activities(user):
        return stmt.where(false())
    if not permissions.is_admin(user):
        # Like permissions.covers_all_stores, in SQL: every store of the activity lies in the user's
        # scope. NOT IN over non-null ids: a store whose region is unset still counts as outside.
        held = scope.stores(user).with_only_columns(Store.id)
        stmt = stmt.where(not_(Activity.stores.any(ActivityStore.store_id.not_in(held))))
    first = (select(ActivityTransition.id).where(ActivityTransition.activity_id == Activity.id,
                                                 ActivityTransition.to_status == S.SECOND_APPROVAL,
                                                 ActivityTransition.actor_id == user.id)
             .correlate(Activity).exists())
    stmt = stmt.where(or_(Activity.status == S.SUBMITTED, not_(first)))
    return stmt.order_by(Activity.submitted_at, Activity.id)


def history(activity: Activity) -> list[ActivityTransition]:
    return list(db.session.execute(select(ActivityTransition).where(ActivityTransition.activity_id == activity.id)
                                   .order_by(ActivityTransition.id)).scalars())


def default_period(today: date) -> tuple[date, date]:
    """A new application's suggested dates: from tomorrow, four weeks."""
    start = today + timedelta(days=1)
    return start, start + timedelta(days=27)


def default_margin(kind: ActivityType | None) -> Decimal:
    return kind.margin_pct if kind is not None else Decimal("0.00")
