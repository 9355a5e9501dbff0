"""Reading the write-off ledger: what was written off per store and per activity, and what budget
is left. Sums of signed lines, so a reversal takes its payment back out; nothing here writes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import func, select

from field.activities.models import ActivityStore
from field.claims.models import LedgerKind, LedgerLine
from field.extensions import db

CHUNK = 1000


def _chunks(ids: Iterable[int]):
    items = sorted(set(ids))
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _net_by(column, ids: Iterable[int]) -> dict[int, int]:
    """Net amount written off (minor units) per value of `column` among `ids`; those with no line are left out."""
    out: dict[int, int] = {}
    for chunk in _chunks(ids):
        out.update(db.session.execute(
            select(column, func.sum(LedgerLine.amount)).where(column.in_(chunk)).group_by(column)).all())
    return {k: int(v) for k, v in out.items()}


def written_off_by_store(activity_store_ids: Iterable[int]) -> dict[int, int]:
    """Net amount written off (minor units) per activity store; stores with no line are left out."""
    return _net_by(LedgerLine.activity_store_id, activity_store_ids)


def written_off_by_activity(activity_ids: Iterable[int]) -> dict[int, int]:
    """Net amount written off per activity (over all its stores: finance counts every yuan)."""
    return _net_by(LedgerLine.activity_id, activity_ids)


def settled_stores(activity_store_ids: Iterable[int]) -> set[int]:
    """Activity stores with a payment that stands (not reversed): their cost is what was written off."""
    reversed_ids = select(LedgerLine.reverses_id).where(LedgerLine.kind == LedgerKind.REVERSAL)
    out: set[int] = set()
    for chunk in _chunks(activity_store_ids):
        out.update(db.session.execute(
            select(LedgerLine.activity_store_id).where(
                LedgerLine.activity_store_id.in_(chunk), LedgerLine.kind == LedgerKind.PAYMENT,
                LedgerLine.id.not_in(reversed_ids)).distinct()).scalars())
    return out


@dataclass(frozen=True)
class Budget:
    """A budget, what was written off against it, and what is left (never below zero)."""

    budget: int
    written_off: int

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.written_off)

    @property
    def used_pct(self) -> float | None:
        """Share used, for display only (money itself is never a float)."""
        return self.written_off * 100 / self.budget if self.budget else None


def store_budget(activity_store: ActivityStore) -> Budget:
    return Budget(activity_store.budget, written_off_by_store([activity_store.id]).get(activity_store.id, 0))


def activity_budgets(activity_ids: Iterable[int]) -> dict[int, Budget]:
    """Budget and written-off per activity, over all its stores."""
    ids = sorted(set(activity_ids))
    totals: dict[int, int] = {}
    for chunk in _chunks(ids):
        totals.update(db.session.execute(
            select(ActivityStore.activity_id, func.sum(ActivityStore.budget))
            .where(ActivityStore.activity_id.in_(chunk)).group_by(ActivityStore.activity_id)).all())
    spent = written_off_by_activity(ids)
    return {i: Budget(int(totals.get(i) or 0), spent.get(i, 0)) for i in ids}


def reversed_line_ids(line_ids: Iterable[int]) -> set[int]:
    """Which of these lines have been reversed."""
    out: set[int] = set()
    for chunk in _chunks(line_ids):
        out.update(db.session.execute(select(LedgerLine.reverses_id).where(LedgerLine.reverses_id.in_(chunk)))
                   .scalars())
    return out
