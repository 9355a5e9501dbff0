"""Points granted as the verified outcomes happen: a visit checked out (route days, A-tier frequency,
follow-ups closed on time, a new store's first visit) and a review recorded (evidence approved at first submission, or a later
rejection that reverses it). They join the request's transaction: the grant commits with the outcome.
`flask incentives-grant` runs the same rules over every rep (a missed event, a task set afterwards)."""
from sqlalchemy import select

from field import providers
from field.activities.models import Evidence
from field.extensions import db
from field.incentives import rules

VISIT_KINDS = (rules.ROUTE_DAYS, rules.A_TIER, rules.FOLLOW_UP, rules.NEW_STORE)


def on_checkout(visit) -> None:
    rules.evaluate_all(only=[visit.rep_id], kinds=VISIT_KINDS)


def on_review(review) -> None:
    reps = db.session.execute(select(Evidence.created_by_id).where(
        Evidence.activity_store_id == review.activity_store_id, Evidence.period_index == review.period_index)
        .distinct()).scalars().all()
    if reps:
        rules.evaluate_all(only=sorted(reps), kinds=(rules.FIRST_APPROVED,))


providers.listen("visit.checked_out", on_checkout)
providers.listen("review.recorded", on_review)
