from flask import Blueprint

bp = Blueprint("auth", __name__)

from field.auth import views, admin, sessions  # noqa: E402,F401
