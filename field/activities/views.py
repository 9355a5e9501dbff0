"""Activity pages: the list, my stores' evidence this period, an activity, the application form,
stores and budgets (picked or imported), the approval inbox, and activity types for admins.

Views read the request, call field/activities/operations.py (or importer.py), and render one
template per page; a refused move answers the page again with the reason, at its 4xx status.
Who may do what is field.permissions'; the request commits what the operations staged."""
from __future__ import annotations


from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from field import permissions, scope
from field.i18n import locale_code
from field.activities import bp, importer, progress, rules, workflow
from field.activities import operations as ops
from field.activities.forms import (ActivityForm, ActivityTypeForm, DecisionForm, budget_text, check_period_label,
                                    parse_budget)
from field.activities.models import Activity, ActivityStatus as S, ActivityStore, ActivityType
from field.core import company_today
from field.extensions import db
from field.permissions import require
from field.tabular import ImportForm
from field.stores.models import Store
from field.core import FieldError, like_pattern
from field.visits.models import Visit, VisitStatus
from field.web import count, import_page, paginate, refusal, render, me as _me, page_arg as _page_arg

PICK_LIMIT = 50
FILTERS = {
    "draft": (S.DRAFT,),
    "awaiting": (S.SUBMITTED, S.SECOND_APPROVAL),
    "live": (S.APPROVED, S.RUNNING),
    "ended": (S.ENDED,),
    "rejected": (S.REJECTED,),
}

bp.add_app_template_global(workflow.state_label, "activity_state_label")
bp.add_app_template_global(check_period_label, "check_period_label")


@bp.app_template_global("activity_type_label")
def activity_type_label(kind: ActivityType | None) -> str:
    return kind.label(locale_code()) if kind is not None else ""


@bp.app_template_filter("pct")
def pct(value) -> str:
    """Decimal('60.00') → '60 %', Decimal('12.50') → '12.5 %'."""
    if value is None:
        return "—"
    return _("%(pct)s %%", pct=format(value.normalize(), "f"))


@bp.app_template_global("compliance_label")
def compliance_label(compliance) -> str:
    """'75.0 %', or '—' while no period is due."""
    if compliance is None or compliance.percent is None:
        return "—"
    return _("%(pct)s %%", pct=compliance.percent)


def _activity(activity_id: int) -> Activity:
    return scope.get_or_404(scope.activities(), activity_id)


def _catch_up(stmt) -> None:
    """Statuses follow the calendar: start and end what the dates say before showing them (the
    request commits the moves with its answer)."""
    ops.advance_by_dates(stmt, company_today())


# --- lists ------------------------------------------------------------------------------------

@bp.route("/activities")
@login_required
def index():
    _catch_up(scope.activities())
    show = request.args.get("show", "")
    show = show if show in FILTERS else ""
    stmt = scope.activities().options(selectinload(Activity.type), selectinload(Activity.applicant))
    if show:
        stmt = stmt.where(Activity.status.in_(FILTERS[show]))
    page = paginate(stmt.order_by(Activity.period_start.desc(), Activity.id.desc()), _page_arg(),
                    current_app.config["PAGE_SIZE"])
    compliance = progress.activity_compliance([a.id for a in page.items], company_today())
    inbox = count(ops.awaiting(_me())) if permissions.may_decide_activities(_me()) else 0
    return render("activities/index.html", block="results", page=page, show=show, compliance=compliance,
                  inbox=inbox, can_apply=permissions.may_apply(_me()), args={"show": show} if show else {})


@bp.route("/activities/mine")
@login_required
def mine():
    """Store by store, what the running activities still need this period."""
    today = company_today()
    _catch_up(scope.activities())
    running = progress.running_on(today)
    statuses = progress.evidence_statuses([(item.activity_store, item.period) for item in running])
    by_store: dict[int, list] = {}
    stores: dict[int, Store] = {}
    for item in running:
        store = item.activity_store.store
        stores[store.id] = store
        by_store.setdefault(store.id, []).append((item, statuses[(item.activity_store.id, item.period.index)]))
    lines = sorted(((stores[sid], items) for sid, items in by_store.items()),
                   key=lambda line: (not any(s.needs_evidence for _, s in line[1]), line[0].name))
    missing = sum(1 for _, items in lines for _, s in items if s.needs_evidence)
    visiting = _visit_in_progress()
    return render("activities/mine.html", lines=lines, today=today, missing=missing, visiting=visiting)


