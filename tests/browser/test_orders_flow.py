"""An order's way on phones: a rep takes it in a visit, the dealer's staff member confirms it and marks it
partly delivered, and the rep's next visit shows "Last order: partly delivered 1 of 2 lines" in its Plan.
The data is made with tests/factories.py and the visit operations, never the demo seed."""
import re
from datetime import date

from playwright.sync_api import expect

from field.core import now
from field.extensions import db
from field.visits import operations as ops
from field.visits.models import Visit, VisitStatus
from tests.browser.conftest import keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD, make_dealer_user, make_order_dealer, make_product, make_store, vtype


def test_a_rep_takes_an_order_the_dealer_delivers_part_and_the_next_plan_says_so(new_page, live_server, org):
    dealer = make_order_dealer(org.east, name="East Trading")
    store = make_store(rep=org.rep, region=org.east, name="Hongqiao Mart", dealer_id=dealer.id)
    make_product(sku="COLA", name="Cola 330ml", unit_price=350)
    make_product(sku="TEA", name="Green tea", unit_price=500)
    staff = make_dealer_user(dealer, login="dealer1")
    visit = ops.check_in(org.rep, store, vtype("order"), position=store.point, accuracy_m=10, position_at=now(),
                         reason="", client_key=None)
    following = Visit(rep=org.rep, store=store, visit_type=vtype("routine"), planned_for=date.today(),
                      status=VisitStatus.PLANNED, flags=[])
    db.session.add(following)
    db.session.commit()

    # The rep fills the order step: two lines, saved in place; the page says it went to the dealer.
    rep = new_page()
    login(rep, live_server, org.rep.login, PASSWORD)
    rep.goto(f"/visits/{visit.id}")
    card = rep.locator("section.step").filter(has=rep.locator("select[name=sku]"))
    rows = card.locator(".order-row")
    rows.nth(0).locator("select[name=sku]").select_option("COLA")
    rows.nth(0).locator("input[name=quantity]").fill("4")
    rows.nth(1).locator("select[name=sku]").select_option("TEA")
    rows.nth(1).locator("input[name=quantity]").fill("2")
    card.get_by_role("button", name="Save step").click()
    expect(card.locator(".step-state.saved")).to_contain_text("Saved ✓")
    rep.goto(f"/visits/{visit.id}")
    expect(rep.locator(".order-sent")).to_contain_text("Sent to East Trading: submitted")

    # The dealer's staff member lands on their orders, confirms, then delivers 4 colas and no tea.
    shop = new_page()
    login(shop, live_server, staff.login, PASSWORD)
    assert shop.url.endswith("/orders")
    shop.locator(".order-list a", has_text="Hongqiao Mart").click()
    shop.wait_for_url(re.compile(r"/orders/\d+$"))
    expect(shop.locator("#order-status")).to_have_text("submitted")
    shop.get_by_role("button", name="Confirm order").click()
    expect(shop.locator("#order-status")).to_have_text("confirmed")
    inputs = shop.locator("#lines input.qty")
    inputs.nth(1).fill("3")                                         # more tea than was ordered: refused in place
    shop.get_by_role("button", name="Mark delivered").click()
    expect(shop.locator("#lines .error")).to_have_text("At most 2 were ordered.")
    shop.locator("#lines input.qty").nth(1).fill("0")
    shop.get_by_role("button", name="Mark delivered").click()
    expect(shop.locator("#order-status")).to_have_text("partly delivered")
    assert no_horizontal_overflow(shop)
    keep_shot(shop, "orders-delivered")

    # The rep's next visit at the store starts from what became of the order.
    rep.goto(f"/visits/{following.id}")
    expect(rep.locator("#plan .last-order")).to_contain_text("Last order: partly delivered 1 of 2 lines")
    assert no_horizontal_overflow(rep)
