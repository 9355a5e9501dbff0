"""Visit types and their steps as the admin edits them: the rules, and the operations that write.

Each operation checks every rule before it touches a record, then stages the change with its
audit event for the request to commit — or raises Invalid (422, one message per field) having
staged nothing. Nothing is deleted: a type is deactivated, a step is retired ("removed": hidden
from new visits, while the results of past visits keep pointing at it). A step's kind never
changes, since its past results were recorded in that kind's shape. Operations on a type's steps
lock the type's row first and renumber its active steps 0…n-1, so two admins reordering at once
never leave two steps on one position."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from field import audit
from field.auth.models import User
from field.core import Conflict, DomainError
from field.extensions import db
from field.visits.models import Phase, StepKind, VisitStep, VisitType

MAX_DWELL_MINUTES = 240
MAX_NAME = 120
MAX_CODE = 40
MAX_TITLE = 200
MAX_GOALS = 20
MAX_GOAL = 200
MAX_ITEMS = 50
MAX_ITEM = 200
MAX_CHOICES = 30
MAX_CHOICE = 100
MAX_UNIT = 20
MAX_PHOTOS = 20
MAX_SCORE = 100
DEFAULT_SCORE = 10
NUMBER_LIMIT = Decimal(10) ** 12
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SCORE_SEPARATOR = re.compile(r"[|｜]")

# The co-visit scorecard is read from the co-visit type only (operations.scorecard).
COVISIT_CODE = "co_visit"
# Kinds whose products are the catalogue: the editor sets nothing for them.
CATALOGUE_KINDS = (StepKind.STOCK_COUNT, StepKind.ORDER_LINES)


class Invalid(DomainError):
    """Some fields were refused; `errors` holds a message per field name."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()), 422)
        self.errors = errors


def kinds_for(visit_type: VisitType) -> list[StepKind]:
    """The kinds a new step of this type may have: all, the scorecard only on the co-visit type."""
    return [k for k in StepKind if k != StepKind.SCORECARD or visit_type.code == COVISIT_CODE]


# --- reading values ---------------------------------------------------------------------------

def _text(values: dict, name: str, errors: dict, limit: int, required: bool = False) -> str:
    value = str(values.get(name) or "").strip()
    if required and not value:
        errors[name] = _("This cannot be empty.")
    elif len(value) > limit:
        errors[name] = _("At most %(n)s characters.", n=limit)
    return value


def _whole(values: dict, name: str, errors: dict, low: int, high: int, default: int | None = None) -> int | None:
    raw = str(values.get(name) if values.get(name) is not None else "").strip()
    if raw == "":
        if default is None:
            errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        return None
    if not low <= value <= high:
        errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        return None
    return value


def _lines(values: dict, name: str, errors: dict, *, fewest: int, most: int, each: int,
           too_few: str = "") -> list[str]:
    """Non-empty lines of a textarea, each at most `each` characters, no line twice."""
    raw = values.get(name) or ""
    lines = [line.strip() for line in (raw if isinstance(raw, list) else str(raw).splitlines())]
    lines = [line for line in lines if line]
    if len(lines) < fewest:
        errors[name] = too_few
    elif len(lines) > most:
        errors[name] = _("At most %(n)s lines.", n=most)
    elif any(len(line) > each for line in lines):
        errors[name] = _("Each line at most %(n)s characters.", n=each)
    elif len(set(lines)) != len(lines):
        errors[name] = _("A line appears twice: “%(line)s”.",
                         line=next(line for line in lines if lines.count(line) > 1))
    return lines


def _bound(values: dict, name: str, errors: dict) -> Decimal | None:
    raw = str(values.get(name) if values.get(name) is not None else "").strip().replace(",", "")
    if raw == "":
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors[name] = _("Enter a number.")
        return None
    if not value.is_finite() or abs(value) > NUMBER_LIMIT:
        errors[name] = _("Enter a number between -%(n)s and %(n)s.", n=f"{NUMBER_LIMIT:,}")
        return None
    return value


def _plain_number(value: Decimal) -> int | str:
    """A bound as JSON: a whole number stays a number; a fraction is kept exactly, as text."""
    return int(value) if value == value.to_integral_value() else str(value.normalize())


