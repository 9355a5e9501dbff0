"""Alert pages: the list of one's scope (open, acknowledged, resolved), one alert with its records and
the acknowledge/resolve buttons, and the thresholds a manager sets per region."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from field import permissions, scope
from field.activities.models import Activity
from field.alerts import bp, operations as ops, text
from field.alerts.evaluate import settings
from field.alerts.models import LIVE, Alert, AlertStatus
from field.alerts.rules import RULES
from field.auth.models import Region
from field.extensions import db
from field.web import id_arg, me, page_arg, paginate, refusal, render, safe_path, see_other

PER_PAGE = 20
SHOWS = ("live", "open", "acknowledged", "resolved")


def _require_handler() -> None:
    permissions.require(permissions.may_handle_alerts(me()))


def _show() -> str:
    show = request.args.get("status", "live")
    return show if show in SHOWS else "live"


def _with_activities(alerts) -> None:
    """Load the activities the alerts name in one query, so their titles read from the session."""
    ids = {a.activity_id for a in alerts if a.activity_id}
    if ids:
        db.session.execute(select(Activity).where(Activity.id.in_(sorted(ids)))).scalars().all()


def _alert(alert_id: int) -> Alert:
    """An alert in the user's scope, else 404."""
    return scope.get_or_404(scope.query(Alert).options(joinedload(Alert.rep), joinedload(Alert.region)), alert_id)


@bp.route("/alerts")
@login_required
def index():
    _require_handler()
    show = _show()
    stmt = scope.query(Alert).options(joinedload(Alert.rep), joinedload(Alert.region))
    stmt = stmt.where(Alert.status.in_(LIVE) if show == "live" else Alert.status == show)
    page = paginate(stmt.order_by(Alert.opened_at.desc(), Alert.id.desc()), page_arg(), PER_PAGE, unique=True)
    _with_activities(page.items)
    return render("alerts/index.html", block="results", page=page, show=show, shows=SHOWS, text=text,
                  status_label=ops.status_label)


@bp.route("/alerts/<int:alert_id>")
@login_required
def show(alert_id: int):
    _require_handler()
    alert = _alert(alert_id)
    _with_activities([alert])
    return render("alerts/show.html", alert=alert, text=text, status_label=ops.status_label)


@bp.route("/alerts/<int:alert_id>/<any(acknowledge, resolve):action>", methods=["POST"])
@login_required
def move(alert_id: int, action: str):
    _require_handler()
    alert = _alert(alert_id)
    back = safe_path(request.form.get("next")) or url_for("alerts.show", alert_id=alert.id)
    with refusal() as refused:
        if action == "acknowledge":
            ops.acknowledge(alert, me())
        else:
            ops.resolve(alert, me(), request.form.get("note", ""))
    if refused:
        db.session.refresh(alert)
        _with_activities([alert])
        return render("alerts/show.html", alert=alert, text=text, status_label=ops.status_label,
                      error=refused.message, status=refused.status)
    flash(_("Alert acknowledged.") if action == "acknowledge" else _("Alert resolved."))
    return see_other(back)


# --- thresholds ----------------------------------------------------------------------------------------

def _regions():
    return db.session.execute(scope.regions(me())).scalars().all()


def _region(regions) -> Region:
    """The region asked for (?region= or the form's), one of the user's; the first of them when none is
    asked; 404 for any other."""
    wanted = request.values.get("region")
    if wanted in (None, ""):
        if not regions:
            abort(404)
        return regions[0]
    ident = id_arg("region") if request.method == "GET" else _form_id(wanted)
    region = next((r for r in regions if r.id == ident), None)
    if region is None:
        abort(404)
    return region


def _form_id(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        return None


def _rows(region: Region, sent: ops.RulesForm | None = None) -> list[dict]:
    """Each rule with its fields' values (as sent, or as in force for the region) and messages."""
    configured = settings(region)
    out = []
    for rule in RULES:
        enabled, params, row = configured[rule.code]
        if sent is not None:
            enabled, params = sent.enabled[rule.code], sent.values[rule.code]
        inherited = row is not None and row.region_id != region.id
        out.append({"rule": rule, "enabled": enabled, "inherited_from": row.region if inherited else None,
                    "fields": [{"param": p, "name": f"{rule.code}.{p.name}", "value": params[p.name],
                                "error": sent.errors.get(f"{rule.code}.{p.name}") if sent else None}
                               for p in rule.params]})
    return out


@bp.route("/alerts/rules", methods=["GET", "POST"])
@login_required
def rules():
    permissions.require(permissions.may_edit_alert_rules(me()))
    regions = _regions()
    region = _region(regions)
    if request.method == "POST":
        sent = ops.read_rules(request.form)
        with refusal() as refused:
            ops.save_rules(region, sent, me())
        if not refused:
            flash(_("Thresholds saved for %(region)s.", region=region.name))
            return see_other(url_for("alerts.rules", region=region.id))
        return render("alerts/rules.html", block="form", regions=regions, region=region, rows=_rows(region, sent),
                      error=refused.message, status=refused.status)
    return render("alerts/rules.html", block="form", regions=regions, region=region, rows=_rows(region))
