"""The visit page: the rep's store visit on the phone (Plan, Do, Check, Act, check-out) and the co-visit.

Views read the form, call one operation from field/visits/operations.py and render
visits/visit.html — the whole page, or for htmx only the block that changed. A failed
step, objective or follow-up answers its own fragment with the messages in place. Flags are
put in words by field/visits/history.py (templates/visits/_flag.html), the same on every page."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms.fields import SelectChoice

from field import locale_code, scope
from field.auth.models import Role
from field.core import Conflict, DomainError
from field.extensions import db
from field.photos.models import Photo
from field.products.models import Product
from field.visits import bp
from field.visits import operations as ops
from field.visits.forms import (CancelForm, CheckInForm, CheckOutForm, CoVisitAnswerForm, CoVisitForm, FollowUpForm,
                                ObjectiveForm, UnplannedCheckInForm, step_form_data)
from field.visits.models import CoVisit, FollowUp, StepKind, StepResult, Visit, VisitStatus, VisitStep, VisitType
from field.visits.steps import StepInvalid, min_photos
from field.visits.workflow import state_label
from field.web import render, wants_fragment, me as _me

PAGE = "visits/visit.html"
ORDER_ROWS = 5  # order-line rows offered without JavaScript

bp.add_app_template_filter(ops.word_list, "word_list")



def _visit(visit_id: int) -> Visit:
    return scope.get_or_404(scope.visits(), visit_id)


def _step(visit: Visit, step_id: int) -> VisitStep:
    """A step of this visit's type (from the visit in scope, never a wider lookup), else 404 — or 409
    when an admin took the step out of the type while the rep had it on screen."""
    step = next((s for s in visit.visit_type.steps if s.id == step_id), None)
    if step is None:
        retired = db.session.execute(select(VisitStep.id).where(
            VisitStep.id == step_id, VisitStep.visit_type_id == visit.visit_type_id, VisitStep.removed.is_(True))).first()
        if retired is not None:
            raise Conflict(_("This step was taken out of the visit type meanwhile, so the visit no longer asks for "
                             "it. Nothing was saved; reload the visit."))
        abort(404)
    return step


def _busy_visit() -> Visit | None:
    return db.session.execute(scope.visits().where(
        Visit.rep_id == current_user.id, Visit.status == VisitStatus.IN_PROGRESS)).scalar_one_or_none()


def _active_products() -> list[Product]:
    # The catalogue is shared by every role; it is not scoped business data.
    return db.session.execute(select(Product).where(Product.active.is_(True))
                              .order_by(Product.category, Product.name)).scalars().all()


# --- what the page shows for one step ---------------------------------------------------------

@dataclass
class StepView:
    step: VisitStep
    number: int
    result: StepResult | None
    errors: dict = field(default_factory=dict)
    values: MultiDict = field(default_factory=MultiDict)
    general: list = field(default_factory=list)  # messages that belong to no field on the page
    products: list = field(default_factory=list)
    rows: list = field(default_factory=list)     # order lines: [(sku, quantity)]
    state: str | None = None                     # "done", "skipped" or None (operations.step_states)
    photos: list = field(default_factory=list)   # a photo step's photos that count (not voided)
    voided: list = field(default_factory=list)   # … and those a supervisor voided, for the record
    need: int = 0                                # a photo step's minimum


def _values_from_result(step: VisitStep, result: StepResult | None) -> MultiDict:
    """The saved value as the form fields it came from, so a saved step opens filled in."""
    out = MultiDict()
    if result is None or result.status != "done":
        return out
    value = result.value or {}
    kind = step.kind
    if kind == StepKind.CHECKLIST:
        for i, item in enumerate(value.get("items", [])):
            out.add(f"item-{i}", "pass" if item.get("pass") else "fail")
            out.add(f"note-{i}", item.get("note", ""))
    elif kind == StepKind.NUMBER:
        out.add("value", value.get("value", ""))
    elif kind == StepKind.STOCK_COUNT:
        for line in value.get("lines", []):
            out.add("sku", line["sku"])
            out.add(f"shelf-{line['sku']}", str(line["shelf"]))
            out.add(f"back-{line['sku']}", str(line["back"]))
    elif kind == StepKind.SHELF_SHARE:
        out.add("ours", str(value.get("ours", "")))
        out.add("total", str(value.get("total", "")))
    elif kind == StepKind.ORDER_LINES:
        for line in value.get("lines", []):
            out.add("sku", line["sku"])
            out.add("quantity", str(line["quantity"]))
    elif kind == StepKind.CHOICE:
        out.add("choice", value.get("choice", ""))
    elif kind == StepKind.MULTI_CHOICE:
        for choice in value.get("choices", []):
            out.add("choice", choice)
    elif kind == StepKind.TEXT:
        out.add("text", value.get("text", ""))
    elif kind == StepKind.SIGNATURE:
        out.add("signer", value.get("signer", ""))
    return out


def _placed(step: VisitStep, key: str, products: list, rows: list) -> bool:
    """Whether the step's form shows this error key beside a field."""
    kind = step.kind
    if key == "skip_reason":
        return True
    if kind == StepKind.CHECKLIST:
        return key.startswith(("item-", "note-"))
    if kind == StepKind.NUMBER:
        return key == "value"
    if kind == StepKind.STOCK_COUNT:
        skus = {p.sku for p in products}
        return any(key == f"{prefix}-{sku}" for prefix in ("shelf", "back", "sku") for sku in skus)
    if kind == StepKind.SHELF_SHARE:
        return key in ("ours", "total")
    if kind == StepKind.ORDER_LINES:
        return any(key in (f"sku-{i}", f"quantity-{i}") for i in range(len(rows)))
    if kind in (StepKind.CHOICE, StepKind.MULTI_CHOICE):
        return key == "choice"
    if kind == StepKind.TEXT:
        return key == "text"
    if kind == StepKind.SIGNATURE:
        return key == "signer"
    return False


