"""Changes to the competitor promotion types an admin keeps: add one, rename it, take it off the list or put
it back. Each checks its rule, stages and audits, or raises a DomainError; the request commits."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from field import audit, permissions
from field.auth.models import User
from field.competitors.models import CompetitorPromotionType
from field.core import DomainError
from field.extensions import db

MAX_NAME = 60


class Invalid(DomainError):
    """A message per field (422), shown in place."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()), 422)
        self.errors = errors


def _names(name: str, name_en: str, errors: dict, same_as: int | None = None) -> tuple[str, str]:
    name, name_en = (name or "").strip(), (name_en or "").strip()
    if not name:
        errors["name"] = _("Enter a name for the promotion type.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("At most %(n)s characters.", n=MAX_NAME)
    elif db.session.execute(select(CompetitorPromotionType.id).where(
            func.lower(CompetitorPromotionType.name) == name.lower(),
            CompetitorPromotionType.id != (same_as or 0))).first() is not None:
        errors["name"] = _("There is already a promotion type of that name.")
    if len(name_en) > MAX_NAME:
        errors["name_en"] = _("At most %(n)s characters.", n=MAX_NAME)
    return name, name_en


def add_promotion_type(name: str, name_en: str, actor: User) -> CompetitorPromotionType:
    permissions.require(permissions.may_edit_competitor_lists(actor))
    errors: dict[str, str] = {}
    name, name_en = _names(name, name_en, errors)
    if errors:
        raise Invalid(errors)
    kind = CompetitorPromotionType(name=name, name_en=name_en, active=True)
    db.session.add(kind)
    db.session.flush()
    audit.record("competitor_promotion_type.create", kind, actor=actor, name=name)
    return kind


def change_promotion_type(kind: CompetitorPromotionType, name: str, name_en: str, active: bool,
                          actor: User) -> CompetitorPromotionType:
    """Rename, or take off / put back on the list reps pick from; sightings keep the type they named."""
    permissions.require(permissions.may_edit_competitor_lists(actor))
    errors: dict[str, str] = {}
    name, name_en = _names(name, name_en, errors, same_as=kind.id)
    if errors:
        raise Invalid(errors)
    changes = {k: [old, new] for k, old, new in (("name", kind.name, name), ("name_en", kind.name_en, name_en),
                                                 ("active", kind.active, active)) if old != new}
    kind.name, kind.name_en, kind.active = name, name_en, active
    if changes:
        audit.record("competitor_promotion_type.update", kind, actor=actor, changes=changes)
    return kind
