from flask import Blueprint

bp = Blueprint("home", __name__)

from field.home import dashboard_views, views  # noqa: E402,F401
