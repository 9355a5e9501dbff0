"""The channel around the stores: dealers' tiers (渠道分级), their monthly figures and proposals, and the
dealer scorecard."""
from flask import Blueprint

bp = Blueprint("channel", __name__)

from field.channel import views  # noqa: E402,F401
