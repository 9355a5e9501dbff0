"""The start-of-day and end-of-day forms: the phone's position (field/visits/forms.PositionForm) and the
client id the outbox keeps for the tap."""
from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField
from wtforms.validators import ValidationError

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
