"""The rep's working day on a phone: start the day by the phone's position with a selfie (Home's first card), two
visits, end the day, the mileage on the day page, the route task's points on Home; a parking receipt added with its photo; a travel claim filed for the day (taking the
receipt); the supervisor approves it and the
ledger pays it. The visits are made with the factories (the visit page has its own browser test)."""
import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from field.claims.models import LedgerLine, TravelClaim
from field.core import company_today
from field.extensions import db
from field.geo import Point
from field.incentives import rules as incentive_rules
from field.incentives.models import IncentiveLevel, IncentiveTask
from field.workday.models import Workday
from tests.browser.conftest import MIN_TAP, grant_geolocation, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, earlier_today, make_store, make_visit
from tests.fixtures import photos as samples

HOME = Point(31.2304, 121.4737)


def test_start_visit_end_mileage_and_a_travel_claim_approved(new_page, live_server, org):
    page = new_page()
    login(page, live_server, org.rep.login, PASSWORD)
    grant_geolocation(page, HOME.lat, HOME.lng, accuracy=15)

    # Home offers to start the day first thing.
    page.goto("/")
    card = page.locator("#workday-card")
    expect(card.locator("h2")).to_have_text("Start your day")
    selfie = card.locator("label.photo-pick", has=page.locator("input[name=selfie]"))
    expect(selfie).to_have_text("Take a selfie (optional)")  # a button in the page's words, not "Choose File"
    assert selfie.bounding_box()["height"] >= MIN_TAP
    card.locator("input[name=selfie]").set_input_files(
        {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg(51)})
    expect(selfie).to_have_text("Selfie taken ✓ · tap to take it again")
    card.get_by_role("button", name="Start the day").click()
    page.wait_for_url(re.compile(rf"/reps/{org.rep.id}/workday$"))
    expect(page.locator("[data-stop=start]")).to_contain_text("Day started")
    expect(page.locator("[data-stop=start] [data-selfie=start] img")).to_be_visible()

    # Two visits during the day: stores 1.1 km and 2.2 km north of where the day started.
    workday = db.session.execute(select(Workday)).scalar_one()
    workday.started_at = earlier_today(90)
    db.session.commit()
    for n, minutes in ((1, 60), (2, 30)):
        point = Point(HOME.lat + 0.01 * n, HOME.lng)
        store = make_store(rep=org.rep, region=org.east, name=f"Shop {n}", lat=point.lat, lng=point.lng)
        make_visit(org.rep, store, at=earlier_today(minutes), minutes=15, point=point)

    # The rep ends the day back where they started.
    page.reload()
    page.get_by_role("button", name="End the day").click()
    page.wait_for_url(re.compile(rf"/reps/{org.rep.id}/workday$"))
    expect(page.locator("[data-stop=end]")).to_contain_text("Day ended")
    expect(page.locator("[data-stop=checkin]")).to_have_count(2)
    # start → Shop 1 (1.1 km) → Shop 2 (1.1 km) → back home (2.2 km): 4.4 km
    expect(page.locator("[data-kpi=mileage] .kpi-value")).to_have_text(re.compile(r"4\.4\s*km"))
    assert no_horizontal_overflow(page)
    keep_shot(page, "workday-day")

    # The route done without a flag, the nightly grant (flask incentives-grant) pays the route task: Home shows it.
    db.session.add_all([IncentiveLevel(name="Starter", threshold=0, rewards=[]),
                        IncentiveLevel(name="Silver", threshold=50, rewards=[]),
                        IncentiveTask(name="Route done", kind="route_days", points=10, target=1, region=org.east,
                                      period_start=company_today(), period_end=company_today(),
                                      created_by=org.manager)])
    db.session.commit()
    incentive_rules.evaluate_all(only=[org.rep.id])
    db.session.commit()
    page.goto("/")
    expect(page.locator('#points-card [data-points="total"]')).to_have_text("10")
    expect(page.locator("#points-card")).to_contain_text("40 points to Silver")
    page.goto(f"/reps/{org.rep.id}/workday")

    # A parking receipt, its photo taken for it, through the outbox.
    page.locator("#travel-claims-link").click()
    page.locator("#receipts-link").click()
    page.locator("#new-receipt").click()
    page.locator("#r-file").set_input_files({"name": "receipt.jpg", "mimeType": "image/jpeg",
                                             "buffer": samples.jpeg(52)})
    page.fill("#r-amount", "15.50")
    page.get_by_role("button", name="Save the receipt").click()
    page.wait_for_url(re.compile(r"/travel-receipts/\d+$"))
    expect(page.locator("#receipt [data-amount]")).to_have_text("¥15.50")

    # A travel claim for the day: the computed mileage is filled in, the receipt ticked.
    page.goto("/travel-claims")
    page.locator("#new-travel-claim").click()
    expect(page.locator("#claimable-receipts input[name=expense_receipt]")).to_be_checked()
    expect(page.locator(".travel-computed")).to_contain_text("4.4")
    expect(page.locator("#km")).to_have_value("4.4")
    page.fill("#km", "6.0")
    page.get_by_role("button", name="File the travel claim").click()
    page.wait_for_url(re.compile(r"/travel-claims/\d+$"))
    expect(page.locator("[data-kpi=difference-km] .kpi-value")).to_have_text(re.compile(r"\+1\.6\s*km"))
    expect(page.locator("[data-amount]")).to_contain_text("20.30")  # 6.0 km × ¥0.80 + ¥15.50 parking
    assert no_horizontal_overflow(page)
    keep_shot(page, "workday-travel-claim")
    claim_url = page.url

    # The supervisor sees claimed, computed and the difference, and approves: the ledger pays it.
    boss = new_page()
    login(boss, live_server, org.supervisor.login, PASSWORD)
    boss.goto(claim_url)
    expect(boss.locator("[data-kpi=computed-km] .kpi-value")).to_have_text(re.compile(r"4\.4\s*km"))
    boss.get_by_role("button", name=re.compile("Approve and pay")).click()
    expect(boss.locator("[data-status]")).to_have_text("approved")
    expect(boss.locator("[data-ledger-line]")).to_have_count(1)
    db.session.expire_all()
    line = db.session.execute(select(LedgerLine)).scalar_one()
    assert (line.category, line.amount) == ("travel", 2030)
    assert db.session.execute(select(TravelClaim.status)).scalar_one() == "approved"
