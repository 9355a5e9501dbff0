"""Promotion activities (活动): types and their evidence rules, applications and their approval,
the stores and budgets they cover, check periods, evidence and its verification, compliance."""
from flask import Blueprint

bp = Blueprint("activities", __name__)

from field.activities import queue_views, views  # noqa: E402,F401
from field.activities import for_visits  # noqa: E402,F401  (registers what visits ask of activities)
