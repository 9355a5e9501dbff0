"""Demo incentives: five levels with their rewards, three tasks for the East this month, and the points the
demo's verified work already earned (the rules run once, as `flask incentives-grant` would)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from field.auth.models import Region, User
from field.core import company_today
from field.extensions import db
from field.incentives import rules
from field.incentives.models import IncentiveLevel, IncentiveTask

LEVELS = (("新人", 0, []), ("青铜", 50, ["电影票两张"]), ("白银", 150, ["加油卡 100 元", "优先选线路"]),
          ("黄金", 400, ["带薪休假一天"]), ("钻石", 1000, ["年度旅游名额"]))


def build() -> dict:
    east = db.session.execute(select(Region).where(Region.code == "EAST")).scalar_one_or_none()
    manager = db.session.execute(select(User).where(User.login == "manager1")).scalar_one_or_none()
    if east is None or manager is None:
        return {"incentive_tasks": 0, "points_lines": 0}
    db.session.add_all([IncentiveLevel(name=n, threshold=t, rewards=r) for n, t, r in LEVELS])
    today = company_today()
    start = today - timedelta(days=30)
    tasks = [IncentiveTask(name="举证一次通过", kind=rules.FIRST_APPROVED, points=20, target=1, region=east,
                           period_start=start, period_end=today + timedelta(days=30), created_by=manager),
             IncentiveTask(name="完整跑完路线 3 天", kind=rules.ROUTE_DAYS, points=50, target=3, region=east,
                           period_start=start, period_end=today + timedelta(days=30), created_by=manager),
             IncentiveTask(name="跟进事项按时关闭", kind=rules.FOLLOW_UP, points=5, target=1, region=east,
                           period_start=start, period_end=today + timedelta(days=30), created_by=manager)]
    db.session.add_all(tasks)
    db.session.flush()
    result = rules.evaluate_all(today=today)
    return {"incentive_tasks": len(tasks), "points_lines": result.granted + result.reversed}
