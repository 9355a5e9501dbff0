"""What people do with alerts: acknowledge, resolve, and set a region's thresholds. Each move is
guarded (of two people acting at once one wins, the other is told) and audited; nothing commits here."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from field import audit, permissions
from field.alerts.models import TRANSITIONS, Alert, AlertRule, AlertStatus
from field.alerts.rules import RULES
from field.auth.models import Region, User
from field.core import DomainError, move_state, now
from field.extensions import db

MAX_NOTE = 500


def _move(alert: Alert, to: AlertStatus, actor: User, **values) -> Alert:
    if to not in TRANSITIONS[AlertStatus(alert.status)]:
        raise DomainError(_("This alert is already %(status)s.", status=status_label(alert.status)), 409)
    move_state(alert, alert.status, to, _("Someone else changed this alert meanwhile; it is shown as it is now."),
               **values)
    return alert


def acknowledge(alert: Alert, actor: User) -> Alert:
    """Someone is on it: open → acknowledged."""
    permissions.require(permissions.may_handle_alerts(actor))
    _move(alert, AlertStatus.ACKNOWLEDGED, actor, acknowledged_at=now(), acknowledged_by_id=actor.id)
    audit.record("alert.acknowledge", alert, actor=actor, rule=alert.rule)
    return alert


def resolve(alert: Alert, actor: User, note: str = "") -> Alert:
    """Dealt with: open or acknowledged → resolved, with an optional note."""
    permissions.require(permissions.may_handle_alerts(actor))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(_("At most %(n)s characters.", n=MAX_NOTE))
    _move(alert, AlertStatus.RESOLVED, actor, resolved_at=now(), resolved_by_id=actor.id, note=note)
    audit.record("alert.resolve", alert, actor=actor, rule=alert.rule, note=note)
    return alert


def status_label(status: str) -> str:
    return {AlertStatus.OPEN: _("open"), AlertStatus.ACKNOWLEDGED: _("acknowledged"),
            AlertStatus.RESOLVED: _("resolved")}.get(status, status)


# --- thresholds ------------------------------------------------------------------------------------------

@dataclass
class RulesForm:
    """What the thresholds page sent, read and checked: values by rule and parameter, and the messages
    beside the fields that were refused (`errors`, keyed 'rule.param')."""

    enabled: dict[str, bool]
    values: dict[str, dict]
    errors: dict[str, str]


def read_rules(form) -> RulesForm:
    """Read every rule's fields from a submitted form (a MultiDict): nothing is written here."""
    enabled, values, errors = {}, {}, {}
    for rule in RULES:
        enabled[rule.code] = form.get(f"{rule.code}.enabled") in ("on", "1", "y", "true")
        values[rule.code] = {}
        for param in rule.params:
            raw = form.get(f"{rule.code}.{param.name}", "")
            values[rule.code][param.name] = raw
            try:
                values[rule.code][param.name] = param.parse(raw)
            except ValueError as exc:
                errors[f"{rule.code}.{param.name}"] = str(exc.args[0])
    return RulesForm(enabled, values, errors)


def save_rules(region: Region, sent: RulesForm, actor: User) -> list[AlertRule]:
    """Write a region's thresholds, all or nothing: a form with any refused field writes no rule.
    Only the rows that change are written (and audited)."""
    permissions.require(permissions.may_edit_alert_rules(actor))
    if sent.errors:
        raise DomainError(_("Some thresholds are out of range: nothing was saved."))
    existing = {r.code: r for r in db.session.query(AlertRule).filter(AlertRule.region_id == region.id)}
    changed = []
    for rule in RULES:
        row = existing.get(rule.code)
        params, enabled = sent.values[rule.code], sent.enabled[rule.code]
        if row is not None and row.enabled == enabled and row.params == params:
            continue
        if row is None:
            row = AlertRule(region_id=region.id, code=rule.code)
            db.session.add(row)
        row.enabled, row.params, row.updated_by_id, row.updated_at = enabled, dict(params), actor.id, now()
        audit.record("alert_rule.save", row, actor=actor, region=region.code, rule=rule.code, enabled=enabled,
                     **params)
        changed.append(row)
    return changed
