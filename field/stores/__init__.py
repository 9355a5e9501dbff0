from flask import Blueprint

bp = Blueprint("stores", __name__)

from field.stores import views  # noqa: E402,F401
