"""The rep's Today (the day's route) and the planner's pages: plan the due stores, plan one visit, the week.

Views read the request, call field/visits/planning.py (and operations.cancel) and render one
template per page. Everything starts from field.scope: a rep, store or visit outside it is a
404 and nothing is written; bad input answers 4xx with the page and a message in place."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import login_required
from wtforms.fields import SelectChoice

from field import permissions, scope
from field.auth.models import User
from field.core import MAX_ID, now
from field.extensions import db
from field.geo import Point, valid_lat_lng
from field.i18n import locale_code
from field.stores.models import Store
from field.targets import queries as targets
from field.visits import bp
from field.visits import history, planning, presenter
from field.visits import operations as ops
from field.visits.forms import CheckInForm
from field.visits.history_views import _day_arg, day_skeleton
from field.visits.models import VisitStatus, VisitType
from field.visits.plan_forms import PlanDueForm, PlanOneForm, UnplanForm
from field.visits.views import _checkin_types
from field.visits.words import word_list
from field.visits.workflow import state_label
from field.web import me as _me, refusal, render

MAX_ACCURACY_M = 1_000_000.0


bp.add_app_template_global(presenter.why_label, "why_label")


# --- Today ---------------------------------------------------------------------------------------

@dataclass
class Position:
    point: Point | None
    accuracy_m: float | None
    message: str | None  # what was wrong with the position in the address, if anything


def _position_arg() -> Position:
    """The phone's position from ?lat=&lng=&acc= (today.js). Unreadable or impossible values are
    ignored with a message; a bad accuracy alone is dropped quietly."""
    raw_lat, raw_lng = request.args.get("lat", "").strip(), request.args.get("lng", "").strip()
    if not raw_lat and not raw_lng:
        return Position(None, None, None)
    if not raw_lat or not raw_lng or not valid_lat_lng(raw_lat, raw_lng):
        return Position(None, None, _("The position in the address could not be read, so the route "
                                      "does not start from it."))
    try:
        accuracy = float(request.args.get("acc", ""))
    except ValueError:
        accuracy = None
    if accuracy is not None and not (math.isfinite(accuracy) and 0 < accuracy <= MAX_ACCURACY_M):
        accuracy = None
    return Position(Point(float(raw_lat), float(raw_lng)), accuracy, None)


@bp.route("/today")
@login_required
def today():
    """The rep's day: the visit in progress, then the stops to make in route order, then the rest due.
    today.js asks again with the phone's position through htmx and gets the day alone (block "day"),
    swapped in place: the page loads once."""
    if not permissions.may_run_visits(_me()):
        return redirect(url_for("home.index"))
    me = _me()
    today = planning.local_today(me)
    position = _position_arg()
    day = planning.today_for(me, today, position.point)
    types = _checkin_types()
    # A stop that is not planned checks in as a routine visit (the Details page offers the other types).
    routine = next((t for t in types if t.code == "routine"), types[0] if types else None)
    return render("visits/today.html", block="day", status=422 if position.message else 200, page_title=_("Today"),
                  day=day, cards=presenter.cards(day), position=position, as_of=now(),
                  checkin_fields=presenter.hidden_fields(CheckInForm(formdata=None)),
                  checkin_type=routine, today=today, locale=locale_code(), state_label=state_label,
                  target=targets.rep_card(me, today))


# --- planning: who, which week ------------------------------------------------------------------

def _require_planner() -> None:
    # Planning is not a page of theirs at all for the others (404, as it always was), not a refusal.
    if not permissions.may_plan(_me()):
        abort(404)


def _rep(raw: str | None, reps: list[User]) -> User | None:
    """The rep named in the request, if the planner may see them (else 404); without one, the first rep."""
    raw = (raw or "").strip()
    if not raw:
        return reps[0] if reps else None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        abort(404)
    return scope.get_or_404(scope.reps(active_only=False), int(raw))


def _type_choices(types) -> list[SelectChoice]:
    return [SelectChoice(t.id, t.label(locale_code())) for t in types]


def _rep_stores(rep: User):
    """The rep's active stores that the planner may see too."""
    return scope.stores().where(Store.owner_rep_id == rep.id, Store.active.is_(True))


