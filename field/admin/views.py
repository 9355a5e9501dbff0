"""The audit log, for admins: who did what to which record, when and from where."""
from __future__ import annotations

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from field import permissions, scope
from field.activities.models import Activity
from field.admin import bp
from field.audit import AuditEvent
from field.auth.models import Region, User
from field.core import format_money
from field.extensions import db
from field.products.models import Product
from field.stores.models import Store
from field.visits.models import VisitType
from field.web import Page, id_arg, me, page_arg, paginate, render

# How a table name reads in the log; a table not listed shows its own name.
RECORD_LABELS = {
    "users": _l("User"),
    "regions": _l("Region"),
    "stores": _l("Store"),
    "products": _l("Product"),
    "visits": _l("Visit"),
    "workdays": _l("Working day"),
    "travel_claims": _l("Travel claim"),
    "visit_types": _l("Visit type"),
    "follow_ups": _l("Follow-up"),
    "co_visits": _l("Co-visit"),
    "activities": _l("Activity"),
    "activity_types": _l("Activity type"),
    "reviews": _l("Evidence review"),
    "evidence": _l("Evidence"),
    "photos": _l("Photo"),
    "claims": _l("Claim"),
    "ledger_lines": _l("Ledger line"),
}
RECORD_LABELS.update({"dealers": _l("Dealer"), "dealer_tiers": _l("Dealer tier")})  # issue 17
RECORD_LABELS.update({"expense_receipts": _l("Receipt")})  # issue 16: stand-alone travel receipts
RECORD_LABELS.update({
    "activity_stores": _l("Activity store"), "alert_rules": _l("Alert rule"), "alerts": _l("Alert"),
    "competitor_promotion_types": _l("Competitor promotion type"), "competitor_sightings": _l("Competitor sighting"),
    "dealer_payments": _l("Dealer payment"), "dealer_tier_criteria": _l("Tier criterion"),
    "dealer_tier_proposals": _l("Tier proposal"), "incentive_levels": _l("Level"), "incentive_tasks": _l("Incentive task"),
    "notifications": _l("Notification"), "objectives": _l("Objective"), "orders": _l("Order"),
    "own_photos": _l("Photo"), "points_ledger": _l("Points line"), "points_redemptions": _l("Reward handed out"),
    "sales_targets": _l("Sales target"), "travel_receipts": _l("Receipt"), "visit_steps": _l("Visit step"),
})


