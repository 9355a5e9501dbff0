"""The manager's ROI path on a phone and a laptop: open ROI from the bottom navigation, read the KPIs,
filter, drill from an activity's ROI to one store's sales and evidence photo, export what is shown;
and the claim path: the manager reads a rep's claim and its computation, approves, and the ledger
and the ROI page show the write-off. One run in Chinese.

Two activities in the East run since 17 days ago, so 17 days are measured (through yesterday) and
two weekly check periods are over. Both stores sold ¥100.00 a day in the 28 days before; during
the activity "Spring display" (Display, at Alpha Mart in East north) sells ¥500.00 a day, "Tasting
week" (Tasting, at Beta Shop in East) sells what it always did. Margin 30 %, budget ¥1,000.00 each.

Screenshots of the pages walked go to $FIELD_SHOT_DIR (default <tmp>/field-shots)."""
import csv
import os
import re
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from field.activities.models import ActivityStatus as S, Review, Verdict
from field.claims import operations as claims
from field.extensions import db
from field.core import company_today
from tests.browser.conftest import login, no_horizontal_overflow
from tests.browser.test_activity_flow import shoot
from tests.factories import PASSWORD, make_activity, make_product, make_region, make_store, make_type
from tests.fixtures import photos as samples
from tests.unit.test_roi import days, sell

SHOTS = Path(os.environ.get("FIELD_SHOT_DIR", Path(tempfile.gettempdir()) / "field-shots"))
LAPTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False,
          "device_scale_factor": 1, "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36"}
MEASURED_DAYS = 17
SPRING, TASTING = "Spring display 春季陈列", "Tasting week"


# In a full-page shot a fixed bar is painted where the viewport was, over the content; put the bars
# in the flow so the picture shows the page as it reads when scrolled.
UNFIX_BARS = ("header.topbar, nav.bottomnav { position: static !important; }"
              "nav.bottomnav { transform: none !important; margin: 0 auto; }")


def snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, style=UNFIX_BARS)


def figure(text: str) -> Decimal:
    """'¥1,234.50' → 1234.50; '−33.3 %' → -33.3: a figure as the page shows it."""
    return Decimal(re.sub(r"[¥,%\s]", "", text).replace("−", "-"))


def make_world(app, org, verified=(0, 1), paid: str | None = None, floor="60.00") -> dict:
    """The two activities above; `verified` periods of Alpha Mart approved; `paid` yuan written off for it."""
    today = company_today()
    start = today - timedelta(days=MEASURED_DAYS)
    display = make_type(name="陈列", name_en="Display", photos=1, checklist=("价签可见",), floor=floor)
    tasting = make_type(name="品鉴", name_en="Tasting", photos=1, checklist=("试吃台已摆",))
    north = make_region("EAST-N", "East north", org.east)
    alpha = make_store(rep=org.rep, code="E-ALPHA", name="Alpha Mart", region=north,
                       lat=samples.SHOP[0], lng=samples.SHOP[1])
    beta = make_store(rep=org.teammate, code="E-BETA", name="Beta Shop")
    spring = make_activity(org.rep, [alpha], budget=100_000, kind=display, status=S.RUNNING, start=start,
                           end=start + timedelta(days=27), title=SPRING)
    week = make_activity(org.teammate, [beta], budget=100_000, kind=tasting, status=S.RUNNING, start=start,
                         end=start + timedelta(days=27), title=TASTING)
    cola = make_product(sku="COLA-330", name="Cola 330 ml")
    for day in days(start - timedelta(days=28), start - timedelta(days=1)):
        sell(alpha, day, 10_000, product=cola)
        sell(beta, day, 10_000, product=cola)
    for day in days(start, today - timedelta(days=1)):
        sell(alpha, day, 50_000, product=cola)
        sell(beta, day, 10_000, product=cola)
    line = spring.stores[0]
    for index in verified:
        db.session.add(Review(activity_store=line, period_index=index, verdict=Verdict.APPROVED, reason="",
                              note="", reviewer=org.supervisor))
    db.session.commit()
    photo = shoot(app, org.rep, line, seed=61)
    if paid is not None:
        with app.test_request_context(headers={"Accept-Language": "en"}):
            claim = claims.file_claim(line, org.rep, paid, "堆头租金")
            claims.approve(claim, org.manager)
            db.session.commit()  # what the manager's request would have committed
    return {"spring": spring, "week": week, "line": line, "north": north, "display": display, "photo": photo}


def activity_row(page, activity):
    return page.locator(f"tr[data-activity='{activity.id}']")


