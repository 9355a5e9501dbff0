"""What GET /visits/<id> costs in SQL: a fixed number of statements, however many steps, photos,
objectives, follow-ups, co-visits and evidence the visit holds (bench/visit_page.py times it).

Each page is asked with an empty session, as a fresh request in production has it, and its
statements are counted on the engine. The same promotion visit (the costliest kind: its photo steps
show the activities' evidence) is asked small — two steps, one photo, one objective, follow-up and
co-visit — and grown: twelve steps, four of them photo steps with three photos each, a step removed
from the type with its result kept, objectives from follow-ups of three people, more follow-ups, a
second co-visit, evidence bound. For every viewer the count must not move, and stays within the
figure pinned here. (Before: 20 statements small, 42–44 grown, in progress and completed; 22 → 37
planned.)"""
import itertools
import re
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select

from field.activities.models import ActivityStore, Evidence
from field.auth.models import User
from field.core import now
from field.extensions import db
from field.photos.models import Photo
from field.visits.models import (CoVisit, FollowUp, Objective, StepKind, StepResult, Visit, VisitStatus, VisitStep,
                                 VisitType)
from tests.conftest import login
from tests.factories import make_store, make_user, running, vtype

# The most statements a promotion visit's page may take, for any viewer and any size of visit. Today's
# page takes 8; the visit page needs a few more: the signed-in user (and a supervisor's or manager's
# regions), the visit with its store, type and rep, the steps, the results, the objectives, photo counts,
# the photos, follow-ups, co-visits, the rep's teammates (who may own a new follow-up) — and the
# activities' evidence (5). A planned visit's Plan also asks for open follow-ups and what the store's
# activities still need (4), and the owners of those follow-ups the session does not hold (1). Every full
# page also counts the viewer's unread notifications for the bell in the top bar (1). The Plan shows the
# store's last order (field/orders, 1; its lines only when there is one).
MAX_QUERIES = {"in_progress": 17, "completed": 17, "planned": 21}

_seq = itertools.count(1)