# What each audit action reads as. The codes stay in the log (and in the page's data-action); an
# action missing here shows as its code (tests/web/test_audit_log.py checks none is missing).
ACTION_LABELS = {
    "login": _l("Signed in"), "logout": _l("Signed out"), "password.change": _l("Changed their password"),
    "sessions.end_others": _l("Signed out their other devices"),
    "profile.update": _l("Updated their profile"), "demo.seed": _l("Seeded the demo company"),
    "user.create": _l("Created a user"), "user.update": _l("Changed a user"),
    "user.activate": _l("Reactivated a user"), "user.deactivate": _l("Deactivated a user"),
    "region.create": _l("Created a region"), "region.update": _l("Changed a region"),
    "store.create": _l("Created a store"), "store.update": _l("Changed a store"),
    "store.activate": _l("Reactivated a store"), "store.deactivate": _l("Deactivated a store"),
    "stores.import": _l("Imported stores"),
    "alert.open": _l("Opened an alert"), "alert.acknowledge": _l("Acknowledged an alert"),
    "alert.resolve": _l("Resolved an alert"), "alert.clear": _l("An alert cleared by itself"),
    "alert_rule.save": _l("Set alert thresholds"),
    "competitor_promotion_type.create": _l("Added a competitor promotion type"),
    "competitor_promotion_type.update": _l("Changed a competitor promotion type"),
    "targets.set": _l("Set a sales target"), "targets.split": _l("Split a sales target"),
    "targets.delete": _l("Took a sales target away"), "targets.import": _l("Imported sales targets"),
    "incentive_task.create": _l("Set an incentive task"), "incentive_task.edit": _l("Changed an incentive task"),
    "incentive_levels.save": _l("Set the incentive levels"), "points.redeem": _l("Recorded a reward handed out"),
    "product.create": _l("Created a product"), "product.update": _l("Changed a product"),
    "product.activate": _l("Reactivated a product"), "product.deactivate": _l("Deactivated a product"),
    "products.import": _l("Imported products"), "sales.import": _l("Imported sales"),
    "visit_type.create": _l("Created a visit type"), "visit_type.update": _l("Changed a visit type"),
    "visit_type.activate": _l("Reactivated a visit type"), "visit_type.deactivate": _l("Deactivated a visit type"),
    "visit_type.step_add": _l("Added a step to a visit type"),
    "visit_type.step_update": _l("Changed a step of a visit type"),
    "visit_type.step_move": _l("Moved a step of a visit type"),
    "visit_type.step_remove": _l("Removed a step from a visit type"),
    "visit_type.step_restore": _l("Restored a step of a visit type"),
    "visit.plan": _l("Planned a visit"), "visit.check_in": _l("Checked in"), "visit.check_out": _l("Checked out"),
    "visit.cancel": _l("Cancelled a visit"), "visit.step": _l("Saved a visit step"),
    "visit.step_skip": _l("Skipped a visit step"), "visit.objective": _l("Marked an objective"),
    "visit.co_visit": _l("Scored a co-visit"), "visit.co_visit_answer": _l("Answered a co-visit"),
    "follow_up.create": _l("Added a follow-up"),
    "photo.add": _l("Added a photo"), "photo.void": _l("Voided a photo"),
    "activity_type.create": _l("Created an activity type"), "activity_type.update": _l("Changed an activity type"),
    "activity_type.activate": _l("Reactivated an activity type"),
    "activity_type.deactivate": _l("Deactivated an activity type"),
    "activity.create": _l("Drafted an activity"), "activity.update": _l("Changed an activity"),
    "activity.remove_store": _l("Removed a store from an activity"),
    "activity.submit": _l("Submitted an activity"), "activity.withdraw": _l("Withdrew an activity"),
    "activity.approve": _l("Approved an activity"), "activity.approve_first": _l("Gave an activity its first approval"),
    "activity.approve_second": _l("Gave an activity its second approval"),
    "activity.reject": _l("Rejected an activity"), "activity.reopen": _l("Reopened an activity"),
    "activity.start": _l("An activity started"), "activity.end": _l("An activity ended"),
    "evidence.bind": _l("Bound evidence to an activity"),
    "review.approve": _l("Approved evidence"), "review.reject": _l("Rejected evidence"),
    "claim.file": _l("Filed a claim"), "claim.approve": _l("Approved a claim"), "claim.reject": _l("Rejected a claim"),
    "claim.reverse": _l("Reversed a claim"), "ledger.reverse": _l("Reversed a ledger line"),
    "workday.start": _l("Started the working day"), "workday.end": _l("Ended the working day"),
    "workday.close": _l("Closed a working day nobody ended"),
    "travel_claim.file": _l("Filed a travel claim"), "travel_claim.approve": _l("Approved a travel claim"),
    "travel_claim.reject": _l("Rejected a travel claim"), "travel_claim.reverse": _l("Reversed a travel claim"),
}
# Orders to dealers (issue 17, field/orders).
ACTION_LABELS.update({
    "order.submitted": _l("Sent an order to a dealer"), "order.amended": _l("Changed an order before confirmation"),
    "order.confirmed": _l("Confirmed an order"), "order.delivered": _l("Delivered an order"),
    "order.partly_delivered": _l("Partly delivered an order"), "order.cancelled": _l("Cancelled an order"),
})

# Stand-alone travel receipts (issue 16, field/workday/receipts.py).
ACTION_LABELS.update({
    "receipt.add": _l("Added a travel receipt"), "receipt.void": _l("Voided a travel receipt"),
})

# Dealers and their tiers (issue 17).
ACTION_LABELS.update({
    "dealer.create": _l("Added a dealer"), "dealer.update": _l("Changed a dealer"),
    "dealers.import": _l("Imported dealers"), "stores.link_dealers": _l("Linked stores to dealer records"),
    "dealer_tier.create": _l("Added a dealer tier"), "dealer_tier.criterion": _l("Set a dealer tier's criterion"),
    "dealers.recompute": _l("Recomputed the dealers' tiers"),
    "dealer.tier_confirm": _l("Confirmed a dealer's tier change"),
    "dealer.tier_reject": _l("Rejected a dealer's tier change"),
    "dealer.payment": _l("Recorded a dealer's payment"),
})


