"""What the visit pages show of photos, offered to field.visits as providers (visits sits below
photos and never imports it): each photo step's live count, and the photos the viewer may see.

PROVISIONAL (written by the visits helper so its branch runs): the photos owner's module of the
same name and providers wins at merge."""
from __future__ import annotations

from sqlalchemy import func, select

from field import providers, scope
from field.extensions import db
from field.photos.models import Photo


def step_photo_counts(visit) -> dict[int, int]:
    """How many photos each step of the visit holds that are not voided: {step id: count}."""
    rows = db.session.execute(
        select(Photo.step_id, func.count()).where(Photo.visit_id == visit.id, Photo.step_id.is_not(None),
                                                  Photo.voided_at.is_(None)).group_by(Photo.step_id))
    return {step_id: n for step_id, n in rows}


def step_photos(visit) -> dict[int, list[Photo]]:
    """The visit's photos the signed-in user may see, per step id, oldest first."""
    by_step: dict[int, list[Photo]] = {}
    for photo in db.session.execute(scope.photos().where(Photo.visit_id == visit.id)
                                    .order_by(Photo.id)).scalars():
        by_step.setdefault(photo.step_id, []).append(photo)
    return by_step


providers.register("step_photo_counts", step_photo_counts)
providers.register("step_photos", step_photos)
