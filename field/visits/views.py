"""The visit page: the rep's store visit on the phone (Plan, Do, Check, Act, check-out) and the co-visit.

Views read the form, call one operation from field/visits/operations.py and render
visits/visit.html — the whole page, or for htmx only the block that changed (with the blocks it
moves, out of band). What the page shows is built by field/visits/presenter.py. A failed step,
objective or follow-up answers its own fragment with the messages in place. Flags are put in
words by field/visits/history.py (templates/visits/_flag.html), the same on every page.

Every write a rep makes here carries a client id and may come again from the phone's outbox
(`X-Field-Replay: 1`): one done already answers as the first time did, without acting; a refused
one answers the outbox `{"error": message}` with its 4xx (field/errors.py) instead of the page."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms.fields import SelectChoice

from field import errors, permissions, scope
from field.i18n import locale_code
from field.core import Conflict
from field.extensions import db
from field.visits import bp
from field.visits import operations as ops
from field.visits.forms import (CancelForm, CheckInForm, CheckOutForm, CoVisitAnswerForm, CoVisitForm, FollowUpForm,
                                ObjectiveForm, UnplannedCheckInForm, step_form_data)
from field.visits.models import CoVisit, StepKind, Visit, VisitStatus, VisitStep, VisitType, WriteKind
from field.visits.presenter import owner_choices, visit_loads, visit_page
from field.visits.steps import StepInvalid
from field.visits.words import word_list
from field.visits.workflow import state_label
from field.web import me, refusal, render, see_other, wants_fragment

PAGE = "visits/visit.html"

bp.add_app_template_filter(word_list, "word_list")


def _visit(visit_id: int) -> Visit:
    # Loaded with what its page reads of it (presenter.visit_loads): every view here answers with the page.
    return scope.get_or_404(scope.visits().options(*visit_loads()), visit_id)


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
        Visit.rep_id == me().id, Visit.status == VisitStatus.IN_PROGRESS)).scalar_one_or_none()


def _page(visit: Visit, status: int = 200, block: str = "content", **extra):
    return render(PAGE, block=block, status=status, page_title=visit.store.name, **visit_page(visit, **extra))


def _write(client_id: str | None = None) -> ops.Write:
    """This request's write: its client id (posted `client_id`, or the one given) and the phone's time."""
    raw = request.form.get("client_id") if client_id is None else client_id
    return ops.read_write(raw, request.form.get("phone_at"), errors.is_replay())


def _replayed(kind: str, visit: Visit) -> bool:
    """Whether this request's client id already did this write (then it answers as the first time did)."""
    return ops.earlier_write(_write(), me(), kind, visit) is not None


def _form_message(form) -> str:
    """A form's messages in one line, for the outbox (which shows no form)."""
    return " ".join(str(e) for errs in form.errors.values() for e in errs)


def _field_errors(refused) -> dict:
    """A refused form's messages by field: the rule's own, else one for the whole form ("_")."""
    return refused.error.errors if isinstance(refused.error, StepInvalid) else {"_": refused.message}


# --- check-in and check-out: a position from the phone ------------------------------------------

def _clear_position(form) -> None:
    # A position is taken afresh on every tap; never send back the one that was refused.
    for f in (form.lat, form.lng, form.accuracy, form.position_at):
        f.data = ""


def _position_form_ok(form) -> bool:
    """Read a check-in or check-out form ("without a position" drops the phone's); when it does not
    validate, the position is dropped so the page asks for a fresh one."""
    if request.form.get("no_position"):
        _clear_position(form)
    if form.validate_on_submit():
        return True
    _clear_position(form)
    return False


def _checkin_refused(form, exc) -> tuple[str | None, bool]:
    """Where a refused check-in's message goes: beside the reason box when a reason is what is
    missing (or too long), else above the form. Returns (message above the form, reason needed)."""
    if isinstance(exc, ops.ReasonNeeded):
        form.reason.errors = [*form.reason.errors, exc.message]
        return None, True
    return exc.message, False


def _at_the_store(visit: Visit, form, name: str, act, refused_context):
    """Check in or out of the visit with `act()`. A form that does not validate, or a refusal, answers
    the page again with the form (its position dropped: the phone takes a fresh one) and, for a
    refusal, what `refused_context(refused)` adds. Returns (act()'s visit, None) or (None, that page)."""
    if not _position_form_ok(form):
        return None, (errors.replay_refusal(message=_form_message(form))
                      or _page(visit, status=422, **{f"{name}_form": form}))
    with refusal() as refused:
        done = act()
    if refused:
        _clear_position(form)
        return None, (errors.replay_refusal(refused)
                      or _page(visit, status=refused.status, **{f"{name}_form": form}, **refused_context(refused)))
    return done, None


