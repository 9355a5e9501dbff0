"""The product form: price in yuan (stored in fen), margin in percent with two decimals."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from field import tabular
from field.core import money_decimal
from field.products.models import Product
from field.products.importer import MAX_MARGIN


class ProductForm(FlaskForm):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=60)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    category = StringField(_l("Category"), validators=[Optional(), Length(max=100)])
    unit_price = StringField(_l("Unit price (¥)"), validators=[DataRequired()], render_kw={"inputmode": "decimal"})
    margin_pct = StringField(_l("Gross margin (%)"), validators=[DataRequired()],
                             description=_l("Used for ROI: incremental sales × margin."),
                             render_kw={"inputmode": "decimal"})

    def fill(self, product: Product) -> None:
        self.sku.data, self.name.data, self.category.data = product.sku, product.name, product.category
        self.unit_price.data = str(money_decimal(product.unit_price or 0))
        self.margin_pct.data = str(product.margin_pct)

    def validate_unit_price(self, field):
        try:
            field.parsed = tabular.amount(field.data.strip())
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_margin_pct(self, field):
        try:
            field.parsed = tabular.decimal(2, 0, MAX_MARGIN)(field.data.strip())
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def values(self) -> dict:
        return {"sku": self.sku.data.strip(), "name": self.name.data.strip(),
                "category": (self.category.data or "").strip(), "unit_price": self.unit_price.parsed,
                "margin_pct": self.margin_pct.parsed}
