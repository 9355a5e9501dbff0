"""Forms of the visit-type editor, and the words for phases and kinds of step.

VisitTypeForm (WTForms) is a type's names, code, minimum time and goals. A step's editor is a
StepDraft: the raw text of one step's fields and a message per field, since the fields it shows
depend on the step's kind. Neither checks the rules: field/visits/types_ops.py does, and its
Invalid carries the messages that the forms show in place."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField, TextAreaField

from field.visits.models import Phase, StepKind, VisitStep, VisitType
from field.visits.types_ops import MAX_CODE, MAX_DWELL_MINUTES, MAX_NAME

PHASE_LABELS = {Phase.PLAN: _l("Plan"), Phase.DO: _l("Do"), Phase.CHECK: _l("Check"), Phase.ACT: _l("Act")}
PHASE_LETTERS = {Phase.PLAN: "P", Phase.DO: "D", Phase.CHECK: "C", Phase.ACT: "A"}

KIND_LABELS = {
    StepKind.CHECKLIST: _l("Checklist"),
    StepKind.NUMBER: _l("Number"),
    StepKind.STOCK_COUNT: _l("Stock count"),
    StepKind.SHELF_SHARE: _l("Shelf share"),
    StepKind.ORDER_LINES: _l("Order"),
    StepKind.CHOICE: _l("Single choice"),
    StepKind.MULTI_CHOICE: _l("Multiple choice"),
    StepKind.TEXT: _l("Text"),
    StepKind.PHOTO: _l("Photos"),
    StepKind.SIGNATURE: _l("Signature"),
    StepKind.SCORECARD: _l("Co-visit scorecard"),
    StepKind.COMPETITOR: _l("Competitor sightings"),
}

# What the rep does in a step of each kind, shown where the admin picks one.
KIND_HINTS = {
    StepKind.CHECKLIST: _l("Pass or fail per item"),
    StepKind.NUMBER: _l("One number, within limits"),
    StepKind.STOCK_COUNT: _l("Shelf and back-room counts of the catalogue"),
    StepKind.SHELF_SHARE: _l("Our facings of all facings"),
    StepKind.ORDER_LINES: _l("Products and quantities from the catalogue"),
    StepKind.CHOICE: _l("Pick one option"),
    StepKind.MULTI_CHOICE: _l("Pick any options"),
    StepKind.TEXT: _l("A written note"),
    StepKind.PHOTO: _l("Photos with the camera"),
    StepKind.SIGNATURE: _l("The name of the person signing"),
    StepKind.SCORECARD: _l("The supervisor scores each item"),
    StepKind.COMPETITOR: _l("Competitors' brand, product, shelf price, promotion, display, facings and photos"),
}


def phase_label(phase: str) -> str:
    return str(PHASE_LABELS.get(phase, phase))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def kind_hint(kind: str) -> str:
    return str(KIND_HINTS.get(kind, ""))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class VisitTypeForm(FlaskForm):
    name = StringField(_l("Name (Chinese)"), filters=[_strip], render_kw={"maxlength": MAX_NAME})
    name_en = StringField(_l("Name (English)"), filters=[_strip], render_kw={"maxlength": MAX_NAME})
    code = StringField(_l("Code"), filters=[_strip],
                       render_kw={"maxlength": MAX_CODE, "autocapitalize": "none", "autocomplete": "off",
                                  "spellcheck": "false"})
    min_dwell = StringField(_l("Minimum time in the store (minutes)"), filters=[_strip],
                            render_kw={"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"})
    goals = TextAreaField(_l("Standing goals, one per line"), render_kw={"rows": 3})

    max_dwell = MAX_DWELL_MINUTES

    def fill(self, visit_type: VisitType) -> None:
        self.name.data = visit_type.name
        self.name_en.data = visit_type.name_en
        self.code.data = visit_type.code
        self.min_dwell.data = str(visit_type.min_dwell_minutes or 0)
        self.goals.data = "\n".join(visit_type.goals or [])

    def values(self) -> dict:
        return {"name": self.name.data, "name_en": self.name_en.data, "code": self.code.data,
                "min_dwell": self.min_dwell.data, "goals": self.goals.data or ""}

    def show(self, errors: dict[str, str]) -> None:
        """Put each refusal beside its field."""
        for name, message in errors.items():
            target = getattr(self, name, None)
            if target is not None:
                target.errors = [*target.errors, message]


# The editor's text fields and check boxes; which of them a kind shows is decided in the template.
STEP_TEXT_FIELDS = ("title", "title_en", "phase", "items", "choices", "min", "max", "unit", "min_photos",
                    "scorecard")
STEP_FLAGS = ("required", "allow_album")


@dataclass
class StepDraft:
    """One step's editor: what its fields say and what is wrong with them."""

    kind: str
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    step: VisitStep | None = None

    @classmethod
    def blank(cls, kind: str) -> StepDraft:
        return cls(kind, {"phase": Phase.DO.value, "min_photos": "1", "required": False, "allow_album": False})

    @classmethod
    def of(cls, step: VisitStep) -> StepDraft:
        """The editor filled from a saved step."""
        config = step.config or {}
        values = {"title": step.title, "title_en": step.title_en, "phase": step.phase, "required": step.required,
                  "items": "", "choices": "", "scorecard": ""}
        if step.kind == StepKind.CHECKLIST:
            values["items"] = "\n".join(config.get("items", []))
        elif step.kind in (StepKind.CHOICE, StepKind.MULTI_CHOICE):
            values["choices"] = "\n".join(config.get("choices", []))
        elif step.kind == StepKind.NUMBER:
            values.update({"min": str(config.get("min", "")), "max": str(config.get("max", "")),
                           "unit": config.get("unit", "")})
        elif step.kind == StepKind.PHOTO:
            values.update({"min_photos": str(config.get("min_photos", 1)),
                           "allow_album": bool(config.get("allow_album"))})
        elif step.kind == StepKind.SCORECARD:
            values["scorecard"] = "\n".join(f"{i['label']} | {i['max']}" for i in config.get("items", []))
        return cls(step.kind, values, step=step)

    @classmethod
    def posted(cls, form: MultiDict, kind: str, step: VisitStep | None = None) -> StepDraft:
        """The editor as the admin sent it (check boxes absent from the form are off)."""
        values = {name: form.get(name, "") for name in STEP_TEXT_FIELDS}
        values.update({name: bool(form.get(name)) for name in STEP_FLAGS})
        return cls(kind, values, step=step)

    def get(self, name: str, default=""):
        return self.values.get(name, default)

    def data(self) -> dict:
        return dict(self.values)
