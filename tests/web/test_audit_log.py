"""The audit log page: newest first, paginated, filtered by who and by record — admins only."""
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import field
from field.audit import AuditEvent
from field.extensions import db

pytestmark = pytest.mark.usefixtures("cheap_hashes")


def add_event(action, actor=None, obj=None, at=None, ip="10.0.0.1", **detail):
    import json
    event = AuditEvent(at=at or datetime(2024, 5, 1, 2, 0, tzinfo=timezone.utc), action=action,
                       actor_id=actor.id if actor else None,
                       object_type=obj.__tablename__ if obj is not None else "",
                       object_id=obj.id if obj is not None else None, ip=ip,
                       detail=json.dumps(detail) if detail else "")
    db.session.add(event)
    db.session.commit()
    return event


def actions(html: str) -> list[str]:
    return re.findall(r'data-action="([^"]+)"', html)


@pytest.mark.parametrize("role", ["rep", "supervisor", "manager"])
def test_only_admins_read_the_audit_log(client, org, role):
    client.login_as(getattr(org, role))
    assert client.get("/audit").status_code == 403


def test_events_newest_first_with_time_in_local_zone_who_record_ip_and_details(as_admin, org):
    add_event("older", org.admin, org.rep, at=datetime(2024, 5, 1, 1, 0, tzinfo=timezone.utc))
    add_event("user.update", org.admin, org.rep, at=datetime(2024, 5, 1, 23, 30, tzinfo=timezone.utc),
              ip="203.0.113.7", supervisor=["supervisor", "westsup"])
    html = as_admin.get("/audit").get_data(as_text=True)
    assert actions(html) == ["user.update", "older"]
    first = html.split('data-action="user.update"')[1].split("</li>")[0]
    # 23:30 UTC is 07:30 the next morning in Shanghai (the default time zone).
    assert 'datetime="2024-05-01T23:30:00+00:00"' in first and "7:30" in first and "May 2, 2024" in first
    assert org.admin.name in first and "203.0.113.7" in first
    assert f"User #{org.rep.id}" in first and f'<span class="record-name">{org.rep.name}</span>' in first
    assert "supervisor → westsup" in first


def test_the_record_is_a_link_to_all_its_events(as_admin, org):
    add_event("user.update", org.admin, org.rep)
    html = as_admin.get("/audit").get_data(as_text=True)
    assert f'href="/audit?type=users&amp;id={org.rep.id}"' in html


def test_filter_by_record(as_admin, org):
    add_event("on-rep", org.admin, org.rep)
    add_event("on-westrep", org.admin, org.west_rep)
    add_event("on-east", org.admin, org.east)
    html = as_admin.get(f"/audit?type=users&id={org.rep.id}").get_data(as_text=True)
    assert actions(html) == ["on-rep"]
    html = as_admin.get("/audit?type=users").get_data(as_text=True)
    assert sorted(actions(html)) == ["on-rep", "on-westrep"]
    html = as_admin.get("/audit?type=regions").get_data(as_text=True)
    assert actions(html) == ["on-east"]


def test_filter_by_who(as_admin, org):
    add_event("by-admin", org.admin, org.rep)
    add_event("by-rep", org.rep, org.rep)
    html = as_admin.get(f"/audit?actor={org.rep.id}").get_data(as_text=True)
    assert actions(html) == ["by-rep"]
    assert f"by {org.rep.name}" in html


def test_nonsense_filters_show_nothing_rather_than_fail(as_admin, org):
    add_event("something", org.admin, org.rep)
    assert as_admin.get("/audit?actor=abc&id=x&page=-3").status_code == 200
    html = as_admin.get("/audit?actor=999999").get_data(as_text=True)
    assert actions(html) == [] and "No events match." in html


