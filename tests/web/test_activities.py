"""Activity pages by request: the list and its scope, applying, stores and budgets (picked and
imported), submitting, approving and rejecting, the inbox, evidence this period, activity types."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from field.activities.models import Activity, ActivityStatus as S, ActivityStore, ActivityTransition, ActivityType
from field.audit import AuditEvent
from field.auth.models import Role
from field.extensions import db
from field.core import company_today
from tests.conftest import login
from tests.factories import make_activity, make_store, make_type, make_user

HX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-activity="(\d+)"', html)]


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def fresh(activity: Activity) -> Activity:
    db.session.expire_all()
    return db.session.get(Activity, activity.id)


def budgets() -> dict[str, int]:
    db.session.expire_all()
    return {a.store.code: a.budget for a in db.session.execute(select(ActivityStore)).scalars()}


@pytest.fixture
def shops(org):
    return {"mine": make_store(rep=org.rep, code="E-MINE", name="Alpha Mart"),
            "mine2": make_store(rep=org.rep, code="E-MINE2", name="Beta Shop"),
            "team": make_store(rep=org.teammate, code="E-TEAM", name="Gamma Store"),
            "west": make_store(rep=org.west_rep, code="W-ONE", name="Delta Chengdu")}


@pytest.fixture
def acts(org, shops):
    return {"mine": make_activity(org.rep, [shops["mine"]], title="mine"),
            "team": make_activity(org.teammate, [shops["team"]], status=S.SUBMITTED, title="team"),
            "west": make_activity(org.west_rep, [shops["west"]], status=S.SUBMITTED, title="west")}


# --- the list and scope ---------------------------------------------------------------------------

def test_a_rep_lists_only_activities_on_their_stores(client, org, acts):
    r = login(client, org.rep).get("/activities")
    assert r.status_code == 200 and ids_on(r.text) == [acts["mine"].id]


def test_a_supervisor_lists_the_team_and_a_manager_the_region(client, org, acts):
    assert sorted(ids_on(login(client, org.supervisor).get("/activities").text)) == sorted(
        [acts["mine"].id, acts["team"].id])
    assert sorted(ids_on(login(client, org.manager).get("/activities").text)) == sorted(
        [acts["mine"].id, acts["team"].id])
    assert len(ids_on(login(client, org.admin).get("/activities").text)) == 3


def test_an_activity_out_of_scope_is_not_found_on_every_route(client, org, acts):
    west = acts["west"].id
    line = acts["west"].stores[0].id
    login(client, org.rep)
    for url in (f"/activities/{west}", f"/activities/{west}/edit", f"/activities/{west}/stores",
                f"/activities/{west}/import"):
        assert client.get(url).status_code == 404, url
    for url in (f"/activities/{west}/submit", f"/activities/{west}/approve", f"/activities/{west}/reject",
                f"/activities/{west}/withdraw", f"/activities/{west}/reopen", f"/activities/{west}/budgets",
                f"/activities/{west}/stores", f"/activities/{west}/stores/{line}/remove"):
        assert client.post(url, data={"comment": "x"}).status_code == 404, url
    assert login(client, org.manager).get(f"/activities/{west}").status_code == 404
    assert login(client, org.supervisor).post(f"/activities/{west}/approve").status_code == 404
    assert fresh(acts["west"]).status == S.SUBMITTED


def test_the_list_filters_by_status_and_shows_budget_spend_and_compliance(client, org, acts):
    login(client, org.supervisor)
    r = client.get("/activities?show=awaiting")
    assert ids_on(r.text) == [acts["team"].id]
    assert "¥1,000.00" in r.text and "data-spent>—<" in r.text and "data-compliance>—<" in r.text
    assert ids_on(client.get("/activities?show=draft").text) == [acts["mine"].id]
    assert ids_on(client.get("/activities?show=nonsense").text) != []


def test_the_list_follows_the_calendar(client, org, shops):
    today = company_today()
    activity = make_activity(org.rep, [shops["mine"]], status=S.APPROVED, start=today)
    r = login(client, org.rep).get("/activities")
    assert 'data-status="running"' in r.text
    assert fresh(activity).status == S.RUNNING


# --- applying -----------------------------------------------------------------------------------

def application(kind, **over) -> dict:
    today = company_today()
    data = {"type": str(kind.id), "title": "中秋堆头", "period_start": (today + timedelta(days=1)).isoformat(),
            "period_end": (today + timedelta(days=28)).isoformat(), "expected_lift_pct": "15",
            "margin_pct": "", "notes": "两个门店"}
    data.update(over)
    return data


def test_a_rep_applies_and_lands_on_the_store_picker(client, org, shops):
    kind = make_type(margin="32.50")
    login(client, org.rep)
    assert client.get("/activities/new").status_code == 200
    r = client.post("/activities/new", data=application(kind))
    activity = db.session.execute(select(Activity)).scalar_one()
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/activities/{activity.id}/stores")
    assert (activity.status, activity.applicant_id, str(activity.margin_pct)) == (S.DRAFT, org.rep.id, "32.50")
    assert str(activity.expected_lift_pct) == "15.00"


@pytest.mark.parametrize("over,field", [
    ({"period_end": "2020-01-01"}, "ends before it starts"),
    ({"period_start": "not a date"}, "Not a valid date"),
    ({"title": ""}, "This field is required"),
    ({"expected_lift_pct": "lots"}, "not a number"),
    ({"margin_pct": "120"}, "must be between"),
    ({"type": "999"}, "Choose an activity type"),
])
def test_a_bad_application_answers_422_with_the_message(client, org, over, field):
    kind = make_type()
    r = login(client, org.rep).post("/activities/new", data=application(kind, **over))
    assert r.status_code == 422 and field in r.text
    assert count(Activity) == 0


def test_admins_do_not_apply(client, org):
    make_type()
    assert login(client, org.admin).get("/activities/new").status_code == 403


def test_the_applicant_edits_a_draft_and_nobody_else(client, org, shops):
    kind = make_type()
    activity = make_activity(org.rep, [shops["mine"]], kind=kind)
    r = login(client, org.rep).post(f"/activities/{activity.id}/edit", data=application(kind, title="新标题"))
    assert r.status_code == 302 and fresh(activity).title == "新标题"
    assert login(client, org.supervisor).get(f"/activities/{activity.id}/edit").status_code == 403


# --- stores and budgets --------------------------------------------------------------------------

def test_picking_stores_with_a_budget(client, org, shops):
    activity = make_activity(org.rep, [])
    login(client, org.rep)
    page = client.get(f"/activities/{activity.id}/stores")
    assert page.status_code == 200
    assert set(re.findall(r'class="pick-store" data-store="([^"]+)"', page.text)) == {"E-MINE", "E-MINE2"}
    r = client.post(f"/activities/{activity.id}/stores",
                    data={"store": [str(shops["mine"].id), str(shops["mine2"].id)], "budget": "1,500.50"})
    assert r.status_code == 302
    assert budgets() == {"E-MINE": 150_050, "E-MINE2": 150_050}
    assert fresh(activity).budget_total == 300_100


def test_the_picker_searches_and_answers_htmx_with_the_results_only(client, org, shops):
    activity = make_activity(org.rep, [])
    r = login(client, org.rep).get(f"/activities/{activity.id}/stores?q=beta", headers=HX)
    assert r.status_code == 200 and "<html" not in r.text
    assert re.findall(r'class="pick-store" data-store="([^"]+)"', r.text) == ["E-MINE2"]


@pytest.mark.parametrize("budget,message", [("0", "more than zero"), ("-5", "cannot be negative"),
                                            ("abc", "“abc” is not an amount"), ("", "Enter a budget"),
                                            ("1.234", "Did you mean 1.23 or 1.24?"),
                                            ("1,50", "Did you mean 150 or 1.50?")])
def test_a_bad_budget_answers_422_and_adds_nothing(client, org, shops, budget, message):
    activity = make_activity(org.rep, [])
    r = login(client, org.rep).post(f"/activities/{activity.id}/stores",
                                    data={"store": [str(shops["mine"].id)], "budget": budget})
    assert r.status_code == 422 and message in r.text
    assert 'value="%s"' % shops["mine"].id in r.text and "checked" in r.text  # the pick is kept
    assert budgets() == {} and count(AuditEvent) == 0


def test_picking_nothing_or_a_store_out_of_scope(client, org, shops):
    activity = make_activity(org.rep, [])
    login(client, org.rep)
    r = client.post(f"/activities/{activity.id}/stores", data={"budget": "100"})
    assert r.status_code == 422 and "Pick at least one store" in r.text
    r = client.post(f"/activities/{activity.id}/stores", data={"store": [str(shops["team"].id)], "budget": "100"})
    assert r.status_code == 404
    assert budgets() == {}


def test_changing_and_removing_budgets_of_a_draft(client, org, shops):
    activity = make_activity(org.rep, [shops["mine"], shops["mine2"]], budget=100_00)
    one, two = activity.stores
    login(client, org.rep)
    r = client.post(f"/activities/{activity.id}/budgets", data={f"budget-{one.id}": "250", f"budget-{two.id}": "0"})
    assert r.status_code == 422 and "more than zero" in r.text
    assert budgets() == {"E-MINE": 100_00, "E-MINE2": 100_00}
    r = client.post(f"/activities/{activity.id}/budgets", data={f"budget-{one.id}": "250", f"budget-{two.id}": "100"})
    assert r.status_code == 302 and budgets() == {"E-MINE": 250_00, "E-MINE2": 100_00}
    r = client.post(f"/activities/{activity.id}/stores/{two.id}/remove")
    assert r.status_code == 302 and budgets() == {"E-MINE": 250_00}
    assert fresh(activity).budget_total == 250_00


def test_an_approved_activity_budget_cannot_be_edited(client, org, shops):
    activity = make_activity(org.rep, [shops["mine"]], status=S.APPROVED)
    line = activity.stores[0]
    login(client, org.rep)
    r = client.post(f"/activities/{activity.id}/budgets", data={f"budget-{line.id}": "1"})
    assert r.status_code == 409 and "can no longer change" in r.text
    assert client.post(f"/activities/{activity.id}/stores",
                       data={"store": [str(shops["mine2"].id)], "budget": "1"}).status_code == 409
    assert client.post(f"/activities/{activity.id}/stores/{line.id}/remove").status_code == 409
    assert client.get(f"/activities/{activity.id}/edit").status_code == 409
    assert budgets() == {"E-MINE": 100_000} and count(AuditEvent) == 0


def upload(client, url, data: bytes, filename="budgets.csv", **kw):
    return client.post(url, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data", **kw)


def test_import_good_and_bad_files(client, org, shops):
    activity = make_activity(org.rep, [])
    login(client, org.rep)
    assert client.get(f"/activities/{activity.id}/import").status_code == 200
    bad = "store_code,budget\r\nE-MINE,100\r\nW-ONE,100\r\nE-MINE2,0\r\nNOPE,abc\r\n".encode()
    r = upload(client, f"/activities/{activity.id}/import", bad)
    assert r.status_code == 422 and "Nothing was imported" in r.text
    assert "row 3, store_code: no store with code W-ONE in your scope" in r.text
    assert "row 4, budget" in r.text and "row 5, budget" in r.text
    assert budgets() == {}
    good = "门店编码,预算\r\nE-MINE,100\r\nE-MINE2,200.5\r\n".encode("utf-8-sig")
    r = upload(client, f"/activities/{activity.id}/import", good)
    assert r.status_code == 302 and budgets() == {"E-MINE": 100_00, "E-MINE2": 200_50}
    assert upload(client, f"/activities/{activity.id}/import", good, csrf=False).status_code == 400


# --- submit, approve, reject -------------------------------------------------------------------------

def test_submit_then_the_region_manager_approves(client, org, shops):
    activity = make_activity(org.rep, [shops["mine"]])
    r = login(client, org.rep).post(f"/activities/{activity.id}/submit")
    assert r.status_code == 302 and fresh(activity).status == S.SUBMITTED
    page = login(client, org.manager).get(f"/activities/{activity.id}")
    assert 'id="decision"' in page.text
    r = client.post(f"/activities/{activity.id}/approve", data={"comment": "同意"})
    assert r.status_code == 302 and fresh(activity).status == S.APPROVED
    page = client.get(f"/activities/{activity.id}")
    assert 'id="decision"' not in page.text and "同意" in page.text
    assert [e for e in db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars()] == [
        "activity.submit", "activity.approve"]


def test_submitting_without_stores_says_what_is_missing(client, org):
    activity = make_activity(org.rep, [])
    r = login(client, org.rep).post(f"/activities/{activity.id}/submit")
    assert r.status_code == 422 and "Add at least one store" in r.text
    assert fresh(activity).status == S.DRAFT


def test_approving_a_draft_is_a_conflict(client, org, shops):
    activity = make_activity(org.rep, [shops["mine"]])
    r = login(client, org.manager).post(f"/activities/{activity.id}/approve")
    assert r.status_code == 409 and "has to be submitted" in r.text
    assert fresh(activity).status == S.DRAFT and count(ActivityTransition) == 0


def test_approving_your_own_is_refused(client, org, shops):
    activity = make_activity(org.manager, [shops["mine"]], status=S.SUBMITTED)
    page = login(client, org.manager).get(f"/activities/{activity.id}")
    assert 'id="decision"' not in page.text
    r = client.post(f"/activities/{activity.id}/approve")
    assert r.status_code == 422 and "your own" in r.text
    assert fresh(activity).status == S.SUBMITTED


def test_a_rep_cannot_approve(client, org, shops):
    activity = make_activity(org.teammate, [shops["mine"]], status=S.SUBMITTED)
    r = login(client, org.rep).post(f"/activities/{activity.id}/approve")
    assert r.status_code == 403 and fresh(activity).status == S.SUBMITTED


def test_a_rejection_needs_a_comment_and_the_applicant_reopens(client, org, shops):
    activity = make_activity(org.rep, [shops["mine"]], status=S.SUBMITTED)
    login(client, org.manager)
    r = client.post(f"/activities/{activity.id}/reject", data={"comment": ""})
    assert r.status_code == 422 and "Say why" in r.text and fresh(activity).status == S.SUBMITTED
    r = client.post(f"/activities/{activity.id}/reject", data={"comment": "门店选错了"})
    assert r.status_code == 302 and fresh(activity).status == S.REJECTED
    page = login(client, org.rep).get(f"/activities/{activity.id}")
    assert "门店选错了" in page.text
    r = client.post(f"/activities/{activity.id}/reopen")
    assert r.status_code == 302 and fresh(activity).status == S.DRAFT


def test_the_applicant_takes_a_submission_back(client, org, shops):
    activity = make_activity(org.rep, [shops["mine"]], status=S.SUBMITTED)
    assert login(client, org.rep).post(f"/activities/{activity.id}/withdraw").status_code == 302
    assert fresh(activity).status == S.DRAFT


def test_above_the_threshold_two_people_approve(client, org, shops):
    activity = make_activity(org.rep, [shops["mine"], shops["mine2"]], budget=3_000_000, status=S.SUBMITTED)
    login(client, org.manager)
    assert client.post(f"/activities/{activity.id}/approve").status_code == 302
    assert fresh(activity).status == S.SECOND_APPROVAL
    assert 'id="decision"' not in client.get(f"/activities/{activity.id}").text
    r = client.post(f"/activities/{activity.id}/approve")
    assert r.status_code == 422 and "second must come from another" in r.text
    other = make_user(Role.MANAGER, login="manager2", regions=[org.east])
    assert ids_on(login(client, other).get("/activities/inbox").text) == [activity.id]
    assert client.post(f"/activities/{activity.id}/approve").status_code == 302
    assert fresh(activity).status == S.APPROVED


def test_every_post_needs_the_csrf_token(client, org, shops):
    activity = make_activity(org.rep, [shops["mine"]])
    line = activity.stores[0]
    login(client, org.rep)
    for url, data in ((f"/activities/{activity.id}/submit", {}),
                      (f"/activities/{activity.id}/budgets", {f"budget-{line.id}": "5"}),
                      (f"/activities/{activity.id}/stores", {"store": str(shops["mine2"].id), "budget": "5"}),
                      (f"/activities/{activity.id}/stores/{line.id}/remove", {}),
                      ("/activities/new", {})):
        assert client.post(url, data=data, csrf=False).status_code == 400, url
    submitted = make_activity(org.rep, [shops["mine2"]], status=S.SUBMITTED, title="s")
    login(client, org.manager)
    for action in ("approve", "reject"):
        assert client.post(f"/activities/{submitted.id}/{action}", data={"comment": "x"},
                           csrf=False).status_code == 400
    assert fresh(activity).status == S.DRAFT and fresh(submitted).status == S.SUBMITTED
    assert budgets() == {"E-MINE": 100_000, "E-MINE2": 100_000}


# --- the inbox and evidence this period --------------------------------------------------------------

def test_the_inbox_shows_what_waits_for_this_manager(client, org, acts):
    r = login(client, org.manager).get("/activities/inbox")
    assert r.status_code == 200 and ids_on(r.text) == [acts["team"].id]
    assert ids_on(login(client, org.admin).get("/activities/inbox").text) == sorted(
        [acts["team"].id, acts["west"].id])
    assert login(client, org.rep).get("/activities/inbox").status_code == 403
    assert login(client, org.supervisor).get("/activities/inbox").status_code == 403


def test_evidence_this_period_store_by_store(client, org, shops):
    today = company_today()
    kind = make_type(name="端架", photos=3, checklist=("价签可见",))
    running = make_activity(org.teammate, [shops["mine"], shops["team"]], kind=kind, status=S.RUNNING,
                            start=today - timedelta(days=2), title="端架陈列")
    make_activity(org.rep, [shops["mine2"]], kind=kind, status=S.SUBMITTED, start=today, title="pending")
    r = login(client, org.rep).get("/activities/mine")
    assert r.status_code == 200
    assert re.findall(r'class="card evidence-store" data-store="([^"]+)"', r.text) == ["E-MINE"]
    assert ids_on(r.text) == [running.id]
    assert "Photos required 3, have 0" in r.text and "1 checklist item to confirm" in r.text
    assert 'data-missing="1"' in r.text
    assert "No activity is running" in login(client, org.west_rep).get("/activities/mine").text


def test_the_activity_page_shows_stores_in_scope_compliance_and_history(client, org, shops):
    activity = make_activity(org.manager, [shops["mine"], shops["team"]], status=S.SUBMITTED, title="混合")
    db.session.add(ActivityTransition(activity=activity, from_status=S.DRAFT, to_status=S.SUBMITTED,
                                      actor=org.manager, comment=""))
    db.session.commit()
    r = login(client, org.rep).get(f"/activities/{activity.id}")
    assert r.status_code == 200
    assert re.findall(r'class="store-line" data-store="([^"]+)"', r.text) == ["E-MINE"]
    assert "Counted over the stores you may see." in r.text
    assert 'data-transition="submitted"' in r.text and "awaiting approval" in r.text


# --- activity types ----------------------------------------------------------------------------------

def type_form(**over) -> dict:
    data = {"name": "端架", "name_en": "End-cap", "check_period": "weekly", "photos_per_period": "2",
            "checklist": "价签可见\n\n  POSM 到位  \n", "compliance_floor_pct": "60", "margin_pct": "28.5"}
    data.update(over)
    return data


def test_an_admin_adds_edits_and_deactivates_an_activity_type(client, org):
    login(client, org.admin)
    assert client.get("/activity-types/new").status_code == 200
    assert client.post("/activity-types/new", data=type_form()).status_code == 302
    kind = db.session.execute(select(ActivityType)).scalar_one()
    assert kind.checklist == ["价签可见", "POSM 到位"] and str(kind.margin_pct) == "28.50"
    r = client.post(f"/activity-types/{kind.id}/edit", data=type_form(check_period="once", photos_per_period="4"))
    assert r.status_code == 302
    db.session.expire_all()
    assert (kind.check_period, kind.photos_per_period) == ("once", 4)
    assert client.post(f"/activity-types/{kind.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert not kind.active and "Reactivate" in client.get("/activity-types").text
    login(client, org.rep)
    assert str(kind.id) not in re.findall(r'<option value="(\d+)"', client.get("/activities/new").text)


@pytest.mark.parametrize("over,message", [
    ({"compliance_floor_pct": "101"}, "must be between"),
    ({"photos_per_period": "0", "checklist": ""}, "at least one photo"),
    ({"photos_per_period": "-1"}, "Number must be between"),
    ({"check_period": "monthly"}, "Not a valid choice"),
    ({"name": ""}, "This field is required"),
])
def test_a_bad_activity_type_answers_422(client, org, over, message):
    r = login(client, org.admin).post("/activity-types/new", data=type_form(**over))
    assert r.status_code == 422 and message in r.text
    assert count(ActivityType) == 0


def test_activity_types_are_for_admins_only(client, org):
    kind = make_type()
    for user in (org.rep, org.supervisor, org.manager):
        login(client, user)
        assert client.get("/activity-types").status_code == 403
        assert client.post(f"/activity-types/{kind.id}/deactivate").status_code == 403
    login(client, org.admin)
    assert client.post(f"/activity-types/{kind.id}/deactivate", csrf=False).status_code == 400
    assert client.get("/activity-types/9999/edit").status_code == 404
    db.session.expire_all()
    assert kind.active
