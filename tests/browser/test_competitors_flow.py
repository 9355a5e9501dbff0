"""Competitor intelligence on a phone: two reps record competitor products in the competitor step of their
visits (one absurd price refused in place first), and their manager's report shows both, with the drill-down.

The data is made here with tests/factories.py; the visits are started through the factories, the steps filled
in through the real page (htmx)."""
from playwright.sync_api import expect

from field.competitors.models import CompetitorPromotionType
from field.core import now
from field.extensions import db
from field.visits.models import VisitStatus
from tests.browser.conftest import MIN_TAP, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, make_store, make_visit


def fill_in_competitors(page, live_server, rep, visit, rows):
    login(page, live_server, rep.login, PASSWORD)
    page.goto(f"/visits/{visit.id}")
    card = page.locator("section.step-competitor")
    for i, (brand, price, promotion, display) in enumerate(rows):
        row = card.locator("fieldset.competitor-row").nth(i)
        row.locator("input[name=c-brand]").fill(brand)
        row.locator("input[name=c-price]").fill(price)
        row.locator("input[name=c-facings]").fill("4")
        if promotion:
            row.locator("select[name=c-promotion]").select_option(label=promotion)
        row.locator("select[name=c-display]").select_option(label=display)
    card.get_by_role("button", name="Save step").click()
    return card


def test_two_visits_competitor_steps_then_the_managers_report(new_page, live_server, org):
    db.session.add(CompetitorPromotionType(name="买赠", name_en="Buy and get", active=True))
    db.session.commit()
    first = make_visit(org.rep, make_store(rep=org.rep, name="Hongqiao Mart"), at=now(), code="promotion")
    second = make_visit(org.teammate, make_store(rep=org.teammate, name="Jing'an Shop"), at=now(), code="promotion")

    page = new_page()
    card = fill_in_competitors(page, live_server, org.rep, first, [("康师傅", "35000000", "Buy and get", "End-cap")])
    # An absurd price: refused in place, what was typed kept.
    expect(card.locator(".competitor-row.has-error .error")).to_contain_text("is too large")
    expect(card.locator("input[name=c-brand]").first).to_have_value("康师傅")
    card.locator("input[name=c-price]").first.fill("3.50")
    card.get_by_role("button", name="Save step").click()
    expect(card.locator(".competitor-result")).to_contain_text("康师傅")
    expect(card.locator(".competitor-result")).to_contain_text("¥3.50")
    assert no_horizontal_overflow(page)
    keep_shot(page, "competitor-step")
    db.session.refresh(first)
    first.status, first.checkout_at = VisitStatus.COMPLETED, now()
    db.session.commit()

    page = new_page()
    card = fill_in_competitors(page, live_server, org.teammate, second,
                               [("统一", "2.80", "", "Regular shelf"), ("康师傅", "4.00", "Buy and get", "Cooler")])
    expect(card.locator(".competitor-result li")).to_have_count(2)

    page = new_page()
    login(page, live_server, org.manager.login, PASSWORD)
    page.goto("/")
    page.locator("#competitors-link").click()
    table = page.locator("#competitor-table")
    expect(table).to_contain_text("康师傅")
    expect(table).to_contain_text("统一")
    kang = table.locator("li.competitor-line", has_text="康师傅")
    expect(kang).to_contain_text("Buy and get")
    expect(kang.locator("[data-sightings]")).to_have_text("2 sightings")
    expect(kang).to_contain_text("¥3.50")
    expect(kang).to_contain_text("¥4.00")
    expect(page.locator("#competitor-trend polyline")).to_have_count(2)
    assert no_horizontal_overflow(page)
    box = page.locator("#competitors-export, .actions a").first.bounding_box()
    assert box["height"] >= MIN_TAP
    keep_shot(page, "competitor-report")
    kang.get_by_role("link", name="康师傅 · Buy and get").click()
    sightings = page.locator(".competitor-sighting")
    expect(sightings).to_have_count(2)
    expect(page.locator("#competitor-sightings")).to_contain_text("Hongqiao Mart")
    expect(page.locator("#competitor-sightings")).to_contain_text("Jing'an Shop")
    assert no_horizontal_overflow(page)
    keep_shot(page, "competitor-sightings")
