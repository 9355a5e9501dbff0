"""Competitor intelligence (竞品采集): sightings a rep records in a visit's competitor step, the promotion
types an admin lists, and the report managers and supervisors read by region, channel, brand and week."""
from flask import Blueprint

bp = Blueprint("competitors", __name__, url_prefix="/competitors")

from field.competitors import views  # noqa: E402,F401
from field.competitors import for_visits  # noqa: E402,F401  (listens to visits' saved steps)
