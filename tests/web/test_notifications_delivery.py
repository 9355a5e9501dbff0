"""Delivery outside the request, against real receivers on loopback (tests/notify_receivers.py): a group
robot's webhook and an SMTP server. Refused, errored and silent receivers lose nothing: the row stays
queued with its error and is tried again after its back-off; one that then accepts gets it once. The last
test runs the huey worker itself (threads) on this run's database, SQLite or PostgreSQL."""
import dataclasses
import json
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from field import notifications
from field.core import now
from field.extensions import db
from field.notifications import jobs, queue
from field.notifications.models import Delivery
from field.activities.models import Evidence
from tests.factories import make_photo, make_store, promo_visit, running
from tests.notify_receivers import Mailbox, Robot


def rejection(org):
    """(url, data) of a supervisor's rejection of the rep's evidence, ready to POST."""
    shop = make_store(rep=org.rep, code="E-SHOP", name="Hongqiao Mart")
    line = running(org.rep, [shop], photos=1, title="春节堆头").stores[0]
    visit, step = promo_visit(org.rep, shop)
    db.session.add(Evidence(activity_store=line, period_index=1, photo=make_photo(visit, step),
                            checklist={i: True for i in line.activity.type.checklist}, created_by_id=org.rep.id))
    db.session.commit()
    newest = db.session.scalar(select(Evidence.id).order_by(Evidence.id.desc()).limit(1))
    return f"/activities/queue/{line.id}/1/review", {"verdict": "rejected", "reason": "unclear", "note": "",
                                                      "seen_review": "0", "seen_evidence": str(newest)}


@pytest.fixture
def configure(app):
    """Point delivery at local receivers for one test: configure(webhooks=..., smtp_port=...)."""
    original = app.extensions["notifications"]

    def configure(**changes):
        app.extensions["notifications"] = dataclasses.replace(original, **changes)

    yield configure
    app.extensions["notifications"] = original


def deliveries() -> list[Delivery]:
    db.session.rollback()
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def make_due():
    db.session.execute(update(Delivery).values(next_attempt_at=now() - timedelta(seconds=1)))
    db.session.commit()


def send_one(user, title="Evidence rejected", key=None):
    notifications.send([user], "evidence.rejected", title, body="Reason: too dark", url="/activities/mine",
                       key=key)
    db.session.commit()


def test_a_robot_that_refuses_then_accepts_gets_the_message_once(configure, org):
    with Robot(mode="refuse") as robot:
        configure(webhooks={"wecom": robot.url}, timeout=2.0)
        send_one(org.rep)
        [d] = deliveries()
        assert jobs.deliver(d.id) == 10.0                     # refused: the first back-off
        [d] = deliveries()
        assert (d.status, d.attempts, d.last_error) == ("queued", 1, "HTTP 503 Service Unavailable")
        assert d.next_attempt_at > now()
        robot.mode = "ok"
        assert jobs.deliver(d.id) is None and len(robot.received) == 1   # not due yet: not sent
        make_due()
        assert jobs.deliver(d.id) is None
        assert jobs.deliver(d.id) is None                     # a second wake-up sends nothing
        [d] = deliveries()
        assert (d.status, d.attempts, d.last_error) == ("sent", 2, "") and d.sent_at is not None
    assert len(robot.accepted()) == 1
    body = robot.accepted()[0]["body"]
    assert body["msgtype"] == "text" and "Evidence rejected" in body["text"]["content"]
    assert "/activities/mine" in body["text"]["content"]


def test_an_error_code_in_a_200_answer_is_a_failure(configure, org):
    with Robot(mode="errcode") as robot:
        configure(webhooks={"dingtalk": robot.url}, secrets={"dingtalk": "SECx"})
        send_one(org.rep)
        [d] = deliveries()
        jobs.deliver(d.id)
        [d] = deliveries()
        assert d.status == "queued" and "93000" in d.last_error
        assert "timestamp=" in robot.received[0]["path"] and "sign=" in robot.received[0]["path"]


def test_a_receiver_that_times_out_keeps_the_delivery_queued(configure, org):
    with Robot(mode="stall", stall=2.5) as robot:
        configure(webhooks={"feishu": robot.url}, timeout=1.0)
        send_one(org.rep)
        [d] = deliveries()
        started = time.monotonic()
        assert jobs.deliver(d.id) == 10.0
        assert time.monotonic() - started < 2.4
        [d] = deliveries()
        assert d.status == "queued" and "timed out" in d.last_error.lower()
        assert robot.received[0]["body"]["msg_type"] == "text"


