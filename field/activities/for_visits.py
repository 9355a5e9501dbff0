"""What the visit pages show of activities, offered to field.visits as providers (visits sits below
activities and never imports it): the evidence a promotion's photo step collects, the stores whose
live activity still wants evidence, and the rep's stores with an activity live on a day.

PROVISIONAL (written by the visits helper so its branch runs): the activities owner's module of
the same name and providers wins at merge."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select

from field import providers
from field.activities import evidence, progress
from field.activities.models import Activity, ActivityStore
from field.stores.models import Store


def visit_evidence(visit, step) -> list:
    """The live activities at a visit's store with their evidence this period
    (templates/activities/_visit_evidence.html shows them as `ev_items`)."""
    return evidence.for_visit(visit)


def needs_evidence(store_ids: list[int], today: date, rep) -> dict[int, list[str]]:
    """Of these stores, those where a running activity still wants evidence this period: their titles."""
    return progress.needs_evidence(store_ids, today, rep)


def live_activity_stores(rep_id, today) -> Select:
    """A one-column select (store_id) of the rep's stores with an activity live on `today`.

    Visits builds Today's scan once with bind parameters and passes them here as `rep_id` and
    `today`: use them only inside SQL expressions."""
    return (select(ActivityStore.store_id)
            .join(Activity, Activity.id == ActivityStore.activity_id)
            .join(Store, Store.id == ActivityStore.store_id)
            .where(Store.owner_rep_id == rep_id, Activity.status.in_(progress.LIVE),
                   Activity.period_start <= today, Activity.period_end >= today)
            .distinct())


providers.register("visit_evidence", visit_evidence)
providers.register("needs_evidence", needs_evidence)
providers.register("live_activity_stores", live_activity_stores)
