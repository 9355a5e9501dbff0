"""Claims (费用核销): expense claims against an activity's stores, their approval, and the
append-only write-off ledger that pays them; the finance export."""
from flask import Blueprint

bp = Blueprint("claims", __name__)

from field.claims import views  # noqa: E402,F401
