"""Forms of the visit page: check-in/out with the phone's position, objectives, follow-ups, co-visits.

Step forms are not WTForms: each step kind posts the fields field/visits/steps.py
parses; step_form_data() only drops the rows a rep left blank."""
from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from field.core import now
from field.geo import Point
from field.visits.checkin import CLOCK_SLACK, non_ascii_digits, parse_phone_time
from field.visits.models import StepKind

MAX_REASON = 500
MAX_ACCURACY_M = 1_000_000.0
# A position older than this (before the tap) is not a check-in position at all; newer than now (+ clock
# slack) neither.
MAX_POSITION_AGE = timedelta(hours=24)


def _number(raw: str) -> float | None:
    """A finite float from a posted string, else None ("nan", "inf", "1e999", "abc" all refuse)."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def parse_position_at(raw: str) -> datetime | None:
    """An ISO 8601 time from the phone ('…Z' or with an offset), as aware UTC; None if unreadable."""
    return parse_phone_time(raw)


class PositionForm(FlaskForm):
    """Hidden lat/lng/accuracy/position_at filled by the phone (static/js/app.js, data-locate), and
    phone_at, the moment of the tap (set by the outbox when it queues the item).

    Both coordinates or neither; finite and in range; accuracy positive; a readable time, not ahead of
    the server's clock and not a day older than the tap (an item synced late keeps its position)."""

    lat = HiddenField()
    lng = HiddenField()
    accuracy = HiddenField()
    position_at = HiddenField()
    phone_at = HiddenField()

    position: Point | None = None
    accuracy_m: float | None = None
    position_time: datetime | None = None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self._validate_position() and ok

    def _fail(self, message) -> bool:
        self.lat.errors = [*self.lat.errors, message]
        return False

    def _validate_position(self) -> bool:
        raw_lat, raw_lng = (self.lat.data or "").strip(), (self.lng.data or "").strip()
        self.position = self.accuracy_m = self.position_time = None
        if not raw_lat and not raw_lng:
            return True  # no position: the operation asks for a reason
        if not raw_lat or not raw_lng:
            return self._fail(_l("The position is incomplete (latitude and longitude go together). "
                                 "Locate again."))
        raw_acc = (self.accuracy.data or "").strip()
        if any(non_ascii_digits(raw) for raw in (raw_lat, raw_lng, raw_acc)):
            return self._fail(_l("The position's numbers must use the digits 0-9. Locate again."))
        lat, lng = _number(raw_lat), _number(raw_lng)
        if lat is None or lng is None or not -90 <= lat <= 90 or not -180 <= lng <= 180:
            return self._fail(_l("The phone sent an impossible position. Locate again."))
        accuracy = None
        if raw_acc:
            accuracy = _number(raw_acc)
            if accuracy is None or not 0 < accuracy <= MAX_ACCURACY_M:
                return self._fail(_l("The phone sent an impossible accuracy. Locate again."))
        raw_at = (self.position_at.data or "").strip()
        at = None
        if raw_at:
            at = parse_phone_time(raw_at)
            current = now()
            tapped = parse_phone_time(self.phone_at.data)
            tapped = tapped if tapped is not None and tapped <= current else current
            if at is None:
                return self._fail(_l("The position's time could not be read. Locate again."))
            if at > current + CLOCK_SLACK:
                return self._fail(_l("The position's time is in the future; check the phone's clock."))
            if at < tapped - MAX_POSITION_AGE:
                return self._fail(_l("The position is more than a day old. Locate again."))
        self.position, self.accuracy_m, self.position_time = Point(lat, lng), accuracy, at
        return True

    @property
    def position_errors(self) -> list:
        return list(self.lat.errors)


def _new_key() -> str:
    return str(uuid.uuid4())


class CheckInForm(PositionForm):
    client_key = HiddenField(default=_new_key)
    client_id = HiddenField()  # the outbox's name for the same key (wire contract, notes/OFFLINE.md)
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=MAX_REASON)],
                           render_kw={"rows": 2, "maxlength": MAX_REASON})

    def validate_client_key(self, field):
        if field.data:
            try:
                uuid.UUID(field.data)
            except ValueError:
                raise ValidationError(_l("Reload the page and try again.")) from None

    validate_client_id = validate_client_key

    @property
    def key(self) -> str | None:
        """The check-in's client key: `client_key` as the page sends it, else `client_id` as the outbox does."""
        posted = self.client_key.data if self.client_key.raw_data else None  # else a fresh default
        return posted or self.client_id.data or None


class UnplannedCheckInForm(CheckInForm):
    visit_type = SelectField(_l("Visit type"), coerce=int, validators=[DataRequired()])


class CheckOutForm(PositionForm):
    client_id = HiddenField(default=_new_key)
    reason = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_REASON)],
                           render_kw={"rows": 2, "maxlength": MAX_REASON})


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Why is the visit cancelled?"), validators=[DataRequired(), Length(max=MAX_REASON)],
                           render_kw={"rows": 2, "maxlength": MAX_REASON})


class ObjectiveForm(FlaskForm):
    met = RadioField(_l("Met?"), choices=[SelectChoice("yes", _l("Met")), SelectChoice("no", _l("Not met"))],
                     validators=[DataRequired(message=_l("Mark it met or not met."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])


class FollowUpForm(FlaskForm):
    text = TextAreaField(_l("What needs doing"), validators=[DataRequired(message=_l("Say what needs doing.")),
                                                               Length(max=500)],
                         render_kw={"rows": 2, "maxlength": 500})
    owner = SelectField(_l("Owner"), coerce=int, validators=[DataRequired(message=_l("Pick someone from the list."))])
    due_on = DateField(_l("Due"), validators=[Optional()])
    client_id = HiddenField(default=_new_key)


class CoVisitAnswerForm(FlaskForm):
    co_visit_id = HiddenField()
    text = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(max=1000)],
                         render_kw={"rows": 3, "maxlength": 1000})


class CoVisitForm(FlaskForm):
    """Score items are posted as score-0, score-1, … and read by operations.score_visit."""
    comment = TextAreaField(_l("Comment for the rep"), validators=[Optional(), Length(max=1000)],
                            render_kw={"rows": 3, "maxlength": 1000})


def step_form_data(kind: str, form: MultiDict) -> MultiDict:
    """The posted step form without the rows a rep left empty.

    Order lines: a row with no product is ignored (the page offers spare rows).
    Stock count: a product with neither count is not counted (only type what you counted)."""
    if kind == StepKind.ORDER_LINES:
        out = MultiDict([(k, v) for k, v in form.items(multi=True) if k not in ("sku", "quantity")])
        for sku, qty in zip(form.getlist("sku"), form.getlist("quantity")):
            if sku.strip():
                out.add("sku", sku.strip())
                out.add("quantity", qty.strip())
        return out
    if kind == StepKind.STOCK_COUNT:
        out = MultiDict([(k, v) for k, v in form.items(multi=True) if k != "sku"])
        for sku in form.getlist("sku"):
            if (form.get(f"shelf-{sku}") or "").strip() or (form.get(f"back-{sku}") or "").strip():
                out.add("sku", sku)
        return out
    return form