def test_after_the_last_try_the_delivery_is_kept_as_failed_and_an_admin_can_send_it_again(client, configure, org):
    with Robot(mode="refuse") as robot:
        configure(webhooks={"wecom": robot.url}, max_attempts=2)
        send_one(org.rep)
        [d] = deliveries()
        jobs.deliver(d.id)
        make_due()
        assert jobs.deliver(d.id) is None
        [d] = deliveries()
        assert (d.status, d.attempts) == ("failed", 2)
        html = client.login_as(org.admin).get("/notifications/deliveries?status=failed").text
        assert "HTTP 503" in html
        rep_page = client.login_as(org.rep).get("/notifications").text
        assert "WeCom: not delivered" in rep_page
        robot.mode = "ok"
        assert client.login_as(org.admin).post(f"/notifications/deliveries/{d.id}/retry").status_code == 303
        assert client.login_as(org.rep).post(f"/notifications/deliveries/{d.id}/retry").status_code == 403
        jobs.deliver(d.id)
        assert deliveries()[0].status == "sent" and len(robot.accepted()) == 1


def test_email_reaches_a_local_smtp_server_in_the_recipients_language(configure, org):
    org.rep.email = "rep@example.com"
    org.teammate.email = None
    db.session.commit()
    with Mailbox() as box:
        configure(smtp_host="127.0.0.1", smtp_port=box.port, smtp_from="field@example.com", smtp_starttls=False)
        notifications.send([org.rep, org.teammate], "test", "Claim paid", body="¥50.00", url="/claims/1")
        db.session.commit()
        [d] = deliveries()                                    # the teammate has no address: in-app only
        assert (d.channel, d.target) == ("email", "rep@example.com")
        assert jobs.deliver(d.id) is None
    [mail] = box.messages
    assert mail["to"] == ["<rep@example.com>"]
    text = mail["data"].decode()
    assert "Subject: Claim paid" in text and "¥50.00" in text or "=C2=A550.00" in text


def test_an_smtp_server_that_refuses_keeps_the_mail_queued(configure, org):
    org.rep.email = "rep@example.com"
    db.session.commit()
    with Mailbox(refuse=True) as box:
        configure(smtp_host="127.0.0.1", smtp_port=box.port, smtp_from="field@example.com", smtp_starttls=False)
        send_one(org.rep)
        [d] = deliveries()
        assert jobs.deliver(d.id) == 10.0
        [d] = deliveries()
        assert d.status == "queued" and "relay refused" in d.last_error and box.messages == []


def test_a_smtp_server_that_is_not_there_keeps_the_mail_queued(configure, org):
    org.rep.email = "rep@example.com"
    db.session.commit()
    with Mailbox() as box:
        port = box.port
    configure(smtp_host="127.0.0.1", smtp_port=port, smtp_from="field@example.com", smtp_starttls=False)
    send_one(org.rep)
    [d] = deliveries()
    jobs.deliver(d.id)
    assert deliveries()[0].status == "queued" and deliveries()[0].last_error.startswith("SMTP")


def test_the_sweep_finds_a_delivery_whose_wake_up_was_lost(configure, org):
    configure(webhooks={"wecom": "http://127.0.0.1:9/"})
    send_one(org.rep)
    assert jobs.overdue() == []                               # just queued: its own wake-up is on its way
    db.session.execute(update(Delivery).values(next_attempt_at=now() - timedelta(minutes=5)))
    db.session.commit()
    assert jobs.overdue() == [deliveries()[0].id]


def test_the_worker_delivers_after_the_request_commits_and_retries_with_back_off(client, configure, org):
    """The huey consumer (threads) of this run's queue: a rejection in a request reaches the robot, which
    refuses once and then accepts: one message arrives."""
    with Robot(mode="refuse") as robot:
        configure(webhooks={"wecom": robot.url}, retry_seconds=0.5)
        q = queue.get()
        q.huey.flush()
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        consumer = q.consumer(workers=2, poll=0.1)
        consumer.start()
        try:
            review = rejection(org)
            robot_refusals = 0
            assert client.login_as(org.supervisor).post(review[0], data=review[1]).status_code in (200, 303)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not robot.accepted():
                if robot.received and robot.mode == "refuse":
                    robot_refusals = len(robot.received)
                    robot.mode = "ok"
                time.sleep(0.05)
            time.sleep(0.5)
        finally:
            consumer.stop(graceful=True)
            for s, h in handlers.items():
                signal.signal(s, h)
        assert robot_refusals == 1 and len(robot.accepted()) == 1
        [d] = deliveries()
        assert (d.status, d.attempts) == ("sent", 2)
        assert json.dumps(robot.accepted()[0]["body"], ensure_ascii=False).count("Evidence rejected") == 1