def test_pages_of_page_size(as_admin, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    start = datetime(2024, 5, 1, tzinfo=timezone.utc)
    for i in range(7):
        add_event(f"e{i}", org.admin, org.rep, at=start + timedelta(minutes=i))
    page1 = as_admin.get("/audit").get_data(as_text=True)
    assert actions(page1) == ["e6", "e5", "e4"] and "Page 1 of 3" in page1
    page3 = as_admin.get("/audit?page=3").get_data(as_text=True)
    assert actions(page3) == ["e0"]
    filtered = as_admin.get(f"/audit?type=users&id={org.rep.id}&page=2").get_data(as_text=True)
    assert actions(filtered) == ["e3", "e2", "e1"]
    assert f'href="/audit?page=3&amp;type=users&amp;id={org.rep.id}" rel="next"' in filtered


def test_an_admin_change_shows_up_in_the_log(as_admin, org):
    as_admin.post(f"/users/{org.west_rep.id}/deactivate")
    html = as_admin.get(f"/audit?type=users&id={org.west_rep.id}").get_data(as_text=True)
    assert actions(html) == ["user.deactivate"]


def _audited_actions() -> set[str]:
    """Every action the code records: the first argument of each audit.record() call (one literal,
    or two in a conditional), <kind>.activate/.deactivate of each audit.set_active(obj, active, "<kind>")
    call, and the transition tables whose values are recorded."""
    from field.activities import workflow as activities
    from field.claims import operations as claims
    from field.visits import workflow as visits
    first_arg = re.compile(r'audit\.record\(\s*("[^"]+"(?:\s+if\s+[^"]+?\s+else\s+"[^"]+")?)\s*,')
    toggled = re.compile(r'audit\.set_active\([^,()]+,\s*[^,()]+,\s*"([^"]+)"')
    found = set()
    for path in Path(field.__file__).parent.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for arg in first_arg.findall(source):
            found.update(re.findall(r'"([^"]+)"', arg))
        for kind in toggled.findall(source):
            found.update({f"{kind}.activate", f"{kind}.deactivate"})
    for table in (activities.TRANSITIONS, claims.TRANSITIONS, visits.TRANSITIONS):
        found.update(str(v[0] if isinstance(v, tuple) else v) for v in table.values())  # (action, who) or action
    return found


def test_every_action_the_code_records_reads_as_words_in_both_languages(app):
    from field.admin.views import ACTION_LABELS
    found = _audited_actions()
    assert {"login", "store.deactivate", "review.reject", "activity.approve_second", "visit.check_out"} <= found
    assert found - set(ACTION_LABELS) == set()
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        for action, label in ACTION_LABELS.items():
            assert re.search(r"[\u4e00-\u9fff]", str(label)), action


def _audited_detail_keys() -> set[str]:
    """The keyword arguments of every audit.record() call in field/ (the keys of the events' details)."""
    import ast
    found = set()
    for path in Path(field.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            call = node.func if isinstance(node, ast.Call) else None
            if (isinstance(call, ast.Attribute) and call.attr == "record"
                    and isinstance(call.value, ast.Name) and call.value.id == "audit"):
                found.update(k.arg for k in node.keywords if k.arg and k.arg != "actor")
    return found


def test_every_detail_the_code_records_reads_as_words_in_both_languages(app):
    from field.admin.views import DETAIL_LABELS
    found = _audited_detail_keys()
    assert {"month", "parts", "rule", "points", "reason"} <= found
    assert found - set(DETAIL_LABELS) == set()  # a key missing here shows as itself ("on_time"), in English
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        for key, label in DETAIL_LABELS.items():
            assert re.search(r"[\u4e00-\u9fff]", str(label)) or str(label) == "SKU", key  # SKU reads SKU in Chinese too


def test_an_event_shows_what_was_done_in_words_with_its_code_beside(as_admin, org):
    add_event("store.deactivate", org.admin, org.rep)
    html = as_admin.get("/audit").get_data(as_text=True)
    assert '<span title="store.deactivate">Deactivated a store</span>' in html


def test_detail_keys_read_as_words_in_chinese(client, org):
    client.login_as(org.admin)
    org.admin.locale = "zh_CN"
    db.session.commit()
    add_event("claim.reject", org.admin, org.rep, reason="照片不清楚", claimed=12_000)
    html = client.get("/audit").get_data(as_text=True)
    assert '<dt title="reason">原因</dt>' in html and '<dt title="claimed">申请金额</dt>' in html
    assert "<dd>¥120.00</dd>" in html                  # recorded in fen, shown as money


def test_a_targets_split_reads_as_words_and_money_and_a_tier_threshold_stays_a_number(client, org):
    client.login_as(org.admin)
    org.admin.locale = "zh_CN"
    db.session.commit()
    add_event("targets.split", org.admin, level="rep", method="manual", parts={"7": 1_250_000}, created=1)
    add_event("targets.set", org.admin, level="region", old=None, new=50_000_000)
    add_event("dealer_tier.criterion", org.admin, metric="coverage_pct", old=60, new=70)
    html = client.get("/audit").get_data(as_text=True)
    assert "<dd>业务员</dd>" in html and "<dd>手动拆分</dd>" in html and "<dd>区域</dd>" in html
    assert "<dd>7: ¥12,500.00</dd>" in html and "<dd>¥500,000.00</dd>" in html  # fen, shown as money
    assert "<dd>60</dd>" in html and "<dd>70</dd>" in html                       # a percentage, not money


def test_a_store_or_activity_named_by_id_in_the_details_shows_its_name_in_scope(client, org):
    from tests.factories import make_store
    from tests.factories import make_activity
    shop, west = make_store(rep=org.rep, name="Corner Shop"), make_store(rep=org.west_rep, name="West Shop")
    activity = make_activity(org.rep, [shop], title="春节堆头")
    add_event("claim.file", org.rep, activity, activity=activity.id, store=shop.id, amount=5_000)
    add_event("claim.file", org.west_rep, activity, store=west.id, comment=["a", "b"])
    client.login_as(org.admin)
    html = client.get("/audit").get_data(as_text=True)
    assert f"<dd>{activity.id} · <span class=\"record-name\">春节堆头</span></dd>" in html
    assert f"<dd>{shop.id} · <span class=\"record-name\">Corner Shop</span></dd>" in html
    assert "West Shop" in html                                  # an admin sees every store
