"""What visits asks of competitors (the promotion types a sighting may name) and hears from it (a step
saved): registered at start-up, since visits sits below competitors and never imports it."""
from __future__ import annotations

from datetime import timedelta

from flask import has_request_context
from sqlalchemy import delete, select

from field import providers
from field.competitors.models import CompetitorPromotionType, CompetitorSighting
from field.core import local_today
from field.extensions import db
from field.i18n import locale_code
from field.visits.models import StepKind


def promotion_types() -> dict[str, str]:
    """The active promotion types as the step's form offers them: {id as text: name in the reader's language}."""
    locale = locale_code() if has_request_context() else ""
    rows = db.session.execute(select(CompetitorPromotionType).where(CompetitorPromotionType.active.is_(True))
                              .order_by(CompetitorPromotionType.id)).scalars()
    return {str(t.id): t.label(locale) for t in rows}


def sightings_from(visit, step, result) -> list[CompetitorSighting]:
    """The rows one saved competitor step stands for (none for a skipped step)."""
    if result.status != "done":
        return []
    store = visit.store
    seen_on = local_today(visit.rep, result.saved_at)
    week = seen_on - timedelta(days=seen_on.weekday())
    return [CompetitorSighting(
        visit_id=visit.id, step_id=step.id, store_id=store.id, rep_id=visit.rep_id, region_id=store.region_id,
        channel=store.channel or "", seen_on=seen_on, week=week, brand=row["brand"], product=row.get("product", ""),
        price=row["price"], promotion_type_id=int(row["promotion"]) if row.get("promotion") else None,
        display=row.get("display") or "other", facings=row.get("facings") or 0)
        for row in (result.value or {}).get("sightings", [])]


def step_saved(visit, step, result, actor=None) -> None:
    """Replace the sightings of this visit's step with those of its saved result.

    The step result is the rep's record (audited as visit.step); sightings are derived from it for the
    report, so replacing them when the step is saved again (or skipped) is rebuilding a copy, not
    editing evidence: they always say what the step's latest save says."""
    if step.kind != StepKind.COMPETITOR:
        return
    db.session.flush()
    db.session.execute(delete(CompetitorSighting).where(CompetitorSighting.visit_id == visit.id,
                                                        CompetitorSighting.step_id == step.id))
    db.session.add_all(sightings_from(visit, step, result))


providers.register("competitor_promotion_types", promotion_types)
providers.listen("visit.step_saved", step_saved)