def _step_view(step, number, result, products, errors=None, data=None) -> StepView:
    errors = errors or {}
    values = data if data is not None else _values_from_result(step, result)
    view = StepView(step, number, result, errors, values)
    if step.kind == StepKind.STOCK_COUNT:
        wanted = step.config.get("products") or []
        view.products = [p for p in products if p.sku in wanted] if wanted else list(products)
    elif step.kind == StepKind.ORDER_LINES:
        view.products = list(products)
        view.rows = list(zip(values.getlist("sku"), values.getlist("quantity")))
        view.rows += [("", "")] * max(ORDER_ROWS - len(view.rows), 1)
    view.general = [msg for key, msg in errors.items() if not _placed(step, key, view.products, view.rows)]
    return view


def _visit_photos(visit: Visit) -> dict[int, list[Photo]]:
    """The visit's photos the signed-in user may see, per step, oldest first."""
    by_step: dict[int, list[Photo]] = {}
    for photo in db.session.execute(scope.photos().where(Photo.visit_id == visit.id)
                                    .order_by(Photo.id)).scalars():
        by_step.setdefault(photo.step_id, []).append(photo)
    return by_step


def _step_views(visit: Visit, results: dict, products: list, counts: dict, errors=None,
                data=None) -> dict[int, StepView]:
    errors, data = errors or {}, data or {}
    steps = list(visit.visit_type.steps)
    photos = _visit_photos(visit) if any(s.kind == StepKind.PHOTO for s in steps) else {}
    states = ops.step_states(visit, counts)
    views = {}
    for n, s in enumerate(steps, start=1):
        view = _step_view(s, n, results.get(s.id), products, errors.get(s.id), data.get(s.id))
        view.state = states[s.id]
        if s.kind == StepKind.PHOTO:
            taken = photos.get(s.id, [])
            view.photos = [p for p in taken if p.voided_at is None]
            view.voided = [p for p in taken if p.voided_at is not None]
            view.need = min_photos(s)
        views[s.id] = view
    return views


def _owner_choices(owners) -> list[SelectChoice]:
    return [SelectChoice(u.id, u.name) for u in owners]


# --- the page's context ---------------------------------------------------------------------

