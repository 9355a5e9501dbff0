"""An alert in words (its title and the sentence behind it) and its links to the records it is about.

Read from the alert's rule and its `detail` (the figures found), in the current locale: the page
reads them in the reader's, the notifications in each recipient's (evaluate.notify_opened)."""
from __future__ import annotations

from flask import current_app
from flask_babel import format_date, gettext as _, ngettext
from sqlalchemy import select

from field.activities.models import Activity
from field.alerts.models import Alert
from field.alerts.rules import BY_CODE
from field.extensions import db


def _build(endpoint: str, **values) -> str | None:
    """A page's path without a request (the command has none); None when that page does not exist."""
    if endpoint not in current_app.view_functions:
        return None
    return current_app.url_map.bind("").build(endpoint, values)


def rule_label(code: str) -> str:
    rule = BY_CODE.get(code)
    return str(rule.label) if rule else code


def preload(alerts: list[Alert]) -> list[Activity]:
    """Read the activities the alerts' titles name in one query (the reps: evaluate._People.load), so
    titling many alerts does not read them one by one. Hold on to the answer while titling: the
    session keeps only the objects something refers to."""
    ids = sorted({alert.activity_id for alert in alerts if alert.activity_id and not alert.rep_id})
    if not ids:
        return []
    return list(db.session.execute(select(Activity).where(Activity.id.in_(ids))).scalars())


def _who(alert: Alert) -> str:
    if alert.rep is not None:
        return alert.rep.name
    activity = db.session.get(Activity, alert.activity_id) if alert.activity_id else None
    return activity.title if activity is not None else ""


def title(alert: Alert) -> str:
    """'Planned visits missed: 王小明'."""
    who = _who(alert)
    return _("%(rule)s: %(who)s", rule=rule_label(alert.rule), who=who) if who else rule_label(alert.rule)


def body(alert: Alert) -> str:
    """The figures that raised it, in one sentence."""
    d = alert.detail or {}
    day = format_date(alert.period, "medium")
    if alert.rule == "missed_visits":
        return ngettext("%(num)s planned visit of %(day)s was neither done nor cancelled.",
                        "%(num)s planned visits of %(day)s were neither done nor cancelled.", d.get("missed", 0),
                        day=day)
    if alert.rule == "coverage":
        return _("%(covered)s of %(total)s stores covered (%(pct)s %%), under %(floor)s %%: the others were left "
                 "more than %(days)s days after they fell due.", covered=d.get("covered"), total=d.get("total"),
                 pct=d.get("pct"), floor=d.get("threshold"), days=d.get("days"))
    if alert.rule == "no_checkin":
        return _("No check-in on %(day)s by %(time)s.", day=day, time=d.get("by"))
    if alert.rule == "flagged_visits":
        return ngettext("%(num)s flagged visit on %(day)s.", "%(num)s flagged visits on %(day)s.",
                        d.get("flagged", 0), day=day)
    if alert.rule == "evidence_overdue":
        return ngettext("%(num)s check period ended with no evidence.",
                        "%(num)s check periods ended with no evidence.", d.get("periods", 0))
    if alert.rule == "compliance_floor":
        return _("%(under)s of %(stores)s stores under the payout floor of %(floor)s %%: they would be paid nothing.",
                 under=d.get("under"), stores=d.get("stores"), floor=d.get("floor"))
    if alert.rule == "budget_compliance":
        return _("%(used)s %% of the budget written off, compliance %(compliance)s %%.", used=d.get("used"),
                 compliance=d.get("compliance") if d.get("compliance") not in (None, "None") else "–")
    if alert.rule == "negative_roi":
        return _("ROI %(roi)s %%, under %(floor)s %%.", roi=d.get("roi"), floor=d.get("threshold"))
    if alert.rule == "no_workday_start":
        return ngettext("%(num)s visit on %(day)s without starting the working day.",
                        "%(num)s visits on %(day)s without starting the working day.", d.get("visits", 0), day=day)
    if alert.rule == "photo_reuse":
        return ngettext("%(num)s photo flagged as reused in seven days.",
                        "%(num)s photos flagged as reused in seven days.", d.get("flagged", 0))
    return ""


def links(alert: Alert) -> list[tuple[str, str]]:
    """(label, path) of the records the alert is about, those pages that exist."""
    d = alert.detail or {}
    out: list[tuple[str, str | None]] = []
    if alert.rep_id:
        if alert.rule in ("missed_visits", "no_checkin", "flagged_visits"):
            out.append((_("The rep's day"), _build("visits.rep_day", rep_id=alert.rep_id,
                                                   date=alert.period.isoformat())))
        else:
            out.append((_("The rep's week"), _build("visits.rep_week", rep_id=alert.rep_id,
                                                    week=alert.period.isoformat())))
        if alert.rule == "flagged_visits":
            out.append((_("Flagged visits"), _build("visits.flagged", rep=alert.rep_id)))
        if alert.rule == "no_workday_start":
            out.append((_("Working day"), _build("workday.day", rep_id=alert.rep_id, date=alert.period.isoformat())))
        for n, visit_id in enumerate(d.get("visit_ids", [])[:5], start=1):
            out.append((_("Visit %(n)s", n=n), _build("visits.show", visit_id=visit_id)))
        for n, store_id in enumerate(d.get("store_ids", [])[:5], start=1):
            out.append((_("Store %(n)s", n=n), _build("visits.store_history", store_id=store_id)))
    if alert.activity_id:
        out.append((_("The activity"), _build("activities.show", activity_id=alert.activity_id)))
        if alert.rule == "evidence_overdue":
            out.append((_("Overdue evidence"), _build("activities.queue", show="overdue")))
        if alert.rule in ("budget_compliance", "negative_roi", "compliance_floor"):
            out.append((_("Its ROI"), _build("roi.activity", activity_id=alert.activity_id)))
    return [(label, url) for label, url in out if url]
