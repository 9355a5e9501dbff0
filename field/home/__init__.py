from flask import Blueprint

bp = Blueprint("home", __name__)

from field.home import views  # noqa: E402,F401
