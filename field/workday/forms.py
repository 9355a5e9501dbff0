"""The start-of-day and end-of-day forms: the phone's position (field/visits/forms.PositionForm) and the
client id the outbox keeps for the tap."""
from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from field.visits.forms import PositionForm


def _new_key() -> str:
    return str(uuid.uuid4())


class DayForm(PositionForm):
    client_id = HiddenField(default=_new_key)

    def validate_client_id(self, field):
        if field.data:
            try:
                uuid.UUID(field.data)
            except ValueError:
                raise ValidationError(_l("Reload the page and try again.")) from None


class TravelClaimForm(FlaskForm):
    """The period, vehicle, kilometres and note; the receipts (photo, kind, amount) are read beside it
    (field/workday/travel_views.py) and checked by field/workday/travel.py."""
    start = DateField(_l("First day"), validators=[Optional()])
    end = DateField(_l("Last day"), validators=[Optional()])
    vehicle = SelectField(_l("Vehicle"), choices=[], validate_choice=False)
    km = StringField(_l("Kilometres claimed"), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})


class TravelDecisionForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 2},
                           description=_l("Required to reject or reverse."))
