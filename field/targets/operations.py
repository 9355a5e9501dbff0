"""Setting and splitting targets. Operations stage their rows (the request commits, or nothing) and
audit each change; a refusal is a DomainError with the reason, and nothing of it stays written.

A split adds up to at most its parent: what is not split is shown as unallocated; a split that adds up
to more is refused, as is lowering a target below what its parts add up to. A rep or store is split
from one region's target a month (the table's unique subject per month and level)."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from field import audit, permissions, scope
from field.auth.models import Region, User, user_regions
from field.core import Conflict, DomainError, FieldError, format_money, now
from field.extensions import db
from field.stores.models import Store
from field.targets import queries
from field.targets.models import CHILD_LEVEL, Target
from field.targets.split import largest_remainder

MAX_TARGET = 10**13  # fen: a hundred billion yuan, far inside a BIGINT


def _check_amount(amount: int, field: str = "amount") -> None:
    if amount < 0:
        raise FieldError(field, _("A target cannot be negative."))
    if amount > MAX_TARGET:
        raise FieldError(field, _("That target is too large."))


def _conflict():
    return Conflict(_("Someone changed these targets at the same moment. Nothing was saved; try again."))


def set_region_target(actor: User, region: Region, month: date, amount: int) -> Target:
    """Create or change a region's target for a month (a region in the actor's scope; the view checks)."""
    permissions.require(permissions.may_set_targets(actor))
    _check_amount(amount)
    row = db.session.execute(select(Target).where(Target.month == month, Target.level == "region",
                                                  Target.subject_id == region.id)).scalar_one_or_none()
    if row is not None:
        split = queries.allocated(row)
        if amount < split:
            raise FieldError("amount", _("The reps' split of this target adds up to %(split)s: a target below it "
                                         "would not cover its parts. Lower the split first, or split again.",
                                         split=format_money(split)))
        old = row.amount
        if old == amount:
            return row
        row.amount, row.updated_at, row.updated_by_id = amount, now(), actor.id
        audit.record("targets.set", row, actor=actor, month=queries.month_key(month), level="region",
                     region=region.code, old=old, new=amount)
        return row
    row = Target(month=month, level="region", subject_id=region.id, region_id=region.id, amount=amount,
                 basis="manual", updated_at=now(), updated_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise _conflict() from None
    audit.record("targets.set", row, actor=actor, month=queries.month_key(month), level="region",
                 region=region.code, old=None, new=amount)
    return row


def delete_target(actor: User, target: Target) -> None:
    """Take a region's target away, with its whole split."""
    permissions.require(permissions.may_set_targets(actor) and target.level == "region")
    audit.record("targets.delete", target, actor=actor, month=queries.month_key(target.month), level=target.level,
                 region=target.region.code, amount=target.amount, allocated=queries.allocated(target))
    ids = [target.id]
    frontier = [target.id]
    while frontier:  # the parts, and theirs (SQLite may run without foreign-key cascades)
        frontier = list(db.session.execute(select(Target.id).where(Target.parent_id.in_(frontier))).scalars())
        ids += frontier
    db.session.execute(delete(Target).where(Target.id.in_(ids)), execution_options={"synchronize_session": False})
    db.session.expire_all()


# --- the parts a target may be split into -----------------------------------------------------------

def _taken_elsewhere(target: Target, level: str) -> dict[int, Target]:
    """Subjects of `level` already split this month from ANOTHER target: subject id → that row."""
    rows = db.session.execute(select(Target).where(Target.month == target.month, Target.level == level,
                                                   or_(Target.parent_id != target.id, Target.parent_id.is_(None))))
    return {row.subject_id: row for row in rows.scalars()}


def candidates(actor: User, target: Target) -> list:
    """Who or what `target` may be split into, in the actor's scope: for a region's target, the reps
    who work in it (a region of theirs, or a store they own there); for a rep's, their active stores in the
    region. Those already split from another target this month are left out."""
    region_ids = queries.subtree(target.region)
    if target.level == "region":
        owners = select(Store.owner_rep_id).where(Store.region_id.in_(region_ids), Store.active.is_(True))
        members = select(user_regions.c.user_id).where(user_regions.c.region_id.in_(region_ids))
        found = list(db.session.execute(scope.reps(actor).where(or_(User.id.in_(owners), User.id.in_(members)))
                                        .order_by(User.name, User.id)).scalars())
    elif target.level == "rep":
        found = list(db.session.execute(scope.stores(actor).where(
            Store.owner_rep_id == target.rep_id, Store.region_id.in_(region_ids), Store.active.is_(True))
            .order_by(Store.code)).scalars())
    else:
        return []
    taken = _taken_elsewhere(target, CHILD_LEVEL[target.level])
    return [c for c in found if c.id not in taken]


def last_year_sales(target: Target, subjects: list) -> dict[int, int]:
    """Last year's sales in the same month, by subject id (the proportional split's weights)."""
    last_year = queries.add_months(target.month, -12)
    ids = [s.id for s in subjects]
    if target.level == "region":
        sums = queries.rep_sales(last_year, ids)
    else:
        sums = queries.store_sales(last_year, ids)
    return {i: max(0, sums.get(i, 0)) for i in ids}


def _child(target: Target, subject, amount: int, basis: str, actor: User) -> Target:
    level = CHILD_LEVEL[target.level]
    return Target(month=target.month, level=level, subject_id=subject.id, region_id=target.region_id,
                  rep_id=subject.id if level == "rep" else target.rep_id,
                  store_id=subject.id if level == "store" else None, parent_id=target.id, amount=amount,
                  basis=basis, updated_at=now(), updated_by_id=actor.id)


