from flask import Blueprint

bp = Blueprint("stores", __name__)

from field.stores import views  # noqa: E402,F401
from field.stores import for_auth  # noqa: E402,F401  registers stores_by_region for auth's region tree
