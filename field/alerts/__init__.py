"""Alerts (预警): threshold rules a manager sets per region, evaluated on a schedule (`flask alerts-evaluate`)
and when a rep checks in or out; each alert is one condition in one period, open → acknowledged →
resolved, shown to the people whose scope holds it and announced to them (providers "alert.opened")."""
from flask import Blueprint

bp = Blueprint("alerts", __name__)

from field.alerts import views  # noqa: E402,F401
from field.alerts import hooks  # noqa: E402,F401  (providers: events listened to, the open-alert count)