def _week(default: date) -> tuple[date, str | None]:
    day, message = _day_arg("week", default)
    return history.monday_of(day), message


def _asked_week() -> tuple[User | None, date, str | None]:
    """The rep (?rep=, else the planner's first) and the week (?week=, else this one) a page asks for,
    with a message when the week could not be read."""
    me = _me()
    rep = _rep(request.args.get("rep"), history.team_reps(me))
    monday, message = _week(history.monday_of(planning.local_today(me)))
    return rep, monday, message


def _distinct_ids(form, prefix: str) -> None:
    """Two forms share the plan page: give their fields (and labels) ids of their own; names stay."""
    for f in form:
        f.id = f.label.field_id = prefix + f.name


def _plan_page(rep: User | None, monday: date, *, status=200, message=None, due_form=None, one_form=None,
               due_error=None, one_error=None):
    me = _me()
    today = planning.local_today(me)
    reps = history.team_reps(me)
    if rep is not None and rep not in reps:
        reps.append(rep)
    types = _checkin_types()
    routine = next((t.id for t in types if t.code == "routine"), types[0].id if types else None)
    days = [monday + timedelta(days=i) for i in range(7)]
    open_days = [d for d in days if d >= today]
    due, planned, stores = [], {}, []
    if rep is not None:
        if open_days:
            due = planning.due_in_week(rep, monday, today, within=scope.stores().with_only_columns(Store.id))
        planned = planning.planned_days(rep, monday, days[-1])
        stores = db.session.execute(_rep_stores(rep).order_by(Store.name, Store.id)).scalars().all()
    if due_form is None:
        due_form = PlanDueForm(formdata=None, visit_type=routine, on=open_days[0] if open_days else None)
    if one_form is None:
        one_form = PlanOneForm(formdata=None, visit_type=routine, on=open_days[0] if open_days else today)
    for form, prefix in ((due_form, "due-"), (one_form, "one-")):
        form.visit_type.choices = _type_choices(types)
        form.rep.data = str(rep.id) if rep is not None else ""
        _distinct_ids(form, prefix)
    one_form.store.choices = [SelectChoice(s.id, f"{s.name} · {s.code}") for s in stores]
    max_day = today + timedelta(days=planning.MAX_PLAN_AHEAD_DAYS)
    one_form.on.render_kw = {"min": today.isoformat(), "max": max_day.isoformat()}
    chosen = set(due_form.stores.data or [])
    return render("visits/plan.html", status=status, page_title=_("Plan"), rep=rep, reps=reps, monday=monday,
                  prev_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7),
                  days=days, open_days=open_days, today=today, this_monday=history.monday_of(today),
                  due=due, planned=planned, chosen=chosen, due_form=due_form, one_form=one_form,
                  due_error=due_error, one_error=one_error, message=message, locale=locale_code())


# --- planning: the due list and one visit --------------------------------------------------------

def _stores_of(rep: User, ids) -> list[Store]:
    """These stores of the rep, in the planner's scope, in the order given; any other id is a 404."""
    ids = list(dict.fromkeys(ids))
    if not all(0 < i <= MAX_ID for i in ids):
        abort(404)
    found = {s.id: s for s in db.session.execute(_rep_stores(rep).where(Store.id.in_(ids))).scalars()}
    if len(found) != len(ids):
        abort(404)
    return [found[i] for i in ids]


def _type(type_id: int) -> VisitType:
    found = next((t for t in _checkin_types() if t.id == type_id), None)
    if found is None:
        abort(404)
    return found


def _planned_message(outcome: planning.PlanOutcome, on: date) -> None:
    day = day_skeleton(on, "MMMEd")
    if outcome.planned:
        flash(ngettext("%(num)s visit planned for %(day)s.", "%(num)s visits planned for %(day)s.",
                       len(outcome.planned), day=day), "success")
    if outcome.already:
        flash(_("Already planned for %(day)s, so not planned again: %(stores)s",
                day=day, stores=word_list(s.name for s in outcome.already)), "warning")


def _week_of(on: date | None) -> date:
    """The week a refused form is shown again in: the one it was sent from, else the day's, else this one."""
    monday, _message = _week(history.monday_of(on or planning.local_today(_me())))
    return monday


