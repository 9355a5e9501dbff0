"""Demo dealers: the company's six distributors as records (each in the region of the stores it supplies),
the stores linked to them, three tiers with criteria (价值渠道, 战略渠道, 潜力渠道), and the last three
months recomputed, so the scorecards have trends and the tiers page has proposals to confirm."""
from __future__ import annotations

from sqlalchemy import select

from field import audit
from field.channel import operations as channel_ops
from field.auth.models import User
from field.channel.models import Tier, TierCriterion, TierProposal
from field.channel.tiers import add_months
from field.core import company_today
from field.dealers.models import Dealer
from field.demo.company import DEALERS
from field.extensions import db
from field.stores import dealer_links
from field.stores.models import Store


def build() -> dict:
    n = 0
    for city, names in DEALERS.items():
        for i, name in enumerate(names, start=1):
            region_id = db.session.execute(select(Store.region_id).where(Store.dealer == name).limit(1)
                                           ).scalar_one_or_none()
            if region_id is None:
                continue
            db.session.add(Dealer(code=f"{city}-D{i:02d}", name=name, region_id=region_id, tier="",
                                  contact_name=["王经理", "李经理", "张经理"][i - 1], phone=f"1380000{i:04d}",
                                  address="", active=True))
            n += 1
    db.session.flush()
    dealer_links.link_by_name(actor=audit.SYSTEM)
    top, mid, low = Tier(name="价值渠道", rank=3), Tier(name="战略渠道", rank=2), Tier(name="潜力渠道", rank=1)
    db.session.add_all([top, mid, low])
    # Thresholds in fen: ¥4,000,000 over three months and ¥1,000,000 a month.
    db.session.add_all([TierCriterion(tier=top, metric="sales_3m", threshold=400_000_000),
                        TierCriterion(tier=top, metric="coverage", threshold=60),
                        TierCriterion(tier=mid, metric="sales_month", threshold=100_000_000),
                        TierCriterion(tier=mid, metric="compliance", threshold=60)])
    db.session.flush()
    manager = db.session.execute(select(User).where(User.login == "manager1")).scalar_one_or_none()
    month = add_months(company_today().replace(day=1), -1)
    for back in (2, 1, 0):
        channel_ops.recompute(add_months(month, -back), actor=audit.SYSTEM)
        db.session.flush()
        if back == 2 and manager is not None:  # the first tiers were confirmed; last month's changes wait
            for proposal in db.session.execute(select(TierProposal)).scalars():
                channel_ops.decide(proposal, True, manager)
    return {"dealers": n}
