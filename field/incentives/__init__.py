"""Incentives (激励): tasks with points from verified work, the append-only points ledger, levels and rewards,
the team leaderboard."""
from flask import Blueprint

bp = Blueprint("incentives", __name__)

from field.incentives import views, for_home, hooks  # noqa: E402,F401
