"""ROI (ROI分析): incremental sales and gross profit bought by promotion spend, for managers."""
from flask import Blueprint

bp = Blueprint("roi", __name__)

from field.roi import views  # noqa: E402,F401
from field.roi import for_sales  # noqa: E402,F401  (registers what the sales import asks)