def open_roi(page):
    """From wherever the manager is: the ROI tab of the bottom navigation."""
    page.locator("nav.bottomnav").get_by_role("link", name="ROI").click()
    page.wait_for_url("**/roi")
    expect(page.locator("h1.topbar-title")).to_have_text("Promotion ROI")


# --- filter, drill down to a photo, export ---------------------------------------------------------

@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_manager_filters_drills_to_evidence_and_exports(app, new_page, live_server, org, size):
    world = make_world(app, org, paid="800.00")
    spring, week, line = world["spring"], world["week"], world["line"]
    page = login(new_page(**(LAPTOP if size == "laptop" else {})), live_server, org.manager.login, PASSWORD)
    open_roi(page)

    # Spring: 17 days × ¥500 = ¥8,500 on a ¥1,700 baseline → ¥6,800 × 30 % = ¥2,040 GP on ¥800 written off.
    # Tasting: no lift, ¥1,000 committed. Together ¥2,040 GP on ¥1,800 → 13.3 %.
    expect(page.locator("[data-kpi=spend]")).to_have_text("¥1,800.00")
    expect(page.locator(".kpi", has=page.locator("[data-kpi=spend]")).locator(".kpi-label")).to_have_text(
        "Spend · written off and committed")
    expect(page.locator("[data-kpi=gp]")).to_have_text("¥2,040.00")
    expect(page.locator("[data-kpi=roi]")).to_have_text("13.3 %")
    expect(page.locator("[data-kpi=compliance]")).to_have_text("50.0 %")    # 2 of Spring's 2, 0 of Tasting's 2
    expect(page.locator("tr[data-activity]")).to_have_count(2)
    expect(activity_row(page, week).locator("[data-roi]")).to_have_text("−100.0 %")
    expect(activity_row(page, week)).to_have_class(re.compile(r"roi-negative.*compliance-low"))
    assert no_horizontal_overflow(page), "the ROI page scrolls sideways"
    snap(page, f"roi-{size}")

    # A filter: by type on the phone, by region on the laptop. Tasting leaves; the KPIs are Spring's.
    if size == "phone":
        page.locator("select[data-filter=type]").select_option(label="Display")
        page.wait_for_url(re.compile(rf"[?&]type={world['display'].id}\b"))
    else:
        page.locator("select[data-filter=region]").select_option(str(world["north"].id))
        page.wait_for_url(re.compile(rf"[?&]region={world['north'].id}\b"))
    expect(activity_row(page, week)).to_have_count(0)
    expect(page.locator("tr[data-activity]")).to_have_count(1)
    expect(page.locator("[data-kpi=roi]")).to_have_text("155.0 %")          # (2,040 − 800) / 800
    expect(page.locator("[data-kpi=spend]")).to_have_text("¥800.00")
    row = activity_row(page, spring)
    expect(row.locator("[data-roi]")).to_have_text("155.0 %")
    expect(row.locator("[data-cost]")).to_contain_text("¥800.00")
    expect(row.locator("[data-cost]")).to_contain_text("written off")
    shown_roi, shown_cost = row.locator("[data-roi]").inner_text(), row.locator("[data-cost]").inner_text()
    assert no_horizontal_overflow(page)
    snap(page, f"roi-filtered-{size}")

    # Drill down: the activity, its actual against baseline by day, its store.
    row.get_by_role("link", name=SPRING).click()
    page.wait_for_url(f"**/roi/activities/{spring.id}?*")
    expect(page.locator("h1.topbar-title")).to_have_text(SPRING)
    chart = page.locator("[data-line-chart]").first
    expect(chart.locator("polyline.series-actual")).to_have_count(1)
    expect(chart.locator("polyline.series-baseline")).to_have_count(1)
    expect(chart).to_be_visible()
    expect(page.get_by_text("Actual ¥8,500.00, baseline ¥1,700.00 over the measured days.")).to_be_visible()
    assert no_horizontal_overflow(page)
    snap(page, f"roi-activity-{size}")
    page.locator(f"tr[data-line='{line.id}']").get_by_role("link", name="Alpha Mart").click()
    page.wait_for_url(f"**/roi/lines/{line.id}?*")

    # The store: how its ROI is reached, its sales, its evidence photo.
    expect(page.locator("h1.topbar-title")).to_have_text("Alpha Mart")
    expect(page.locator("[data-pre-sales]")).to_have_text("¥2,800.00")
    expect(page.locator("[data-baseline]")).to_contain_text("¥1,700.00")
    expect(page.locator("[data-actual]")).to_contain_text("¥8,500.00")
    expect(page.locator("[data-cost]")).to_contain_text("¥800.00 written off")
    expect(page.locator("#computation [data-roi]")).to_have_text(shown_roi)
    expect(page.locator("tr[data-product='COLA-330']")).to_contain_text("Cola 330 ml")
    expect(page.locator("tr[data-product='COLA-330'] td").last).to_have_text("¥8,500.00")
    expect(page.locator("#evidence [data-period='0'] .badge")).to_have_text("verified")
    expect(page.locator("[data-written-off]")).to_have_text("¥800.00")
    thumb = page.locator(f"[data-evidence] #photo-{world['photo'].id} img")
    thumb.scroll_into_view_if_needed()
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") > 0, "the evidence thumbnail did not load"
    assert no_horizontal_overflow(page)
    snap(page, f"roi-line-{size}")

    # The photo itself.
    page.locator(f"#photo-{world['photo'].id} a.photo-link").click()
    page.wait_for_url(f"**/photos/{world['photo'].id}")
    big = page.locator("#photo-viewer .photo-figure img")
    expect(big).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=big.element_handle(), timeout=10_000)
    assert no_horizontal_overflow(page)

    # Back to the list — the filter kept — and its export: the same figures as the page.
    page.go_back()
    page.wait_for_url(f"**/roi/lines/{line.id}?*")
    page.locator("header a.back").click()
    page.wait_for_url(f"**/roi/activities/{spring.id}?*")
    page.locator("header a.back").click()
    page.wait_for_url(re.compile(r"/roi\?"))
    expect(page.locator("tr[data-activity]")).to_have_count(1)
    with page.expect_download() as download:
        page.locator("#activities a[data-export=csv]").click()
    path = download.value.path()
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["title"] for r in rows] == [SPRING]
    exported = rows[0]
    assert exported["cost"] == "800.00" and exported["cost_basis"] == "written off"
    assert figure(exported["cost"]) == figure(shown_cost.split("\n")[0])
    assert exported["roi_pct"] == "155.00"
    assert figure(exported["roi_pct"]).quantize(Decimal("0.1")) == figure(shown_roi)
    assert (exported["actual"], exported["baseline"], exported["incremental_gross_profit"]) == (
        "8500.00", "1700.00", "2040.00")


