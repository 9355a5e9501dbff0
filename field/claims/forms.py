"""Claim forms: filing a claim, the approver's decision, reversing a payment.

Amounts are typed in yuan and checked by field/claims/operations.py (one place for the money
rules); a refused field comes back beside its input at 422."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Length, Optional

from field.claims.operations import MAX_NOTE, MAX_REASON


class ClaimForm(FlaskForm):
    amount = StringField(_l("Amount claimed (yuan)"), render_kw={"inputmode": "decimal", "autocomplete": "off"})
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE)],
                         description=_l("What the money paid for: display rent, POSM, tasting staff…"),
                         render_kw={"rows": 3})
    receipts = SelectMultipleField(_l("Receipts"), choices=[], validate_choice=False,
                                   widget=widgets.ListWidget(prefix_label=False),
                                   option_widget=widgets.CheckboxInput())


class DecisionForm(FlaskForm):
    amount = StringField(_l("Amount to pay (yuan)"), render_kw={"inputmode": "decimal", "autocomplete": "off"},
                         description=_l("The computed amount; change it only with a reason."))
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=MAX_REASON)],
                           description=_l("Required to pay another amount, and to reject."), render_kw={"rows": 3})


class ReversalForm(FlaskForm):
    reason = TextAreaField(_l("Why is this payment reversed?"), validators=[Optional(), Length(max=MAX_REASON)],
                           render_kw={"rows": 2})
