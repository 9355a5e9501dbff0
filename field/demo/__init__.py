"""The demo a first run shows: a company (company.py) and three months of its promotions
(promotions.py), seeded into an empty database by `flask seed-demo`, and the logins to try it.

seed() is one unit of work, like a job: everything it makes is staged and committed once at
its end, so a seed that fails leaves the database as empty as it found it (and a second run can
try again) instead of half a demo that is_seeded() would then keep."""
from __future__ import annotations

from sqlalchemy import func, select

from field import audit, transaction
from field.auth.models import User
from field.demo import company, dealers, orders, promotions, targets, workdays
from field.demo import competitors as competitor_sightings
from field.demo.company import BOUNDS, CITY_NAMES, LOGINS, PASSWORD, SEED, USERS, store_rows
from field.extensions import db

__all__ = ["BOUNDS", "CITY_NAMES", "LOGINS", "PASSWORD", "SEED", "USERS", "is_seeded", "login_rows", "seed",
           "store_rows"]


def is_seeded() -> bool:
    """Whether the database has users already (the demo's or a production setup's)."""
    return db.session.scalar(select(func.count()).select_from(User)) > 0


def seed() -> dict:
    """Create the demo company and its promotions in the current (empty) database and commit.
    Returns the counts of what was made."""
    counts = company.build()
    counts.update(promotions.build(SEED))
    counts.update(dealers.build())  # issue 17 (before orders: orders reuses its dealer)
    from field.demo import incentives
    counts.update(incentives.build())  # the incentives helper's levels, tasks and points earned
    counts.update(competitor_sightings.build(SEED))
    counts.update(orders.build())  # a dealer, its staff member dealer1 and a few orders (field/orders)
    counts.update(workdays.build(SEED))
    counts.update(targets.build())  # this month's targets per area, split to reps and stores by last month's sales
    audit.record("demo.seed", None, **counts)
    transaction.commit()
    return counts


def login_rows() -> list[tuple[str, str, str, str, str]]:
    """(role, login, name, regions, password) for each demo user in the database."""
    by_login = {u.login: u for u in db.session.scalars(select(User).where(User.login.in_(LOGINS)))}
    return [(u.role, u.login, u.name, "、".join(r.name for r in u.regions), PASSWORD)
            for u in (by_login[login] for login in LOGINS if login in by_login)]
