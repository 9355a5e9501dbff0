"""What the incentive pages read, always through scope: a rep's points and level, the ledger lines, the
team leaderboard of the week or month."""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from types import SimpleNamespace
from datetime import date

from sqlalchemy import func, select

from field import scope
from field.auth.models import User
from field.extensions import db
from field.incentives import operations as ops
from field.incentives import rules
from field.incentives.models import PointsEntry, Redemption


def total(rep: User, viewer: User | None = None) -> int:
    """All the rep's points (grants less reversals), as the viewer may see them."""
    stmt = (select(func.coalesce(func.sum(PointsEntry.points), 0))
            .where(scope.rule(PointsEntry, viewer or rep), PointsEntry.rep_id == rep.id))
    return int(db.session.execute(stmt).scalar_one())


def points_between(rep: User, start: date, end: date, viewer: User | None = None) -> int:
    stmt = (select(func.coalesce(func.sum(PointsEntry.points), 0))
            .where(scope.rule(PointsEntry, viewer or rep), PointsEntry.rep_id == rep.id,
                   PointsEntry.earned_on >= start, PointsEntry.earned_on <= end))
    return int(db.session.execute(stmt).scalar_one())


def card(user: User, today: date) -> dict | None:
    """The rep's card on their home: points in all, level, progress to the next, this week's and month's."""
    if not rules_apply(user):
        return None
    points = total(user)
    week, month = ops.day_range("week", today), ops.day_range("month", today)
    return {"standing": rules.standing(points, ops.levels()), "week": points_between(user, *week),
            "month": points_between(user, *month)}


def rules_apply(user: User) -> bool:
    from field import permissions
    return permissions.may_earn_points(user)


def lines(rep: User, viewer: User, limit: int = 50) -> list[PointsEntry]:
    stmt = (scope.query(PointsEntry, viewer).where(PointsEntry.rep_id == rep.id)
            .order_by(PointsEntry.id.desc()).limit(limit))
    return list(db.session.execute(stmt).scalars())


def redemptions(rep: User, viewer: User) -> list[Redemption]:
    stmt = scope.query(Redemption, viewer).where(Redemption.rep_id == rep.id).order_by(Redemption.id.desc())
    return list(db.session.execute(stmt).scalars())


TOP = 100
"""A board shows its first hundred places (a manager's regions may hold thousands of reps)."""


@dataclass
class Place:
    rank: int
    rep: object  # (id, name, login)
    points: int


@dataclass
class Board:
    start: date
    end: date
    places: list[Place]
    reps: int  # on the board in all (more than shown past TOP)


def leaderboard(viewer: User, period: str, today: date) -> Board:
    """The viewer's team (their regions' reps for a manager; scope.leaderboard_reps says who), most points of the
    week or month first; reps with none count 0 and stand last, by name. Only sums are shown, never a
    teammate's lines; the first TOP places."""
    start, end = ops.day_range(period, today)
    # Two plain reads (the board's reps, then their sums in the period's index range) and a sort here: one
    # query joining them made SQLite walk the users for every rep of a manager's regions.
    reps = db.session.execute(scope.leaderboard_reps(viewer).with_only_columns(User.id, User.name, User.login)).all()
    in_range = (PointsEntry.earned_on >= start, PointsEntry.earned_on <= end)
    ids = [rep_id for rep_id, _name, _login in reps]
    if len(ids) <= 500:
        stmt = select(PointsEntry.rep_id, func.sum(PointsEntry.points)).where(*in_range, PointsEntry.rep_id.in_(ids))
    else:  # a big board: every rep's sum in the range, those not on the board dropped below
        stmt = select(PointsEntry.rep_id, func.sum(PointsEntry.points)).where(*in_range)
    sums = dict(db.session.execute(stmt.group_by(PointsEntry.rep_id)).all())
    rows = heapq.nsmallest(TOP, ((rep_id, name, login, int(sums.get(rep_id) or 0)) for rep_id, name, login in reps),
                           key=lambda row: (-row[3], row[1], row[0]))
    total = len(reps)
    places, rank, last = [], 0, None
    for n, (rep_id, name, login, pts) in enumerate(rows, start=1):
        if pts != last:
            rank, last = n, pts
        places.append(Place(rank, SimpleNamespace(id=rep_id, name=name, login=login), int(pts)))
    return Board(start, end, places, total)