@contextmanager
def statements():
    """Count the SQL statements run inside the block (a list, to read after)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def cost(client, visit_id: int) -> list[str]:
    """The statements one GET of the visit page runs, from an empty session (as a new request has it)."""
    db.session.remove()
    with statements() as seen:
        response = client.get(f"/visits/{visit_id}")
    assert response.status_code == 200, response.status_code
    return seen


def tables(seen: list[str]) -> list[str]:
    """What each statement reads, in a word (for the message when a count is off)."""
    return [re.search(r"\bFROM\s+(\w+)", sql).group(1) if re.search(r"\bFROM\s+(\w+)", sql) else sql[:30]
            for sql in seen]


def _photo(visit: Visit, step: VisitStep, voided=False) -> Photo:
    n = next(_seq)
    photo = Photo(client_id=str(uuid.uuid4()), visit_id=visit.id, step_id=step.id, rep_id=visit.rep_id,
                  store_id=visit.store_id, source="camera", sha256=f"{n:064x}", content_type="image/jpeg", width=800,
                  height=600, bytes=1000, original_key=f"o/{n}.jpg", display_key=f"d/{n}.jpg", thumb_key=f"t/{n}.jpg",
                  flags=[{"code": "album"}] if n % 2 else [], voided_at=now() if voided else None,
                  void_reason="blurry" if voided else "")
    photo.set_phash(n)
    db.session.add(photo)
    return photo


VALUES = {StepKind.CHECKLIST: {"items": [{"label": "A", "pass": True, "note": ""}], "passed": 1, "total": 1},
          StepKind.NUMBER: {"value": "3"}, StepKind.TEXT: {"text": "ok"}, StepKind.CHOICE: {"choice": "x"},
          StepKind.SHELF_SHARE: {"ours": 2, "total": 4, "share_pct": 50}, StepKind.SIGNATURE: {"signer": "王"}}


class World:
    """A promotion visit of `rep` at a store with a running activity, which `grow()` makes large. It keeps
    ids only: each measured request starts from an empty session."""

    def __init__(self, org, status):
        self.ids = {who: getattr(org, who).id for who in ("rep", "teammate", "supervisor", "manager")}
        store = make_store(rep=org.rep)
        activity = running(org.supervisor, [store])
        line = db.session.execute(select(ActivityStore).where(ActivityStore.activity_id == activity.id)).scalar_one()
        kind = vtype("promotion")
        photo_step = next(s for s in kind.steps if s.kind == StepKind.PHOTO)
        for step in kind.steps:  # two steps to start with: the checklist and the photos
            if step.kind not in (StepKind.CHECKLIST, StepKind.PHOTO):
                db.session.get(VisitStep, step.id).removed = True
        visit = Visit(rep=org.rep, store=store, visit_type=kind, planned_for=date.today(), flags=[], status=status,
                      checkin_at=now() - timedelta(minutes=30) if status != VisitStatus.PLANNED else None,
                      checkout_at=now() if status == VisitStatus.COMPLETED else None)
        db.session.add(visit)
        db.session.flush()
        self.visit_id, self.store_id, self.type_id, self.line_id = visit.id, store.id, kind.id, line.id
        if status != VisitStatus.PLANNED:
            self._bind(_photo(visit, photo_step))
        self._people(visit, [org.teammate], [org.supervisor])
        db.session.commit()

    def _people(self, visit: Visit, owners: list, scorers: list) -> None:
        """An open follow-up at the store for each owner (the plan of a planned visit; the objective it
        became, for a visit under way) and one from this visit; a co-visit by each scorer, once completed."""
        for owner in owners:
            n = next(_seq)
            earlier = FollowUp(store_id=self.store_id, text=f"earlier {n}", owner_id=owner.id, status="open",
                               created_by_id=self.ids["rep"], due_on=date.today() + timedelta(days=n % 5))
            db.session.add(earlier)
            db.session.flush()
            if visit.status != VisitStatus.PLANNED:
                db.session.add(Objective(visit_id=visit.id, source="follow_up", text=earlier.text,
                                         follow_up_id=earlier.id))
                db.session.add(FollowUp(store_id=self.store_id, text=f"from this visit {n}", owner_id=owner.id,
                                        status="open", created_by_id=self.ids["rep"], visit_id=visit.id))
        if visit.status == VisitStatus.COMPLETED:
            for scorer in scorers:
                db.session.add(CoVisit(visit_id=visit.id, supervisor_id=scorer.id, scores={"a": 1}, total=1,
                                       max_total=2, comment="c"))

    def viewer(self, who: str) -> SimpleNamespace:
        return SimpleNamespace(id=self.ids[who])

    def _bind(self, photo):
        db.session.flush()
        db.session.add(Evidence(activity_store_id=self.line_id, period_index=1, photo_id=photo.id,
                                checklist={}, created_by_id=self.ids["rep"]))

    def grow(self):
        """Twelve steps (four of them photo steps with three photos each, one voided), every other step
        answered, a removed step's old result, objectives from follow-ups of three owners, follow-ups
        of this visit, co-visits by two supervisors, and evidence bound."""
        visit, vtype_ = db.session.get(Visit, self.visit_id), db.session.get(VisitType, self.type_id)
        rep, teammate, supervisor = (db.session.get(User, self.ids[who]) for who in ("rep", "teammate", "supervisor"))
        kinds = [StepKind.PHOTO, StepKind.NUMBER, StepKind.TEXT, StepKind.CHOICE, StepKind.SHELF_SHARE,
                 StepKind.SIGNATURE, StepKind.PHOTO, StepKind.CHECKLIST, StepKind.PHOTO, StepKind.TEXT]
        for n, kind in enumerate(kinds, start=10):
            config = {"min_photos": 2} if kind == StepKind.PHOTO else (
                {"choices": ["x", "y"]} if kind == StepKind.CHOICE else (
                    {"items": ["A"]} if kind == StepKind.CHECKLIST else {}))
            db.session.add(VisitStep(visit_type_id=self.type_id, position=n, kind=kind, title=f"步骤 {n}",
                                     title_en=f"Step {n}", required=n % 3 == 0, config=config))
        gone = VisitStep(visit_type_id=self.type_id, position=99, kind=StepKind.TEXT, title="旧", removed=True)
        db.session.add(gone)
        db.session.commit()
        db.session.expire_all()
        steps = vtype_.steps
        assert len(steps) == 12
        if visit.status != VisitStatus.PLANNED:
            for k, step in enumerate(steps):
                if step.kind == StepKind.PHOTO:
                    for i in range(3):
                        photo = _photo(visit, step, voided=i == 2 and k % 2 == 0)
                        if i == 0:
                            self._bind(photo)
                elif k % 2 and step.kind in VALUES:
                    db.session.add(StepResult(visit_id=visit.id, step_id=step.id, value=VALUES[step.kind]))
            db.session.add(StepResult(visit_id=visit.id, step_id=gone.id, value={"text": "old"}))
        other_supervisor = make_user(role="supervisor", login=f"sup{next(_seq)}", regions=supervisor.regions)
        self._people(visit, [rep, teammate, supervisor] * 2, [other_supervisor])
        db.session.commit()


VIEWERS = {"in_progress": ("rep", "supervisor", "manager"), "completed": ("rep", "supervisor", "manager"),
           "planned": ("rep", "supervisor")}


@pytest.mark.parametrize("status", ["in_progress", "completed", "planned"])
def test_the_visit_page_takes_the_same_few_queries_however_big_the_visit(client, org, status):
    world = World(org, status)
    small = {who: cost(login(client, world.viewer(who)), world.visit_id) for who in VIEWERS[status]}
    world.grow()
    big = {who: cost(login(client, world.viewer(who)), world.visit_id) for who in VIEWERS[status]}
    for who in VIEWERS[status]:
        assert len(big[who]) == len(small[who]), (
            f"{who}: the queries grew with the visit, {len(small[who])} → {len(big[who])}: {tables(big[who])}")
        assert len(big[who]) <= MAX_QUERIES[status], f"{who}: {len(big[who])} queries: {tables(big[who])}"
