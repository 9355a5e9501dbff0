"""The demo's competitor sightings: the competitor step of the demo's completed promotion visits, filled in
as a rep would (a step result each, one to three competitor products), and the sightings derived from them
as saving the step derives them (field/competitors/for_visits.py)."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from field.competitors.for_visits import sightings_from
from field.competitors.models import CompetitorPromotionType
from field.extensions import db
from field.visits.models import StepKind, StepResult, Visit, VisitStatus, VisitType

BRANDS = {"康师傅": ("冰红茶 500ml", 350), "统一": ("绿茶 500ml", 330), "农夫山泉": ("东方树叶 500ml", 500),
          "元气森林": ("气泡水 480ml", 550), "可口可乐": ("可乐 330ml", 300)}
DISPLAYS = ("shelf", "end_cap", "floor_stack", "cooler", "counter")
MOST = 80


def build(seed: int) -> dict:
    rnd = random.Random(seed + 17)
    promotion = db.session.scalar(select(VisitType).where(VisitType.code == "promotion"))
    step = next((s for s in promotion.steps if s.kind == StepKind.COMPETITOR), None) if promotion else None
    if step is None:
        return {"competitor_sightings": 0}
    kinds = list(db.session.scalars(select(CompetitorPromotionType).where(CompetitorPromotionType.active.is_(True))))
    visits = db.session.scalars(select(Visit).where(Visit.visit_type_id == promotion.id,
                                                    Visit.status == VisitStatus.COMPLETED)
                                .order_by(Visit.checkin_at.desc()).limit(MOST)).all()
    made = 0
    for visit in visits:
        rows = []
        for brand in rnd.sample(sorted(BRANDS), rnd.randint(1, 3)):
            product, price = BRANDS[brand]
            kind = rnd.choice(kinds) if kinds and rnd.random() < 0.5 else None
            rows.append({"brand": brand, "product": product,
                         "price": price - (rnd.choice((30, 50, 80)) if kind else 0) + rnd.choice((0, 0, 20)),
                         "promotion": str(kind.id) if kind else None, "promotion_name": kind.name if kind else "",
                         "display": rnd.choice(DISPLAYS), "facings": rnd.randint(1, 12)})
        result = StepResult(visit=visit, step=step, status="done", value={"sightings": rows}, skip_reason="",
                            saved_at=visit.checkin_at + timedelta(minutes=12))
        db.session.add(result)
        sightings = sightings_from(visit, step, result)
        db.session.add_all(sightings)
        made += len(sightings)
    return {"competitor_sightings": made}