# --- a claim approved, the ledger and ROI after it -----------------------------------------------

def test_manager_approves_a_claim_and_the_ledger_shows_it(app, new_page, live_server, org):
    # One of Spring's two periods verified: 50 %, on a floor of 50 %. The rep claimed ¥1,500 for
    # Alpha Mart — more than its ¥1,000 budget.
    world = make_world(app, org, verified=(0,), floor="50.00")
    spring, line = world["spring"], world["line"]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        claims.file_claim(line, org.rep, "1500.00", "堆头租金 3 月")
        db.session.commit()

    # The manager, before: Spring's cost is its committed budget.
    page = login(new_page(), live_server, org.manager.login, PASSWORD)
    open_roi(page)
    cost = activity_row(page, spring).locator("[data-cost]")
    expect(cost).to_contain_text("¥1,000.00")
    expect(cost.locator(".muted")).to_have_text("committed")

    # … opens the claims, the claim, and reads the computation.
    page.goto("/")
    page.locator("#main").get_by_role("link", name="Claims", exact=True).click()
    page.wait_for_url("**/claims")
    item = page.locator(".claim-list a[data-claim]")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Alpha Mart")
    expect(item).to_contain_text("¥1,500.00")
    expect(item.locator("[data-status]")).to_have_text("awaiting decision")
    assert no_horizontal_overflow(page)
    item.click()
    page.wait_for_url(re.compile(r"/claims/\d+$"))
    payout = page.locator("#payout")
    expect(page.locator("[data-claimed]")).to_have_text("¥1,500.00")
    expect(payout.locator("[data-capped]")).to_be_visible()                      # above the budget left
    expect(payout.locator("dd").nth(1)).to_contain_text("¥1,000.00")
    expect(payout.locator("[data-compliance]")).to_have_text(re.compile(r"50\.0 %\s*\(1 / 2\)"))
    expect(payout.locator("dd").nth(3)).to_have_text("50 %")                     # the floor, met
    expect(payout.locator("[data-under-floor]")).to_have_count(0)
    expect(payout.locator("[data-payable]")).to_have_text("¥500.00")             # min(1,500, 1,000) × 1/2
    expect(page.locator("#decision input[name=amount]")).to_have_value("500.00")
    assert no_horizontal_overflow(page)
    snap(page, "claim-phone")

    page.get_by_role("button", name="Approve and write off").click()
    expect(page.locator(".flash")).to_have_text("Approved and written off: ¥500.00.")
    expect(page.locator(".claim-head [data-status]")).to_have_text("approved")
    expect(page.locator("[data-approved]")).to_have_text("¥500.00")
    expect(page.locator("[data-rejected]")).to_have_text("¥1,000.00")
    expect(page.locator("#decision")).to_have_count(0)
    snap(page, "claim-approved-phone")

    # The ledger shows the payment.
    page.goto("/claims")
    page.locator("header").get_by_role("link", name="Ledger").click()
    page.wait_for_url("**/ledger")
    ledger_row = page.locator("tr[data-ledger-line]")
    expect(ledger_row).to_have_count(1)
    expect(ledger_row).to_contain_text("Alpha Mart")
    expect(ledger_row).to_contain_text(SPRING)
    expect(ledger_row.locator("td.num")).to_have_text("¥500.00")
    expect(page.locator("[data-ledger-total]")).to_have_text("¥500.00")
    assert no_horizontal_overflow(page)
    snap(page, "ledger-phone")

    # ROI: Spring's cost is now what was written off. ¥2,040 GP on ¥500 → 308.0 %.
    open_roi(page)
    row = activity_row(page, spring)
    expect(row.locator("[data-cost]")).to_contain_text("¥500.00")
    expect(row.locator("[data-cost]").locator(".muted")).to_have_text("written off")
    expect(row.locator("[data-roi]")).to_have_text("308.0 %")


