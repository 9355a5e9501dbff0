"""The tier forms. Values are read as typed and checked by the operations, so a bad one is told in words."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields import SelectChoice


class TierForm(FlaskForm):
    name = StringField(_l("Tier name"))
    rank = StringField(_l("Rank (higher is better)"), render_kw={"inputmode": "numeric"})


class CriterionForm(FlaskForm):
    metric = StringField(_l("Criterion"))
    threshold = StringField(_l("Threshold"), render_kw={"inputmode": "decimal"})


class DecideForm(FlaskForm):
    """Only the CSRF token: confirm or reject is in the URL."""


class PaymentForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), render_kw={"inputmode": "numeric", "placeholder": "2026-11"})
    on_time = SelectField(_l("Paid"), choices=[SelectChoice("yes", _l("On time")), SelectChoice("no", _l("Late"))])
