"""The incentive pages: each route for who may and may not, scope (404 out of it), CSRF (400 without the token),
bad input refused in place with nothing written; and the points a rep sees move as their work is verified."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from field.activities.models import Evidence
from field.audit import AuditEvent
from field.core import company_today, now
from field.extensions import db
from field.incentives import rules
from field.incentives.models import IncentiveLevel, IncentiveTask, PointsEntry, Redemption
from tests.factories import make_photo, make_store, promo_visit, running


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def make_task(org, region=None, kind=rules.FIRST_APPROVED, points=20) -> IncentiveTask:
    t = IncentiveTask(name="首次通过", kind=kind, points=points, target=1, region=region or org.east,
                      period_start=company_today() - timedelta(days=20), period_end=company_today() + timedelta(days=9),
                      created_by=org.manager)
    db.session.add(t)
    db.session.commit()
    return t


def give(org, rep, points, task=None) -> PointsEntry:
    task = task or make_task(org)
    entry = PointsEntry(rep_id=rep.id, task_id=task.id, outcome=f"test:{count(PointsEntry)}", kind="grant",
                        points=points, earned_on=company_today(), task_name=task.name, note="")
    db.session.add(entry)
    db.session.commit()
    return entry


def set_levels():
    db.session.add_all([IncentiveLevel(name="Bronze", threshold=0, rewards=[]),
                        IncentiveLevel(name="Silver", threshold=50, rewards=["Movie tickets", "Parking card"]),
                        IncentiveLevel(name="Gold", threshold=200, rewards=["Day off"])])
    db.session.commit()


def task_form(org, **over):
    today = company_today()
    return {"name": "Complete routes", "kind": rules.ROUTE_DAYS, "points": "40", "target": "5",
            "region": str(org.east.id), "start": today.replace(day=1).isoformat(),
            "end": (today.replace(day=1) + timedelta(days=27)).isoformat(), "active": "1", **over}


# --- the rep's points: home card, /incentives, as work is verified ------------------------------------

def test_the_rep_sees_points_and_level_on_home_after_an_approved_review(client, org):
    set_levels()
    make_task(org, points=60)
    line = running(org.rep, [make_store(rep=org.rep)], photos=1).stores[0]
    visit, step = promo_visit(org.rep, line.store)
    db.session.add(Evidence(activity_store=line, period_index=1, photo=make_photo(visit, step),
                            checklist={i: True for i in line.activity.type.checklist}, created_by_id=org.rep.id))
    db.session.commit()
    page = client.login_as(org.rep).get("/")
    assert 'data-points="total">0<' in page.text and 'data-points="level">Bronze<' in page.text
    newest = db.session.execute(select(func.max(Evidence.id))).scalar_one()
    answer = client.login_as(org.supervisor).post(f"/activities/queue/{line.id}/1/review", data={
        "verdict": "approved", "seen_review": "0", "seen_evidence": str(newest)})
    assert answer.status_code < 400
    page = client.login_as(org.rep).get("/")
    assert 'data-points="total">60<' in page.text and 'data-points="level">Silver<' in page.text
    assert "140 points to Gold" in page.text
    mine = client.get("/incentives")
    assert mine.status_code == 200 and "首次通过" in mine.text and "+60" in mine.text


def test_points_for_a_complete_route_come_at_check_out(org):
    """visits announce a check-out (providers.notify); the incentives hook grants the day that completes."""
    from field import providers
    from tests.factories import make_visit
    make_task(org, kind=rules.ROUTE_DAYS, points=25)
    visit = make_visit(org.rep, at=now() - timedelta(minutes=30), minutes=20, planned_for=company_today())
    providers.notify("visit.checked_out", visit)
    db.session.commit()
    assert [e.points for e in db.session.execute(select(PointsEntry)).scalars()] == [25]


# --- the leaderboard --------------------------------------------------------------------------------

def test_the_leaderboard_shows_the_team_ranked(client, org):
    task = make_task(org)
    give(org, org.teammate, 30, task)
    give(org, org.rep, 10, task)
    give(org, org.west_rep, 99, make_task(org, region=org.west))
    for who in (org.rep, org.supervisor, org.manager):
        page = client.login_as(who).get("/incentives/leaderboard?period=month")
        assert page.status_code == 200
        assert page.text.index('data-rep="teammate"') < page.text.index('data-rep="rep"')
        assert 'data-rep="westrep"' not in page.text
    assert 'data-rep="westrep"' in client.login_as(org.west_supervisor).get("/incentives/leaderboard").text
    assert 'data-rep="westrep"' in client.login_as(org.admin).get("/incentives/leaderboard?period=week").text


def test_a_leaderboard_of_an_unknown_period_is_400(client, org):
    assert client.login_as(org.rep).get("/incentives/leaderboard?period=year").status_code == 400


# --- tasks ------------------------------------------------------------------------------------------

def test_a_manager_sets_a_task(client, org):
    client.login_as(org.manager)
    assert client.get("/incentives/tasks/new").status_code == 200
    answer = client.post("/incentives/tasks/new", data=task_form(org))
    assert answer.status_code == 303
    task = db.session.execute(select(IncentiveTask)).scalar_one()
    assert (task.name, task.points, task.target, task.region_id) == ("Complete routes", 40, 5, org.east.id)
    assert db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()[-1] == "incentive_task.create"
    assert "Complete routes" in client.get("/incentives").text
    assert "Complete routes" in client.login_as(org.rep).get("/incentives").text      # a task of the rep's region


@pytest.mark.parametrize("field, value, message", [
    ("points", "-5", "Points are a whole number"), ("points", "1000000", "Points are a whole number"),
    ("name", "", "Name the task"), ("kind", "bogus", "Choose what the task pays for"),
    ("end", "2000-01-01", "ends before it starts"), ("target", "400", "on how many days"),
    ("start", "soon", "Type a date")])
def test_bad_task_input_is_refused_with_nothing_written(client, org, field, value, message):
    answer = client.login_as(org.manager).post("/incentives/tasks/new", data=task_form(org, **{field: value}))
    assert answer.status_code == 422 and message in answer.text
    assert count(IncentiveTask) == 0 and count(AuditEvent) == 0


def test_a_task_for_a_region_outside_ones_own_is_refused(client, org):
    answer = client.login_as(org.manager).post("/incentives/tasks/new", data=task_form(org, region=str(org.west.id)))
    assert answer.status_code == 422 and count(IncentiveTask) == 0


def test_tasks_are_set_by_managers_only(client, org):
    for who in (org.rep, org.supervisor):
        client.login_as(who)
        assert client.get("/incentives/tasks/new").status_code == 403
        assert client.post("/incentives/tasks/new", data=task_form(org)).status_code == 403
    assert count(IncentiveTask) == 0


def test_editing_a_task_keeps_what_was_granted(client, org):
    task = make_task(org, points=20)
    give(org, org.rep, 20, task)
    client.login_as(org.manager)
    assert client.get(f"/incentives/tasks/{task.id}").status_code == 200
    form = task_form(org, kind=task.kind, points="90", start=task.period_start.isoformat(),
                     end=task.period_end.isoformat())
    assert client.post(f"/incentives/tasks/{task.id}", data=form).status_code == 303
    db.session.expire_all()
    assert task.points == 90
    assert [e.points for e in db.session.execute(select(PointsEntry)).scalars()] == [20]
    changed = client.post(f"/incentives/tasks/{task.id}", data={**form, "kind": rules.A_TIER})
    assert changed.status_code == 422 and "cannot change" in changed.text


def test_a_task_out_of_scope_is_404(client, org):
    west = make_task(org, region=org.west)
    client.login_as(org.manager)
    assert client.get(f"/incentives/tasks/{west.id}").status_code == 404
    assert client.post(f"/incentives/tasks/{west.id}", data=task_form(org)).status_code == 404
    assert client.get("/incentives/tasks/99999999").status_code == 404


def test_task_posts_need_the_csrf_token(client, org):
    task = make_task(org)
    client.login_as(org.manager)
    assert client.post("/incentives/tasks/new", data=task_form(org), csrf=False).status_code == 400
    assert client.post(f"/incentives/tasks/{task.id}", data=task_form(org), csrf=False).status_code == 400
    assert count(IncentiveTask) == 1


# --- levels ------------------------------------------------------------------------------------------

def levels_form(*rows):
    return {"name": [r[0] for r in rows], "threshold": [r[1] for r in rows], "rewards": [r[2] for r in rows]}


def test_a_manager_sets_the_levels(client, org):
    client.login_as(org.manager)
    assert client.get("/incentives/levels").status_code == 200
    answer = client.post("/incentives/levels", data=levels_form(("Bronze", "0", ""), ("Silver", "100", "Tickets\nMug"),
                                                                 ("", "", "")))
    assert answer.status_code == 303
    rows = db.session.execute(select(IncentiveLevel).order_by(IncentiveLevel.threshold)).scalars().all()
    assert [(lv.name, lv.threshold, lv.rewards) for lv in rows] == [("Bronze", 0, []), ("Silver", 100, ["Tickets", "Mug"])]
    assert "Tickets" in client.get("/incentives/levels").text


def test_levels_not_increasing_are_refused_and_the_old_ones_stay(client, org):
    set_levels()
    answer = client.login_as(org.manager).post("/incentives/levels", data=levels_form(("A", "0", ""), ("B", "100", ""),
                                                                                   ("C", "50", "")))
    assert answer.status_code == 422 and "Thresholds must increase" in answer.text
    assert [lv.name for lv in db.session.execute(select(IncentiveLevel).order_by(IncentiveLevel.id)).scalars()] == ["Bronze", "Silver", "Gold"]


def test_levels_are_set_by_managers_with_the_token(client, org):
    for who in (org.rep, org.supervisor):
        assert client.login_as(who).get("/incentives/levels").status_code == 403
    client.login_as(org.manager)
    assert client.post("/incentives/levels", data=levels_form(("A", "0", "")), csrf=False).status_code == 400
    assert count(IncentiveLevel) == 0


# --- a rep's points and rewards handed out --------------------------------------------------------------

def test_a_supervisor_records_a_reward_of_a_level_reached(client, org):
    set_levels()
    give(org, org.rep, 60)
    client.login_as(org.supervisor)
    page = client.get(f"/incentives/reps/{org.rep.id}")
    assert page.status_code == 200 and "Movie tickets" in page.text and "Day off" not in page.text
    answer = client.post(f"/incentives/reps/{org.rep.id}/redeem", data={"reward": "Silver\nMovie tickets",
                                                                        "note": "for March"})
    assert answer.status_code == 303
    row = db.session.execute(select(Redemption)).scalar_one()
    assert (row.rep_id, row.level_name, row.reward, row.actor_id) == (org.rep.id, "Silver", "Movie tickets",
                                                                      org.supervisor.id)
    assert "Movie tickets" in client.login_as(org.rep).get("/incentives").text


def test_a_reward_above_the_reps_level_is_refused(client, org):
    set_levels()
    give(org, org.rep, 60)
    answer = client.login_as(org.manager).post(f"/incentives/reps/{org.rep.id}/redeem",
                                               data={"reward": "Gold\nDay off", "note": ""})
    assert answer.status_code == 422 and "a level this rep has reached" in answer.text
    assert count(Redemption) == 0


def test_a_rep_out_of_scope_is_404_and_reps_do_not_redeem(client, org):
    set_levels()
    give(org, org.rep, 60)
    client.login_as(org.supervisor)
    assert client.get(f"/incentives/reps/{org.west_rep.id}").status_code == 404
    assert client.post(f"/incentives/reps/{org.west_rep.id}/redeem",
                       data={"reward": "Silver\nMovie tickets"}).status_code == 404
    client.login_as(org.rep)
    assert client.get(f"/incentives/reps/{org.teammate.id}").status_code == 404
    assert client.post(f"/incentives/reps/{org.rep.id}/redeem",
                       data={"reward": "Silver\nMovie tickets"}).status_code == 403
    client.login_as(org.supervisor)
    assert client.post(f"/incentives/reps/{org.rep.id}/redeem", data={"reward": "Silver\nMovie tickets"},
                       csrf=False).status_code == 400
    assert count(Redemption) == 0


def test_the_incentives_page_answers_every_role(client, org):
    for who in (org.rep, org.supervisor, org.manager, org.admin):
        assert client.login_as(who).get("/incentives").status_code == 200


# --- a new store opened (issue 16) ---------------------------------------------------------------------

def test_a_manager_sets_a_new_store_task_and_the_rep_earns_it_at_check_out(client, org):
    from field import providers
    from tests.factories import make_visit
    client.login_as(org.manager)
    form = client.get("/incentives/tasks/new").text
    assert 'value="new_store"' in form and "first completed visit" in form     # the kind and what it pays for
    assert client.post("/incentives/tasks/new", data=task_form(org, kind=rules.NEW_STORE, name="开新店", points="30",
                                                               target="1")).status_code == 303
    task = db.session.execute(select(IncentiveTask)).scalar_one()
    assert task.kind == rules.NEW_STORE
    store = make_store(rep=org.rep, created_at=now() - timedelta(minutes=25))
    visit = make_visit(org.rep, store, at=now() - timedelta(minutes=20), minutes=10)
    providers.notify("visit.checked_out", visit)
    db.session.commit()
    assert db.session.execute(select(PointsEntry.outcome, PointsEntry.points)).all() == [(f"new_store:{store.id}", 30)]
    assert "开新店" in client.login_as(org.rep).get("/incentives").text
    # A task of this kind is set by managers only, with the token.
    assert client.login_as(org.rep).post("/incentives/tasks/new",
                                         data=task_form(org, kind=rules.NEW_STORE)).status_code == 403
    assert client.login_as(org.manager).post("/incentives/tasks/new", data=task_form(org, kind=rules.NEW_STORE),
                                             csrf=False).status_code == 400
