"""The alert pages: scope (outside it is 404), acknowledge and resolve (CSRF, audited, one move wins),
the thresholds page (managers, their regions only, bad values refused whole), and the command."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from field.alerts.evaluate import evaluate
from field.alerts.hooks import open_alerts_count
from field.alerts.models import Alert, AlertRule, AlertStatus
from field.audit import AuditEvent
from field.core import company_today
from field.extensions import db
from tests.factories import make_visit


@pytest.fixture
def east_alert(org):
    make_visit(org.rep, planned_for=company_today() - timedelta(days=1))
    alert = next(a for a in evaluate(org.east).opened if a.rule == "missed_visits")
    db.session.commit()
    return alert


@pytest.fixture
def west_alert(org):
    make_visit(org.west_rep, planned_for=company_today() - timedelta(days=1))
    alert = next(a for a in evaluate(org.west).opened if a.rule == "missed_visits")
    db.session.commit()
    return alert


def test_each_sees_the_alerts_of_their_scope_only(client, org, east_alert, west_alert):
    for user, seen, unseen in ((org.supervisor, east_alert, west_alert), (org.manager, east_alert, west_alert),
                               (org.west_supervisor, west_alert, east_alert)):
        client.login_as(user)
        page = client.get("/alerts")
        assert page.status_code == 200
        assert f'data-alert="{seen.id}"' in page.text and f'data-alert="{unseen.id}"' not in page.text
        assert client.get(f"/alerts/{seen.id}").status_code == 200
        assert client.get(f"/alerts/{unseen.id}").status_code == 404
        assert client.post(f"/alerts/{unseen.id}/acknowledge").status_code == 404
        assert client.post(f"/alerts/{unseen.id}/resolve").status_code == 404
    client.login_as(org.admin)
    page = client.get("/alerts")
    assert f'data-alert="{east_alert.id}"' in page.text and f'data-alert="{west_alert.id}"' in page.text
    assert open_alerts_count(org.rep) == 0
    assert open_alerts_count(org.supervisor) == db.session.execute(select(func.count(Alert.id)).where(
        Alert.region_id == org.east.id)).scalar_one()


def test_a_rep_has_no_alert_pages(client, org, east_alert):
    client.login_as(org.rep)
    assert client.get("/alerts").status_code == 403
    assert client.get(f"/alerts/{east_alert.id}").status_code == 403
    assert client.get("/alerts/rules").status_code == 403


def test_an_alert_links_to_its_records(client, org, east_alert):
    client.login_as(org.supervisor)
    page = client.get(f"/alerts/{east_alert.id}")
    day = east_alert.period.isoformat()
    assert f"/reps/{org.rep.id}/day?date={day}" in page.text
    assert org.rep.name in page.text


def test_acknowledge_then_resolve_audited_and_filtered(client, org, east_alert):
    client.login_as(org.supervisor)
    answer = client.post(f"/alerts/{east_alert.id}/acknowledge", data={"next": "/alerts?status=open"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/alerts?status=open")
    assert f'data-alert="{east_alert.id}"' not in client.get("/alerts?status=open").text
    assert f'data-alert="{east_alert.id}"' in client.get("/alerts?status=acknowledged").text
    assert f'data-alert="{east_alert.id}"' in client.get("/alerts").text          # live: open and acknowledged
    again = client.post(f"/alerts/{east_alert.id}/acknowledge")
    assert again.status_code == 409
    done = client.post(f"/alerts/{east_alert.id}/resolve", data={"note": "Called him: sick day."})
    assert done.status_code == 303
    db.session.expire_all()
    alert = db.session.get(Alert, east_alert.id)
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_by_id == org.supervisor.id
    assert alert.acknowledged_by_id == org.supervisor.id and alert.note == "Called him: sick day."
    assert f'data-alert="{alert.id}"' in client.get("/alerts?status=resolved").text
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.actor_id)
                                 .where(AuditEvent.object_type == "alerts", AuditEvent.object_id == alert.id).order_by(AuditEvent.id)).all()
    assert actions == [("alert.open", None), ("alert.acknowledge", org.supervisor.id),
                       ("alert.resolve", org.supervisor.id)]
    assert client.post(f"/alerts/{alert.id}/resolve").status_code == 409


def test_every_post_needs_the_csrf_token(client, org, east_alert):
    client.login_as(org.manager)
    for path in (f"/alerts/{east_alert.id}/acknowledge", f"/alerts/{east_alert.id}/resolve", "/alerts/rules"):
        assert client.post(path, data={"region": org.east.id}, csrf=False).status_code == 400, path
    db.session.expire_all()
    assert db.session.get(Alert, east_alert.id).status == AlertStatus.OPEN
    assert db.session.execute(select(func.count(AlertRule.id))).scalar_one() == 0


def _form(where, **overrides):
    data = {"region": where.id}
    from field.alerts.rules import RULES
    for rule in RULES:
        data[f"{rule.code}.enabled"] = "on"
        for param in rule.params:
            data[f"{rule.code}.{param.name}"] = str(param.default)
    data.update(overrides)
    return data


def test_a_manager_sets_thresholds_for_their_regions(client, org):
    client.login_as(org.manager)
    page = client.get(f"/alerts/rules?region={org.east.id}")
    assert page.status_code == 200 and 'name="coverage.min_coverage_pct"' in page.text
    data = _form(org.east, **{"missed_visits.min_missed": "3"})
    del data["photo_reuse.enabled"]
    answer = client.post("/alerts/rules", data=data)
    assert answer.status_code == 303
    rows = {r.code: r for r in db.session.execute(select(AlertRule)).scalars()}
    assert rows["missed_visits"].params == {"min_missed": 3} and rows["missed_visits"].region_id == org.east.id
    assert rows["photo_reuse"].enabled is False
    assert 'value="3"' in client.get(f"/alerts/rules?region={org.east.id}").text


def test_thresholds_out_of_range_are_refused_whole(client, org):
    client.login_as(org.manager)
    for field, bad in (("coverage.min_coverage_pct", "101"), ("missed_visits.min_missed", "0"),
                       ("no_checkin.by_time", "25:00"), ("negative_roi.roi_pct", "abc")):
        answer = client.post("/alerts/rules", data=_form(org.east, **{field: bad}))
        assert answer.status_code == 422, field
        assert 'role="alert"' in answer.text and "nothing was saved" in answer.text
        assert f'value="{bad}"' in answer.text                      # what was typed, shown back
        assert db.session.execute(select(func.count(AlertRule.id))).scalar_one() == 0


def test_no_thresholds_for_a_region_outside_ones_scope(client, org):
    client.login_as(org.manager)
    assert client.get(f"/alerts/rules?region={org.west.id}").status_code == 404
    assert client.get("/alerts/rules?region=999999").status_code == 404
    assert client.post("/alerts/rules", data=_form(org.west)).status_code == 404
    assert client.post("/alerts/rules", data=_form(org.east, region="x")).status_code == 404
    assert db.session.execute(select(func.count(AlertRule.id))).scalar_one() == 0
    client.login_as(org.supervisor)
    assert client.get("/alerts/rules").status_code == 403


def test_the_command_evaluates_every_area_and_twice_opens_nothing_new(runner, org):
    from field.alerts.rules import RULES
    for rule in RULES:  # set once for the whole country: only missed visits
        db.session.add(AlertRule(region_id=org.china.id, code=rule.code, enabled=rule.code == "missed_visits",
                                 params=rule.defaults()))
    db.session.commit()
    make_visit(org.rep, planned_for=company_today() - timedelta(days=1))
    make_visit(org.west_rep, planned_for=company_today() - timedelta(days=1))
    first = runner.invoke(args=["alerts-evaluate"])
    assert first.exit_code == 0, first.output
    assert "Evaluated 2 regions: 2 alerts opened" in first.output
    second = runner.invoke(args=["alerts-evaluate", "--region", "EAST"])
    assert "Evaluated 1 regions: 0 alerts opened, 0 cleared, 1 still standing." in second.output
    day = (company_today() + timedelta(days=1)).isoformat()
    assert runner.invoke(args=["alerts-evaluate", "--day", day]).exit_code == 0
    assert runner.invoke(args=["alerts-evaluate", "--region", "NOPE"]).exit_code == 2
    assert runner.invoke(args=["alerts-evaluate", "--day", "2027-13-01"]).exit_code == 2
    db.session.expire_all()
    assert db.session.execute(select(func.count(Alert.id))).scalar_one() == 2
