"""Store forms: the store itself (position in any datum). The import upload is tabular.ImportForm."""
from __future__ import annotations

import math

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from field.auth.models import Region, User
from field.geo import Datum
from field.stores.models import TIERS, Channel, Store

CHANNEL_LABELS = {
    Channel.KA: _l("Key account (KA)"),
    Channel.SUPERMARKET: _l("Supermarket"),
    Channel.CONVENIENCE: _l("Convenience store"),
    Channel.TRADITIONAL: _l("Traditional trade"),
    Channel.CATERING: _l("Catering"),
    Channel.WHOLESALE: _l("Wholesale"),
}

DATUM_LABELS = {
    Datum.WGS84: _l("WGS-84 (GPS)"),
    Datum.GCJ02: _l("GCJ-02 (Amap, Tencent)"),
    Datum.BD09: _l("BD-09 (Baidu)"),
}


def channel_label(value) -> str:
    try:
        return str(CHANNEL_LABELS[Channel(value)])
    except ValueError:
        return value or ""


def _coordinate(raw: str | None) -> float | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError from None
    if not math.isfinite(value):
        raise ValueError
    return value


class StoreForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=400)])
    lat = StringField(_l("Latitude"), render_kw={"inputmode": "decimal"})
    lng = StringField(_l("Longitude"), render_kw={"inputmode": "decimal"})
    datum = SelectField(_l("Coordinates given in"),
                        choices=[SelectChoice(d.value, label) for d, label in DATUM_LABELS.items()],
                        default=Datum.WGS84.value)
    geofence_m = IntegerField(_l("Geofence radius (m)"), default=200,
                              validators=[InputRequired(), NumberRange(min=20, max=5000)],
                              render_kw={"inputmode": "numeric"})
    tier = SelectField(_l("Tier"), choices=[SelectChoice(t, t) for t in TIERS], default="C")
    channel = SelectField(_l("Channel"), choices=[SelectChoice(c.value, label) for c, label in CHANNEL_LABELS.items()],
                          default=Channel.TRADITIONAL.value)
    dealer = StringField(_l("Dealer"), validators=[Optional(), Length(max=200)])
    owner_rep = SelectField(_l("Owner rep"), choices=[])
    region = SelectField(_l("Region"), choices=[])
    visit_every_days = IntegerField(_l("Visit every (days)"), validators=[Optional(), NumberRange(min=1, max=365)],
                                    description=_l("Leave empty to follow the tier."),
                                    render_kw={"inputmode": "numeric"})

    def __init__(self, *args, reps: list[User] = (), regions: list[Region] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self._reps = {str(u.id): u for u in reps}
        self._regions = {str(r.id): r for r in regions}
        none = SelectChoice("", _l("— none —"))
        self.owner_rep.choices = [none] + [SelectChoice(str(u.id), f"{u.name} ({u.login})") for u in reps]
        self.region.choices = [none] + [SelectChoice(str(r.id), f"{r.name} ({r.code})") for r in regions]
        self.position: tuple[float | None, float | None] = (None, None)

    def fill(self, store: Store) -> None:
        """Show a store: its position as stored (WGS-84)."""
        self.code.data, self.name.data, self.address.data = store.code, store.name, store.address
        self.lat.data = repr(store.lat) if store.lat is not None else ""
        self.lng.data = repr(store.lng) if store.lng is not None else ""
        self.datum.data = Datum.WGS84.value
        self.geofence_m.data, self.tier.data, self.channel.data = store.geofence_m, store.tier, store.channel
        self.dealer.data = store.dealer
        self.owner_rep.data = str(store.owner_rep_id) if store.owner_rep_id else ""
        self.region.data = str(store.region_id) if store.region_id else ""
        self.visit_every_days.data = store.visit_every_days

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        try:
            lat = _coordinate(self.lat.data)
        except ValueError:
            self.lat.errors = [*self.lat.errors, _l("Not a number.")]
            return False
        try:
            lng = _coordinate(self.lng.data)
        except ValueError:
            self.lng.errors = [*self.lng.errors, _l("Not a number.")]
            return False
        if (lat is None) != (lng is None):
            (self.lng if lng is None else self.lat).errors.append(_l("Give both latitude and longitude, or neither."))
            return False
        if lat is not None and not -90 <= lat <= 90:
            self.lat.errors = [*self.lat.errors, _l("Latitude is between −90 and 90.")]
            return False
        if lng is not None and not -180 <= lng <= 180:
            self.lng.errors = [*self.lng.errors, _l("Longitude is between −180 and 180.")]
            return False
        self.position = (lat, lng)
        return ok

    def values(self) -> dict:
        """What the operations take: typed values, the rep and region as objects."""
        lat, lng = self.position
        return {
            "code": self.code.data.strip(), "name": self.name.data.strip(),
            "address": (self.address.data or "").strip(), "lat": lat, "lng": lng, "datum": self.datum.data,
            "geofence_m": self.geofence_m.data, "tier": self.tier.data, "channel": self.channel.data,
            "dealer": (self.dealer.data or "").strip(), "owner_rep": self._reps.get(self.owner_rep.data),
            "region": self._regions.get(self.region.data), "visit_every_days": self.visit_every_days.data,
        }
