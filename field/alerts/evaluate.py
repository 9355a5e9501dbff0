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
from sqlalchemy import insert, select
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
    return Alert(**_alert_row(region, finding))


def _alert_row(region: Region, finding: Finding) -> dict:
    return dict(key=finding.key, rule=finding.rule, region_id=region.id, period=finding.period,
                rep_id=finding.rep_id, store_id=finding.store_id, activity_id=finding.activity_id,
                detail=finding.detail, status=AlertStatus.OPEN, opened_at=now(), note="")


def _open_all(region: Region, findings: list[Finding]) -> list[Alert]:
    """Stage the alerts of new findings: all in one savepoint (one INSERT … RETURNING, and their audit
    lines in one more), or, when another evaluation opened one of them meanwhile (the unique key), one
    savepoint each, so the others still open."""
    if not findings:
        return []
    try:
        with db.session.begin_nested():
            alerts = list(db.session.scalars(insert(Alert).returning(Alert, sort_by_parameter_order=True),
                                              [_alert_row(region, finding) for finding in findings]))
    except IntegrityError:
        alerts = [alert for alert in (_open(region, finding) for finding in findings) if alert is not None]
    else:
        audit.record_all("alert.open", [(alert, {"rule": alert.rule, "key": alert.key}) for alert in alerts],
                         actor=audit.SYSTEM)
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
    """Resolve the live alerts of the rules and periods just decided about whose finding is gone (the
    live alerts of the region's rules read in one query, then kept per rule to its own periods)."""
    periods = {rule.code: rule.periods(day) for rule in rules}
    if not periods:
        return []
    stmt = select(Alert).where(Alert.region_id == region.id, Alert.rule.in_(sorted(periods)),
                               Alert.status.in_(LIVE),
                               Alert.period.in_(sorted(set().union(*periods.values())))).order_by(Alert.id)
    if rep_id is not None:
        stmt = stmt.where(Alert.rep_id == rep_id)
    cleared = []
    live = db.session.execute(stmt).scalars().all()
    by_rule = {code: [a for a in live if a.rule == code and a.period in days] for code, days in periods.items()}
    for rule in rules:
        for alert in by_rule[rule.code]:
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
    and the reps' supervisors (loaded as they are first asked for, or all at once by `load`)."""

    def __init__(self, region: Region | None):
        self.region = region
        self._managers: list[User] | None = None
        self._supervisors: dict[int, User | None] = {}
        self._reps: dict[int, User] = {}  # held, so the alerts' `rep` is found in the session, not read again

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

    def load(self, rep_ids) -> None:
        """Read the reps and their supervisors not read yet: one query for each, not one per rep."""
        missing = sorted({rep_id for rep_id in rep_ids if rep_id not in self._supervisors})
        if not missing:
            return
        reps = db.session.execute(select(User).where(User.id.in_(missing))).scalars().all()
        boss_ids = sorted({rep.supervisor_id for rep in reps if rep.supervisor_id is not None})
        bosses = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(boss_ids))).scalars()} \
            if boss_ids else {}
        for rep in reps:
            self._reps[rep.id] = rep
            boss = bosses.get(rep.supervisor_id)
            self._supervisors[rep.id] = boss if boss is not None and boss.active else None
        for rep_id in missing:
            self._supervisors.setdefault(rep_id, None)

    def supervisors(self, rep_ids: list[int]) -> list[User]:
        self.load(rep_ids)
        return [boss for rep_id in rep_ids if (boss := self._supervisors.get(rep_id)) is not None]


def _rep_ids(alert: Alert) -> list[int]:
    return [alert.rep_id] if alert.rep_id else list((alert.detail or {}).get("rep_ids", []))


def recipients(alert: Alert, people: _People | None = None) -> list[User]:
    """The rep's supervisor (for an alert about an activity: the supervisors of the reps whose stores
    it names) and the managers of the alert's region or a region above it; active people only."""
    people = people or _People(None)
    found: dict[int, User] = {}
    for user in people.supervisors(_rep_ids(alert)):
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
    return _messages_all([alert], people)


def _messages_all(alerts: list[Alert], people: _People | None = None) -> list[dict]:
    """The notifications of several alerts, one per alert and language its people read, in the alerts'
    order: the people, reps and activities the texts name are read once for all, and each language
    is put in force once (not once per alert)."""
    if not alerts:
        return []
    people = people or _People(None)
    people.load(rep_id for alert in alerts for rep_id in _rep_ids(alert))
    activities = text.preload(alerts)  # noqa: F841 — held while the titles are written
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")
    groups: list[list[tuple[str, list[User]]]] = []
    for alert in alerts:
        found = recipients(alert, people)
        groups.append([(locale, list(group)) for locale, group in groupby(
            sorted(found, key=lambda u: u.locale or default), key=lambda u: u.locale or default)])
    words: dict[tuple[int, str], tuple[str, str]] = {}
    for locale in sorted({locale for group in groups for locale, _users in group}):
        with force_locale(locale):
            for alert, group in zip(alerts, groups):
                if any(loc == locale for loc, _users in group):
                    words[(id(alert), locale)] = (str(text.title(alert)), str(text.body(alert)))
    out = []
    for alert, group in zip(alerts, groups):
        url = alert_url(alert)
        for locale, users in group:
            title, body = words[(id(alert), locale)]
            out.append(dict(users=users, kind="alert", title=title, body=body, url=url, key=f"alert:{alert.id}"))
    return out


def notify_opened(alert: Alert, people: _People | None = None) -> None:
    """Tell the alert's people, each in their language (providers: the notifications domain listens)."""
    for message in _messages(alert, people):
        providers.notify("alert.opened", **message)


def notify_opened_all(alerts: list[Alert], people: _People | None = None) -> None:
    """notify_opened() for an evaluation's new alerts, handed over together."""
    messages = _messages_all(alerts, people)
    if messages:
        providers.notify("alerts.opened", messages)
