"""The dealer form. The import upload is tabular.ImportForm."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from field.auth.models import Region
from field.dealers.models import Dealer


class DealerForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    contact_name = StringField(_l("Contact"), validators=[Optional(), Length(max=120)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], render_kw={"inputmode": "tel"})
    address = StringField(_l("Address"), validators=[Optional(), Length(max=400)])
    region = SelectField(_l("Region"), choices=[])
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, regions: list[Region] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self._regions = {str(r.id): r for r in regions}
        self.region.choices = [SelectChoice("", _l("— choose —"))] + [
            SelectChoice(str(r.id), f"{r.name} ({r.code})") for r in regions]

    def fill(self, dealer: Dealer) -> None:
        self.code.data, self.name.data = dealer.code, dealer.name
        self.contact_name.data, self.phone.data, self.address.data = dealer.contact_name, dealer.phone, dealer.address
        self.region.data = str(dealer.region_id) if dealer.region_id else ""
        self.active.data = dealer.active

    def values(self) -> dict:
        return {"code": self.code.data.strip(), "name": self.name.data.strip(),
                "contact_name": (self.contact_name.data or "").strip(), "phone": (self.phone.data or "").strip(),
                "address": (self.address.data or "").strip(), "region": self._regions.get(self.region.data),
                "active": bool(self.active.data)}