def _checkin_types() -> list[VisitType]:
    # The co-visit type is the supervisor's scorecard, not a visit a rep starts.
    return db.session.execute(select(VisitType).where(VisitType.active.is_(True), VisitType.code != "co_visit")
                              .order_by(VisitType.id)).scalars().all()


# --- the visit page ----------------------------------------------------------------------------

@bp.route("/visits/<int:visit_id>")
@login_required
def show(visit_id: int):
    return _page(_visit(visit_id))


@bp.route("/visits/<int:visit_id>/checkin", methods=["POST"])
@login_required
def checkin(visit_id: int):
    visit = _visit(visit_id)
    form = CheckInForm()

    def refused_context(refused) -> dict:
        error, reason_needed = _checkin_refused(form, refused.error)
        return {"checkin_error": error, "reason_needed": reason_needed,
                "busy_visit": _busy_visit() if refused.status == 409 else None}

    started, refused_page = _at_the_store(visit, form, "checkin", lambda: ops.check_in(
        me(), visit.store, visit.visit_type, position=form.position, accuracy_m=form.accuracy_m,
        position_at=form.position_time, reason=form.reason.data, client_key=form.key, visit=visit,
        write=_write(form.key or "")), refused_context)
    return refused_page or redirect(url_for("visits.show", visit_id=started.id))


@bp.route("/stores/<int:store_id>/checkin", methods=["GET", "POST"])
@login_required
def store_checkin(store_id: int):
    """An unplanned visit: the rep is at a store and checks in there, picking the visit type."""
    store = scope.get_or_404(scope.stores(), store_id)
    permissions.require(permissions.may_run_visits(me()))
    types = _checkin_types()
    form = UnplannedCheckInForm()
    form.visit_type.choices = [SelectChoice(t.id, t.label(locale_code())) for t in types]
    ctx = {"store": store, "page_title": store.name, "busy_visit": _busy_visit(),
           "preview": ops.objectives_preview(store, types[0], me()) if types else []}
    if request.method == "GET":
        routine = next((t for t in types if t.code == "routine"), None)
        if routine is not None:
            form.visit_type.data = routine.id
        return render("visits/checkin.html", form=form, **ctx)
    if not _position_form_ok(form):
        return (errors.replay_refusal(message=_form_message(form))
                or render("visits/checkin.html", form=form, status=422, **ctx))
    visit_type = next(t for t in types if t.id == form.visit_type.data)
    with refusal() as refused:
        visit = ops.check_in(me(), store, visit_type, position=form.position, accuracy_m=form.accuracy_m,
                             position_at=form.position_time, reason=form.reason.data, client_key=form.key,
                             write=_write(form.key or ""))
    if refused:
        if replay := errors.replay_refusal(refused):
            return replay
        _clear_position(form)
        ctx["busy_visit"] = _busy_visit()
        error, reason_needed = _checkin_refused(form, refused.error)
        return render("visits/checkin.html", form=form, status=refused.status, error=error,
                      reason_needed=reason_needed, **ctx)
    return redirect(url_for("visits.show", visit_id=visit.id))


# --- Do: steps ----------------------------------------------------------------------------------

def _step_answer(visit: Visit, step: VisitStep, status: int = 200, errors=None, data=None, saved=False):
    """The step again: its fragment (and, once saved, the checks and the check-out bar out of band),
    or without htmx the page (at the step, once saved)."""
    if saved and not wants_fragment():
        return redirect(url_for("visits.show", visit_id=visit.id, _anchor=f"step-{step.id}"))
    shown = {"step_errors": {step.id: errors} if errors else None,
             "step_data": {step.id: data} if data is not None else None}
    if not wants_fragment():
        return _page(visit, status=status, **shown)
    return render(PAGE, block="step", status=status, step=step, also=["checks", "checkout"] if saved else [],
                  **visit_page(visit, **shown))


def _step_replayed(visit: Visit, step_id: int):
    """A step saved or skipped already under this client id: the answer the first send had (the page at
    the step; the visit page when the step has left the type since)."""
    step = next((s for s in visit.visit_type.steps if s.id == step_id), None)
    if step is None:
        return redirect(url_for("visits.show", visit_id=visit.id))
    return _step_answer(visit, step, saved=True)


