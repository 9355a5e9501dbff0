"""What the photos domain tells the visits domain's pages (visits sits below photos and cannot
import it): the photos of a visit's steps, and how many of them count."""
from __future__ import annotations

from sqlalchemy import func, select

from field import providers, scope
from field.extensions import db
from field.photos.models import Photo


def step_photos(visit) -> dict[int, list[Photo]]:
    """The visit's photos the signed-in user may see, per step id, oldest first."""
    by_step: dict[int, list[Photo]] = {}
    for photo in db.session.execute(scope.photos().where(Photo.visit_id == visit.id).order_by(Photo.id)).scalars():
        by_step.setdefault(photo.step_id, []).append(photo)
    return by_step


def step_photo_counts(visit) -> dict[int, int]:
    """How many live (not voided) photos each step of the visit holds: {step id: count}. Every photo
    counts, whoever looks: the count decides whether the step is done."""
    return dict(db.session.execute(
        select(Photo.step_id, func.count()).where(Photo.visit_id == visit.id, Photo.step_id.is_not(None),
                                                  Photo.voided_at.is_(None)).group_by(Photo.step_id)).all())


providers.register("step_photos", step_photos)
providers.register("step_photo_counts", step_photo_counts)