def _context(visit: Visit, step_errors=None, step_data=None, **extra) -> dict:
    me = _me()
    locale = locale_code()
    is_rep = me.id == visit.rep_id
    editing = is_rep and visit.status == VisitStatus.IN_PROGRESS
    results = {r.step_id: r for r in visit.results}
    steps = list(visit.visit_type.steps)
    needs_products = editing and any(s.kind in (StepKind.STOCK_COUNT, StepKind.ORDER_LINES) for s in steps)
    products = _active_products() if needs_products else []
    step_ids = {s.id for s in steps}
    counts = ops.photo_counts(visit)
    if visit.status == VisitStatus.PLANNED:
        plan = [SimpleNamespace(id=None, source=source, text=text, follow_up=fu, met=None, note="")
                for source, text, fu in ops.objectives_preview(visit.store, visit.visit_type, _me())]
    else:
        plan = list(visit.objectives)
    follow_ups = db.session.execute(scope.follow_ups().where(FollowUp.visit_id == visit.id)
                                    .order_by(FollowUp.id)).scalars().all()
    co_visits = db.session.execute(select(CoVisit).where(CoVisit.visit_id == visit.id)
                                   .order_by(CoVisit.id)).scalars().all()
    owners = ops.follow_up_owners(visit) if editing else []
    followup_form = extra.pop("followup_form", None) or FollowUpForm(formdata=None)
    followup_form.owner.choices = _owner_choices(owners)
    if followup_form.owner.data is None:
        followup_form.owner.data = me.id
    ctx = {
        "visit": visit, "locale": locale, "is_rep": is_rep, "editing": editing,
        "steps": steps, "step_views": _step_views(visit, results, products, counts, step_errors, step_data),
        "old_results": [r for r in visit.results if r.step_id not in step_ids],
        "plan": plan,
        "checks": ops.auto_checks(visit, locale, counts) if visit.status != VisitStatus.PLANNED else [],
        "missing": ops.missing_required(visit, counts) if editing else [],
        "follow_ups": follow_ups, "co_visits": co_visits,
        "can_score": (me.role == Role.SUPERVISOR and visit.rep.supervisor_id == me.id
                      and visit.status in (VisitStatus.IN_PROGRESS, VisitStatus.COMPLETED)
                      and not any(c.supervisor_id == me.id for c in co_visits)),
        "can_cancel": visit.status in (VisitStatus.PLANNED, VisitStatus.IN_PROGRESS) and (
            is_rep or me.id == visit.planned_by_id or me.role in (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)),
        "state_label": state_label,
        "checkin_form": None, "checkout_form": None, "cancel_form": None, "answer_form": None,
        "followup_form": followup_form, "objective_errors": {}, "objective_data": {},
        "oob": False,
    }
    ctx.update(extra)
    if ctx["checkin_form"] is None and visit.status == VisitStatus.PLANNED and is_rep:
        ctx["checkin_form"] = CheckInForm(formdata=None)
    if ctx["checkout_form"] is None and editing:
        ctx["checkout_form"] = CheckOutForm(formdata=None)
    if ctx["cancel_form"] is None and ctx["can_cancel"]:
        ctx["cancel_form"] = CancelForm(formdata=None)
    if ctx["answer_form"] is None and is_rep and co_visits:
        ctx["answer_form"] = CoVisitAnswerForm(formdata=None)
    return ctx


def _page(visit: Visit, status: int = 200, block: str = "content", **extra):
    return render(PAGE, block=block, status=status, page_title=visit.store.name, **_context(visit, **extra))


def _oob_blocks(ctx: dict, *names: str, **extra) -> str:
    """Blocks of the page sent beside a fragment so htmx refreshes them in place (hx-swap-oob)."""
    env = current_app.jinja_env
    template = env.get_template(PAGE)
    context = {**ctx, **extra, "oob": True}
    current_app.update_template_context(context)
    out = []
    for name in names:
        out.append("".join(template.blocks[name](template.new_context(context))))
    return "".join(out)


def _clear_position(form) -> None:
    # A position is taken afresh on every tap; never send back the one that was refused.
    for f in (form.lat, form.lng, form.accuracy, form.position_at):
        f.data = ""


def _drop_position_if_asked(form) -> None:
    if request.form.get("no_position"):
        _clear_position(form)


# --- the visit page ----------------------------------------------------------------------------

@bp.route("/visits/<int:visit_id>")
@login_required
def show(visit_id: int):
    visit = _visit(visit_id)
    return _page(visit)


# --- check-in -----------------------------------------------------------------------------------

