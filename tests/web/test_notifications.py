"""The notification centre: scope, CSRF, the bell's unread count on every role's pages, the events that
notify (evidence rejected, activity approved, claim paid, an alert), and each in the reader's language."""
import re

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from field import notifications, providers
from field.activities import workflow
from field.activities.models import ActivityStatus, Evidence
from field.claims import operations as claim_ops
from field.extensions import db
from field.notifications.models import Delivery, Notification
from tests.factories import make_activity, make_claim, make_photo, make_store, promo_visit, running

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def notes(user) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def notify(user, title="Hello", **kw):
    made = notifications.send([user], kw.pop("kind", "test"), title, **kw)
    db.session.commit()
    return made


def bell_count(html: str) -> int:
    bell = re.search(r'<a id="bell".*?</a>', html, re.S)
    assert bell, "no bell on the page"
    count = re.search(r'class="bell-count"[^>]*>(\d+)', bell.group(0))
    return int(count.group(1)) if count else 0


# --- send() ----------------------------------------------------------------------------------------

def test_a_key_makes_one_notification_per_user(org):
    notify(org.rep, key="k1")
    notify(org.rep, key="k1")
    notify(org.teammate, key="k1")
    notify(org.rep, key="k2")
    assert len(notes(org.rep)) == 2 and len(notes(org.teammate)) == 1


def test_send_never_commits(org):
    notifications.send([org.rep], "test", "Hello")
    db.session.rollback()
    assert notes(org.rep) == []


def test_an_outside_url_is_not_kept(org):
    notify(org.rep, url="https://evil.example/x")
    notify(org.rep, url="//evil.example/x")
    assert [n.url for n in notes(org.rep)] == [None, None]


@pytest.mark.usefixtures("request_ctx")
def test_a_lazy_title_is_translated_in_the_readers_language(client, org):
    org.rep.locale = "zh_CN"
    org.supervisor.locale = "en"
    db.session.commit()
    title = _l("This claim is already %(state)s.", state=_l("approved"))  # a label inside: translated too
    notify(org.rep, title)
    notify(org.supervisor, title)
    stored = notes(org.rep)[0]
    assert (stored.title, stored.title_params) == ("This claim is already %(state)s.", {"state": {"msgid": "approved"}})
    zh = client.login_as(org.rep).get("/notifications", headers={"Accept-Language": "zh-CN"}).text
    en = client.login_as(org.supervisor).get("/notifications").text
    assert "This claim is already approved." in en
    assert "该核销申请已处于“已通过”状态。" in zh


# --- the centre ------------------------------------------------------------------------------------

def test_the_centre_lists_my_notifications_newest_first_with_unread_marked(client, org):
    notify(org.rep, "first")
    notify(org.rep, "second")
    notify(org.teammate, "not yours")
    html = client.login_as(org.rep).get("/notifications").text
    assert html.index("second") < html.index("first") and "not yours" not in html
    assert html.count("note-unread") == 2 and bell_count(html) == 2


def test_the_centre_pages(client, org, app):
    for i in range(app.config["PAGE_SIZE"] + 3):
        notifications.send([org.rep], "test", f"note {i}")
    db.session.commit()
    r = client.login_as(org.rep).get("/notifications?page=2")
    assert r.status_code == 200 and "note 0" in r.text and "note 60" not in r.text and 'rel="prev"' in r.text


def test_opening_one_marks_it_read_and_goes_to_its_page(client, org):
    note = notify(org.rep, "x", url="/activities/mine")[0]
    r = client.login_as(org.rep).post(f"/notifications/{note.id}/open")
    assert r.status_code == 303 and r.headers["Location"].endswith("/activities/mine")
    assert notes(org.rep)[0].read_at is not None
    assert bell_count(client.get("/notifications").text) == 0


def test_another_users_notification_is_not_found(client, org):
    note = notify(org.teammate, "x")[0]
    for user in (org.rep, org.supervisor, org.admin):
        assert client.login_as(user).post(f"/notifications/{note.id}/open").status_code == 404
    assert notes(org.teammate)[0].read_at is None


def test_posts_without_csrf_are_refused(client, org):
    note = notify(org.rep, "x")[0]
    client.login_as(org.rep)
    assert client.post(f"/notifications/{note.id}/open", csrf=False).status_code == 400
    assert client.post("/notifications/read", csrf=False).status_code == 400
    assert notes(org.rep)[0].read_at is None


def test_mark_all_read_marks_only_mine(client, org):
    notify(org.rep, "a")
    notify(org.rep, "b")
    notify(org.teammate, "c")
    r = client.login_as(org.rep).post("/notifications/read")
    assert r.status_code == 303
    assert all(n.read_at for n in notes(org.rep)) and notes(org.teammate)[0].read_at is None