@bp.route("/visits/<int:visit_id>/steps/<int:step_id>", methods=["POST"])
@login_required
def save_step(visit_id: int, step_id: int):
    visit = _visit(visit_id)
    if _replayed(WriteKind.STEP, visit):
        return _step_replayed(visit, step_id)
    step = _step(visit, step_id)
    data = step_form_data(step.kind, request.form)
    with refusal() as refused:
        ops.save_step(visit, step.id, data, me(), _write())
    if refused:
        return errors.replay_refusal(refused) or _step_answer(visit, step, refused.status, _field_errors(refused), data)
    return _step_answer(visit, step, saved=True)


@bp.route("/visits/<int:visit_id>/steps/<int:step_id>/skip", methods=["POST"])
@login_required
def skip_step(visit_id: int, step_id: int):
    visit = _visit(visit_id)
    if _replayed(WriteKind.STEP_SKIP, visit):
        return _step_replayed(visit, step_id)
    step = _step(visit, step_id)
    with refusal() as refused:
        ops.skip_step(visit, step.id, request.form.get("skip_reason", ""), me(), _write())
    if refused:
        if replay := errors.replay_refusal(refused):
            return replay
        data = MultiDict(request.form) if isinstance(refused.error, StepInvalid) else None
        return _step_answer(visit, step, refused.status, _field_errors(refused), data)
    return _step_answer(visit, step, saved=True)


@bp.route("/visits/<int:visit_id>/progress")
@login_required
def progress(visit_id: int):
    """Where the visit stands once a photo has arrived (static/js/visits.js asks): the photo steps'
    heads, the automatic checks and the check-out bar, each to be swapped in place by its id."""
    visit = _visit(visit_id)
    if not wants_fragment():
        return redirect(url_for("visits.show", visit_id=visit.id))
    ctx = visit_page(visit, bodies=False)
    heads = [("step_head", {"step": s}) for s in ctx["steps"] if s.kind == StepKind.PHOTO]
    body, status = render(PAGE, block=None, also=[*heads, "checks", *(["checkout"] if ctx["checkout_form"] else [])],
                          **ctx)
    return body, status, {"Cache-Control": "no-store"}


# --- Check: objectives -----------------------------------------------------------------------

def _objective_answer(visit, objective, status=200, errors=None, saved=False):
    if wants_fragment():
        ctx = visit_page(visit, bodies=False, objective_errors={objective.id: errors or []},
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
    return _mark_objective(visit, objective)


@bp.route("/visits/<int:visit_id>/objectives/plan/<int:n>", methods=["POST"])
@login_required
def planned_objective(visit_id: int, n: int):
    """An objective marked on a planned visit's page (kept on the phone, checked in offline): the page
    knew it from the plan, before the check-in gave it an id. It arrives after that check-in (the outbox
    sends in order) and names the objective by what it says."""
    visit = _visit(visit_id)
    source, text = request.form.get("source", ""), request.form.get("text", "")
    objective = next((o for o in visit.objectives if o.source == source and o.text == text), None)
    if objective is None:
        raise Conflict(_("This objective is not part of the visit (any more). Nothing was saved; reload the visit."))
    return _mark_objective(visit, objective)


def _mark_objective(visit, objective):
    if _replayed(WriteKind.OBJECTIVE, visit):
        return _objective_answer(visit, objective, saved=True)
    form = ObjectiveForm()
    if not form.validate_on_submit():
        return (errors.replay_refusal(message=_form_message(form))
                or _objective_answer(visit, objective, 422, [e for errs in form.errors.values() for e in errs]))
    with refusal() as refused:
        ops.mark_objective(visit, objective.id, form.met.data == "yes", form.note.data, me(), _write())
    if refused:
        return errors.replay_refusal(refused) or _objective_answer(visit, objective, refused.status,
                                                                   [refused.message])
    return _objective_answer(visit, objective, saved=True)


# --- Act: follow-ups ----------------------------------------------------------------------------

def _followup_answer(visit, form, status=200, error=None, saved=False):
    if wants_fragment():
        return render(PAGE, block="followups", status=status,
                      **visit_page(visit, bodies=False, followup_form=form, followup_error=error,
                                   followup_saved=saved))
    if saved:
        return redirect(url_for("visits.show", visit_id=visit.id, _anchor="act"))
    return _page(visit, status=status, followup_form=form, followup_error=error)


@bp.route("/visits/<int:visit_id>/followups", methods=["POST"])
@login_required
def add_follow_up(visit_id: int):
    visit = _visit(visit_id)
    if _replayed(WriteKind.FOLLOW_UP, visit):
        return _followup_answer(visit, FollowUpForm(formdata=None), saved=True)
    form = FollowUpForm()
    form.owner.choices = owner_choices(ops.follow_up_owners(visit))
    if not form.validate_on_submit():
        return errors.replay_refusal(message=_form_message(form)) or _followup_answer(visit, form, 422)
    with refusal() as refused:
        ops.add_follow_up(visit, form.text.data, form.owner.data, form.due_on.data, me(), _write())
    if not refused:
        return _followup_answer(visit, FollowUpForm(formdata=None), saved=True)
    if replay := errors.replay_refusal(refused):
        return replay
    if isinstance(refused.error, StepInvalid):
        for name, message in refused.error.errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, message]
        return _followup_answer(visit, form, 422)
    return _followup_answer(visit, form, refused.status, error=refused.message)


