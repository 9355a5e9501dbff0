"""Activity forms: the activity type (admins), the application, a decision, and store budgets.

Budgets are typed in yuan and kept in fen; percentages keep two decimals."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from field import tabular
from field.activities.models import Activity, ActivityType, CheckPeriod
from field.core import CURRENCY_SIGNS, MoneyError, money_decimal, money_problem, parse_money

CHECK_PERIOD_LABELS = {
    CheckPeriod.EACH_VISIT: _l("Each visit"),
    CheckPeriod.WEEKLY: _l("Weekly"),
    CheckPeriod.ONCE: _l("Once"),
}
MAX_CHECKLIST_ITEMS = 20
MAX_CHECKLIST_ITEM = 200
MAX_PHOTOS = 20
MAX_LIFT = Decimal("1000")


def check_period_label(value) -> str:
    try:
        return str(CHECK_PERIOD_LABELS[CheckPeriod(value)])
    except ValueError:
        return value or ""


def parse_budget(text: str | None) -> int:
    """A store budget typed in yuan ('1,200.50', '¥300') → fen, read by core.parse_money; zero,
    negative and non-numbers are refused with a message for the form."""
    raw = (text or "").strip()
    shown = raw.lstrip("".join(CURRENCY_SIGNS)).strip()
    if not shown:
        raise ValueError(_("Enter a budget in yuan."))
    try:
        budget = parse_money(raw)
    except MoneyError as exc:
        raise ValueError(money_problem(exc)) from None
    if budget == 0:
        raise ValueError(_("A store's budget must be more than zero."))
    return budget


def _percent(maximum: Decimal, minimum: Decimal = Decimal("0")):
    parse = tabular.decimal(2, minimum, maximum)

    def validate(form, field):
        text = (field.data or "").strip()
        if not text:
            field.parsed = None
            return
        try:
            field.parsed = parse(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
    return validate


class ActivityTypeForm(FlaskForm):
    name = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=120)])
    check_period = SelectField(_l("Check period"), default=CheckPeriod.WEEKLY.value,
                               choices=[SelectChoice(c.value, label) for c, label in CHECK_PERIOD_LABELS.items()],
                               description=_l("Each visit: evidence at every visit cycle of the store. "
                                              "Weekly: every seven days from the first day. Once: one check."))
    photos_per_period = IntegerField(_l("Photos required per period"), default=1,
                                     validators=[InputRequired(), NumberRange(min=0, max=MAX_PHOTOS)],
                                     render_kw={"inputmode": "numeric"})
    checklist = TextAreaField(_l("Checklist items"), validators=[Optional(), Length(max=5000)],
                              description=_l("One per line, e.g. “price tag visible”."), render_kw={"rows": 5})
    compliance_floor_pct = StringField(_l("Compliance floor (%)"), default="60.00",
                                       validators=[DataRequired(), _percent(Decimal("100"))],
                                       description=_l("A store below this share of verified periods is paid "
                                                      "nothing; above it, pro rata."),
                                       render_kw={"inputmode": "decimal"})
    margin_pct = StringField(_l("Default gross margin (%)"), default="0.00",
                             validators=[DataRequired(), _percent(Decimal("100"))],
                             render_kw={"inputmode": "decimal"})

    def fill(self, kind: ActivityType) -> None:
        self.name.data, self.name_en.data, self.check_period.data = kind.name, kind.name_en, kind.check_period
        self.photos_per_period.data = kind.photos_per_period
        self.checklist.data = "\n".join(kind.checklist or [])
        self.compliance_floor_pct.data = str(kind.compliance_floor_pct)
        self.margin_pct.data = str(kind.margin_pct)

    def validate_checklist(self, field):
        items = self.checklist_items()
        if len(items) > MAX_CHECKLIST_ITEMS:
            raise ValidationError(_("At most %(n)s items.", n=MAX_CHECKLIST_ITEMS))
        if any(len(item) > MAX_CHECKLIST_ITEM for item in items):
            raise ValidationError(_("An item is at most %(n)s characters.", n=MAX_CHECKLIST_ITEM))

    def checklist_items(self) -> list[str]:
        return [line.strip() for line in (self.checklist.data or "").splitlines() if line.strip()]

    def values(self) -> dict:
        return {"name": self.name.data.strip(), "name_en": (self.name_en.data or "").strip(),
                "check_period": self.check_period.data, "photos_per_period": self.photos_per_period.data,
                "checklist": self.checklist_items(), "compliance_floor_pct": self.compliance_floor_pct.parsed,
                "margin_pct": self.margin_pct.parsed}


class ActivityForm(FlaskForm):
    type = SelectField(_l("Activity type"), choices=[], validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    period_start = DateField(_l("First day"), validators=[InputRequired(_l("Enter a date."))])
    period_end = DateField(_l("Last day"), validators=[InputRequired(_l("Enter a date."))])
    expected_lift_pct = StringField(_l("Expected sales lift (%)"), validators=[_percent(MAX_LIFT)],
                                    render_kw={"inputmode": "decimal"})
    margin_pct = StringField(_l("Gross margin (%)"), validators=[_percent(Decimal("100"))],
                             description=_l("Leave empty to use the activity type's margin."),
                             render_kw={"inputmode": "decimal"})
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, types: list[ActivityType] = (), locale: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._types = {str(t.id): t for t in types}
        self.type.choices = [SelectChoice(str(t.id), t.label(locale)) for t in types]

    def fill(self, activity: Activity) -> None:
        self.type.data, self.title.data = str(activity.type_id), activity.title
        self.period_start.data, self.period_end.data = activity.period_start, activity.period_end
        self.expected_lift_pct.data = str(activity.expected_lift_pct) if activity.expected_lift_pct is not None else ""
        self.margin_pct.data = str(activity.margin_pct)
        self.notes.data = activity.notes

    def validate_type(self, field):
        if field.data not in self._types:
            raise ValidationError(_("Choose an activity type."))

    def values(self) -> dict:
        kind = self._types[self.type.data]
        margin = self.margin_pct.parsed
        return {"type": kind, "title": self.title.data.strip(), "period_start": self.period_start.data,
                "period_end": self.period_end.data, "expected_lift_pct": self.expected_lift_pct.parsed,
                "margin_pct": margin if margin is not None else kind.margin_pct,
                "notes": (self.notes.data or "").strip()}


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)],
                            description=_l("Required when rejecting: the applicant reads it."))


def budget_text(minor: int | None) -> str:
    """A budget as typed into a form: 1234.50."""
    return "" if minor is None else str(money_decimal(minor))
