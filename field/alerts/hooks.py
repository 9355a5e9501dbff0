"""What alerts offer the rest of the app through field.providers, registered when the app starts:

- it listens to "visit.checked_in" and "visit.checked_out" (field/visits/operations.py) and evaluates
  the rules about that rep at once, so a flagged check-in or a late first check-in is seen without
  waiting for the schedule, and a no-check-in alert clears when the rep checks in;
- it answers "open_alerts_count" (user → int): the open alerts in the user's scope, for a home page's badge."""
from __future__ import annotations

from sqlalchemy import func, select

from field import permissions, providers, scope
from field.alerts.evaluate import on_visit
from field.alerts.models import Alert, AlertStatus
from field.extensions import db


def open_alerts_count(user) -> int:
    """Open alerts the user may see (0 for someone who does not handle alerts)."""
    if user is None or not user.is_authenticated or not permissions.may_handle_alerts(user):
        return 0
    return db.session.execute(select(func.count()).select_from(
        scope.query(Alert, user).where(Alert.status == AlertStatus.OPEN).subquery())).scalar_one()


providers.listen("visit.checked_in", on_visit)
providers.listen("visit.checked_out", on_visit)
providers.register("open_alerts_count", open_alerts_count)