@bp.route("/visits/<int:visit_id>/checkin", methods=["POST"])
@login_required
def checkin(visit_id: int):
    visit = _visit(visit_id)
    form = CheckInForm()
    _drop_position_if_asked(form)
    if not form.validate_on_submit():
        _clear_position(form)
        return _page(visit, status=422, checkin_form=form)
    try:
        started = ops.check_in(_me(), visit.store, visit.visit_type, position=form.position,
                               accuracy_m=form.accuracy_m, position_at=form.position_time,
                               reason=form.reason.data, client_key=form.key, visit=visit)
    except DomainError as exc:
        db.session.rollback()
        _clear_position(form)
        error, reason_needed = _checkin_refused(form, exc)
        return _page(visit, status=exc.status, checkin_form=form, checkin_error=error, reason_needed=reason_needed,
                     busy_visit=_busy_visit() if exc.status == 409 else None)
    return redirect(url_for("visits.show", visit_id=started.id))


def _checkin_refused(form, exc: DomainError) -> tuple[str | None, bool]:
    """Where a refused check-in's message goes: beside the reason box when a reason is what is
    missing (or too long), else above the form. Returns (message above the form, reason needed)."""
    if isinstance(exc, ops.ReasonNeeded):
        form.reason.errors = [*form.reason.errors, exc.message]
        return None, True
    return exc.message, False


def _checkin_types() -> list[VisitType]:
    # The co-visit type is the supervisor's scorecard, not a visit a rep starts.
    return db.session.execute(select(VisitType).where(VisitType.active.is_(True), VisitType.code != "co_visit")
                              .order_by(VisitType.id)).scalars().all()


@bp.route("/stores/<int:store_id>/checkin", methods=["GET", "POST"])
@login_required
def store_checkin(store_id: int):
    """An unplanned visit: the rep is at a store and checks in there, picking the visit type."""
    store = scope.get_or_404(scope.stores(), store_id)
    if current_user.role != Role.REP:
        abort(403)
    types = _checkin_types()
    form = UnplannedCheckInForm()
    form.visit_type.choices = [SelectChoice(t.id, t.label(locale_code())) for t in types]
    ctx = {"store": store, "page_title": store.name, "busy_visit": _busy_visit(),
           "preview": ops.objectives_preview(store, types[0], _me()) if types else []}
    if request.method == "GET":
        routine = next((t for t in types if t.code == "routine"), None)
        if routine is not None:
            form.visit_type.data = routine.id
        return render("visits/checkin.html", form=form, **ctx)
    _drop_position_if_asked(form)
    if not form.validate_on_submit():
        _clear_position(form)
        return render("visits/checkin.html", form=form, status=422, **ctx)
    visit_type = next(t for t in types if t.id == form.visit_type.data)
    try:
        visit = ops.check_in(_me(), store, visit_type, position=form.position, accuracy_m=form.accuracy_m,
                             position_at=form.position_time, reason=form.reason.data, client_key=form.key)
    except DomainError as exc:
        db.session.rollback()
        _clear_position(form)
        ctx["busy_visit"] = _busy_visit()
        error, reason_needed = _checkin_refused(form, exc)
        return render("visits/checkin.html", form=form, status=exc.status, error=error,
                      reason_needed=reason_needed, **ctx)
    return redirect(url_for("visits.show", visit_id=visit.id))


# --- Do: steps ----------------------------------------------------------------------------------

def _step_answer(visit: Visit, step: VisitStep, status: int = 200, errors=None, data=None, saved=False):
    if wants_fragment():
        ctx = _context(visit, step_errors={step.id: errors} if errors else None,
                       step_data={step.id: data} if data is not None else None)
        body, status = render(PAGE, block="step", status=status, step=step, **ctx)
        if saved:
            body += _oob_blocks(ctx, "checks", "checkout")
        return body, status
    if saved:
        return redirect(url_for("visits.show", visit_id=visit.id, _anchor=f"step-{step.id}"))
    return _page(visit, status=status, step_errors={step.id: errors} if errors else None,
                 step_data={step.id: data} if data is not None else None)


