"""What ROI tells the sales import (a lower domain) through providers: the group key of each store.

The database keeps ROI's staleness counters per store group and locks them in key order; the
import writes its sales in that same order so two imports wait for each other but never deadlock."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from field import providers
from field.extensions import db
from field.roi.models import group_key
from field.stores.models import Store


def store_group_keys(store_ids: Iterable[int]) -> dict[int, str]:
    """Store id → its group key, spelled as the triggers spell it."""
    ids = set(store_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Store.id, group_key()).where(Store.id.in_(ids))).all())


providers.register("store_group_keys", store_group_keys)
