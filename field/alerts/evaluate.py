"""Evaluating the rules: findings become alerts (one per condition and period), findings gone clear them.

A region is evaluated with its thresholds (settings()): the rules set for it, else for the nearest
region above it, else the defaults. `flask alerts-evaluate` evaluates every region that has no
region under it (areas: where reps and stores sit), so no condition is found twice by a region
and its parent; `--region CODE` the areas under CODE.

An alert clears by itself: when an evaluation of its region decides about its period again and its
condition no longer holds (the rep checked in after all, coverage came back, the visit planned for
yesterday was cancelled), it is resolved with no person named. A condition of a period no evaluation
looks at again (yesterday's missed visits, seen from the day after) stays until a person resolves it.
An alert a person resolved is never opened again for the same condition and period.

Nothing here commits: the command, the request or the job that evaluates does."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from field import audit, permissions, providers
from field.alerts import text
from field.alerts.models import LIVE, Alert, AlertRule, AlertStatus
from field.alerts.rules import BY_CODE, RULES, Context, Finding
from field.auth.models import Region, User, user_regions
from field.core import company_day, now
from field.extensions import db

log = logging.getLogger(__name__)
# What a check-in or check-out can change at once, cheaply: the rest waits for the schedule.
EVENT_RULES = ("flagged_visits", "no_checkin")


# --- thresholds per region ---------------------------------------------------------------------------

def ancestor_ids(region: Region) -> list[int]:
    """The region and those above it, top first ('/1/4/7/' → [1, 4, 7])."""
    return [int(part) for part in region.path.strip("/").split("/") if part]


def settings(region: Region) -> dict[str, tuple[bool, dict, AlertRule | None]]:
    """Each rule's (enabled, thresholds, the row they come from) for `region`: its own row, else the
    nearest region above it that sets one, else the defaults (enabled)."""
    chain = ancestor_ids(region)
    rows = db.session.execute(select(AlertRule).where(AlertRule.region_id.in_(chain))).scalars().all()
    depth = {region_id: n for n, region_id in enumerate(chain)}
    nearest: dict[str, AlertRule] = {}
    for row in sorted(rows, key=lambda r: depth[r.region_id]):
        nearest[row.code] = row
    out = {}
    for rule in RULES:
        row = nearest.get(rule.code)
        params = rule.defaults()
        if row is not None:
            params.update({k: v for k, v in (row.params or {}).items() if k in params})
        out[rule.code] = (row.enabled if row is not None else True, params, row)
    return out


def leaf_regions(under: Region | None = None) -> list[Region]:
    """Regions with none below them (all, or those under `under`, itself included when it is one)."""
    parent_ids = select(Region.parent_id).where(Region.parent_id.is_not(None))
    stmt = select(Region).where(Region.id.not_in(parent_ids)).order_by(Region.path)
    if under is not None:
        stmt = stmt.where(Region.path.startswith(under.path))
    return list(db.session.execute(stmt).scalars())


# --- evaluating one region -----------------------------------------------------------------------------

@dataclass
class Outcome:
    opened: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)
    standing: int = 0  # findings whose alert existed already


def evaluate(region: Region, day: date | None = None, *, moment: datetime | None = None,
             codes: tuple[str, ...] | None = None, rep_id: int | None = None) -> Outcome:
    """Evaluate the region's enabled rules for `day` (today on the company calendar): open an alert for
    each new finding (and notify its people), clear the live alerts of the periods decided about
    whose finding is gone. `codes` limits the rules; `rep_id` limits them to one rep (an event)."""
    moment = moment or now()
    day = day or company_day(moment)
    ctx = Context(region, day, moment, rep_id=rep_id)
    rules = [r for r in RULES if (codes is None or r.code in codes) and (rep_id is None or r.per_rep)]
    configured = settings(region)
    findings: dict[str, Finding] = {}
    for rule in rules:
        enabled, params, _row = configured[rule.code]
        if enabled:
            for finding in rule.gather(ctx, params):
                findings.setdefault(finding.key, finding)
    outcome = Outcome()
    known = _known(list(findings))
    outcome.standing = len(known)
    outcome.opened = _open_all(region, [f for key, f in findings.items() if key not in known])
    outcome.cleared = _clear(region, day, rules, set(findings), rep_id)
    notify_opened_all(outcome.opened, _People(region))
    return outcome


def _known(keys: list[str]) -> set[str]:
    out: set[str] = set()
    for start in range(0, len(keys), 500):
        out.update(db.session.execute(select(Alert.key).where(Alert.key.in_(keys[start:start + 500]))).scalars())
    return out


def _new_alert(region: Region, finding: Finding) -> Alert:
    return Alert(key=finding.key, rule=finding.rule, region_id=region.id, period=finding.period,
                 rep_id=finding.rep_id, store_id=finding.store_id, activity_id=finding.activity_id,
                 detail=finding.detail, status=AlertStatus.OPEN, opened_at=now(), note="")


def _open_all(region: Region, findings: list[Finding]) -> list[Alert]:
    """Stage the alerts of new findings: all in one savepoint (one flush), or, when another evaluation
    opened one of them meanwhile (the unique key), one savepoint each, so the others still open."""
    if not findings:
        return []
    try:
        with db.session.begin_nested():
            alerts = [_new_alert(region, finding) for finding in findings]
            db.session.add_all(alerts)
            db.session.flush()
    except IntegrityError:
        alerts = [alert for alert in (_open(region, finding) for finding in findings) if alert is not None]
    else:
        for alert in alerts:
            audit.record("alert.open", alert, actor=audit.SYSTEM, rule=alert.rule, key=alert.key)
    return alerts


def _open(region: Region, finding: Finding) -> Alert | None:
    """Stage the alert of a new finding; None when another evaluation opened it meanwhile (the unique key)."""
    alert = _new_alert(region, finding)
    try:
        with db.session.begin_nested():
            db.session.add(alert)
            db.session.flush()
    except IntegrityError:
        return None
    audit.record("alert.open", alert, actor=audit.SYSTEM, rule=finding.rule, key=finding.key)
    return alert


def _clear(region: Region, day: date, rules, found: set[str], rep_id: int | None) -> list[Alert]:
    """Resolve the live alerts of the rules and periods just decided about whose finding is gone."""
    cleared = []
    for rule in rules:
        stmt = select(Alert).where(Alert.region_id == region.id, Alert.rule == rule.code,
                                   Alert.status.in_(LIVE), Alert.period.in_(sorted(rule.periods(day))))
        if rep_id is not None:
            stmt = stmt.where(Alert.rep_id == rep_id)
        for alert in db.session.execute(stmt).scalars():
            if alert.key not in found:
                alert.status, alert.resolved_at, alert.resolved_by_id = AlertStatus.RESOLVED, now(), None
                audit.record("alert.clear", alert, actor=audit.SYSTEM, rule=alert.rule)
                cleared.append(alert)
    return cleared


def evaluate_all(under: Region | None = None, day: date | None = None) -> dict[str, Outcome]:
    """Every area's evaluation (under `under`, if given), by region code."""
    return {region.code: evaluate(region, day) for region in leaf_regions(under)}