@bp.route("/visits/<int:visit_id>/steps/<int:step_id>", methods=["POST"])
@login_required
def save_step(visit_id: int, step_id: int):
    visit = _visit(visit_id)
    step = _step(visit, step_id)
    data = step_form_data(step.kind, request.form)
    try:
        ops.save_step(visit, step.id, data, _me())
    except StepInvalid as exc:
        db.session.rollback()
        return _step_answer(visit, step, 422, exc.errors, data)
    except DomainError as exc:
        db.session.rollback()
        return _step_answer(visit, step, exc.status, {"_": exc.message}, data)
    return _step_answer(visit, step, saved=True)


@bp.route("/visits/<int:visit_id>/steps/<int:step_id>/skip", methods=["POST"])
@login_required
def skip_step(visit_id: int, step_id: int):
    visit = _visit(visit_id)
    step = _step(visit, step_id)
    try:
        ops.skip_step(visit, step.id, request.form.get("skip_reason", ""), _me())
    except StepInvalid as exc:
        db.session.rollback()
        return _step_answer(visit, step, 422, exc.errors, MultiDict(request.form))
    except DomainError as exc:
        db.session.rollback()
        return _step_answer(visit, step, exc.status, {"_": exc.message})
    return _step_answer(visit, step, saved=True)


@bp.route("/visits/<int:visit_id>/progress")
@login_required
def progress(visit_id: int):
    """Where the visit stands once a photo has arrived (static/js/visits.js asks): the photo steps'
    heads, the automatic checks and the check-out bar, each to be swapped in place by its id."""
    visit = _visit(visit_id)
    if not wants_fragment():
        return redirect(url_for("visits.show", visit_id=visit.id))
    ctx = _context(visit)
    heads = "".join(_oob_blocks(ctx, "step_head", step=s) for s in ctx["steps"] if s.kind == StepKind.PHOTO)
    body = heads + _oob_blocks(ctx, "checks", *(["checkout"] if ctx["checkout_form"] else []))
    return body, 200, {"Cache-Control": "no-store"}


# --- Check: objectives -----------------------------------------------------------------------

def _objective_answer(visit, objective, status=200, errors=None, saved=False):
    if wants_fragment():
        ctx = _context(visit, objective_errors={objective.id: errors or []},
                       objective_data={objective.id: MultiDict(request.form)} if errors else {})
        return render(PAGE, block="objective", status=status, objective=objective, saved=saved, **ctx)
    if saved:
        return redirect(url_for("visits.show", visit_id=visit.id, _anchor=f"objective-{objective.id}"))
    return _page(visit, status=status, objective_errors={objective.id: errors or []},
                 objective_data={objective.id: MultiDict(request.form)})


@bp.route("/visits/<int:visit_id>/objectives/<int:objective_id>", methods=["POST"])
@login_required
def objective(visit_id: int, objective_id: int):
    visit = _visit(visit_id)
    objective = next((o for o in visit.objectives if o.id == objective_id), None)
    if objective is None:
        abort(404)
    form = ObjectiveForm()
    if not form.validate_on_submit():
        return _objective_answer(visit, objective, 422, [e for errs in form.errors.values() for e in errs])
    try:
        ops.mark_objective(visit, objective.id, form.met.data == "yes", form.note.data, _me())
    except DomainError as exc:
        db.session.rollback()
        return _objective_answer(visit, objective, exc.status, [exc.message])
    return _objective_answer(visit, objective, saved=True)


# --- Act: follow-ups ----------------------------------------------------------------------------

def _followup_answer(visit, form, status=200, error=None, saved=False):
    if not wants_fragment() and saved:
        return redirect(url_for("visits.show", visit_id=visit.id, _anchor="act"))
    if wants_fragment():
        return render(PAGE, block="followups", status=status,
                      **_context(visit, followup_form=form, followup_error=error, followup_saved=saved))
    return _page(visit, status=status, followup_form=form, followup_error=error)


@bp.route("/visits/<int:visit_id>/followups", methods=["POST"])
@login_required
def add_follow_up(visit_id: int):
    visit = _visit(visit_id)
    form = FollowUpForm()
    form.owner.choices = _owner_choices(ops.follow_up_owners(visit))
    if not form.validate_on_submit():
        return _followup_answer(visit, form, 422)
    try:
        ops.add_follow_up(visit, form.text.data, form.owner.data, form.due_on.data, _me())
    except StepInvalid as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, message]
        return _followup_answer(visit, form, 422)
    except DomainError as exc:
        db.session.rollback()
        return _followup_answer(visit, form, exc.status, error=exc.message)
    return _followup_answer(visit, FollowUpForm(formdata=None), saved=True)