def _flag(values: dict, name: str) -> bool:
    value = values.get(name)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "y", "yes", "on", "true")
    return bool(value)


# --- rules --------------------------------------------------------------------------------------

def clean_type(values: dict, new: bool) -> dict:
    """A type's name (Chinese, required), English name, minimum time in the store and standing
    goals; and, for a new type, its code (lower case, never changed afterwards)."""
    errors: dict[str, str] = {}
    clean = {
        "name": _text(values, "name", errors, MAX_NAME, required=True),
        "name_en": _text(values, "name_en", errors, MAX_NAME),
        "min_dwell": _whole(values, "min_dwell", errors, 0, MAX_DWELL_MINUTES, default=0),
        "goals": _lines(values, "goals", errors, fewest=0, most=MAX_GOALS, each=MAX_GOAL),
    }
    if new:
        code = _text(values, "code", errors, MAX_CODE, required=True).lower()
        if code and "code" not in errors and not CODE_PATTERN.match(code):
            errors["code"] = _("Use lower-case letters, digits, _ and - only, starting with a letter or digit.")
        elif code and "code" not in errors and _code_taken(code):
            errors["code"] = _("The code %(code)s is taken.", code=code)
        clean["code"] = code
    if errors:
        raise Invalid(errors)
    return clean


def _code_taken(code: str) -> bool:
    return db.session.execute(select(VisitType.id).where(func.lower(VisitType.code) == code)
                              .execution_options(autoflush=False)).first() is not None


def step_config(kind: str, values: dict, errors: dict, old: dict | None = None) -> dict:
    """The config a step of `kind` keeps, read from the editor's fields."""
    if kind == StepKind.CHECKLIST:
        return {"items": _lines(values, "items", errors, fewest=1, most=MAX_ITEMS, each=MAX_ITEM,
                                too_few=_("A checklist needs at least one item, one per line."))}
    if kind in (StepKind.CHOICE, StepKind.MULTI_CHOICE):
        return {"choices": _lines(values, "choices", errors, fewest=2, most=MAX_CHOICES, each=MAX_CHOICE,
                                  too_few=_("Enter at least two options, one per line."))}
    if kind == StepKind.NUMBER:
        return _number_config(values, errors)
    if kind == StepKind.PHOTO:
        return {"min_photos": _whole(values, "min_photos", errors, 1, MAX_PHOTOS, default=1),
                "allow_album": _flag(values, "allow_album")}
    if kind == StepKind.SCORECARD:
        return {"items": _scorecard_items(values, errors)}
    if kind == StepKind.STOCK_COUNT:
        # The catalogue's products; a product list or floors set elsewhere are kept as they are.
        return dict(old) if old else {"products": [], "floor": {}}
    return dict(old or {})


def _number_config(values: dict, errors: dict) -> dict:
    low = _bound(values, "min", errors)
    high = _bound(values, "max", errors)
    unit = _text(values, "unit", errors, MAX_UNIT)
    low = Decimal(0) if low is None and "min" not in errors else low
    if low is not None and high is not None and low > high:
        errors["max"] = _("The highest value is below the lowest (%(low)s).", low=_plain_number(low))
    config = {"min": _plain_number(low) if low is not None else 0}
    if high is not None:
        config["max"] = _plain_number(high)
    if unit:
        config["unit"] = unit
    return config


def _scorecard_items(values: dict, errors: dict) -> list[dict]:
    """'label | highest score' per line; the score defaults to 10."""
    lines = _lines(values, "scorecard", errors, fewest=1, most=MAX_ITEMS, each=MAX_ITEM,
                   too_few=_("A scorecard needs at least one item, one per line."))
    items = []
    for line in lines:
        parts = SCORE_SEPARATOR.split(line, maxsplit=1)
        label, score = parts[0].strip(), parts[1].strip() if len(parts) > 1 else ""
        if not label:
            errors["scorecard"] = _("Each line needs an item before the |.")
            break
        try:
            top = int(score) if score else DEFAULT_SCORE
        except ValueError:
            top = 0
        if not 1 <= top <= MAX_SCORE:
            errors["scorecard"] = _("“%(item)s”: the highest score is a whole number from 1 to %(n)s.",
                                    item=label, n=MAX_SCORE)
            break
        items.append({"label": label, "max": top})
    if len({i["label"] for i in items}) != len(items):
        errors["scorecard"] = _("An item appears twice.")
    return items


