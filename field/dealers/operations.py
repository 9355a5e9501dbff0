"""Listing and changing dealers: search, create, edit, and linking stores' free-text dealers to records.

Each change checks its rule and stages it with its audit line, or raises a DomainError having staged
nothing; the request (or the command) commits."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from field import audit, scope
from field.auth.models import Region, User
from field.core import FieldError, like_pattern
from field.dealers.models import Dealer
from field.extensions import db

FIELDS = ("code", "name", "contact_name", "phone", "address", "region", "active")


def search(q: str = "", user=None):
    stmt = scope.query(Dealer, user)
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(or_(Dealer.name.ilike(pattern, escape="\\"), Dealer.code.ilike(pattern, escape="\\"),
                              Dealer.contact_name.ilike(pattern, escape="\\")))
    return stmt.order_by(Dealer.active.desc(), Dealer.name, Dealer.id)


def code_taken(code: str, dealer: Dealer | None = None) -> bool:
    # Codes are unique across the company, so this one check looks beyond the user's scope.
    stmt = select(Dealer.id).where(func.lower(Dealer.code) == code.lower())
    if dealer is not None and dealer.id is not None:
        stmt = stmt.where(Dealer.id != dealer.id)
    return db.session.execute(stmt.limit(1)).first() is not None


def apply(dealer: Dealer, values: dict) -> dict[str, list]:
    """Set the given fields (absent keys stay); {field: [old, new]} of what changed. region is a Region."""
    changes: dict[str, list] = {}
    for key in FIELDS:
        if key not in values:
            continue
        new, old = values[key], getattr(dealer, key)
        if key == "region":
            if (old.id if old else None) == (new.id if new else None):
                continue
            changes[key] = [old.code if old else None, new.code if new else None]
        elif old == new:
            continue
        else:
            changes[key] = [old, new]
        setattr(dealer, key, new)
    return changes


def _check_region(region: Region | None, actor: User, dealer: Dealer | None = None) -> None:
    """A dealer lies in one of the actor's regions (an admin's: any), or keeps the one it had."""
    if region is None:
        raise FieldError("region", _("Choose the dealer's region."))
    if dealer is not None and dealer.region_id == region.id:
        return
    allowed = db.session.execute(scope.regions(actor).where(Region.id == region.id)).first()
    if allowed is None:
        raise FieldError("region", _("Choose one of your regions."))


def create_dealer(values: dict, actor: User) -> Dealer:
    if code_taken(values["code"]):
        raise FieldError("code", _("A dealer with this code already exists."))
    _check_region(values.get("region"), actor)
    dealer = Dealer(active=True, tier="")
    apply(dealer, values)
    db.session.add(dealer)
    audit.record("dealer.create", dealer, actor=actor, code=dealer.code, name=dealer.name)
    return dealer


def update_dealer(dealer: Dealer, values: dict, actor: User) -> dict:
    if "code" in values and values["code"] != dealer.code and code_taken(values["code"], dealer):
        raise FieldError("code", _("A dealer with this code already exists."))
    if "region" in values:
        _check_region(values["region"], actor, dealer)
    changes = apply(dealer, values)
    if changes:
        audit.record("dealer.update", dealer, actor=actor, changes=changes)
    return changes


def by_code(codes) -> dict[str, Dealer]:
    """Dealers by lower-cased code (company-wide: a store names its dealer by code)."""
    found: dict[str, Dealer] = {}
    codes = sorted({c.lower() for c in codes if c})
    for i in range(0, len(codes), 1000):
        for d in db.session.execute(select(Dealer).where(func.lower(Dealer.code).in_(codes[i:i + 1000]))).scalars():
            found[d.code.lower()] = d
    return found

