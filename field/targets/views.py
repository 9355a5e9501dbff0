"""The targets pages: /targets (a month's targets in the user's scope), one target with its split, the
import and export. A manager sets the regions' targets and splits them to reps (by hand, or in proportion
to last year's sales of the month, down to the stores); a supervisor splits their team's reps' targets to
the reps' stores; a rep reads their own. Ids out of scope are 404; bad input 4xx with its message in place,
nothing written."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import selectinload

from field import permissions, scope, tabular
from field.auth.models import Region
from field.core import DomainError, MAX_ID, MoneyError, company_today, format_money, money_decimal, money_problem, \
    parse_money
from field.extensions import db
from field.targets import bp, importer, queries
from field.targets import operations as ops
from field.targets.models import Target
from field.web import import_page, me, refusal, render, see_other


def _month_arg(default=None):
    """The ?month= (or form's month) asked for: (month, message when it could not be read)."""
    raw = (request.values.get("month") or "").strip()
    fallback = default or queries.month_start(company_today())
    if not raw:
        return fallback, None
    try:
        return queries.parse_month(raw), None
    except queries.MonthError as exc:
        return fallback, str(exc)


def _target(target_id: int) -> Target:
    return scope.get_or_404(queries.visible().options(selectinload(Target.region), selectinload(Target.rep)),
                            target_id)


def _index(month, status=200, error=None, form_error=None, form=None):
    user = me()
    rows = queries.rows_for(user, month)
    sums = queries.actuals(rows)
    regions = list(db.session.execute(scope.regions(user)).scalars()) if permissions.may_set_targets(user) else []
    return render("targets/index.html", status=status, page_title=_("Targets"), month=month,
                  month_key=queries.month_key(month), prev=queries.month_key(queries.add_months(month, -1)),
                  next=queries.month_key(queries.add_months(month, 1)), rows=rows, sums=sums, pct=queries.pct,
                  label=queries.label, regions=regions, error=error, form_error=form_error, form=form or {},
                  total_target=sum(r.amount for r in rows), total_actual=sum(sums.values()))


@bp.route("/targets")
@login_required
def index():
    month, error = _month_arg()
    return _index(month, status=400 if error else 200, error=error)


@bp.route("/targets", methods=["POST"])
@login_required
def set_region():
    """Set a region's target for a month (a manager, a region of theirs)."""
    user = me()
    permissions.require(permissions.may_set_targets(user))
    form = {k: (request.form.get(k) or "").strip() for k in ("month", "region", "amount")}
    month, error = _month_arg()
    if error:
        return _index(month, 422, form_error=error, form=form)
    raw_region = form["region"]
    region = None
    if raw_region.isascii() and raw_region.isdigit() and 0 < int(raw_region) <= MAX_ID:
        region = db.session.execute(scope.regions(user).where(Region.id == int(raw_region))).scalar_one_or_none()
    if region is None:
        return _index(month, 422, form_error=_("Choose one of your regions."), form=form)
    try:
        amount = parse_money(form["amount"])
    except MoneyError as exc:
        message = money_problem(exc) if form["amount"] else _("Type the target in yuan, like 500000.00.")
        return _index(month, 422, form_error=message, form=form)
    with refusal() as refused:
        row = ops.set_region_target(user, region, month, amount)
    if refused:
        return _index(month, refused.status, form_error=refused.message, form=form)
    flash(_("%(region)s's target for %(month)s: %(amount)s.", region=region.name, month=queries.month_key(month),
            amount=format_money(amount)))
    return see_other(url_for("targets.detail", target_id=row.id))


def _detail(target: Target, status=200, errors=None, typed=None, error=None):
    user = me()
    may_split = permissions.may_split_target(user, target)
    parts = queries.children(target, user)
    subjects = ops.candidates(user, target) if may_split else []
    by_subject = {p.subject_id: p for p in parts}
    sums = queries.actuals([target, *parts])
    last_year = ops.last_year_sales(target, subjects) if subjects else {}
    # What the page lists: every candidate (with its part, if any), then parts no longer among them.
    lines = [{"id": s.id, "name": s.name, "sub": s.code if hasattr(s, "code") else s.login,
              "part": by_subject.get(s.id), "last_year": last_year.get(s.id, 0)} for s in subjects]
    known = {s.id for s in subjects}
    lines += [{"id": p.subject_id, "name": queries.label(p), "sub": "", "part": p, "last_year": None, "fixed": True}
              for p in parts if p.subject_id not in known]
    allocated = queries.allocated(target)
    parent_visible = target.parent_id is not None and db.session.execute(
        queries.visible(user).where(Target.id == target.parent_id).with_only_columns(Target.id)).first() is not None
    return render("targets/detail.html", status=status, page_title=queries.label(target), target=target,
                  actual=sums.get(target.id, 0), pct=queries.pct, sums=sums, lines=lines, may_split=may_split,
                  may_delete=may_split and target.level == "region", allocated=allocated,
                  unallocated=target.amount - allocated, month_key=queries.month_key(target.month),
                  errors=errors or {}, typed=typed or {}, error=error, money_decimal=money_decimal,
                  parent_visible=parent_visible)


@bp.route("/targets/<int:target_id>")
@login_required
def detail(target_id: int):
    return _detail(_target(target_id))


@bp.route("/targets/<int:target_id>/split", methods=["POST"])
@login_required
def split(target_id: int):
    """The parts typed by hand: a field `part-<id>` per rep (or store); empty takes the part away."""
    target = _target(target_id)
    user = me()
    permissions.require(permissions.may_split_target(user, target))
    amounts, errors, typed = {}, {}, {}
    for name, value in request.form.items():
        if not name.startswith("part-"):
            continue
        raw = name.removeprefix("part-")
        if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID):
            abort(404)
        subject_id, value = int(raw), value.strip()
        typed[subject_id] = value
        if not value:
            amounts[subject_id] = None
            continue
        try:
            amounts[subject_id] = parse_money(value)
        except MoneyError as exc:
            errors[subject_id] = money_problem(exc)
    if errors:
        return _detail(target, 422, errors=errors, typed=typed,
                       error=_("Nothing was saved: correct the amounts marked."))
    if not amounts:
        return _detail(target, 422, error=_("Nothing to save: type the parts first."))
    with refusal() as refused:
        ops.split_by_hand(user, target, amounts)
    if refused:
        return _detail(_target(target_id), refused.status, typed=typed, error=refused.message)
    flash(_("Split saved."))
    return see_other(url_for("targets.detail", target_id=target.id))


