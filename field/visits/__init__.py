"""Store visits (PDCA): planning, route, check-in/out, steps, follow-ups, co-visits."""
from flask import Blueprint

bp = Blueprint("visits", __name__)

from field.visits import history_views, map_views, plan_views, types_views, views  # noqa: E402,F401