def clean_step(values: dict, kind: str, old_config: dict | None = None) -> dict:
    """A step's titles (Chinese required), phase, required flag and the config of its kind."""
    errors: dict[str, str] = {}
    clean = {
        "title": _text(values, "title", errors, MAX_TITLE, required=True),
        "title_en": _text(values, "title_en", errors, MAX_TITLE),
        "phase": str(values.get("phase") or ""),
        "required": _flag(values, "required"),
    }
    if clean["phase"] not in {p.value for p in Phase}:
        errors["phase"] = _("Pick Plan, Do, Check or Act.")
    clean["config"] = step_config(kind, values, errors, old_config)
    if errors:
        raise Invalid(errors)
    return clean


# --- visit types ----------------------------------------------------------------------------

def create_type(values: dict, actor: User) -> VisitType:
    """A new, active type without steps."""
    clean = clean_type(values, new=True)
    visit_type = VisitType(code=clean["code"], name=clean["name"], name_en=clean["name_en"],
                           min_dwell_minutes=clean["min_dwell"], goals=clean["goals"], active=True)
    try:
        with db.session.begin_nested():  # another admin may take the code a moment before we write
            db.session.add(visit_type)
            db.session.flush()
    except IntegrityError:
        raise Invalid({"code": _("The code %(code)s is taken.", code=clean["code"])}) from None
    audit.record("visit_type.create", visit_type, actor=actor, code=visit_type.code, name=visit_type.name,
                 min_dwell_minutes=visit_type.min_dwell_minutes)
    return visit_type


def update_type(visit_type: VisitType, values: dict, actor: User) -> dict:
    """Rename a type, change its minimum time or goals; returns {field: [old, new]}."""
    clean = clean_type(values, new=False)
    fields = {"name": "name", "name_en": "name_en", "min_dwell_minutes": "min_dwell", "goals": "goals"}
    changes = {attr: [getattr(visit_type, attr), clean[key]] for attr, key in fields.items()
               if getattr(visit_type, attr) != clean[key]}
    if not changes:
        return changes
    for attr, (_old, new) in changes.items():
        setattr(visit_type, attr, new)
    audit.record("visit_type.update", visit_type, actor=actor, **changes)
    db.session.flush()
    return changes


def set_type_active(visit_type: VisitType, active: bool, actor: User) -> bool:
    """Deactivate (no new visits of it) or reactivate a type; False if it already was."""
    return _switch(visit_type, "active", active, visit_type, actor,
                   "visit_type.activate" if active else "visit_type.deactivate")


def _switch(obj, attr: str, value: bool, audited, actor: User, action: str, **detail) -> bool:
    """Set a yes/no attribute and audit it on `audited`; False (nothing written) if it already was so."""
    if getattr(obj, attr) == value:
        return False
    setattr(obj, attr, value)
    audit.record(action, audited, actor=actor, **detail)
    db.session.flush()
    return True


# --- steps -----------------------------------------------------------------------------------

def _lock(visit_type: VisitType) -> None:
    """Hold the type's row until the request commits, so step edits of one type run one after another.

    An UPDATE that changes nothing, rather than SELECT … FOR UPDATE: PostgreSQL locks the row
    either way, and SQLite (which has no row locks) takes its write lock here, before the steps
    are read, instead of failing at the first change after another writer committed."""
    db.session.execute(update(VisitType).where(VisitType.id == visit_type.id).values(code=VisitType.code)
                       .execution_options(synchronize_session=False))


def active_steps(visit_type: VisitType) -> list[VisitStep]:
    """The type's steps a new visit shows, in order, read afresh from the database."""
    return list(db.session.execute(
        select(VisitStep).where(VisitStep.visit_type_id == visit_type.id, VisitStep.removed.is_(False))
        .order_by(VisitStep.position, VisitStep.id).execution_options(populate_existing=True)).scalars())


