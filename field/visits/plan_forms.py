"""Forms of the supervisor's planning pages: plan the due stores for a day, plan one visit, take a visit
off the plan. The rep and the stores are checked against scope by the views, not here."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import DateInput

# Days outside this range are refused: plans live near today, and date arithmetic stays safe.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


class DayField(StringField):
    """A YYYY-MM-DD day. Anything else is a message beside the field, never a 500."""

    widget = DateInput()

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not self.raw:
            return
        try:
            day = date.fromisoformat(self.raw)
        except ValueError:
            day = None
        if day is None or not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(_l("“%(value)s” is not a day (YYYY-MM-DD).", value=self.raw[:40]))
        self.data = day

    def _value(self):
        if self.data is not None:
            return self.data.isoformat()
        return getattr(self, "raw", "") or ""


class _PlanForm(FlaskForm):
    rep = HiddenField()
    # InputRequired, not DataRequired: an unreadable day keeps its own message.
    on = DayField(_l("Day"), validators=[InputRequired(message=_l("Pick a day."))])
    visit_type = SelectField(_l("Visit type"), coerce=int,
                             validators=[DataRequired(message=_l("Pick a visit type."))])


class PlanDueForm(_PlanForm):
    """The due list: tick stores, pick one day of the week and a visit type."""

    stores = SelectMultipleField(_l("Stores"), coerce=int, validate_choice=False,
                                 validators=[DataRequired(message=_l("Tick at least one store."))])


class PlanOneForm(_PlanForm):
    """One visit: any of the rep's stores, any day ahead."""

    store = SelectField(_l("Store"), coerce=int, validate_choice=False,
                        validators=[DataRequired(message=_l("Pick a store."))])


class UnplanForm(FlaskForm):
    reason = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=500)],
                           render_kw={"rows": 2, "maxlength": 500})