def _visit_in_progress():
    """The signed-in user's visit in progress, if any: evidence is added there."""
    return db.session.execute(scope.visits().where(Visit.rep_id == current_user.id,
                                                   Visit.status == VisitStatus.IN_PROGRESS)).scalars().first()


@bp.route("/activities/inbox")
@login_required
def inbox():
    require(permissions.may_decide_activities(_me()))
    _catch_up(scope.activities())
    items = db.session.execute(ops.awaiting(_me()).options(selectinload(Activity.type),
                                                           selectinload(Activity.applicant))).scalars().all()
    return render("activities/inbox.html", items=items, threshold=workflow.second_approval_above())


# --- one activity ---------------------------------------------------------------------------

def _decision_allowed(activity: Activity) -> bool:
    me = _me()
    if activity.status not in (S.SUBMITTED, S.SECOND_APPROVAL) or not permissions.may_approve(me, activity):
        return False
    return activity.status == S.SUBMITTED or workflow.first_approver_id(activity) != me.id


def _activity_page(activity: Activity, status: int = 200, error: str = "", form: DecisionForm | None = None):
    today = company_today()
    lines = db.session.execute(
        scope.activity_stores().where(ActivityStore.activity_id == activity.id)
        .options(selectinload(ActivityStore.store), selectinload(ActivityStore.activity).selectinload(Activity.type))
        .order_by(ActivityStore.id)).scalars().all()
    per_store = progress.compliance_by_store(list(lines), today)
    current = {}
    if activity.status in progress.LIVE and activity.period_start <= today <= activity.period_end:
        periods = {line.id: rules.period_at(progress.store_periods(line), today) for line in lines}
        statuses = progress.evidence_statuses([(line, p) for line in lines if (p := periods[line.id])])
        current = {line.id: (p, statuses[(line.id, p.index)]) for line in lines if (p := periods[line.id])}
    me = _me()
    return render("activities/activity.html", status=status, activity=activity, lines=lines, per_store=per_store,
                  total=rules.roll_up(per_store.values()), current=current,
                  all_stores=len(lines) == len(activity.stores), history=ops.history(activity),
                  can_edit=permissions.may_edit_activity(me, activity), is_applicant=activity.applicant_id == me.id,
                  can_decide=_decision_allowed(activity), form=form or DecisionForm(), error=error,
                  next_status=workflow.next_approval_status(activity), threshold=workflow.second_approval_above(),
                  first_approver=workflow.first_approver_id(activity) if activity.status == S.SECOND_APPROVAL
                  else None, can_review=permissions.may_review(me))


@bp.route("/activities/<int:activity_id>")
@login_required
def show(activity_id: int):
    activity = _activity(activity_id)
    _catch_up(scope.activities().where(Activity.id == activity.id))
    return _activity_page(activity)


# The applicant's moves: the operation and what the page says once it went through.
MOVES = {
    "submit": (ops.submit, lambda: _("Submitted for approval.")),
    "withdraw": (ops.withdraw, lambda: _("Taken back to draft.")),
    "reopen": (ops.reopen, lambda: _("Reopened as a draft: change it and submit again.")),
}


@bp.route("/activities/<int:activity_id>/<any(submit, withdraw, reopen):action>", methods=["POST"])
@login_required
def move(activity_id: int, action: str):
    """Submit a draft, withdraw a submission or reopen a rejected application."""
    operation, success = MOVES[action]
    activity = _activity(activity_id)
    with refusal() as refused:
        operation(activity, _me())
    if refused:
        return _activity_page(_activity(activity_id), status=refused.status, error=refused.message)
    flash(success())
    return redirect(url_for("activities.show", activity_id=activity_id))


