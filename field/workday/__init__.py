"""The rep's working day (考勤/打卡): start and end of the day with a position, the day's timeline (start,
check-ins and check-outs, end), time working, in stores and travelling, and the day's mileage from its
ordered positions against the planned route. `flask workday-close` closes the days nobody ended."""
from flask import Blueprint

bp = Blueprint("workday", __name__)

from field.workday import views, travel_views, receipt_views  # noqa: E402,F401