# What the keys of an event's details read as; a key missing here shows as itself.
DETAIL_LABELS = {
    "activity": _l("Activity"), "activities": _l("Activities"), "activity_types": _l("Activity types"),
    "added": _l("Added"), "amount": _l("Amount"), "budget": _l("Budget"), "budget_total": _l("Total budget"),
    "by": _l("By"), "changed": _l("Changed"), "checklist": _l("Checklist"), "claim": _l("Claim"),
    "claimed": _l("Claimed"), "claims": _l("Claims"), "client_id": _l("Upload id"), "code": _l("Code"),
    "comment": _l("Comment"), "config": _l("Settings"), "created": _l("Created"), "evidence_upto": _l("Evidence up to"),
    "filename": _l("File"), "first_day": _l("First day"), "flags": _l("Flags"), "follows": _l("Follows review"),
    "from": _l("From"), "goals": _l("Goals"), "kind": _l("Kind"), "last_day": _l("Last day"),
    "ledger_line": _l("Ledger line"), "ledger_lines": _l("Ledger lines"), "locale": _l("Language"),
    "login": _l("Login"), "met": _l("Met"), "min_dwell": _l("Minimum dwell"),
    "min_dwell_minutes": _l("Minimum dwell"), "moved_areas": _l("Areas moved"), "name": _l("Name"),
    "name_en": _l("English name"), "note": _l("Note"), "objective": _l("Objective"), "on": _l("On"),
    "override": _l("Override"), "owner": _l("Owner"), "password": _l("Password"), "payable": _l("Payable"),
    "period": _l("Period"), "phase": _l("Phase"), "phone": _l("Phone"), "photo": _l("Photo"), "photos": _l("Photos"),
    "position": _l("Position"), "products": _l("Products"), "reason": _l("Reason"), "receipts": _l("Receipts"),
    "regions": _l("Regions"), "rejected": _l("Rejected"), "rep": _l("Rep"), "required": _l("Required"),
    "reverses": _l("Reverses"), "reviews": _l("Reviews"), "role": _l("Role"), "rows": _l("Rows"),
    "skipped": _l("Not imported"), "sku": _l("SKU"), "step": _l("Step"), "store": _l("Store"), "stores": _l("Stores"),
    "supervisor": _l("Supervisor"), "timezone": _l("Time zone"), "title": _l("Title"), "title_en": _l("English title"),
    "to": _l("To"), "total": _l("Total"), "type": _l("Type"), "unchanged": _l("Unchanged"), "updated": _l("Updated"),
    "users": _l("Users"), "via": _l("Via"), "visit": _l("Visit"), "visits": _l("Visits"),
}
DETAIL_LABELS.update({"expense_receipts": _l("Receipts")})  # issue 16
DETAIL_LABELS.update({
    "active": _l("Active"), "after": _l("After"), "allocated": _l("Split so far"), "ambiguous": _l("Ambiguous"),
    "before": _l("Before"), "changes": _l("Changes"), "competitor_sightings": _l("Competitor sightings"),
    "computed": _l("Computed"), "day": _l("Day"), "dealer": _l("Dealer"), "dealer_orders": _l("Dealer orders"),
    "dealers": _l("Dealers"), "email": _l("Email"), "enabled": _l("Enabled"), "end": _l("End"),
    "incentive_tasks": _l("Incentive tasks"), "key": _l("Condition"), "level": _l("Level"), "lines": _l("Lines"),
    "linked": _l("Linked"), "method": _l("Method"), "metric": _l("Criterion"), "month": _l("Month"),
    "months": _l("Months"), "new": _l("New"), "old": _l("Old"), "on_time": _l("On time"), "parent": _l("Parent"),
    "parts": _l("Parts"), "points": _l("Points"), "points_lines": _l("Points lines"), "proposals": _l("Proposals"),
    "proposed": _l("Proposed"), "rank": _l("Rank"), "region": _l("Region"), "reward": _l("Reward"),
    "rule": _l("Rule"), "start": _l("Start"), "target": _l("Target"), "targets": _l("Targets"),
    "unknown": _l("Unknown"), "workdays": _l("Working days"),
    "removed": _l("Removed"), "delivered": _l("Delivered"), "prices": _l("Prices"),
    # The demo's count of sale lines (not an amount: "Sales" reads 销售额).
    "sales": _l("Sales lines"),
})


# Details that name a record by its id, and the kind of record.
DETAIL_RECORDS = {"activity": "activities", "store": "stores"}


def detail_label(key: str) -> str:
    return str(DETAIL_LABELS.get(key, key))


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def record_label(object_type: str) -> str:
    return str(RECORD_LABELS.get(object_type, object_type))


# Details that are amounts of money, recorded in fen.
MONEY_DETAILS = {"amount", "budget", "budget_total", "claimed", "payable"}


