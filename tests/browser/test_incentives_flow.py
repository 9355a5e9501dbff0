"""Incentives on a phone (390 px): the supervisor approves a rep's evidence at first submission in the queue;
the rep's home then shows the points and the level they reached, and the week's leaderboard ranks them above
their teammate. Screenshots go to $FIELD_SHOT_DIR when it is set."""
from datetime import timedelta

from playwright.sync_api import expect

from field.activities.models import Evidence
from field.core import company_today
from field.extensions import db
from field.incentives.models import IncentiveLevel, IncentiveTask
from tests.browser.conftest import MIN_TAP, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, make_photo, make_store, promo_visit, running

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "screen": {"width": 390, "height": 844},
             "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def test_an_approved_review_shows_as_points_and_level_on_the_reps_home(new_page, live_server, org):
    db.session.add_all([IncentiveLevel(name="新人", threshold=0, rewards=[]),
                        IncentiveLevel(name="Silver", threshold=50, rewards=["Movie tickets"]),
                        IncentiveLevel(name="Gold", threshold=200, rewards=["Day off"]),
                        IncentiveTask(name="Approved at first go", kind="first_approved", points=60, target=1,
                                      region=org.east, period_start=company_today() - timedelta(days=20),
                                      period_end=company_today() + timedelta(days=9), created_by=org.manager)])
    line = running(org.rep, [make_store(rep=org.rep, name="Hongqiao Mart")], photos=1).stores[0]
    visit, step = promo_visit(org.rep, line.store)
    db.session.add(Evidence(activity_store=line, period_index=1, photo=make_photo(visit, step),
                            checklist={i: True for i in line.activity.type.checklist}, created_by_id=org.rep.id))
    db.session.commit()

    boss = login(new_page(**PHONE_390), live_server, org.supervisor.login, PASSWORD)
    boss.goto(f"{live_server}/activities/queue")
    boss.locator("article.queue-item").first.get_by_role("button", name="Approve").click()
    expect(boss.locator(".queue-verdict").first).to_contain_text("Approved ✓")

    rep = login(new_page(**PHONE_390), live_server, org.rep.login, PASSWORD)
    rep.goto(f"{live_server}/")
    card = rep.locator("#points-card")
    expect(card.locator('[data-points="total"]')).to_have_text("60")
    expect(card.locator('[data-points="level"]')).to_have_text("Silver")
    expect(card).to_contain_text("140 points to Gold")
    assert no_horizontal_overflow(rep)
    keep_shot(rep, "incentives-home-phone")

    link = card.get_by_role("link", name="Leaderboard")
    assert link.bounding_box()["height"] >= MIN_TAP
    link.click()
    rep.wait_for_url("**/incentives/leaderboard")
    first = rep.locator(".leaderboard li").first
    expect(first).to_contain_text(org.rep.name)
    expect(first.locator("[data-points]")).to_have_text("60")
    expect(rep.locator(".leaderboard li")).to_have_count(2)               # the rep and their teammate
    assert no_horizontal_overflow(rep)
    keep_shot(rep, "incentives-leaderboard-phone")
