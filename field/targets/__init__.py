"""Sales targets (销售指标): monthly targets per region, split to reps and their stores, measured on sales."""
from flask import Blueprint

bp = Blueprint("targets", __name__)

from field.targets import views, for_home  # noqa: E402,F401