# Details that are money in some actions' events only (a dealer tier criterion's old/new is a threshold
# of any unit): action prefix → keys.
MONEY_DETAILS_BY_ACTION = {"targets.": {"old", "new", "allocated", "parts"}}

# Coded values that read as words: (action prefix, key) → {code: label}.
VALUE_LABELS = {
    ("targets.", "level"): {"region": _l("Region"), "rep": _l("Rep"), "store": _l("Store")},
    ("targets.", "method"): {"manual": _l("By hand"), "proportional": _l("Split by last year's sales"),
                             "even": _l("Split evenly")},
}


def _plain(value, as_money: bool = False) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v, as_money) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v, as_money)}" for k, v in value.items())
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if as_money and isinstance(value, int):
        return format_money(value)
    return str(value)


def detail_text(value, key: str = "", action: str = "") -> str:
    """One audit detail of an `action`'s event as text: a change [old, new] reads 'old → new'; amounts of
    money as money; a coded value (VALUE_LABELS) in words."""
    for (prefix, coded), words in VALUE_LABELS.items():
        if coded == key and action.startswith(prefix) and isinstance(value, str) and value in words:
            return str(words[value])
    as_money = key in MONEY_DETAILS or any(action.startswith(prefix) and key in keys
                                           for prefix, keys in MONEY_DETAILS_BY_ACTION.items())
    if isinstance(value, list) and len(value) == 2:
        return f"{_plain(value[0], as_money)} → {_plain(value[1], as_money)}"
    return _plain(value, as_money)


bp.add_app_template_global(record_label, "record_label")
bp.add_app_template_global(action_label, "action_label")
bp.add_app_template_global(detail_label, "detail_label")
bp.add_app_template_global(DETAIL_RECORDS, "detail_records")
bp.add_app_template_global(detail_text, "audit_detail")


def events(actor_id: int | None = None, object_type: str = "", object_id: int | None = None,
           page: int = 1, per_page: int = 50, user=None) -> Page:
    """One page of audit events, newest first, for one actor and/or one record."""
    stmt = scope.query(AuditEvent, user).options(selectinload(AuditEvent.actor))
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    return paginate(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), page, per_page)


def record_names(items: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """The current name of each user, region, store, product, visit type and activity the events
    point at, as their record or in their details, in one query per kind (in the admin's scope)."""
    sources = {"users": (scope.users(), User.id, User.name), "regions": (scope.regions(), Region.id, Region.name),
               "stores": (scope.stores(), Store.id, Store.name),
               "activities": (scope.activities(), Activity.id, Activity.title),
               # the catalogue and the visit types are company-wide
               "products": (select(Product), Product.id, Product.name),
               "visit_types": (select(VisitType), VisitType.id, VisitType.name)}
    wanted: dict[str, set[int]] = {}
    for e in items:
        if e.object_type in sources and e.object_id is not None:
            wanted.setdefault(e.object_type, set()).add(e.object_id)
        for key, kind in DETAIL_RECORDS.items():
            value = e.details.get(key) if e.detail else None
            if isinstance(value, int) and not isinstance(value, bool):
                wanted.setdefault(kind, set()).add(value)
    names = {}
    for kind, ids in wanted.items():
        stmt, id_column, name_column = sources[kind]
        rows = db.session.execute(stmt.where(id_column.in_(ids)).order_by(None)
                                  .with_only_columns(id_column, name_column))
        names.update({(kind, ident): name for ident, name in rows})
    return names


@bp.route("/audit")
@login_required
def audit():
    permissions.require(permissions.may_administer(me()))
    actor_id = id_arg("actor")
    object_type = request.args.get("type", "").strip()[:40]
    object_id = id_arg("id")
    page = events(actor_id, object_type, object_id, page=page_arg(),
                  per_page=current_app.config["PAGE_SIZE"])
    actor = (db.session.execute(scope.users().where(User.id == actor_id)).scalar_one_or_none()
             if actor_id is not None else None)
    actors = db.session.execute(scope.users().order_by(User.name)).scalars().all()
    types = sorted(db.session.execute(select(AuditEvent.object_type).distinct()
                                      .where(AuditEvent.object_type != "")).scalars())
    args = {k: v for k, v in {"actor": actor_id, "type": object_type, "id": object_id}.items() if v}
    return render("admin/audit.html", block="results", page=page, names=record_names(page.items),
                  actor=actor, actors=actors, types=types,
                  actor_id=actor_id, object_type=object_type, object_id=object_id, args=args)