def _plan_sent(form, which: str, store_ids, then: str):
    """Plan what one of the plan page's forms (`which`: "due" or "one") sent. A form that does not
    validate, or a plan refused, shows the page again with the form and its message in place;
    planned visits go on to the `then` page of the rep's week."""
    rep = _rep(form.rep.data or "0", [])
    form.visit_type.choices = _type_choices(_checkin_types())
    if not form.validate_on_submit():
        return _plan_page(rep, _week_of(form.on.data), status=422, **{f"{which}_form": form})
    stores = _stores_of(rep, store_ids())
    with refusal() as refused:
        outcome = planning.plan_visits(_me(), rep, stores, _type(form.visit_type.data), form.on.data)
    if refused:
        return _plan_page(rep, _week_of(form.on.data), status=refused.status,
                          **{f"{which}_form": form, f"{which}_error": refused.message})
    _planned_message(outcome, form.on.data)
    return redirect(url_for(then, rep=rep.id, week=history.monday_of(form.on.data).isoformat()))


@bp.route("/plan", methods=["GET", "POST"])
@login_required
def plan():
    """The planner's page for one rep and week: the stores due, to tick and plan for a day."""
    _require_planner()
    if request.method == "GET":
        rep, monday, message = _asked_week()
        return _plan_page(rep, monday, status=422 if message else 200, message=message)
    form = PlanDueForm()
    return _plan_sent(form, "due", lambda: form.stores.data, "visits.plan")


@bp.route("/plan/one", methods=["POST"])
@login_required
def plan_one():
    """One visit: a rep, one of their stores, a day, a type."""
    _require_planner()
    form = PlanOneForm()
    return _plan_sent(form, "one", lambda: [form.store.data], "visits.plan_week")


# --- planning: the week -------------------------------------------------------------------------

def _week_page(rep: User | None, monday: date, *, status=200, message=None, failed: int | None = None,
               error: str | None = None, unplan_form=None):
    me = _me()
    today = planning.local_today(me)
    reps = history.team_reps(me)
    if rep is not None and rep not in reps:
        reps.append(rep)
    week = history.week_summary(rep, monday) if rep is not None else None
    return render("visits/plan_week.html", status=status, page_title=_("Plan"), rep=rep, reps=reps,
                  monday=monday, prev_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7),
                  week=week, today=today, this_monday=history.monday_of(today), message=message, failed=failed,
                  error=error, unplan_form=unplan_form or UnplanForm(formdata=None), locale=locale_code(),
                  state_label=state_label)


@bp.route("/plan/week")
@login_required
def plan_week():
    """A rep's week, Monday to Sunday: what is planned each day, and what was done."""
    _require_planner()
    rep, monday, message = _asked_week()
    return _week_page(rep, monday, status=422 if message else 200, message=message)


@bp.route("/plan/visits/<int(max=2147483647):visit_id>/cancel", methods=["POST"])
@login_required
def unplan(visit_id: int):
    """Take a planned visit off a rep's plan (it is cancelled, with the reason, and audited)."""
    _require_planner()
    visit = scope.get_or_404(scope.visits(), visit_id)
    rep = scope.get_or_404(scope.reps(active_only=False), visit.rep_id)
    monday = history.monday_of(visit.planned_for or planning.local_today(_me()))
    form = UnplanForm()
    if visit.status != VisitStatus.PLANNED:
        return _week_page(rep, monday, status=409, failed=visit.id, unplan_form=form,
                          error=_("Only a visit that is still planned can be taken off the plan; "
                                  "this one is %(state)s.", state=state_label(visit.status)))
    if not form.validate_on_submit():
        return _week_page(rep, monday, status=422, failed=visit.id, unplan_form=form)
    with refusal() as refused:
        ops.cancel(visit, _me(), form.reason.data or _("Taken off the plan"))
    if refused:
        return _week_page(rep, monday, status=refused.status, failed=visit.id, unplan_form=form,
                          error=refused.message)
    flash(_("%(store)s is off the plan for %(day)s.", store=visit.store.name,
            day=day_skeleton(visit.planned_for, "MMMEd")), "success")
    return redirect(url_for("visits.plan_week", rep=rep.id, week=monday.isoformat()))
