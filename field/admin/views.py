"""The audit log, for admins: who did what to which record, when and from where."""
from __future__ import annotations

from flask import abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from field import scope
from field.admin import bp
from field.audit import AuditEvent
from field.auth.admin import Page, paginate
from field.auth.models import Role, User
from field.extensions import db
from field.web import render

# How a table name reads in the log; a table not listed shows its own name.
RECORD_LABELS = {
    "users": _l("User"),
    "regions": _l("Region"),
    "stores": _l("Store"),
    "products": _l("Product"),
    "visits": _l("Visit"),
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


def record_label(object_type: str) -> str:
    return str(RECORD_LABELS.get(object_type, object_type))


def _plain(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def detail_text(value) -> str:
    """One audit detail as text: a change [old, new] reads 'old → new'."""
    if isinstance(value, list) and len(value) == 2:
        return f"{_plain(value[0])} → {_plain(value[1])}"
    return _plain(value)


bp.add_app_template_global(record_label, "record_label")
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
    """The current name of each user, region, store and product the events point at, in one query per kind."""
    from field.auth.models import Region
    from field.products.models import Product
    from field.stores.models import Store
    from field.visits.models import VisitType
    sources = {"users": (scope.users(), User), "regions": (scope.regions(), Region),
               "stores": (scope.stores(), Store),
               # the catalogue and the visit types are company-wide
               "products": (select(Product), Product), "visit_types": (select(VisitType), VisitType)}
    wanted: dict[str, set[int]] = {}
    for e in items:
        if e.object_type in sources and e.object_id is not None:
            wanted.setdefault(e.object_type, set()).add(e.object_id)
    names = {}
    for kind, ids in wanted.items():
        stmt, model = sources[kind]
        rows = db.session.execute(stmt.where(model.id.in_(ids)).order_by(None)
                                  .with_only_columns(model.id, model.name))
        names.update({(kind, ident): name for ident, name in rows})
    return names


def _int_arg(name: str) -> int | None:
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


@bp.route("/audit")
@login_required
def audit():
    if current_user.role != Role.ADMIN:
        abort(403)
    actor_id = _int_arg("actor")
    object_type = request.args.get("type", "").strip()[:40]
    object_id = _int_arg("id")
    page = events(actor_id, object_type, object_id, page=_int_arg("page") or 1,
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
