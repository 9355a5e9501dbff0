"""What the stores domain tells auth's pages (auth sits below stores and cannot import it)."""
from __future__ import annotations

from sqlalchemy import func

from field import providers, scope
from field.extensions import db
from field.stores.models import Store


def stores_by_region(user=None) -> dict[int, int]:
    """Stores in the user's scope counted per region id (stores without a region left out)."""
    return dict(db.session.execute(
        scope.stores(user).where(Store.region_id.is_not(None))
        .with_only_columns(Store.region_id, func.count()).group_by(Store.region_id)).all())


providers.register("stores_by_region", stores_by_region)
