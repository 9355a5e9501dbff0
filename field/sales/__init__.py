"""Sales: from orders taken on visits, and imported sell-in / sell-out (CSV or Excel)."""
from flask import Blueprint

bp = Blueprint("sales", __name__)

from field.sales import views  # noqa: E402,F401