def test_signed_out_the_centre_asks_to_sign_in(client):
    assert client.get("/notifications").status_code == 302


def test_htmx_asks_for_the_list_alone(client, org):
    notify(org.rep, "frag")
    r = client.login_as(org.rep).get("/notifications", headers=HTMX)
    assert r.status_code == 200 and "frag" in r.text and "<html" not in r.text
    r = client.post("/notifications/read", headers=HTMX)
    assert r.status_code == 200 and r.headers.get("HX-Redirect", "").endswith("/notifications")


@pytest.mark.parametrize("role", ["rep", "supervisor", "manager", "admin"])
def test_every_role_sees_the_unread_count_on_its_pages(client, org, role):
    user = getattr(org, role)
    for i in range(3):
        notify(user, f"n{i}")
    client.login_as(user)
    for path in ("/", "/notifications", "/profile", "/stores"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert bell_count(r.text) == 3, path
        assert 'aria-label="Notifications: 3 unread"' in r.text


def test_no_unread_shows_the_bell_without_a_count(client, org):
    html = client.login_as(org.rep).get("/").text
    assert bell_count(html) == 0 and 'aria-label="Notifications"' in html


def test_the_delivery_queue_is_the_admins(client, org):
    assert client.login_as(org.rep).get("/notifications/deliveries").status_code == 403
    assert client.login_as(org.admin).get("/notifications/deliveries").status_code == 200
    assert client.login_as(org.admin).get("/notifications/deliveries?status=failed", headers=HTMX).status_code == 200


# --- the events ------------------------------------------------------------------------------------

def test_rejected_evidence_notifies_the_rep_who_shot_it(client, org):
    shop = make_store(rep=org.rep, code="E-SHOP", name="Hongqiao Mart")
    line = running(org.rep, [shop], photos=1, title="春节堆头").stores[0]
    visit, step = promo_visit(org.teammate, shop)
    photo = make_photo(visit, step)
    db.session.add(Evidence(activity_store=line, period_index=1, photo=photo,
                            checklist={i: True for i in line.activity.type.checklist}, created_by_id=org.teammate.id))
    db.session.commit()
    newest = db.session.scalar(select(func.max(Evidence.id)))
    r = client.login_as(org.supervisor).post(f"/activities/queue/{line.id}/1/review", data={
        "verdict": "rejected", "reason": "unclear", "note": "太暗", "seen_review": "0",
        "seen_evidence": str(newest)})
    assert r.status_code in (200, 303)
    [note] = notes(org.teammate)
    assert note.kind == "evidence.rejected" and note.url == f"/activities/{line.activity_id}"
    assert notes(org.rep) == []
    html = client.login_as(org.teammate).get("/notifications").text
    assert "Evidence rejected: Hongqiao Mart, 春节堆头" in html
    assert "Reason: Photo unclear or too dark. 太暗" in html
    assert bell_count(html) == 1


def test_an_approved_activity_notifies_its_applicant(org, request_ctx):
    activity = make_activity(org.supervisor, [make_store(rep=org.rep, region=org.east)], budget=10_000,
                             status=ActivityStatus.SUBMITTED)
    workflow.transition(activity, "approved", org.manager)
    db.session.commit()
    [note] = notes(org.supervisor)
    assert note.kind == "activity.approved" and note.url == f"/activities/{activity.id}"


def test_a_paid_claim_notifies_the_claimant(org, request_ctx):
    line = running(org.rep, [make_store(rep=org.rep)], photos=1).stores[0]
    claim = make_claim(line, org.rep, amount=5_000)
    claim_ops.approve(claim, org.manager)
    db.session.commit()
    [note] = notes(org.rep)
    assert note.kind == "claim.paid" and note.url == f"/claims/{claim.id}" and note.key == f"claim.paid:{claim.id}"


def test_an_alert_becomes_a_notification(org):
    providers.notify("alert.opened", users=[org.supervisor, org.manager], kind="alert", title="Visits missed",
                     body="3 planned visits", url="/", key="alert:1")
    providers.notify("alert.opened", users=[org.supervisor], kind="alert", title="Visits missed", key="alert:1")
    db.session.commit()
    assert [n.title for n in notes(org.supervisor)] == ["Visits missed"]
    assert len(notes(org.manager)) == 1


def test_no_channel_configured_queues_no_delivery(org):
    notify(org.rep, "x")
    assert db.session.scalar(select(func.count(Delivery.id))) == 0
