"""The visit-type editor, for admins on a phone (anyone else is refused: 403).

/visit-types lists the types and creates one; /visit-types/<id> shows a type's steps in order
with thumb-sized controls to move, require, edit, remove (retire) and restore them, and an
editor to add one. Every form posts and works without JavaScript; with htmx, the step controls
swap only the steps area (the `steps` block of visits/type.html). Views read the form, call one
operation of field/visits/types_ops.py and render."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import login_required
from sqlalchemy import and_, func, select

from field import permissions, scope
from field.core import DomainError
from field.extensions import db
from field.visits import bp
from field.visits import types_ops as ops
from field.visits.models import VisitStep, VisitType
from field.visits.types_forms import (PHASE_LABELS, PHASE_LETTERS, StepDraft, VisitTypeForm, kind_hint, kind_label,
                                      phase_label)
from field.web import Refused, id_arg, refusal, render, wants_fragment, me as _me

LIST_PAGE = "visits/types.html"
TYPE_PAGE = "visits/type.html"

bp.add_app_template_global(phase_label, "phase_label")
bp.add_app_template_global(kind_label, "step_kind_label")


def _require_admin() -> None:
    """Visit types are the company's templates: the administrator's to edit (anyone else: 403)."""
    permissions.require(permissions.may_administer(_me()))


def _locale() -> str:
    return str(get_locale() or "")


def _type(type_id: int) -> VisitType:
    """The type being edited, for an administrator only."""
    _require_admin()
    return scope.get_or_404(select(VisitType), type_id)


def _step(type_id: int, step_id: int) -> tuple[VisitType, VisitStep]:
    """A step of the type being edited, with its type."""
    visit_type = _type(type_id)
    return visit_type, scope.get_or_404(select(VisitStep).where(VisitStep.visit_type_id == visit_type.id), step_id)


def _errors(error: DomainError) -> dict[str, str]:
    """A refusal's messages per field (an Invalid's), or none for a refusal of the whole action."""
    return error.errors if isinstance(error, ops.Invalid) else {}


# --- the list -------------------------------------------------------------------------------

def type_rows() -> list[tuple[VisitType, int]]:
    """Every type with the number of steps a new visit of it shows; active first."""
    counted = and_(VisitStep.visit_type_id == VisitType.id, VisitStep.removed.is_(False))
    return list(db.session.execute(
        select(VisitType, func.count(VisitStep.id)).outerjoin(VisitStep, counted)
        .group_by(VisitType.id).order_by(VisitType.active.desc(), VisitType.id)).all())


def _list_page(form: VisitTypeForm, status: int = 200):
    return render(LIST_PAGE, status=status, form=form, rows=type_rows(), locale=_locale())


@bp.route("/visit-types", endpoint="types")
@login_required
def types_list():
    _require_admin()
    return _list_page(VisitTypeForm(formdata=None))


@bp.route("/visit-types", methods=["POST"], endpoint="type_create")
@login_required
def type_create():
    _require_admin()
    form = VisitTypeForm()
    with refusal() as refused:
        visit_type = ops.create_type(form.values(), _me())
    if refused:
        form.show(_errors(refused.error))
        return _list_page(form, status=refused.status)
    flash(_("Visit type %(name)s added. Now add its steps.", name=visit_type.name))
    return redirect(url_for("visits.type", type_id=visit_type.id))


# --- one type -------------------------------------------------------------------------------

def _open_draft(visit_type: VisitType, steps: list[VisitStep]) -> StepDraft | None:
    """The editor the address asks for: ?add=<kind> for a new step, ?edit=<step id> for a step."""
    kind = request.args.get("add", "")
    if kind in ops.kinds_for(visit_type):
        return StepDraft.blank(kind)
    step_id = id_arg("edit")
    step = next((s for s in steps if s.id == step_id), None)
    return StepDraft.of(step) if step is not None else None


def _context(visit_type: VisitType, draft: StepDraft | None = None, form: VisitTypeForm | None = None,
             notice: str | None = None, refusal: str | None = None) -> dict:
    steps = ops.active_steps(visit_type)
    if form is None:
        form = VisitTypeForm(formdata=None)
        form.fill(visit_type)
    return {
        "visit_type": visit_type, "steps": steps, "removed": ops.removed_steps(visit_type),
        "kinds": ops.kinds_for(visit_type), "phases": list(PHASE_LABELS), "phase_letters": PHASE_LETTERS,
        "kind_hint": kind_hint, "catalogue_kinds": ops.CATALOGUE_KINDS,
        "draft": draft, "form": form, "notice": notice, "refusal": refusal, "locale": _locale(),
        "page_title": visit_type.label(_locale()), "max_dwell": ops.MAX_DWELL_MINUTES,
    }


def _type_page(visit_type: VisitType, status: int = 200, **extra):
    return render(TYPE_PAGE, block="steps", status=status, **_context(visit_type, **extra))


@bp.route("/visit-types/<int:type_id>", endpoint="type")
@login_required
def type_show(type_id: int):
    visit_type = _type(type_id)
    return _type_page(visit_type, draft=_open_draft(visit_type, ops.active_steps(visit_type)))


@bp.route("/visit-types/<int:type_id>", methods=["POST"], endpoint="type_update")
@login_required
def type_update(type_id: int):
    visit_type = _type(type_id)
    form = VisitTypeForm()
    with refusal() as refused:
        changes = ops.update_type(visit_type, form.values(), _me())
    if refused:
        form.code.data = visit_type.code
        form.show(_errors(refused.error))
        return render(TYPE_PAGE, status=refused.status, **_context(visit_type, form=form))
    flash(_("%(name)s saved.", name=visit_type.name) if changes else _("Nothing changed."))
    return redirect(url_for("visits.type", type_id=visit_type.id))


def _set_active(type_id: int, active: bool):
    visit_type = _type(type_id)
    if ops.set_type_active(visit_type, active, _me()):
        flash(_("%(name)s is active again: reps can pick it for new visits.", name=visit_type.name) if active
              else _("%(name)s is deactivated: no new visits of it. Past visits keep it.", name=visit_type.name))
    return redirect(url_for("visits.type", type_id=visit_type.id))


@bp.route("/visit-types/<int:type_id>/deactivate", methods=["POST"], endpoint="type_deactivate")
@login_required
def type_deactivate(type_id: int):
    return _set_active(type_id, False)


@bp.route("/visit-types/<int:type_id>/activate", methods=["POST"], endpoint="type_activate")
@login_required
def type_activate(type_id: int):
    return _set_active(type_id, True)


# --- steps ------------------------------------------------------------------------------------

def _steps_answer(visit_type: VisitType, notice: str | None, anchor: str = "steps",
                  refused: Refused | None = None, draft: StepDraft | None = None):
    """After a step change: the steps area for htmx; otherwise back to the page, where it was.

    Refused, the steps area (or page) again with the refusal: beside the fields of the `draft`
    editor when it has some, else above the steps."""
    if refused:
        if draft is not None and _errors(refused.error):
            draft.errors = _errors(refused.error)
            return _type_page(visit_type, status=refused.status, draft=draft)
        return _type_page(visit_type, status=refused.status, refusal=refused.message)
    if wants_fragment():
        return _type_page(visit_type, notice=notice)
    if notice:
        flash(notice)
    return redirect(url_for("visits.type", type_id=visit_type.id, _anchor=anchor))


@bp.route("/visit-types/<int:type_id>/steps", methods=["POST"], endpoint="step_add")
@login_required
def step_add(type_id: int):
    visit_type = _type(type_id)
    kind = request.form.get("kind", "")
    draft = StepDraft.posted(request.form, kind)
    with refusal() as refused:
        step = ops.add_step(visit_type, kind, draft.data(), _me())
    if refused:
        # An editor only for a kind this type offers; any other kind is refused in words.
        return _steps_answer(visit_type, None, refused=refused,
                             draft=draft if kind in ops.kinds_for(visit_type) else None)
    return _steps_answer(visit_type, _("Step added: %(title)s", title=step.label(_locale())),
                         anchor=f"step-{step.id}")


@bp.route("/visit-types/<int:type_id>/steps/<int:step_id>", methods=["POST"], endpoint="step_update")
@login_required
def step_update(type_id: int, step_id: int):
    visit_type, step = _step(type_id, step_id)
    draft = StepDraft.posted(request.form, step.kind, step=step)
    with refusal() as refused:
        changes = ops.update_step(step, draft.data(), _me())
    if refused:
        return _steps_answer(visit_type, None, refused=refused, draft=draft)
    return _steps_answer(visit_type, _("Step saved: %(title)s", title=step.label(_locale())) if changes
                         else _("Nothing changed."), anchor=f"step-{step.id}")


def _step_setting(type_id: int, step_id: int, field: str, choices: dict, unread: str, operation):
    """A step control that posts one of a few values (`choices`: what was posted → the operation's
    argument); anything else answers 422 with `unread`."""
    visit_type, step = _step(type_id, step_id)
    value = choices.get(request.form.get(field, ""))
    if value is None:
        return _type_page(visit_type, status=422, refusal=unread)
    with refusal() as refused:
        operation(step, value, _me())
    return _steps_answer(visit_type, None, anchor=f"step-{step.id}", refused=refused)


@bp.route("/visit-types/<int:type_id>/steps/<int:step_id>/move", methods=["POST"], endpoint="step_move")
@login_required
def step_move(type_id: int, step_id: int):
    return _step_setting(type_id, step_id, "direction", {"up": -1, "down": 1}, _("Move a step up or down."),
                         ops.move_step)


@bp.route("/visit-types/<int:type_id>/steps/<int:step_id>/required", methods=["POST"], endpoint="step_required")
@login_required
def step_required(type_id: int, step_id: int):
    return _step_setting(type_id, step_id, "required", {"1": True, "0": False},
                         _("Say whether the step is required."), ops.set_required)


@bp.route("/visit-types/<int:type_id>/steps/<int:step_id>/remove", methods=["POST"], endpoint="step_remove")
@login_required
def step_remove(type_id: int, step_id: int):
    visit_type, step = _step(type_id, step_id)
    ops.remove_step(step, _me())
    return _steps_answer(visit_type, _("Removed: %(title)s. New visits no longer show it; past visits keep "
                                       "their results.", title=step.label(_locale())))


@bp.route("/visit-types/<int:type_id>/steps/<int:step_id>/restore", methods=["POST"], endpoint="step_restore")
@login_required
def step_restore(type_id: int, step_id: int):
    visit_type, step = _step(type_id, step_id)
    ops.restore_step(step, _me())
    return _steps_answer(visit_type, _("Restored at the end: %(title)s", title=step.label(_locale())),
                         anchor=f"step-{step.id}")