def removed_steps(visit_type: VisitType) -> list[VisitStep]:
    return list(db.session.execute(
        select(VisitStep).where(VisitStep.visit_type_id == visit_type.id, VisitStep.removed.is_(True))
        .order_by(VisitStep.position, VisitStep.id)).scalars())


def _renumber(steps: list[VisitStep]) -> None:
    for position, step in enumerate(steps):
        if step.position != position:
            step.position = position


def _require_active_step(step: VisitStep) -> None:
    if step.removed:
        raise Conflict(_("This step was removed. Restore it first."))


def add_step(visit_type: VisitType, kind: str, values: dict, actor: User) -> VisitStep:
    """A new step at the end of the type; visits started from now on show it."""
    if kind not in kinds_for(visit_type):
        raise Invalid({"kind": _("Pick a kind of step from the list.")})
    clean = clean_step(values, kind)
    _lock(visit_type)
    steps = active_steps(visit_type)
    step = VisitStep(visit_type_id=visit_type.id, kind=kind, position=len(steps), title=clean["title"],
                     title_en=clean["title_en"], phase=clean["phase"], required=clean["required"],
                     config=clean["config"], removed=False)
    db.session.add(step)
    _renumber(steps + [step])
    db.session.flush()
    audit.record("visit_type.step_add", visit_type, actor=actor, step=step.id, title=step.title, kind=kind,
                 phase=step.phase, required=step.required)
    db.session.flush()
    return step


def update_step(step: VisitStep, values: dict, actor: User) -> dict:
    """Change a step's titles, phase, required flag or config (never its kind); {field: [old, new]}."""
    _require_active_step(step)
    clean = clean_step(values, step.kind, old_config=step.config)
    changes = {key: [getattr(step, key), clean[key]] for key in ("title", "title_en", "phase", "required", "config")
               if getattr(step, key) != clean[key]}
    if not changes:
        return changes
    for key, (_old, new) in changes.items():
        setattr(step, key, new)
    audit.record("visit_type.step_update", step.visit_type, actor=actor, step=step.id, **changes)
    db.session.flush()
    return changes


def move_step(step: VisitStep, offset: int, actor: User) -> bool:
    """Move a step one place up (-1) or down (+1); False at either end."""
    _require_active_step(step)
    visit_type = step.visit_type
    _lock(visit_type)
    steps = active_steps(visit_type)
    if step.removed or step not in steps:
        raise Conflict(_("This step was removed. Restore it first."))
    here = steps.index(step)
    there = here + offset
    if offset not in (-1, 1) or not 0 <= there < len(steps):
        return False
    steps[here], steps[there] = steps[there], steps[here]
    _renumber(steps)
    audit.record("visit_type.step_move", visit_type, actor=actor, step=step.id, position=[here + 1, there + 1])
    db.session.flush()
    return True


def set_required(step: VisitStep, required: bool, actor: User) -> bool:
    """Make a step required or optional; False if it already was."""
    _require_active_step(step)
    return _switch(step, "required", required, step.visit_type, actor, "visit_type.step_update", step=step.id,
                   required=[not required, required])


def remove_step(step: VisitStep, actor: User) -> bool:
    """Retire a step: new visits no longer show it; past and running visits keep their results."""
    return _set_removed(step, True, actor)


def restore_step(step: VisitStep, actor: User) -> bool:
    """Bring a removed step back, at the end of the type."""
    return _set_removed(step, False, actor)


def _set_removed(step: VisitStep, removed: bool, actor: User) -> bool:
    """Retire or restore a step under the type's lock, renumbering the active ones; False if it already was."""
    visit_type = step.visit_type
    _lock(visit_type)
    db.session.refresh(step)
    if step.removed == removed:
        return False
    others = [s for s in active_steps(visit_type) if s.id != step.id]
    step.removed = removed
    _renumber(others if removed else others + [step])
    audit.record("visit_type.step_remove" if removed else "visit_type.step_restore", visit_type, actor=actor,
                 step=step.id, title=step.title)
    db.session.flush()
    return True
