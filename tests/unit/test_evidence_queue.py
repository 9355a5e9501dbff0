"""The verification queue and its verdicts: what waits and in which order, what is overdue, the
review state machine (append-only, latest stands, what may be reviewed when), two reviewers at
once, bulk approval, scope, and compliance moving with the verdicts, at the payout floor."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from field.activities import evidence, progress, queue, reviews, rules
from field.activities.models import ActivityStatus as S, Evidence, Review, Verdict
from field.activities.rules import Compliance
from field.audit import AuditEvent
from field.core import Conflict, DomainError, now
from field.extensions import db
from field.core import company_today
from tests.factories import make_activity, make_photo, make_store, make_type, past_evidence, promo_visit, running

pytestmark = pytest.mark.usefixtures("request_ctx")


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def today():
    return company_today()


@pytest.fixture
def shops(org):
    return [make_store(rep=org.rep, code=f"E-{i}", name=f"East {i}") for i in range(3)]


def bind_now(rep, line, photos=2, flags=(), checklist=None):
    visit, step = promo_visit(rep, line.store)
    answers = checklist if checklist is not None else {item: True for item in line.activity.type.checklist}
    items = [make_photo(visit, step, flags=flags) for _ in range(photos)]
    evidence.bind_photos(items, line, 1, answers, rep)
    return items


def item_of(line, index, today, user):
    return queue.one(line, index, today, user)


def decide(line, index, verdict, who, today, reason="", note=""):
    item = item_of(line, index, today, who)
    return reviews.record(item, verdict, who, reason=reason, note=note, seen_review=item.review_id,
                        seen_evidence=item.newest)


# --- what waits, in which order --------------------------------------------------------------------

def test_flagged_items_come_first_then_the_longest_waiting(org, shops, today):
    activity = running(org.rep, shops, photos=1)
    old, clean, flagged = activity.stores
    visit, step = promo_visit(org.rep, old.store)
    past_evidence(old, 0, visit, step)                     # waiting nine days
    bind_now(org.rep, clean, photos=1)                     # waiting since now
    bind_now(org.rep, flagged, photos=1, flags=["exact_reuse"])
    keys = [w.key for w in queue.waiting(org.supervisor)]
    assert keys == [(flagged.id, 1), (old.id, 0), (clean.id, 1)]
    attention = {w.key: w.attention for w in queue.waiting(org.supervisor)}
    assert attention == {(flagged.id, 1): True, (old.id, 0): False, (clean.id, 1): False}


def test_too_few_photos_or_an_unconfirmed_item_needs_attention(org, shops, today):
    short, unticked, fine = running(org.rep, shops, photos=2).stores
    bind_now(org.rep, short, photos=1)
    bind_now(org.rep, unticked, photos=2, checklist={"价签可见": True, "POSM 到位": False})
    bind_now(org.rep, fine, photos=2)
    assert {w.key: w.attention for w in queue.waiting(org.supervisor)} == {
        (short.id, 1): True, (unticked.id, 1): True, (fine.id, 1): False}
    items = {i.key: i for i in queue.load([(short.id, 1), (unticked.id, 1), (fine.id, 1)], today, org.supervisor)}
    assert items[(short.id, 1)].too_few and items[(unticked.id, 1)].unconfirmed == ["POSM 到位"]
    assert not items[(fine.id, 1)].attention


def test_the_latest_answers_decide_the_checklist(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    bind_now(org.rep, line, photos=1, checklist={"价签可见": True, "POSM 到位": False})
    bind_now(org.rep, line, photos=1, checklist={"价签可见": True, "POSM 到位": True})
    assert [w.attention for w in queue.waiting(org.supervisor)] == [False]
    assert item_of(line, 1, today, org.supervisor).unconfirmed == []


def test_overdue_periods_are_over_without_evidence_or_review(org, shops, today):
    first, second, third = running(org.rep, shops, start_days_ago=15).stores  # periods 0 and 1 over, 2 runs
    visit, step = promo_visit(org.rep, first.store)
    past_evidence(first, 0, visit, step)
    decide(second, 0, Verdict.REJECTED, org.supervisor, today, reason="no_evidence")
    found = [w.key for w in queue.overdue(org.supervisor, today)]
    assert found == sorted([(first.id, 1), (second.id, 1), (third.id, 0), (third.id, 1)],
                           key=lambda k: (k[1], k[0]))
    assert all(w.overdue and not w.attention for w in queue.overdue(org.supervisor, today))


def test_a_reviewed_item_leaves_and_comes_back_with_new_evidence(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    bind_now(org.rep, line, photos=1)
    decide(line, 1, Verdict.APPROVED, org.supervisor, today)
    assert queue.waiting(org.supervisor) == []
    new = bind_now(org.rep, line, photos=1)[0]
    waiting = queue.waiting(org.supervisor)
    assert [w.key for w in waiting] == [(line.id, 1)]
    item = item_of(line, 1, today, org.supervisor)
    assert item.pending and item.review.verdict == Verdict.APPROVED
    assert [p.id for p in item.photos if item.is_new(p)] == [new.id]


def test_a_voided_photo_alone_puts_nothing_in_the_queue(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    photo = bind_now(org.rep, line, photos=1)[0]
    photo.voided_at = now()
    db.session.commit()
    assert queue.waiting(org.supervisor) == []


def test_a_voided_photo_counts_neither_as_a_photo_nor_as_a_flag(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    bind_now(org.rep, line, photos=1)
    flagged = bind_now(org.rep, line, photos=1, flags=["exact_reuse"])[0]
    assert [w.attention for w in queue.waiting(org.supervisor)] == [True]
    flagged.voided_at = now()
    db.session.commit()
    assert [w.attention for w in queue.waiting(org.supervisor)] == [False]
    short = running(org.rep, shops[1:2], photos=2).stores[0]
    photos = bind_now(org.rep, short, photos=2)
    photos[0].voided_at = now()
    db.session.commit()
    assert {w.key: w.attention for w in queue.waiting(org.supervisor)} == {(line.id, 1): False, (short.id, 1): True}


def test_a_page_of_the_queue_is_a_slice_of_its_order_with_both_counts(org, shops, today):
    first, second, third = running(org.rep, shops, photos=1).stores  # period 0 is over, 1 runs
    bind_now(org.rep, first, photos=1)
    bind_now(org.rep, second, photos=1, flags=["exact_reuse"])
    bind_now(org.rep, third, photos=1)
    order = [w.key for w in queue.waiting(org.supervisor)]
    assert order == [(second.id, 1), (first.id, 1), (third.id, 1)]
    one, two = (queue.page_of(org.supervisor, today, number=n, size=2) for n in (1, 2))
    assert [i.key for i in one.items + two.items] == order
    assert (one.total, one.pages, one.waiting, one.overdue) == (3, 2, 3, 3)  # period 0 of each is over, empty
    newest = db.session.execute(select(func.max(Evidence.id)).where(Evidence.activity_store_id == third.id)).scalar()
    assert two.items[0].newest == newest and two.items[0].rows == 1
    assert queue.page_of(org.supervisor, today, number=9, size=2).page == 2
    late = queue.page_of(org.supervisor, today, show="overdue", size=2)
    assert late.total == 3 and [i.key[1] for i in late.items] == [0, 0] and not any(i.rows for i in late.items)
    rejected = decide(first, 1, Verdict.REJECTED, org.supervisor, today, reason="unclear")
    bind_now(org.rep, first, photos=1)
    back = {i.key: i for i in queue.page_of(org.supervisor, today).items}
    assert back[(first.id, 1)].review.id == rejected.id and back[(first.id, 1)].pending
    assert back[(second.id, 1)].review is None


def test_each_item_shows_the_stores_last_approved_photo_from_another_period(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    visit, step = promo_visit(org.rep, line.store)
    approved = past_evidence(line, 0, visit, step)[0]
    decide(line, 0, Verdict.APPROVED, org.supervisor, today)
    bind_now(org.rep, line, photos=1)
    item = item_of(line, 1, today, org.supervisor)
    assert item.reference is not None and item.reference.id == approved.photo_id
    assert item_of(line, 0, today, org.supervisor).reference is None  # not its own photo


# --- scope -------------------------------------------------------------------------------------

def test_a_supervisor_sees_only_the_teams_evidence(org, today):
    east = make_store(rep=org.rep, code="E-1")
    west = make_store(rep=org.west_rep, code="W-1")
    east_line = running(org.rep, [east], photos=1).stores[0]
    west_line = running(org.west_rep, [west], photos=1, title="west").stores[0]
    bind_now(org.rep, east_line, photos=1)
    bind_now(org.west_rep, west_line, photos=1)
    assert [w.key for w in queue.waiting(org.supervisor)] == [(east_line.id, 1)]
    assert [w.key for w in queue.waiting(org.west_supervisor)] == [(west_line.id, 1)]
    assert [w.key for w in queue.waiting(org.manager)] == [(east_line.id, 1)]
    assert queue.load([(west_line.id, 1)], today, org.supervisor) == []


def test_reps_and_admins_do_not_review(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    bind_now(org.rep, line, photos=1)
    item = item_of(line, 1, today, org.admin)
    for who in (org.rep, org.admin):
        with pytest.raises(DomainError) as refused:
            reviews.record(item, Verdict.APPROVED, who, seen_review=0, seen_evidence=item.newest)
        assert refused.value.status == 403
    assert count(Review) == 0


# --- the review state machine --------------------------------------------------------------------

def test_reviews_are_appended_and_the_latest_stands(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    bind_now(org.rep, line, photos=1)
    first = decide(line, 1, Verdict.REJECTED, org.supervisor, today, reason="unclear", note="太暗")
    second = decide(line, 1, Verdict.APPROVED, org.manager, today)
    assert second.previous_id == first.id and first.previous_id == 0
    assert db.session.get(Review, first.id).verdict == Verdict.REJECTED  # never edited
    assert progress.evidence_status(line, item_of(line, 1, today, org.rep).period).verified
    assert [e.action for e in db.session.execute(select(AuditEvent).where(
        AuditEvent.object_type == "reviews").order_by(AuditEvent.id)).scalars()] == ["review.reject", "review.approve"]


@pytest.mark.parametrize("verdict,reason,note,message", [
    ("maybe", "", "", "Approve or reject"),
    (Verdict.REJECTED, "", "", "Pick the reason"),
    (Verdict.REJECTED, "bad_vibes", "", "Pick the reason"),
    (Verdict.REJECTED, "other", "  ", "Say what is wrong"),
    (Verdict.REJECTED, "unclear", "x" * 501, "At most 500"),
])
def test_a_verdict_needs_its_reason(org, shops, today, verdict, reason, note, message):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    bind_now(org.rep, line, photos=1)
    item = item_of(line, 1, today, org.supervisor)
    with pytest.raises(DomainError, match=message) as refused:
        reviews.record(item, verdict, org.supervisor, reason=reason, note=note, seen_review=0, seen_evidence=item.newest)
    assert refused.value.status == 422 and count(Review) == 0


def test_a_period_not_yet_due_cannot_be_reviewed(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    for index in (1, 2):  # running without evidence; not started
        item = item_of(line, index, today, org.supervisor)
        with pytest.raises(DomainError, match="not due yet") as refused:
            reviews.record(item, Verdict.REJECTED, org.supervisor, reason="no_evidence", seen_review=0,
                         seen_evidence=0)
        assert refused.value.status == 422
    assert count(Review) == 0


def test_an_overdue_period_without_evidence_is_rejected_never_approved(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    item = item_of(line, 0, today, org.supervisor)
    assert item.overdue and item.due
    with pytest.raises(DomainError, match="no evidence to approve"):
        reviews.record(item, Verdict.APPROVED, org.supervisor, seen_review=0, seen_evidence=0)
    review = reviews.record(item, Verdict.REJECTED, org.supervisor, reason="no_evidence", seen_review=0,
                          seen_evidence=0)
    assert review.verdict == Verdict.REJECTED and queue.overdue(org.supervisor, today) == []


def test_an_activity_not_running_is_not_reviewed(org, shops, today):
    line = make_activity(org.rep, shops[:1], status=S.DRAFT, start=today - timedelta(days=10)).stores[0]
    item = queue.Item(line, progress.store_periods(line)[0], today=today)
    with pytest.raises(Conflict):
        reviews.record(item, Verdict.REJECTED, org.supervisor, reason="no_evidence", seen_review=0, seen_evidence=0)


# --- two reviewers at once ---------------------------------------------------------------------

def test_the_second_reviewer_sees_the_first_verdict_and_nothing_is_lost(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    bind_now(org.rep, line, photos=1)
    seen_by_both = item_of(line, 1, today, org.supervisor)
    reviews.record(seen_by_both, Verdict.APPROVED, org.supervisor, seen_review=0, seen_evidence=seen_by_both.newest)
    stale = item_of(line, 1, today, org.manager)
    with pytest.raises(reviews.ReviewConflict) as lost:
        reviews.record(stale, Verdict.REJECTED, org.manager, reason="unclear", seen_review=0,
                     seen_evidence=seen_by_both.newest)
    assert lost.value.status == 409 and "Supervisor" in lost.value.message and "approved" in lost.value.message
    assert lost.value.standing.verdict == Verdict.APPROVED
    assert [r.verdict for r in db.session.execute(select(Review)).scalars()] == [Verdict.APPROVED]


def test_new_evidence_since_the_page_was_opened_refuses_the_verdict(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    bind_now(org.rep, line, photos=1)
    opened = item_of(line, 1, today, org.supervisor)
    seen = opened.newest
    bind_now(org.rep, line, photos=1)
    with pytest.raises(reviews.ReviewConflict, match="New evidence"):
        reviews.record(item_of(line, 1, today, org.supervisor), Verdict.APPROVED, org.supervisor, seen_review=0,
                     seen_evidence=seen)
    assert count(Review) == 0


def test_the_database_refuses_two_reviews_following_the_same_one(org, shops):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    db.session.add(Review(activity_store=line, period_index=1, verdict=Verdict.APPROVED, reviewer=org.supervisor,
                          previous_id=0))
    db.session.commit()
    db.session.add(Review(activity_store=line, period_index=1, verdict=Verdict.REJECTED, reviewer=org.manager,
                          previous_id=0))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_two_reviewers_at_the_same_moment_one_verdict_lands(app, org, shops, today):
    """Both read the item before either writes; exactly one verdict is stored, the other is told."""
    line = running(org.rep, shops[:1], photos=1).stores[0]
    bind_now(org.rep, line, photos=1)
    db.session.commit()  # the rep's request ends before the reviewers come
    line_id, users = line.id, {"approved": org.supervisor.id, "rejected": org.manager.id}
    both_read = threading.Barrier(2, timeout=10)
    outcome = {}

    def review(verdict):
        with app.test_request_context(headers={"Accept-Language": "en"}):
            from field.auth.models import User
            from field.activities.models import ActivityStore
            who = db.session.get(User, users[verdict])
            item = queue.one(db.session.get(ActivityStore, line_id), 1, today, who)
            db.session.commit()  # end the read; each write starts its own transaction
            both_read.wait()
            try:
                reviews.record(item, verdict, who, reason="unclear", seen_review=item.review_id,
                               seen_evidence=item.newest)
                db.session.commit()  # as the request that asked would
                outcome[verdict] = "saved"
            except reviews.ReviewConflict as exc:
                outcome[verdict] = exc.standing.verdict if exc.standing else "conflict"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=review, args=(v,)) for v in ("approved", "rejected")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    db.session.expire_all()
    stored = db.session.execute(select(Review.verdict)).scalars().all()
    assert len(stored) == 1
    winner = stored[0]
    loser = "rejected" if winner == "approved" else "approved"
    assert outcome == {winner: "saved", loser: winner}


# --- bulk approval -------------------------------------------------------------------------------

def test_bulk_approval_takes_clean_items_and_skips_the_rest(org, shops, today):
    clean, flagged, raced = running(org.rep, shops, photos=1).stores
    bind_now(org.rep, clean, photos=1)
    bind_now(org.rep, flagged, photos=1, flags=["no_capture_data"])
    bind_now(org.rep, raced, photos=1)
    tokens = reviews.parse_tokens(i.token for i in queue.load([(clean.id, 1), (flagged.id, 1), (raced.id, 1)],
                                                            today, org.supervisor))
    decide(raced, 1, Verdict.REJECTED, org.manager, today, reason="unclear")  # someone else got there first
    outcome = reviews.bulk_approve(tokens, org.supervisor, today)
    assert [i.key for i in outcome.approved] == [(clean.id, 1)]
    assert sorted(i.key for i, _why in outcome.skipped) == sorted([(flagged.id, 1), (raced.id, 1)])
    verdicts = {as_id: verdict for as_id, verdict in db.session.execute(select(Review.activity_store_id,
                                                                                  Review.verdict))}
    assert verdicts == {clean.id: Verdict.APPROVED, raced.id: Verdict.REJECTED}


def test_bulk_approval_refuses_items_outside_scope_and_bad_tokens(org, today):
    west = running(org.west_rep, [make_store(rep=org.west_rep, code="W-1")], photos=1, title="west").stores[0]
    bind_now(org.west_rep, west, photos=1)
    token = queue.load([(west.id, 1)], today, org.west_supervisor)[0].token
    with pytest.raises(DomainError) as refused:
        reviews.bulk_approve(reviews.parse_tokens([token]), org.supervisor, today)
    assert refused.value.status == 404 and count(Review) == 0
    for bad in ("1:2:3", "a:b:c:d", "1:2:3:-4", "1:2:3:99999999999", "1:2:3:²", "4294967296:1:0:0"):
        with pytest.raises(DomainError) as refused:
            reviews.parse_tokens([bad])
        assert refused.value.status == 400


# --- compliance moves with the verdicts ---------------------------------------------------------

def test_compliance_counts_verified_periods_at_the_floor(org, shops, today):
    kind = make_type(name="五周", photos=1, checklist=(), floor="60.00")
    activity = running(org.rep, shops[:2], kind=kind, start_days_ago=36, weeks=6)  # periods 0–4 over, 5 runs
    one, two = activity.stores
    visit, step = promo_visit(org.rep, one.store)
    for line in (one, two):
        for index in range(5):
            past_evidence(line, index, visit if line is one else promo_visit(org.rep, two.store)[0], step)
    for index in range(3):
        decide(one, index, Verdict.APPROVED, org.supervisor, today)
    decide(one, 3, Verdict.REJECTED, org.supervisor, today, reason="unclear")
    for index in range(2):
        decide(two, index, Verdict.APPROVED, org.supervisor, today)

    per_store = progress.compliance_by_store([one, two], today)
    assert per_store[one.id] == Compliance(3, 5) and per_store[two.id] == Compliance(2, 5)
    assert progress.activity_compliance([activity.id], today, org.manager)[activity.id] == Compliance(5, 10)
    assert rules.payable(100_000, 100_000, per_store[one.id], Decimal("60.00")) == 60_000  # at the floor: paid
    assert rules.payable(100_000, 100_000, per_store[two.id], Decimal("60.00")) == 0       # under it: nothing

    decide(two, 2, Verdict.APPROVED, org.supervisor, today)          # 3 of 5: reaches the floor
    decide(one, 0, Verdict.REJECTED, org.manager, today, reason="reused")  # the latest verdict stands
    per_store = progress.compliance_by_store([one, two], today)
    assert per_store[one.id] == Compliance(2, 5) and per_store[two.id] == Compliance(3, 5)
    assert per_store[two.id].meets(Decimal("60.00")) and not per_store[one.id].meets(Decimal("60.00"))


def test_an_early_verified_period_counts_before_it_ends(org, shops, today):
    line = running(org.rep, shops[:1], photos=1).stores[0]
    assert progress.compliance_by_store([line], today)[line.id] == Compliance(0, 1)  # period 0 over, unverified
    bind_now(org.rep, line, photos=1)
    decide(line, 1, Verdict.APPROVED, org.supervisor, today)
    assert progress.compliance_by_store([line], today)[line.id] == Compliance(1, 2)
    assert count(Evidence) == 1
