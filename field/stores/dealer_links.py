"""Stores and their dealer records: the free-text `stores.dealer` (as imported) read as a dealer's code,
or as the name of exactly one dealer. Stores sit above dealers, so the link is made from here."""
from __future__ import annotations

from sqlalchemy import func, select

from field import audit
from field.dealers.models import Dealer
from field.extensions import db
from field.stores.models import Store


def resolve(texts) -> dict[str, Dealer]:
    """Each free text (lower-cased, trimmed) → the one dealer it names: a code first, else a name that
    exactly one dealer has. Texts naming none or several are left out."""
    keys = sorted({t.strip().lower() for t in texts if t and t.strip()})
    out: dict[str, Dealer] = {}
    for i in range(0, len(keys), 1000):
        chunk = keys[i:i + 1000]
        for d in db.session.execute(select(Dealer).where(func.lower(Dealer.code).in_(chunk))).scalars():
            out[d.code.lower()] = d
        named: dict[str, list[Dealer]] = {}
        for d in db.session.execute(select(Dealer).where(func.lower(Dealer.name).in_(chunk))).scalars():
            named.setdefault(d.name.lower(), []).append(d)
        for key, found in named.items():
            if key not in out and len(found) == 1:
                out[key] = found[0]
    return out


def ambiguous(texts) -> set[str]:
    keys = sorted({t.strip().lower() for t in texts if t and t.strip()})
    out: set[str] = set()
    for i in range(0, len(keys), 1000):
        rows = db.session.execute(select(func.lower(Dealer.name), func.count()).where(
            func.lower(Dealer.name).in_(keys[i:i + 1000])).group_by(func.lower(Dealer.name)))
        out |= {name for name, n in rows if n > 1}
    return out


def link_by_name(actor=None) -> dict:
    """Set dealer_id on unlinked stores whose free-text dealer names one dealer; audited once."""
    stores = db.session.execute(select(Store).where(Store.dealer_id.is_(None), Store.dealer != "")).scalars().all()
    found = resolve(s.dealer for s in stores)
    unclear = ambiguous(s.dealer for s in stores)
    linked = amb = unknown = 0
    for store in stores:
        key = store.dealer.strip().lower()
        dealer = found.get(key)
        if dealer is not None:
            store.dealer_id = dealer.id
            linked += 1
        elif key in unclear:
            amb += 1
        else:
            unknown += 1
    audit.record("stores.link_dealers", None, actor=actor, linked=linked, ambiguous=amb, unknown=unknown)
    return {"linked": linked, "ambiguous": amb, "unknown": unknown}
