"""What visits show about activities, without importing them: the providers activities register.

Visits sit below activities, so a visit's photo step, Today and a visit's Plan ask for these by
name (field.providers.ask); this module, imported by the activities blueprint package, answers.

- visit_evidence(visit, step): the live activities at the visit's store with their evidence this
  period — what templates/activities/_visit_evidence.html shows as `ev_items`;
- needs_evidence(store_ids, today, rep): of these stores, those where a running activity still
  wants evidence this period, with the activities' titles;
- live_activity_stores(rep_id, today): a select of the store ids of the rep's stores with an
  activity live today, for Today's scan to join as a subquery."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select

from field import providers
from field.activities import evidence, progress
from field.activities.models import Activity, ActivityStore
from field.stores.models import Store


def visit_evidence(visit, step) -> list[evidence.VisitEvidence]:
    """The items the visit step's evidence section shows (the same for every photo step of the visit)."""
    return evidence.for_visit(visit)


def needs_evidence(store_ids: list[int], today: date, rep) -> dict[int, list[str]]:
    return progress.needs_evidence(store_ids, today, rep)


def live_activity_stores(rep_id: int, today: date) -> Select:
    """The rep's stores with an activity approved or running whose dates hold `today` (one column, each
    store once). `rep_id` and `today` may be values or bind parameters (Today's scan binds them)."""
    return (select(ActivityStore.store_id)
            .join(Activity, Activity.id == ActivityStore.activity_id)
            .join(Store, Store.id == ActivityStore.store_id)
            .where(Store.owner_rep_id == rep_id, Activity.status.in_(progress.LIVE),
                   Activity.period_start <= today, Activity.period_end >= today)
            .distinct())


providers.register("visit_evidence", visit_evidence)
providers.register("needs_evidence", needs_evidence)
providers.register("live_activity_stores", live_activity_stores)