@bp.route("/targets/<int:target_id>/proportional", methods=["POST"])
@login_required
def proportional(target_id: int):
    target = _target(target_id)
    user = me()
    permissions.require(permissions.may_split_target(user, target))
    with refusal() as refused:
        result = ops.split_proportionally(user, target)
    if refused:
        return _detail(_target(target_id), refused.status, error=refused.message)
    flash(_("Split in proportion to the sales of %(month)s.",
            month=queries.month_key(queries.add_months(target.month, -12))) if result["basis"] == "proportional"
          else _("Nobody sold anything in %(month)s: split evenly.",
                 month=queries.month_key(queries.add_months(target.month, -12))))
    return see_other(url_for("targets.detail", target_id=target.id))


@bp.route("/targets/<int:target_id>/delete", methods=["POST"])
@login_required
def delete(target_id: int):
    target = _target(target_id)
    month = queries.month_key(target.month)
    with refusal() as refused:
        ops.delete_target(me(), target)
    if refused:
        raise refused.error
    flash(_("Target taken away, with its split."))
    return see_other(url_for("targets.index", month=month))


@bp.route("/targets/import", methods=["GET", "POST"])
@login_required
def import_():
    permissions.require(permissions.may_set_targets(me()))
    return import_page(tabular.ImportForm(), lambda data, name: importer.import_targets(data, name, me()),
                       lambda result: (tabular.import_done(result), url_for("targets.index")),
                       "targets/import.html", max_rows=importer.MAX_ROWS)


@bp.route("/targets/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    permissions.require(permissions.may_set_targets(me()))
    month, error = _month_arg()
    if error:
        raise DomainError(error, 400)
    return tabular.download(importer.export(me(), month, fmt), fmt, f"targets-{queries.month_key(month)}")


@bp.route("/targets/template.csv")
@login_required
def template():
    permissions.require(permissions.may_set_targets(me()))
    return importer.template(), 200, {"Content-Type": tabular.CSV_MIMETYPE,
                                      "Content-Disposition": 'attachment; filename="targets-template.csv"'}
