"""The incentive pages: /incentives (a rep's points, level and tasks; the tasks of one's regions for the
others), the team leaderboard, a task's form, the levels, and one rep's points with the rewards handed out.
Ids out of scope are 404; bad input 4xx with its message in place, nothing written."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import selectinload

from field import permissions, scope
from field.core import DomainError, company_today, local_today
from field.extensions import db
from field.incentives import bp, queries, rules
from field.incentives import operations as ops
from field.incentives.models import IncentiveTask
from field.web import me, refusal, render, see_other


def _regions(user):
    return list(db.session.execute(scope.regions(user)).scalars()) if permissions.may_manage_incentives(user) else []


def _tasks(user) -> list[IncentiveTask]:
    stmt = scope.incentive_tasks(user).options(selectinload(IncentiveTask.region)).order_by(
        IncentiveTask.period_end.desc(), IncentiveTask.id.desc())
    return list(db.session.execute(stmt).scalars())


@bp.route("/incentives")
@login_required
def index():
    user = me()
    today = local_today(user)
    mine = queries.card(user, today)
    editable = set(db.session.execute(scope.query(IncentiveTask, user).with_only_columns(IncentiveTask.id))
                   .scalars()) if permissions.may_manage_incentives(user) else set()
    return render("incentives/index.html", page_title=_("Points and rewards"), card=mine, tasks=_tasks(user),
                  editable=editable,
                  today=today, levels=ops.levels(), kind_label=rules.kind_label,
                  lines=queries.lines(user, user, 30) if mine else [],
                  redemptions=queries.redemptions(user, user) if mine else [])


@bp.route("/incentives/leaderboard")
@login_required
def leaderboard():
    user = me()
    try:
        period = ops.check_period(request.args.get("period"))
    except DomainError as exc:
        abort(exc.status)
    board = queries.leaderboard(user, period, local_today(user))
    return render("incentives/leaderboard.html", page_title=_("Leaderboard"), period=period, board=board,
                  open_reps=permissions.may_redeem_rewards(user))


def _task_page(task, form=None, error=None, field=None, status=200):
    user = me()
    values = form if form is not None else (
        {"name": task.name, "kind": task.kind, "points": str(task.points), "target": str(task.target),
         "region": str(task.region_id), "start": task.period_start.isoformat(), "end": task.period_end.isoformat(),
         "active": "1" if task.active else "0"} if task is not None else
        {"start": company_today().replace(day=1).isoformat(), "points": "10", "target": "1", "active": "1"})
    title = _("Edit task") if task is not None else _("New task")
    return render("incentives/task_form.html", status=status, page_title=title, task=task, form=values, error=error,
                  error_field=field, regions=_regions(user), kinds=rules.KINDS)


def _form() -> dict:
    return {k: request.form.get(k, "") for k in ("name", "kind", "points", "target", "region", "start", "end",
                                                  "active")}


@bp.route("/incentives/tasks/new", methods=["GET", "POST"])
@login_required
def task_new():
    user = me()
    permissions.require(permissions.may_manage_incentives(user))
    if request.method == "GET":
        return _task_page(None)
    form = _form()
    with refusal() as refused:
        task = ops.create_task(ops.read_task(form, _regions(user)), user)
    if refused:
        return _task_page(None, form, refused.message, getattr(refused.error, "field", None), refused.status)
    flash(_("Task saved: %(name)s.", name=task.name), "success")
    return see_other(url_for("incentives.index"))


@bp.route("/incentives/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task_edit(task_id: int):
    user = me()
    task = scope.get_or_404(scope.query(IncentiveTask, user), task_id)
    permissions.require(permissions.may_manage_incentives(user))
    if request.method == "GET":
        return _task_page(task)
    form = _form()
    with refusal() as refused:
        ops.edit_task(task, ops.read_task(form, _regions(user)), user)
    if refused:
        task = scope.get_or_404(scope.query(IncentiveTask, user), task_id)
        return _task_page(task, form, refused.message, getattr(refused.error, "field", None), refused.status)
    flash(_("Task saved: %(name)s. Points already granted stay as they were.", name=task.name), "success")
    return see_other(url_for("incentives.index"))


@bp.route("/incentives/levels", methods=["GET", "POST"])
@login_required
def levels():
    user = me()
    permissions.require(permissions.may_manage_incentives(user))
    if request.method == "GET":
        rows = [{"name": lv.name, "threshold": str(lv.threshold), "rewards": "\n".join(lv.rewards)}
                for lv in ops.levels()]
        return _levels_page(rows)
    names, thresholds, rewards = (request.form.getlist(k) for k in ("name", "threshold", "rewards"))
    rows = [{"name": n, "threshold": t, "rewards": r} for n, t, r in zip(names, thresholds, rewards)]
    if not (len(names) == len(thresholds) == len(rewards)):
        return _levels_page(rows, _("The page sent an incomplete form. Reload and try again."), 400)
    with refusal() as refused:
        ops.save_levels(ops.read_levels(names, thresholds, rewards), user)
    if refused:
        return _levels_page(rows, refused.message, refused.status)
    flash(_("Levels saved."), "success")
    return see_other(url_for("incentives.levels"))


def _levels_page(rows, error=None, status=200):
    rows = [r for r in rows if any((v or "").strip() for v in r.values())]
    return render("incentives/levels.html", status=status, page_title=_("Levels and rewards"),
                  rows=rows + [{"name": "", "threshold": "", "rewards": ""}] * 2, error=error)


def _rep(rep_id: int):
    return scope.get_or_404(scope.reps(me(), active_only=False), rep_id)


def _rep_page(rep, error=None, status=200, form=None):
    user = me()
    points = queries.total(rep, user)
    standing = rules.standing(points, ops.levels())
    choices = [(lv.name, r) for lv in ops.levels() if points >= lv.threshold for r in lv.rewards]
    return render("incentives/rep.html", status=status, page_title=rep.name, rep=rep, standing=standing,
                  lines=queries.lines(rep, user), redemptions=queries.redemptions(rep, user), choices=choices,
                  error=error, form=form or {})


@bp.route("/incentives/reps/<int:rep_id>")
@login_required
def rep_points(rep_id: int):
    return _rep_page(_rep(rep_id))


@bp.route("/incentives/reps/<int:rep_id>/redeem", methods=["POST"])
@login_required
def redeem(rep_id: int):
    user = me()
    rep = _rep(rep_id)
    if not permissions.may_earn_points(rep):
        abort(404)
    form = {k: request.form.get(k, "") for k in ("reward", "note")}
    with refusal() as refused:
        ops.redeem(rep, queries.total(rep, user), form["reward"], form["note"], user)
    if refused:
        return _rep_page(rep, refused.message, refused.status, form)
    flash(_("Recorded: %(reward)s for %(name)s.", reward=form["reward"].partition("\n")[2], name=rep.name),
          "success")
    return see_other(url_for("incentives.rep_points", rep_id=rep.id))
