"""Demo working days: for each rep's past weekdays with visits, a start a little before the first check-in near
its store and an end after the last check-out, so the day page shows its timeline and mileage. Now and then a
day was never started (the supervisor sees it flagged) or never ended (closed by `flask workday-close`)."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from field.core import now
from field.extensions import db
from field.visits.models import Visit, VisitStatus
from field.workday import rules
from field.workday.models import Workday

ZONE = ZoneInfo("Asia/Shanghai")


def build(seed: int) -> dict:
    rnd = random.Random(seed + 16)
    days: dict[tuple[int, object], list] = defaultdict(list)
    for rep_id, at, lat, lng, out in db.session.execute(
            select(Visit.rep_id, Visit.checkin_at, Visit.checkin_lat, Visit.checkin_lng, Visit.checkout_at)
            .where(Visit.status == VisitStatus.COMPLETED, Visit.checkin_at.is_not(None))
            .order_by(Visit.rep_id, Visit.checkin_at)):
        days[(rep_id, at.astimezone(ZONE).date())].append((at, lat, lng, out))
    today = now().astimezone(ZONE).date()
    rows = []
    for (rep_id, day), visits in sorted(days.items()):
        if day >= today or rnd.random() < 0.08:
            continue  # today is the rep's to start; a few days were never started
        first, last = visits[0], visits[-1]
        started = first[0] - timedelta(minutes=rnd.randint(10, 40))
        never_ended = rnd.random() < 0.05
        ended = None if never_ended else (last[3] or last[0]) + timedelta(minutes=rnd.randint(10, 90))
        if never_ended:
            ended = rules.close_moment(day, ZONE, rules.DEFAULT_CLOSE_AT)
        home = (first[1] - rnd.uniform(0.005, 0.02), first[2] + rnd.uniform(-0.01, 0.01)) if first[1] else (None, None)
        rows.append(dict(rep_id=rep_id, day=day, started_at=started, start_lat=home[0], start_lng=home[1],
                         start_accuracy_m=15.0, start_received_at=started, ended_at=ended,
                         end_lat=None if never_ended else home[0], end_lng=None if never_ended else home[1],
                         end_accuracy_m=None if never_ended else 15.0, end_received_at=ended, auto_closed=never_ended,
                         flags=rules.day_flags(started, ended, ZONE, rules.DEFAULT_START, rules.DEFAULT_END,
                                               auto_closed=never_ended)))
    if rows:
        db.session.execute(insert(Workday), rows)
    return {"workdays": len(rows)}