# --- check-out and cancel ---------------------------------------------------------------------

@bp.route("/visits/<int:visit_id>/checkout", methods=["POST"])
@login_required
def checkout(visit_id: int):
    visit = _visit(visit_id)
    form = CheckOutForm()
    _done, refused_page = _at_the_store(visit, form, "checkout", lambda: ops.check_out(
        visit, me(), position=form.position, accuracy_m=form.accuracy_m, position_at=form.position_time,
        reason=form.reason.data or "", write=_write()), lambda refused: {"checkout_error": refused.message})
    if refused_page:
        return refused_page
    # Back to the day, where the next stop is: the finished visit has nothing left to do.
    flash(_("Checked out. The visit is complete."), "success")
    return see_other(url_for("visits.today"))


@bp.route("/visits/<int:visit_id>/cancel", methods=["POST"])
@login_required
def cancel(visit_id: int):
    visit = _visit(visit_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _page(visit, status=422, cancel_form=form, cancel_open=True)
    with refusal() as refused:
        ops.cancel(visit, me(), form.reason.data)
    if refused:
        return _page(visit, status=refused.status, cancel_form=form, cancel_error=refused.message, cancel_open=True)
    flash(_("The visit is cancelled."), "success")
    return redirect(url_for("visits.show", visit_id=visit.id))


# --- co-visit -----------------------------------------------------------------------------------

@bp.route("/visits/<int:visit_id>/covisit", methods=["GET", "POST"])
@login_required
def covisit(visit_id: int):
    """The rep's supervisor scores the visit on the co-visit type's scorecard."""
    visit = _visit(visit_id)
    permissions.require(permissions.supervises(me(), visit.rep))
    existing = db.session.execute(select(CoVisit).where(
        CoVisit.visit_id == visit.id, CoVisit.supervisor_id == me().id)).scalar_one_or_none()
    form = CoVisitForm()
    ctx = {"visit": visit, "items": ops.scorecard(None), "existing": existing, "locale": locale_code(),
           "page_title": visit.store.name, "state_label": state_label, "form": form}
    if request.method == "GET":
        return render("visits/covisit.html", errors={}, values=MultiDict(), **ctx)
    status, errors, message = 422, {}, None
    if form.validate_on_submit():
        with refusal() as refused:
            ops.score_visit(visit, me(), request.form, form.comment.data or "")
        if not refused:
            flash(_("Your score is saved; the rep sees it on the visit."), "success")
            return redirect(url_for("visits.show", visit_id=visit.id, _anchor="covisit"))
        if isinstance(refused.error, StepInvalid):
            errors = refused.error.errors
        else:
            status, message = refused.status, refused.message
    return render("visits/covisit.html", errors=errors, error=message, values=MultiDict(request.form),
                  status=status, **ctx)


@bp.route("/visits/<int:visit_id>/covisit/answer", methods=["POST"])
@login_required
def covisit_answer(visit_id: int):
    visit = _visit(visit_id)
    if me().id != visit.rep_id:
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
    with refusal() as refused:
        ops.answer_co_visit(co, me(), form.text.data)
    if refused:
        return _page(visit, status=refused.status, answer_form=form, answer_error=refused.message)
    flash(_("Your answer is saved."), "success")
    return redirect(url_for("visits.show", visit_id=visit.id, _anchor="covisit"))
