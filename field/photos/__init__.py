"""Photo evidence: upload from a visit's photo step, the viewer, scoped serving of the bytes, void."""
from flask import Blueprint

bp = Blueprint("photos", __name__)

from field.photos import views  # noqa: E402,F401
from field.photos import for_visits  # noqa: E402,F401  registers step_photos, step_photo_counts for visits
