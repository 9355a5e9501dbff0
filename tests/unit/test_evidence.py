"""Evidence bound to an activity's store and check period: who binds what, to which period, what
counts (voided photos do not), what a store still needs, and the rows that are never changed."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from field.activities import evidence, progress
from field.activities.models import ActivityStatus as S, Evidence, Review, Verdict
from field.audit import AuditEvent
from field.core import Conflict, DomainError, now
from field.extensions import db
from field.visits.models import VisitStatus
from field.core import company_today
from tests.factories import make_activity, make_photo, make_store, promo_visit, running

pytestmark = pytest.mark.usefixtures("request_ctx")


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def shop(org):
    return make_store(rep=org.rep, code="E-SHOP", name="Hongqiao Mart")


@pytest.fixture
def line(org, shop):
    return running(org.rep, [shop]).stores[0]


def today_period(line):
    return evidence.current_period(line, company_today())


# --- binding -----------------------------------------------------------------------------------

def test_a_photo_binds_to_the_current_period_and_counts_until_voided(org, shop, line):
    visit, step = promo_visit(org.rep, shop)
    period = today_period(line)
    assert period.index == 1
    first, second = make_photo(visit, step), make_photo(visit, step)
    status = progress.evidence_status(line, period)
    assert (status.photos_have, status.photos_missing, status.needs_evidence) == (0, 2, True)

    row = evidence.bind_photo(first, line, 1, {"价签可见": True, "POSM 到位": False}, org.rep)
    assert (row.activity_store_id, row.period_index, row.photo_id, row.unconfirmed) == (line.id, 1, first.id, 1)
    evidence.bind_photo(second, line, 1, {"价签可见": True, "POSM 到位": True}, org.rep)
    status = progress.evidence_status(line, period)
    assert (status.photos_have, status.needs_evidence, status.awaiting_review) == (2, False, True)
    assert [e.action for e in db.session.execute(select(AuditEvent)).scalars()] == ["evidence.bind"] * 2

    second.voided_at = now()
    db.session.commit()
    status = progress.evidence_status(line, period)
    assert (status.photos_have, status.needs_evidence) == (1, True)
    assert count(Evidence) == 2  # the row stays; the voided photo just stops counting


def test_binding_the_same_photo_again_answers_the_row_already_stored(org, shop, line):
    visit, step = promo_visit(org.rep, shop)
    photo = make_photo(visit, step)
    one = evidence.bind_photo(photo, line, 1, {}, org.rep)
    rows, new = evidence.bind_photos([photo], line, 1, {"价签可见": True}, org.rep)
    assert rows[0].id == one.id and new == 0
    assert count(Evidence) == 1 and count(AuditEvent) == 1


def _refused(exc_type, status, call):
    db.session.commit()  # what the test did before stands, as a request's commit would keep it
    before = (count(Evidence), count(AuditEvent))
    with pytest.raises(exc_type) as refused:
        call()
    db.session.rollback()
    assert refused.value.status == status
    assert (count(Evidence), count(AuditEvent)) == before
    return refused.value.message


def test_binding_refuses_what_is_not_this_reps_live_photo_of_this_store_and_period(org, shop, line):
    visit, step = promo_visit(org.rep, shop)
    other_shop = make_store(rep=org.rep, code="E-OTHER")
    other_visit, other_step = promo_visit(org.rep, other_shop)
    team_visit, team_step = promo_visit(org.teammate, shop)

    assert "Only the rep who took" in _refused(DomainError, 403, lambda: evidence.bind_photo(
        make_photo(team_visit, team_step), line, 1, {}, org.rep))
    assert "voided" in _refused(Conflict, 409, lambda: evidence.bind_photo(
        make_photo(visit, step, voided=True), line, 1, {}, org.rep))
    assert "another store" in _refused(DomainError, 422, lambda: evidence.bind_photo(
        make_photo(other_visit, other_step), line, 1, {}, org.rep))
    assert "another check period" in _refused(DomainError, 422, lambda: evidence.bind_photo(
        make_photo(visit, step), line, 2, {}, org.rep))
    old = make_photo(visit, step, at=now() - timedelta(days=8))  # taken in period 0, which is over
    assert "period is over" in _refused(DomainError, 422, lambda: evidence.bind_photo(old, line, 0, {}, org.rep))

    ended = make_activity(org.rep, [shop], status=S.ENDED, start=company_today() - timedelta(days=3),
                          title="ended").stores[0]
    assert "not running" in _refused(Conflict, 409, lambda: evidence.bind_photo(
        make_photo(visit, step), ended, 0, {}, org.rep))


def test_a_photo_is_evidence_for_one_activity_store_only(org, shop, line):
    other = running(org.rep, [shop], title="second").stores[0]
    visit, step = promo_visit(org.rep, shop)
    photo = make_photo(visit, step)
    evidence.bind_photo(photo, line, 1, {}, org.rep)
    assert "already evidence" in _refused(Conflict, 409, lambda: evidence.bind_photo(photo, other, 1, {}, org.rep))


def test_all_or_nothing_when_one_photo_of_several_is_refused(org, shop, line):
    visit, step = promo_visit(org.rep, shop)
    good, voided = make_photo(visit, step), make_photo(visit, step, voided=True)
    _refused(Conflict, 409, lambda: evidence.bind_photos([good, voided], line, 1, {}, org.rep))


def test_checklist_answers_must_come_from_the_types_checklist(line):
    kind = line.activity.type
    assert evidence.answers(kind.checklist, ["价签可见"]) == {"价签可见": True, "POSM 到位": False}
    with pytest.raises(DomainError, match="checklist has changed"):
        evidence.answers(kind.checklist, ["价签可见", "冰柜干净"])


def test_checklist_alone_is_evidence_from_the_stores_rep_only(org, shop):
    line = running(org.rep, [shop], photos=0, checklist=("冰柜到位",)).stores[0]
    rows, new = evidence.bind_photos([], line, 1, {"冰柜到位": True}, org.rep)
    assert new == 1 and rows[0].photo_id is None
    status = progress.evidence_status(line, today_period(line))
    assert (status.photos_required, status.rows, status.needs_evidence) == (0, 1, False)
    assert "store's rep" in _refused(DomainError, 403, lambda: evidence.bind_photos(
        [], line, 1, {"冰柜到位": True}, org.supervisor))
    assert "nothing to save" in _refused(DomainError, 422, lambda: evidence.bind_photos([], line, 1, {}, org.rep))
    assert "nothing to save" in _refused(DomainError, 422, lambda: evidence.bind_photos(
        [], line, 1, {"冰柜到位": False}, org.rep))


def test_unbound_step_photos_are_the_reps_live_unused_ones(org, shop, line):
    visit, step = promo_visit(org.rep, shop)
    used, free, voided = make_photo(visit, step), make_photo(visit, step), make_photo(visit, step, voided=True)
    evidence.bind_photo(used, line, 1, {}, org.rep)
    assert evidence.unbound_step_photos(visit, step, org.rep) == [free]
    assert evidence.unbound_step_photos(visit, step, org.teammate) == []
    assert voided.id not in [p.id for p in evidence.unbound_step_photos(visit, step, org.rep)]


# --- what a store still needs ----------------------------------------------------------------------

def test_needs_evidence_names_the_activities_a_store_owes_this_period(org, shop):
    quiet = make_store(rep=org.rep, code="E-QUIET")
    done_shop = make_store(rep=org.rep, code="E-DONE")
    a = running(org.rep, [shop, done_shop], photos=1, title="端架")
    running(org.rep, [shop], photos=1, title="试吃")
    visit, step = promo_visit(org.rep, done_shop)
    evidence.bind_photo(make_photo(visit, step), a.stores[1], 1, {"价签可见": True, "POSM 到位": True}, org.rep)

    today = company_today()
    found = progress.needs_evidence([shop.id, quiet.id, done_shop.id], today, org.rep)
    assert found == {shop.id: ["端架", "试吃"]}
    assert progress.needs_evidence([shop.id], today, org.west_rep) == {}
    assert progress.needs_evidence([shop.id], today - timedelta(days=30), org.rep) == {}


def test_a_rejection_asks_for_evidence_again_until_new_evidence_comes_in(org, shop, line):
    visit, step = promo_visit(org.rep, shop)
    evidence.bind_photos([make_photo(visit, step), make_photo(visit, step)], line, 1, {}, org.rep)
    newest = progress.tallies([line.id])[(line.id, 1)].newest
    db.session.add(Review(activity_store=line, period_index=1, verdict=Verdict.REJECTED, reason="unclear",
                          note="太暗", reviewer=org.supervisor, evidence_upto=newest))
    db.session.commit()
    status = progress.evidence_status(line, today_period(line))
    assert status.rejected and status.needs_evidence and (status.reason, status.note) == ("unclear", "太暗")
    assert progress.needs_evidence([shop.id], company_today(), org.rep) == {shop.id: ["堆头活动"]}

    evidence.bind_photo(make_photo(visit, step), line, 1, {}, org.rep)
    status = progress.evidence_status(line, today_period(line))
    assert status.has_new and not status.needs_evidence and status.awaiting_review
    assert progress.needs_evidence([shop.id], company_today(), org.rep) == {}


def test_reviews_appended_without_a_predecessor_follow_the_latest(org, line):
    for verdict in (Verdict.APPROVED, Verdict.REJECTED, Verdict.APPROVED):
        db.session.add(Review(activity_store=line, period_index=0, verdict=verdict, reviewer=org.supervisor))
        db.session.commit()
    chain = db.session.execute(select(Review.id, Review.previous_id).order_by(Review.id)).all()
    assert [prev for _id, prev in chain] == [0, chain[0][0], chain[1][0]]


# --- what visits ask of activities (field/activities/for_visits.py) ---------------------------------

def test_visits_ask_activities_through_the_registered_providers(org, shop, line):
    from flask_login import login_user
    from field import providers
    login_user(org.rep)  # the visit page asks as the signed-in rep
    quiet = make_store(rep=org.rep, code="E-QUIET")
    other = make_store(rep=org.west_rep, code="E-WEST")
    running(org.west_rep, [other], title="西区")
    visit, step = promo_visit(org.rep, shop, status=VisitStatus.IN_PROGRESS)
    evidence.bind_photo(make_photo(visit, step), line, 1, {}, org.rep)
    today = company_today()

    items = providers.ask("visit_evidence", visit, step, default=None)
    assert [(i.activity_store.id, len(i.photos), i.status.photos_have) for i in items] == [(line.id, 1, 1)]
    assert providers.ask("needs_evidence", [shop.id, quiet.id], today, org.rep) == {shop.id: ["堆头活动"]}
    live = providers.ask("live_activity_stores", org.rep.id, today)
    assert db.session.execute(live).scalars().all() == [shop.id]
    assert db.session.execute(providers.ask("live_activity_stores", org.rep.id, today + timedelta(days=60))
                              ).scalars().all() == []