def test_a_rep_files_a_claim_and_lands_on_it(app, new_page, live_server, org):
    line = make_world(app, org, verified=(0,))["line"]
    rep = login(new_page(), live_server, org.rep.login, PASSWORD)
    rep.goto("/claims")
    rep.locator(f"[data-claimable='{line.id}']").click()
    rep.wait_for_url(f"**/activity-stores/{line.id}/claim")
    rep.locator("input[name=amount]").fill("1500.00")
    rep.get_by_role("button", name="File claim").click()
    expect(rep.locator(".claim-head [data-status]")).to_have_text("awaiting decision")
    expect(rep.locator("h1.topbar-title")).to_have_text(re.compile(r"^CLM-\d+$"), timeout=2_000)
    expect(rep.locator(".claim-head")).to_have_count(1)
    expect(rep.locator(".flash")).to_contain_text("filed. A manager decides on it.")
    expect(rep).to_have_url(re.compile(r"/claims/\d+$"))


# --- in Chinese -------------------------------------------------------------------------------------

def test_the_roi_page_in_chinese_on_a_phone(app, new_page, live_server, org):
    world = make_world(app, org, paid="800.00")
    org.manager.locale = "zh_CN"
    db.session.commit()
    page = login(new_page(locale="zh-CN"), live_server, org.manager.login, PASSWORD)
    page.goto("/roi")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1.topbar-title")).to_have_text("促销 ROI")
    expect(page.locator(".kpi", has=page.locator("[data-kpi=spend]")).locator(".kpi-label")).to_have_text(
        "费用 · 已核销及承诺预算")
    expect(page.locator("#activities h2")).to_have_text("活动")
    expect(page.locator("select[data-filter=type] option:checked")).to_have_text("全部类型")
    expect(activity_row(page, world["spring"]).locator("td").first.locator(".muted")).to_have_text(
        re.compile(r"· 陈列$"))                                                      # the type's Chinese name
    expect(activity_row(page, world["spring"]).locator("[data-cost]").locator(".muted")).to_have_text("已核销")
    expect(activity_row(page, world["week"]).locator("[data-cost]").locator(".muted")).to_have_text("承诺预算")
    expect(page.locator("nav.bottomnav .tab.active")).to_have_text("ROI 值")
    assert no_horizontal_overflow(page), "the Chinese ROI page scrolls sideways"
    snap(page, "roi-zh-phone")
    page.locator(f"tr[data-activity='{world['spring'].id}'] td a").first.click()
    page.locator(f"tr[data-line='{world['line'].id}'] td a").first.click()
    page.wait_for_url(f"**/roi/lines/{world['line'].id}?*")
    expect(page.locator("#computation h2")).to_have_text("ROI 计算过程")
    expect(page.locator("#evidence h2")).to_have_text("举证")
    assert no_horizontal_overflow(page), "the Chinese store line page scrolls sideways"
    snap(page, "roi-line-zh-phone")
