"""The workday pages: start and end the day (rep), a rep's day and week (the rep, their supervisor, their
manager), the team's days (who watches reps). A rep outside the viewer's scope is a 404; a bad date 422."""
from __future__ import annotations

from datetime import timedelta

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from field import errors, permissions, scope
from field.core import local_today
from field.photos import ingest
from field.photos.ingest import Upload
from field.visits import operations as visit_ops
from field.visits.history import monday_of
from field.visits.history_views import _day_arg, _rep
from field.web import me, refusal, render, see_other
from field.workday import bp, operations as ops, queries, rules
from field.workday.forms import DayForm

FLAG_WORDS = {
    rules.DayFlag.LATE_START: lambda: _("Late start"),
    rules.DayFlag.EARLY_END: lambda: _("Early end"),
    rules.DayFlag.NO_END: lambda: _("Not ended (closed automatically)"),
    rules.DayFlag.NO_START: lambda: _("Visits without starting the day"),
}


@bp.app_template_global("workday_flag")
def workday_flag(code: str) -> str:
    fn = FLAG_WORDS.get(code)
    return fn() if fn else code


def _fix(form: DayForm) -> ops.Fix:
    write = visit_ops.read_write(form.client_id.data, form.phone_at.data, errors.is_replay())
    return ops.Fix(form.position, form.accuracy_m, write.phone_at, write.client_id)


def _selfie(fix: ops.Fix) -> Upload | None:
    """The optional selfie sent with a start or an end (a file field `selfie`); None without one. Its client id
    is made from the tap's (field/workday/operations.py)."""
    file = request.files.get("selfie")
    data = file.read(ingest.max_bytes() + 1) if file is not None else b""
    if not data:
        return None
    return Upload(data=data, client_id="", phone_point=fix.point, accuracy_m=fix.accuracy_m, phone_at=fix.tapped_at)


def _day_page(rep, day, status=200, message=None, form_error=None, form=None):
    days = queries.rep_days(me(), rep, day, day)
    today = local_today(rep)
    mine = rep.id == me().id
    return render("workday/day.html", status=status, rep=rep, d=days[0], day=day, today=today, message=message,
                  prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1), mine=mine,
                  form=form or DayForm(), form_error=form_error,
                  open_day=ops.open_day(rep) if mine else None)


def _act(act):
    permissions.require(permissions.may_run_visits(me()))
    form = DayForm()
    if request_no_position():
        for f in (form.lat, form.lng, form.accuracy, form.position_at):
            f.data = ""
    if not form.validate_on_submit():
        message = " ".join(str(e) for errs in form.errors.values() for e in errs)
        return errors.replay_refusal(message=message) or _day_page(me(), local_today(me()), 422,
                                                                   form_error=message)
    with refusal() as refused:
        fix = _fix(form)
        act(me(), fix, _selfie(fix))
    if refused:
        return errors.replay_refusal(refused) or _day_page(me(), local_today(me()), refused.status,
                                                           form_error=refused.message)
    return see_other(url_for("workday.day", rep_id=me().id))


def request_no_position() -> bool:
    return bool(request.form.get("no_position"))


@bp.route("/workday")
@login_required
def mine():
    return redirect(url_for("workday.day", rep_id=me().id) if permissions.may_run_visits(me())
                    else url_for("workday.team"))


@bp.route("/workday/start", methods=["POST"])
@login_required
def start():
    return _act(ops.start_day)


@bp.route("/workday/end", methods=["POST"])
@login_required
def end():
    return _act(ops.end_day)


@bp.route("/reps/<int:rep_id>/workday")
@login_required
def day(rep_id: int):
    rep = _rep(rep_id)
    day, message = _day_arg("date", local_today(rep))
    return _day_page(rep, day, 422 if message else 200, message)


@bp.route("/reps/<int:rep_id>/workday/week")
@login_required
def week(rep_id: int):
    rep = _rep(rep_id)
    today = local_today(rep)
    monday, message = _day_arg("week", monday_of(today))
    monday = monday_of(monday)
    days = queries.rep_days(me(), rep, monday, monday + timedelta(days=6))
    total_m = sum(d.mileage.counted_m for d in days)
    return render("workday/week.html", status=422 if message else 200, rep=rep, days=days, monday=monday,
                  today=today, message=message, total_m=total_m, prev_week=monday - timedelta(days=7),
                  next_week=monday + timedelta(days=7))


@bp.route("/team/workdays")
@login_required
def team():
    permissions.require(permissions.may_watch_team(me()))
    today = local_today(me())
    day, message = _day_arg("date", today)
    lines = queries.team_day(me(), day)
    return render("workday/team.html", status=422 if message else 200, lines=lines, day=day, today=today,
                  message=message, prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                  started=sum(1 for line in lines if line.workday is not None),
                  flagged=sum(1 for line in lines if line.flags))
