"""Visit history pages: a store's timeline, a rep's day and week, the team's day, flagged visits.

Read-only views: they read the query string, call field/visits/history.py and render one
template per page (an htmx request gets the page's list block only). Everything starts
from field.scope: a store, a rep or a visit outside it is a 404. A bad date in the query
string answers 422 with today's page and a message saying so."""
from __future__ import annotations

from datetime import date, timedelta

from flask import request
from babel.dates import format_skeleton
from flask_babel import get_locale, gettext as _
from flask_login import login_required
from sqlalchemy import select

from field import permissions, scope
from field.auth.models import User
from field.core import local_today
from field.extensions import db
from field.i18n import locale_code
from field.visits import bp
from field.visits import history
from field.visits.models import Visit
from field.visits.workflow import state_label
from field.web import render, me as _me, page_arg as _page_arg

PER_PAGE = 20
# Dates outside this range are refused: nobody visited a store before it, and date arithmetic stays safe.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)

bp.add_app_template_global(history.flag_text, "flag_text")
bp.add_app_template_global(history.flag_label, "flag_label")
bp.add_app_template_global(history.result_summary, "result_summary")


@bp.app_template_global("minutes_label")
def minutes_label(minutes: float | None) -> str:
    """25 min, 1 h 5 min — with no-break spaces, so a line never breaks inside a duration."""
    if minutes is None:
        return ""
    minutes = int(round(minutes))
    if minutes < 60:
        text = _("%(m)s min", m=minutes)
    else:
        hours, rest = divmod(minutes, 60)
        text = _("%(h)s h", h=hours) if not rest else _("%(h)s h %(m)s min", h=hours, m=rest)
    return text.replace(" ", "\u00a0")


@bp.app_template_filter("day_skeleton")
def day_skeleton(value: date | None, skeleton: str = "MMMEd") -> str:
    """A date in the locale's own short form: 'Mon, May 6' / '5月6日周一' (MMMEd), 'May 6' / '5月6日' (MMMd)."""
    if value is None:
        return ""
    return format_skeleton(skeleton, value, locale=get_locale() or "zh_CN")


def _locale() -> str:
    return locale_code()


def _day_arg(name: str, default: date) -> tuple[date, str | None]:
    """A YYYY-MM-DD from the query string, or the default and a message saying what was wrong."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default, None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        return default, _("“%(value)s” is not a date we can show (YYYY-MM-DD); showing %(day)s instead.",
                          value=raw[:40], day=default.isoformat())
    return day, None


def _require_watcher() -> None:
    """The team's day and flagged visits are for those who watch reps (anyone else: 403)."""
    permissions.require(permissions.may_watch_team(_me()))


def _rep(rep_id: int) -> User:
    """A rep the current user may see (themselves, their team, their regions' reps, a former rep
    among them too), else 404 — someone who is not a rep included."""
    return scope.get_or_404(scope.reps(active_only=False), rep_id)


def _visible_visit_ids(ids) -> set[int]:
    """Which of these visits the user may open (the visit page is scoped tighter than a store's timeline)."""
    if not ids:
        return set()
    return set(db.session.execute(select(Visit.id).where(scope.rule(Visit), Visit.id.in_(ids))).scalars())


# --- a store's timeline ------------------------------------------------------------------------

@bp.route("/stores/<int:store_id>/visits")
@login_required
def store_history(store_id: int):
    store = scope.get_or_404(scope.stores(), store_id)
    page = history.store_timeline(store, _page_arg(), PER_PAGE, _locale())
    today = local_today(_me())
    upcoming = history.upcoming_at(store, today) if page.page == 1 else []
    linkable = _visible_visit_ids([e.visit.id for e in page.items] + [v.id for v in upcoming])
    return render("visits/store_history.html", block="timeline", store=store, page=page, upcoming=upcoming,
                  linkable=linkable, locale=_locale(), state_label=state_label, today=today)


# --- a rep's day and week ----------------------------------------------------------------------

@bp.route("/reps/<int:rep_id>/day")
@login_required
def rep_day(rep_id: int):
    rep = _rep(rep_id)
    today = local_today(rep)
    day, message = _day_arg("date", today)
    summary = history.day_summary(rep, day)
    return render("visits/rep_day.html", block="day", status=422 if message else 200, mode="day", rep=rep,
                  summary=summary, day=day, today=today, message=message,
                  prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                  linkable=_visible_visit_ids([v.id for v in summary.visits]),
                  locale=_locale(), state_label=state_label)


@bp.route("/reps/<int:rep_id>/week")
@login_required
def rep_week(rep_id: int):
    rep = _rep(rep_id)
    today = local_today(rep)
    day, message = _day_arg("week", history.monday_of(today))
    week = history.week_summary(rep, day)
    # The day the "Day" tab opens: today in the current week, else the week's Monday.
    day = today if week.monday <= today < week.monday + timedelta(days=7) else week.monday
    return render("visits/rep_day.html", block="week", status=422 if message else 200, mode="week", rep=rep,
                  week=week, day=day, today=today, this_monday=history.monday_of(today), message=message,
                  prev_week=week.monday - timedelta(days=7), next_week=week.monday + timedelta(days=7),
                  locale=_locale(), state_label=state_label)


# --- the team's day ----------------------------------------------------------------------------

@bp.route("/team")
@login_required
def team():
    _require_watcher()
    me = _me()
    today = local_today(me)
    day, message = _day_arg("date", today)
    lines = history.team_summary(me, day)
    totals = {
        "completed": sum(line.day.completed for line in lines),
        "in_store": sum(1 for line in lines if line.current is not None),
        "planned": sum(line.day.planned for line in lines),
        "missed": sum(line.day.missed for line in lines),
        "flagged": sum(line.day.flagged for line in lines),
    }
    return render("visits/team.html", block="team", status=422 if message else 200, lines=lines, totals=totals,
                  day=day, today=today, message=message, prev_day=day - timedelta(days=1),
                  next_day=day + timedelta(days=1), locale=_locale())


# --- flagged visits ----------------------------------------------------------------------------

@bp.route("/visits/flagged")
@login_required
def flagged():
    _require_watcher()
    me = _me()
    reps = history.team_reps(me)
    messages = []
    code = request.args.get("code", "").strip()
    if code and code not in history.FLAG_CODES:
        messages.append(_("There is no flag “%(code)s”; showing every flag.", code=code[:40]))
        code = ""
    rep_id = None
    raw_rep = request.args.get("rep", "").strip()
    if raw_rep:
        try:
            rep_id = int(raw_rep)
        except ValueError:
            rep_id = None
        if rep_id is None or rep_id not in {r.id for r in reps}:
            messages.append(_("That rep is not on your list; showing every rep."))
            rep_id = None
    page = history.flagged_visits(me, code or None, rep_id, _page_arg(), PER_PAGE)
    args = {k: v for k, v in (("code", code), ("rep", rep_id)) if v}
    return render("visits/flags.html", block="results", status=422 if messages else 200, page=page, reps=reps,
                  codes=history.FLAG_CODES, code=code, rep_id=rep_id, args=args, messages=messages,
                  locale=_locale(), state_label=state_label)
