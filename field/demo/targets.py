"""Demo sales targets (销售指标): this month's target for each area, set by its manager at a tenth above what the
area sold last month, split to the reps and on to their stores by hand in proportion to last month's sales —
so the targets page, the dashboards and each rep's home show completion from the first look. Through
field.targets.operations, as a manager would set them (audited)."""
from __future__ import annotations

from sqlalchemy import select

from field.auth.models import Region, User
from field.core import company_today
from field.extensions import db
from field.targets import operations, queries
from field.targets.split import largest_remainder

# area code → the login of the manager who sets its target
AREAS = {"SH-PX": "manager1", "SH-PD": "manager1", "CD-N": "manager2", "CD-S": "manager2"}
ROUND = 100_000  # fen: targets in whole thousands of yuan
UPLIFT = (11, 10)


def _by_hand(actor: User, target, weights: dict[int, int]) -> None:
    """Split `target` by the weights (subjects without sales left out), in whole yuan as a manager types them."""
    weights = {k: w for k, w in weights.items() if w > 0}
    if weights:
        yuan = largest_remainder(target.amount // 100, weights)
        operations.split_by_hand(actor, target, {k: v * 100 for k, v in yuan.items()})


def build() -> dict:
    month = queries.month_start(company_today())
    last_month = queries.add_months(month, -1)
    regions = {r.code: r for r in db.session.execute(select(Region).where(Region.code.in_(AREAS))).scalars()}
    managers = {u.login: u for u in db.session.execute(select(User).where(User.login.in_(set(AREAS.values()))))
                .scalars()}
    made = 0
    for code, login in AREAS.items():
        region, manager = regions.get(code), managers.get(login)
        if region is None or manager is None:
            continue
        sold = queries.region_sales(region, last_month)
        if not sold:
            continue
        amount = -(-sold * UPLIFT[0] // (UPLIFT[1] * ROUND)) * ROUND  # rounded up
        target = operations.set_region_target(manager, region, month, amount)
        reps = operations.candidates(manager, target)
        _by_hand(manager, target, queries.rep_sales(last_month, [r.id for r in reps]))
        made += 1
        for rep_target in queries.children(target, manager):
            stores = operations.candidates(manager, rep_target)
            _by_hand(manager, rep_target, queries.store_sales(last_month, [s.id for s in stores]))
    return {"targets": made}