def _apply(actor: User, target: Target, amounts: dict[int, int | None], subjects: dict[int, object],
           basis: str) -> dict:
    """Stage the parts: a subject with an amount gets (or keeps, changed) its row; None takes it away."""
    existing = {row.subject_id: row for row in db.session.execute(
        select(Target).where(Target.parent_id == target.id)).scalars()}
    created = changed = removed = 0
    try:
        with db.session.begin_nested():
            for subject_id, amount in amounts.items():
                row = existing.get(subject_id)
                if amount is None:
                    if row is not None:
                        db.session.execute(delete(Target).where(Target.parent_id == row.id))
                        db.session.delete(row)
                        removed += 1
                elif row is None:
                    db.session.add(_child(target, subjects[subject_id], amount, basis, actor))
                    created += 1
                elif row.amount != amount or row.basis != basis:
                    row.amount, row.basis, row.updated_at, row.updated_by_id = amount, basis, now(), actor.id
                    changed += 1
            db.session.flush()
    except IntegrityError:
        raise _conflict() from None
    return {"created": created, "changed": changed, "removed": removed}


def _over(total: int, target: Target) -> str:
    return _("The parts add up to %(total)s, %(over)s more than the target of %(target)s.",
             total=format_money(total), over=format_money(total - target.amount), target=format_money(target.amount))


def split_by_hand(actor: User, target: Target, amounts: dict[int, int | None]) -> dict:
    """Set the parts of `target` as typed: {subject id: minor units, or None to take the part away}.
    Subjects not named keep their part. Every subject must be one of candidates(); the parts may add up
    to less than the target (the rest is unallocated), never more; a rep's part never below the split of
    their stores."""
    permissions.require(permissions.may_split_target(actor, target))
    subjects = {c.id: c for c in candidates(actor, target)}
    for subject_id in amounts:
        if subject_id not in subjects:
            raise DomainError(_("One of the parts is not yours to split this target into (not in your scope, or "
                                "split from another target this month). Reload the page."), 422)
    for amount in amounts.values():
        if amount is not None:
            _check_amount(amount)
    kept = {row.subject_id: row for row in db.session.execute(
        select(Target).where(Target.parent_id == target.id)).scalars()}
    total = sum(a for a in amounts.values() if a is not None) + sum(
        row.amount for sid, row in kept.items() if sid not in amounts)
    if total > target.amount:
        raise DomainError(_over(total, target), 422)
    resplit = []  # reps whose stores were split by last year's sales: split again to their new amount
    if target.level == "region":
        for subject_id, amount in amounts.items():
            row = kept.get(subject_id)
            if row is None or amount is None or amount == row.amount:
                continue
            if _split_automatically(row):
                resplit.append(subject_id)
                continue
            below = queries.allocated(row)
            if amount < below:
                raise DomainError(_("%(name)s's stores are split %(split)s by hand: their target cannot be lower. "
                                    "Change the stores' split first.", name=subjects[subject_id].name,
                                    split=format_money(below)), 422)
    counts = _apply(actor, target, amounts, subjects, "manual")
    audit.record("targets.split", target, actor=actor, month=queries.month_key(target.month), level=target.level,
                 method="manual", parts={str(k): v for k, v in amounts.items()}, **counts)
    for subject_id in resplit:
        row = kept[subject_id]
        if candidates(actor, row):
            split_proportionally(actor, row, cascade=False)
    return counts


def _split_automatically(row: Target) -> bool:
    """The row has parts and every one of them came from a split by last year's sales (or an even one)."""
    bases = set(db.session.execute(select(Target.basis).where(Target.parent_id == row.id)).scalars())
    return bool(bases) and bases <= {"proportional", "even"}


def split_proportionally(actor: User, target: Target, cascade: bool = True) -> dict:
    """Split `target` over all its candidates in proportion to their sales in the same month last year
    (evenly when none of them sold then), to the fen; parts no longer among the candidates are taken away.
    A region's split goes on down to each rep's stores (`cascade`)."""
    permissions.require(permissions.may_split_target(actor, target))
    subjects = candidates(actor, target)
    if not subjects:
        raise DomainError(_("There is nobody to split this target to: no rep works in the region.")
                          if target.level == "region" else
                          _("There is nothing to split this target to: the rep has no active store in the region."),
                          422)
    weights = last_year_sales(target, subjects)
    basis = "proportional" if any(weights.values()) else "even"
    parts = largest_remainder(target.amount, weights)
    gone = {row.subject_id: None for row in db.session.execute(
        select(Target).where(Target.parent_id == target.id)).scalars() if row.subject_id not in parts}
    by_id = {s.id: s for s in subjects}
    counts = _apply(actor, target, {**parts, **gone}, by_id, basis)
    audit.record("targets.split", target, actor=actor, month=queries.month_key(target.month), level=target.level,
                 method=basis, parts={str(k): v for k, v in parts.items()}, **counts)
    if cascade and target.level == "region":
        for row in db.session.execute(select(Target).where(Target.parent_id == target.id)).scalars().all():
            if candidates(actor, row):
                split_proportionally(actor, row, cascade=False)
            else:
                _apply(actor, row, {r.subject_id: None for r in db.session.execute(
                    select(Target).where(Target.parent_id == row.id)).scalars()}, {}, basis)
    return {**counts, "basis": basis}