# --- on events --------------------------------------------------------------------------------------------

def on_visit(visit, *args, **kwargs) -> None:
    """A rep checked in or out: evaluate the rules about that rep in the areas of the visit's store.

    In a savepoint, and never raising: an alert that fails to evaluate must not cost the rep their
    check-in (the scheduled evaluation catches up)."""
    try:
        with db.session.begin_nested():
            store_region = visit.store.region if visit.store is not None else None
            if store_region is None:
                return
            for region in leaf_regions(store_region):
                evaluate(region, rep_id=visit.rep_id, codes=EVENT_RULES)
    except Exception:  # noqa: BLE001 — see the docstring
        log.exception("alert evaluation after visit %s failed", getattr(visit, "id", None))


# --- who hears of it ----------------------------------------------------------------------------------------

class _People:
    """Who hears of the alerts of one region, looked up once for all of them: the region's managers
    and the reps' supervisors (loaded as they are first asked for)."""

    def __init__(self, region: Region | None):
        self.region = region
        self._managers: list[User] | None = None
        self._supervisors: dict[int, User | None] = {}

    def managers(self, region: Region) -> list[User]:
        if region is not self.region or self._managers is None:
            found = [user for user in db.session.execute(
                select(User).join(user_regions, user_regions.c.user_id == User.id)
                .where(user_regions.c.region_id.in_(ancestor_ids(region)), User.active.is_(True))).scalars()
                if permissions.is_manager(user)]
            if region is not self.region:
                return found
            self._managers = found
        return self._managers

    def supervisors(self, rep_ids: list[int]) -> list[User]:
        missing = [rep_id for rep_id in rep_ids if rep_id not in self._supervisors]
        if missing:
            for rep in db.session.execute(select(User).where(User.id.in_(missing))).scalars():
                boss = rep.supervisor
                self._supervisors[rep.id] = boss if boss is not None and boss.active else None
        return [boss for rep_id in rep_ids if (boss := self._supervisors.get(rep_id)) is not None]


def recipients(alert: Alert, people: _People | None = None) -> list[User]:
    """The rep's supervisor (for an alert about an activity: the supervisors of the reps whose stores
    it names) and the managers of the alert's region or a region above it; active people only."""
    people = people or _People(None)
    rep_ids = [alert.rep_id] if alert.rep_id else list((alert.detail or {}).get("rep_ids", []))
    found: dict[int, User] = {}
    for user in people.supervisors(rep_ids):
        found[user.id] = user
    region = alert.region or db.session.get(Region, alert.region_id)
    for user in people.managers(region):
        found[user.id] = user
    return sorted(found.values(), key=lambda u: u.id)


def alert_url(alert: Alert) -> str:
    """The alert's page, as a path (built without a request: the command has none)."""
    return current_app.url_map.bind("").build("alerts.show", {"alert_id": alert.id})


def _messages(alert: Alert, people: _People | None = None) -> list[dict]:
    """The alert's notifications, one a language its people read (send()'s arguments each)."""
    recipients_ = recipients(alert, people)
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")
    out = []
    for locale, group in groupby(sorted(recipients_, key=lambda u: u.locale or default),
                                 key=lambda u: u.locale or default):
        with force_locale(locale):
            title, body = text.title(alert), text.body(alert)
        out.append(dict(users=list(group), kind="alert", title=str(title), body=str(body),
                        url=alert_url(alert), key=f"alert:{alert.id}"))
    return out


def notify_opened(alert: Alert, people: _People | None = None) -> None:
    """Tell the alert's people, each in their language (providers: the notifications domain listens)."""
    for message in _messages(alert, people):
        providers.notify("alert.opened", **message)


def notify_opened_all(alerts: list[Alert], people: _People | None = None) -> None:
    """notify_opened() for an evaluation's new alerts, handed over together."""
    messages = [message for alert in alerts for message in _messages(alert, people)]
    if messages:
        providers.notify("alerts.opened", messages)