@bp.route("/activities/<int:activity_id>/<any(approve, reject):decision>", methods=["POST"])
@login_required
def decide(activity_id: int, decision: str):
    """Approve or reject (with the comment the applicant reads)."""
    approve = decision == "approve"
    activity = _activity(activity_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _activity_page(activity, status=422, form=form)
    comment = form.comment.data or ""
    with refusal() as refused:
        if approve:
            status = ops.approve(activity, _me(), comment)
        else:
            ops.reject(activity, _me(), comment)
    if refused:
        activity = _activity(activity_id)
        if refused.status == 422 and not approve and not comment.strip():
            form.comment.errors = [refused.message]
            return _activity_page(activity, status=422, form=form)
        return _activity_page(activity, status=refused.status, error=refused.message, form=form)
    if not approve:
        flash(_("Rejected. The applicant sees your comment."))
    elif status == S.SECOND_APPROVAL:
        flash(_("Approved. A second approver is needed for this amount."))
    else:
        flash(_("Approved."))
    return redirect(url_for("activities.show", activity_id=activity_id))


# --- the application form ------------------------------------------------------------------

def _form_page(form: ActivityForm, activity: Activity | None, status: int = 200):
    return render("activities/form.html", block="form", form=form, activity=activity, status=status)


@bp.route("/activities/new", methods=["GET", "POST"])
@login_required
def new():
    require(permissions.may_apply(_me()))
    types = ops.active_types()
    form = ActivityForm(types=types, locale=locale_code())
    if request.method == "GET":
        form.period_start.data, form.period_end.data = ops.default_period(company_today())
        if types:
            form.margin_pct.data = str(types[0].margin_pct)
    if form.validate_on_submit():
        try:
            activity = ops.create_activity(form.values(), _me())
        except FieldError as exc:
            getattr(form, exc.field).errors.append(exc.message)
        else:
            flash(_("Draft saved. Now add its stores and their budgets."))
            return redirect(url_for("activities.stores", activity_id=activity.id))
    return _form_page(form, None, 422 if form.is_submitted() else 200)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit(activity_id: int):
    activity = _activity(activity_id)
    ops.require_editable(activity, _me())
    types = ops.active_types()
    if activity.type not in types:
        types.append(activity.type)
    form = ActivityForm(types=types, locale=locale_code())
    if request.method == "GET":
        form.fill(activity)
    if form.validate_on_submit():
        try:
            ops.update_activity(activity, form.values(), _me())
        except FieldError as exc:
            getattr(form, exc.field).errors.append(exc.message)
        else:
            flash(_("Saved."))
            return redirect(url_for("activities.show", activity_id=activity.id))
    return _form_page(form, activity, 422 if form.is_submitted() else 200)


# --- stores and budgets ----------------------------------------------------------------------

def _candidates(activity: Activity, q: str) -> tuple[list[Store], int]:
    """Active stores in scope not yet in the activity, matching `q`: the first PICK_LIMIT and the count."""
    taken = select(ActivityStore.store_id).where(ActivityStore.activity_id == activity.id)
    stmt = ops.pickable_stores(_me()).where(Store.id.not_in(taken))
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(Store.name.ilike(pattern, escape="\\") | Store.code.ilike(pattern, escape="\\")
                          | Store.address.ilike(pattern, escape="\\"))
    total = count(stmt)
    stores = db.session.execute(stmt.order_by(Store.name, Store.id).limit(PICK_LIMIT)).scalars().all()
    return list(stores), total


def _stores_page(activity: Activity, status: int = 200, picked=(), pick_budget: str = "", pick_error: str = "",
                 budget_values: dict | None = None, budget_errors: dict | None = None):
    q = request.values.get("q", "").strip()[:100]
    candidates, total = _candidates(activity, q)
    values = budget_values or {line.id: budget_text(line.budget) for line in activity.stores}
    return render("activities/stores.html", block="results", status=status, activity=activity, q=q,
                  candidates=candidates, candidate_total=total, picked={str(p) for p in picked},
                  pick_budget=pick_budget, pick_error=pick_error, budget_values=values,
                  budget_errors=budget_errors or {}, limit=PICK_LIMIT)


@bp.route("/activities/<int:activity_id>/stores")
@login_required
def stores(activity_id: int):
    activity = _activity(activity_id)
    ops.require_editable(activity, _me())
    return _stores_page(activity)


@bp.route("/activities/<int:activity_id>/stores", methods=["POST"])
@login_required
def add_stores(activity_id: int):
    activity = _activity(activity_id)
    ops.require_editable(activity, _me())
    raw_ids = request.form.getlist("store")
    budget_raw = request.form.get("budget", "")
    try:
        ids = sorted({int(i) for i in raw_ids})
    except ValueError:
        abort(400)
    if not ids:
        return _stores_page(activity, 422, pick_budget=budget_raw, pick_error=_("Pick at least one store."))
    try:
        budget = parse_budget(budget_raw)
    except ValueError as exc:
        return _stores_page(activity, 422, picked=ids, pick_budget=budget_raw, pick_error=str(exc))
    found = db.session.execute(ops.pickable_stores(_me()).where(Store.id.in_(ids))).scalars().all()
    if len(found) != len(ids):
        abort(404)
    added, _changed = ops.set_store_budgets(activity, {s: budget for s in found}, _me(), "activity.add_stores")
    flash(ngettext("%(num)s store added.", "%(num)s stores added.", added))
    return redirect(url_for("activities.stores", activity_id=activity.id))


@bp.route("/activities/<int:activity_id>/budgets", methods=["POST"])
@login_required
def budgets(activity_id: int):
    activity = _activity(activity_id)
    ops.require_editable(activity, _me())
    values, errors, budgets_ = {}, {}, {}
    for line in activity.stores:
        raw = request.form.get(f"budget-{line.id}")
        if raw is None:
            continue
        values[line.id] = raw
        try:
            budgets_[line.id] = parse_budget(raw)
        except ValueError as exc:
            errors[line.id] = str(exc)
    if errors:
        shown = {line.id: budget_text(line.budget) for line in activity.stores}
        shown.update(values)
        return _stores_page(activity, 422, budget_values=shown, budget_errors=errors)
    changed = ops.set_budgets_by_line(activity, budgets_, _me())
    flash(_("Budgets saved.") if changed else _("No budget changed."))
    return redirect(url_for("activities.stores", activity_id=activity.id))


@bp.route("/activities/<int:activity_id>/stores/<int:line_id>/remove", methods=["POST"])
@login_required
def remove_store(activity_id: int, line_id: int):
    activity = _activity(activity_id)
    line = scope.get_or_404(scope.activity_stores().where(ActivityStore.activity_id == activity.id), line_id)
    ops.remove_store(activity, line, _me())
    flash(_("Store %(code)s removed.", code=line.store.code))
    return redirect(url_for("activities.stores", activity_id=activity.id))


@bp.route("/activities/<int:activity_id>/import", methods=["GET", "POST"])
@login_required
def import_(activity_id: int):
    activity = _activity(activity_id)
    ops.require_editable(activity, _me())
    return import_page(
        ImportForm(), lambda data, name: importer.import_budgets(activity, data, name, _me()),
        lambda result: (_("Import done: %(created)s stores added, %(updated)s budgets changed, %(unchanged)s "
                          "unchanged.", created=result.created, updated=result.updated, unchanged=result.unchanged),
                        url_for("activities.stores", activity_id=activity.id)),
        "activities/import.html", activity=activity, headers=importer.HEADERS)


# --- activity types (admins) -----------------------------------------------------------------

def _type(type_id: int) -> ActivityType:
    """An activity type, for an administrator: company-wide settings, so no scope to narrow it."""
    require(permissions.may_administer(_me()))
    return scope.get_or_404(select(ActivityType), type_id)


@bp.route("/activity-types")
@login_required
def types():
    require(permissions.may_administer(_me()))
    return render("activities/types.html", types=ops.all_types())


def _save_type(form: ActivityTypeForm, kind: ActivityType | None):
    try:
        if kind is None:
            kind = ops.create_type(form.values(), _me())
            flash(_("Activity type %(name)s added.", name=kind.name))
        else:
            ops.update_type(kind, form.values(), _me())
            flash(_("Activity type %(name)s saved.", name=kind.name))
    except FieldError as exc:
        getattr(form, exc.field).errors.append(exc.message)
        return None
    return redirect(url_for("activities.types"))


@bp.route("/activity-types/new", methods=["GET", "POST"])
@login_required
def new_type():
    require(permissions.may_administer(_me()))
    form = ActivityTypeForm()
    if form.validate_on_submit():
        done = _save_type(form, None)
        if done is not None:
            return done
    return render("activities/type_form.html", block="form", form=form, kind=None,
                  status=422 if form.is_submitted() else 200)


@bp.route("/activity-types/<int:type_id>/edit", methods=["GET", "POST"])
@login_required
def edit_type(type_id: int):
    kind = _type(type_id)
    form = ActivityTypeForm()
    if request.method == "GET":
        form.fill(kind)
    if form.validate_on_submit():
        done = _save_type(form, kind)
        if done is not None:
            return done
    return render("activities/type_form.html", block="form", form=form, kind=kind,
                  status=422 if form.is_submitted() else 200)


@bp.route("/activity-types/<int:type_id>/<any(activate, deactivate):change>", methods=["POST"])
@login_required
def set_type_active(type_id: int, change: str):
    """Deactivate a type (new applications cannot use it) or reactivate it."""
    active = change == "activate"
    kind = _type(type_id)
    if ops.set_type_active(kind, active, _me()):
        flash(_("Activity type %(name)s reactivated.", name=kind.name) if active
              else _("Activity type %(name)s deactivated.", name=kind.name))
    return redirect(url_for("activities.types"))
