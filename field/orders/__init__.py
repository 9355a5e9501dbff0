"""Orders to dealers (订货): an order taken in a visit goes to the store's dealer, whose staff confirm and
deliver it on their phones; reps see what became of it, sales come from what was delivered."""
from flask import Blueprint

bp = Blueprint("orders", __name__)

from field.orders import hooks, views  # noqa: E402,F401
