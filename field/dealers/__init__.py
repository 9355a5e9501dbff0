"""Dealers (经销商): the distributors who supply stores and deliver the orders reps take."""
from flask import Blueprint

bp = Blueprint("dealers", __name__)

from field.dealers import views  # noqa: E402,F401
