"""The working day over HTTP: start and end (position, outbox replay, bad input refused with nothing written),
the day / week / team pages and their scope, the home card, `flask workday-close`."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.core import set_clock
from field.extensions import db
from field.geo import Point
from field.workday.models import Workday
from tests.conftest import login
from tests.factories import make_store, make_visit

pytestmark = pytest.mark.usefixtures("builtin_types")

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai: a late start (expected 09:00)
DAY = "2026-12-07"
HOME = {"lat": "31.2304", "lng": "121.4737", "accuracy": "12", "position_at": "2026-12-07T01:59:50Z"}


@pytest.fixture(autouse=True)
def clock():
    moment = {"at": NOW}
    set_clock(lambda: moment["at"])
    yield moment
    set_clock(None)


def days():
    return db.session.execute(select(func.count()).select_from(Workday)).scalar_one()


def post(client, url, **data):
    return client.post(url, data={"client_id": str(uuid.uuid4()), **data})


def test_rep_starts_and_ends_the_day(client, org, clock):
    login(client, org.rep)
    home = client.get("/")
    assert "Start the day" in home.get_data(as_text=True)
    r = post(client, "/workday/start", **HOME)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/reps/{org.rep.id}/workday")
    w = db.session.execute(select(Workday)).scalar_one()
    assert w.day.isoformat() == DAY and w.start_point == Point(31.2304, 121.4737) and w.flags == ["late_start"]
    page = client.get(f"/reps/{org.rep.id}/workday").get_data(as_text=True)
    assert "Day started" in page and "Late start" in page and "End the day" in page
    assert "Day started at 10:00" in client.get("/").get_data(as_text=True)

    clock["at"] = NOW + timedelta(hours=5)  # 15:00: before the expected end
    r = post(client, "/workday/end", lat="31.2404", lng="121.4737")
    assert r.status_code == 303
    db.session.expire_all()
    w = db.session.execute(select(Workday)).scalar_one()
    assert w.ended_at == NOW + timedelta(hours=5) and w.flags == ["late_start", "early_end"]
    page = client.get(f"/reps/{org.rep.id}/workday").get_data(as_text=True)
    assert "Day ended" in page and "Early end" in page and "5\u00a0h" in page and "1.1" in page  # ~1.1 km
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions[-2:] == ["workday.start", "workday.end"]


def test_starting_twice_is_refused_and_a_replay_answers_the_same_day(client, org):
    login(client, org.rep)
    key = str(uuid.uuid4())
    assert client.post("/workday/start", data={"client_id": key, **HOME}).status_code == 303
    # The outbox sends the same tap again: the same day, nothing new.
    again = client.post("/workday/start", data={"client_id": key, **HOME}, headers={"X-Field-Replay": "1"})
    assert again.status_code == 303 and days() == 1
    twice = post(client, "/workday/start", **HOME)
    assert twice.status_code == 409 and "already started" in twice.get_data(as_text=True) and days() == 1
    replayed = client.post("/workday/start", data={"client_id": str(uuid.uuid4()), **HOME},
                           headers={"X-Field-Replay": "1"})
    assert replayed.status_code == 409 and "already started" in replayed.get_json()["error"]


def test_bad_starts_write_nothing(client, org):
    login(client, org.rep)
    future = post(client, "/workday/start", phone_at="2026-12-07T03:00:00Z", **HOME)
    assert future.status_code == 422 and "clock is ahead" in future.get_data(as_text=True)
    bad = post(client, "/workday/start", lat="95", lng="121.4")
    assert bad.status_code == 422 and "impossible position" in bad.get_data(as_text=True)
    bad_id = client.post("/workday/start", data={"client_id": "not-a-uuid", **HOME})
    assert bad_id.status_code == 422
    assert client.post("/workday/start", data=HOME, csrf=False).status_code == 400
    assert days() == 0
    assert post(client, "/workday/start", no_position="1", **HOME).status_code == 303
    assert db.session.execute(select(Workday)).scalar_one().start_point is None


def test_ending_a_day_not_started_is_refused(client, org):
    login(client, org.rep)
    r = post(client, "/workday/end", **HOME)
    assert r.status_code == 409 and "no started day" in r.get_data(as_text=True) and days() == 0
    assert client.post("/workday/end", data=HOME, csrf=False).status_code == 400


def test_only_a_rep_starts_a_day(client, org):
    login(client, org.supervisor)
    assert post(client, "/workday/start", **HOME).status_code == 403 and days() == 0


def test_day_page_timeline_legs_and_impossible_travel(client, org):
    store = make_store(rep=org.rep, region=org.east, name="Shop One", lat=31.2404, lng=121.4737)
    far = make_store(rep=org.rep, region=org.east, name="Far Shop", lat=39.9, lng=116.4)
    login(client, org.rep)
    client.post("/workday/start", data={"client_id": str(uuid.uuid4()), **HOME})
    make_visit(org.rep, store, at=NOW + timedelta(minutes=20), minutes=30, point=Point(31.2404, 121.4737))
    make_visit(org.rep, far, at=NOW + timedelta(minutes=60), minutes=10, point=Point(39.9, 116.4))
    page = client.get(f"/reps/{org.rep.id}/workday?date={DAY}").get_data(as_text=True)
    assert "Checked in: Shop One" in page and "Checked in: Far Shop" in page
    assert "impossible travel, not counted" in page and "1 leg implies impossible travel" in page
    assert "Planned route" in page


def test_scope_a_rep_out_of_scope_is_404(client, org):
    login(client, org.supervisor)
    assert client.get(f"/reps/{org.west_rep.id}/workday").status_code == 404
    assert client.get(f"/reps/{org.west_rep.id}/workday/week").status_code == 404
    assert client.get(f"/reps/{org.rep.id}/workday").status_code == 200
    login(client, org.rep)
    assert client.get(f"/reps/{org.teammate.id}/workday").status_code == 404
    assert client.get(f"/reps/{org.rep.id}/workday/week").status_code == 200
    assert client.get("/team/workdays").status_code == 403


def test_bad_date_is_422_with_todays_page(client, org):
    login(client, org.rep)
    r = client.get(f"/reps/{org.rep.id}/workday?date=2026-13-01")
    assert r.status_code == 422 and "is not a date" in r.get_data(as_text=True)
    assert client.get(f"/reps/{org.rep.id}/workday/week?week=x").status_code == 422


def test_team_day_flags_visits_without_a_start(client, org):
    make_visit(org.teammate, make_store(rep=org.teammate, region=org.east), at=NOW - timedelta(minutes=30),
               minutes=10)
    login(client, org.rep)
    client.post("/workday/start", data={"client_id": str(uuid.uuid4()), **HOME})
    login(client, org.supervisor)
    page = client.get(f"/team/workdays?date={DAY}").get_data(as_text=True)
    assert "Visits without starting the day" in page and "Late start" in page
    assert org.west_rep.name not in page
    assert "1 / 2" in page
    assert client.get("/workday").headers["Location"].endswith("/team/workdays")


def test_week_page_lists_seven_days(client, org):
    login(client, org.rep)
    client.post("/workday/start", data={"client_id": str(uuid.uuid4()), **HOME})
    page = client.get(f"/reps/{org.rep.id}/workday/week?week={DAY}").get_data(as_text=True)
    assert page.count('data-day="') == 7 and 'data-day="2026-12-07"' in page and "10:00" in page


def test_workday_close_closes_open_days_after_the_close_time(client, org, runner, clock):
    login(client, org.rep)
    client.post("/workday/start", data={"client_id": str(uuid.uuid4()), **HOME})
    out = runner.invoke(args=["workday-close"])
    assert "Closed 0 working days" in out.output
    clock["at"] = NOW + timedelta(hours=14)  # 00:00 next day in Shanghai, past 23:00
    out = runner.invoke(args=["workday-close"])
    assert "Closed 1 working days" in out.output
    db.session.expire_all()
    w = db.session.execute(select(Workday)).scalar_one()
    assert w.auto_closed and "no_end" in w.flags
    assert w.ended_at == datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)
    login(client, org.supervisor)
    assert "Not ended (closed automatically)" in client.get(f"/team/workdays?date={DAY}").get_data(as_text=True)


def test_an_open_earlier_day_must_be_ended_before_a_new_start(client, org, clock):
    login(client, org.rep)
    client.post("/workday/start", data={"client_id": str(uuid.uuid4()), **HOME})
    clock["at"] = NOW + timedelta(days=1)
    r = post(client, "/workday/start", lat="31.2304", lng="121.4737")
    assert r.status_code == 409 and "still open" in r.get_data(as_text=True) and days() == 1
    assert "End that day" in client.get("/").get_data(as_text=True)
    assert post(client, "/workday/end").status_code == 303
    assert post(client, "/workday/start").status_code == 303 and days() == 2


def test_visits_without_a_start_raise_an_alert_that_starting_clears(client, org, clock):
    from field.alerts.evaluate import evaluate
    from field.alerts.models import Alert
    from field.alerts.rules import fires_no_start
    assert fires_no_start(1, False, 1) and not fires_no_start(1, True, 1) and not fires_no_start(1, False, 2)
    make_visit(org.rep, make_store(rep=org.rep, region=org.east), at=NOW - timedelta(minutes=30), minutes=10)
    opened = [a for a in evaluate(org.east).opened if a.rule == "no_workday_start"]
    assert [a.rep_id for a in opened] == [org.rep.id]
    db.session.commit()
    login(client, org.supervisor)
    page = client.get(f"/alerts/{opened[0].id}").get_data(as_text=True)
    assert "1 visit on" in page and f"/reps/{org.rep.id}/workday" in page
    login(client, org.rep)
    client.post("/workday/start", data={"client_id": str(uuid.uuid4()), **HOME})
    outcome = evaluate(org.east)
    assert any(a.rule == "no_workday_start" for a in outcome.cleared)
    db.session.commit()
    assert not [a for a in db.session.execute(select(Alert)).scalars()
                if a.rule == "no_workday_start" and a.status == "open"]
