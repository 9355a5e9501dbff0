"""What the incentive pages read, always through scope: a rep's points and level, the ledger lines, the
team leaderboard of the week or month."""
from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class Place:
    rank: int
    rep: User
    points: int


def leaderboard(viewer: User, period: str, today: date) -> tuple[date, date, list[Place]]:
    """The viewer's team (their regions' reps for a manager; scope.leaderboard_reps says who), most points of the
    week or month first; reps with none count 0 and stand last, by name. Only sums are shown, never a
    teammate's lines."""
    start, end = ops.day_range(period, today)
    reps = scope.leaderboard_reps(viewer)
    sums = (select(PointsEntry.rep_id, func.sum(PointsEntry.points).label("points"))
            .where(PointsEntry.earned_on >= start, PointsEntry.earned_on <= end, PointsEntry.rep_id.in_(reps))
            .group_by(PointsEntry.rep_id).subquery())
    rows = db.session.execute(
        select(User, func.coalesce(sums.c.points, 0)).outerjoin(sums, sums.c.rep_id == User.id)
        .where(User.id.in_(reps)).order_by(func.coalesce(sums.c.points, 0).desc(), User.name, User.id)).all()
    places, rank, last = [], 0, None
    for n, (rep, points) in enumerate(rows, start=1):
        if points != last:
            rank, last = n, points
        places.append(Place(rank, rep, int(points)))
    return start, end, places