# --- check-out and cancel ---------------------------------------------------------------------

@bp.route("/visits/<int:visit_id>/checkout", methods=["POST"])
@login_required
def checkout(visit_id: int):
    visit = _visit(visit_id)
    form = CheckOutForm()
    _drop_position_if_asked(form)
    if not form.validate_on_submit():
        _clear_position(form)
        return _page(visit, status=422, checkout_form=form)
    try:
        ops.check_out(visit, _me(), position=form.position, accuracy_m=form.accuracy_m,
                      position_at=form.position_time, reason=form.reason.data or "")
    except DomainError as exc:
        db.session.rollback()
        _clear_position(form)
        return _page(visit, status=exc.status, checkout_form=form, checkout_error=exc.message)
    flash(_("Checked out. The visit is complete."), "success")
    return redirect(url_for("visits.show", visit_id=visit.id))


@bp.route("/visits/<int:visit_id>/cancel", methods=["POST"])
@login_required
def cancel(visit_id: int):
    visit = _visit(visit_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _page(visit, status=422, cancel_form=form, cancel_open=True)
    try:
        ops.cancel(visit, _me(), form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        return _page(visit, status=exc.status, cancel_form=form, cancel_error=exc.message, cancel_open=True)
    flash(_("The visit is cancelled."), "success")
    return redirect(url_for("visits.show", visit_id=visit.id))


# --- co-visit -----------------------------------------------------------------------------------

@bp.route("/visits/<int:visit_id>/covisit", methods=["GET", "POST"])
@login_required
def covisit(visit_id: int):
    """The rep's supervisor scores the visit on the co-visit type's scorecard."""
    visit = _visit(visit_id)
    if current_user.role != Role.SUPERVISOR or visit.rep.supervisor_id != current_user.id:
        abort(403)
    items = ops.scorecard(None)
    existing = db.session.execute(select(CoVisit).where(
        CoVisit.visit_id == visit.id, CoVisit.supervisor_id == current_user.id)).scalar_one_or_none()
    form = CoVisitForm()
    ctx = {"visit": visit, "items": items, "existing": existing, "locale": locale_code(),
           "page_title": visit.store.name, "state_label": state_label}
    if request.method == "GET":
        return render("visits/covisit.html", form=form, errors={}, values=MultiDict(), **ctx)
    status, errors, message = 422, {}, None
    if form.validate_on_submit():
        try:
            ops.score_visit(visit, _me(), request.form, form.comment.data or "")
        except StepInvalid as exc:
            db.session.rollback()
            errors = exc.errors
        except DomainError as exc:
            db.session.rollback()
            status, message = exc.status, exc.message
        else:
            flash(_("Your score is saved; the rep sees it on the visit."), "success")
            return redirect(url_for("visits.show", visit_id=visit.id, _anchor="covisit"))
    return render("visits/covisit.html", form=form, errors=errors, error=message, values=MultiDict(request.form),
                  status=status, **ctx)


@bp.route("/visits/<int:visit_id>/covisit/answer", methods=["POST"])
@login_required
def covisit_answer(visit_id: int):
    visit = _visit(visit_id)
    if current_user.id != visit.rep_id:
        abort(403)
    form = CoVisitAnswerForm()
    stmt = select(CoVisit).where(CoVisit.visit_id == visit.id)
    if (form.co_visit_id.data or "").isdigit():
        stmt = stmt.where(CoVisit.id == int(form.co_visit_id.data))
    co = db.session.execute(stmt.order_by(CoVisit.id.desc()).limit(1)).scalar_one_or_none()
    if co is None:
        abort(404)
    if not form.validate_on_submit():
        return _page(visit, status=422, answer_form=form)
    try:
        ops.answer_co_visit(co, _me(), form.text.data)
    except DomainError as exc:
        db.session.rollback()
        return _page(visit, status=exc.status, answer_form=form, answer_error=exc.message)
    flash(_("Your answer is saved."), "success")
    return redirect(url_for("visits.show", visit_id=visit.id, _anchor="covisit"))
