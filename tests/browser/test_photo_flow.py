"""A photo in a store visit, on a phone: the rep picks a 12 MP-class JPEG with the camera input, sees it
travel (progress), then its thumbnail and flag; the step is done and the check-out bar ready without a
reload. The supervisor then opens the photo: the watermarked display copy, capture data and flags.
And the visit page with photos at 360 and 412 px, in English and Chinese, without sideways scrolling.

FIELD_SHOT_DIR=/some/dir keeps a phone-size screenshot of each page looked at."""
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from field.extensions import db
from field.photos.models import Photo
from tests.browser.conftest import MIN_TAP, grant_geolocation, keep_shot, login, no_horizontal_overflow
from tests.factories import PASSWORD
from tests.fixtures import photos as samples
from tests.web.test_photos import good_jpeg, photo_step
from tests.web.test_visit_photos import photo_visit

ELSEWHERE = (samples.SHOP[0] + 1500 / 110_900.0, samples.SHOP[1])  # 1.5 km north of the store


def big_photo(tmp_path, seed=21, **exif) -> Path:
    """A 2400×1800 JPEG with EXIF time (now, China time) and GPS, as a phone camera leaves it."""
    path = tmp_path / f"IMG_{seed:04d}.jpg"
    path.write_bytes(good_jpeg(seed=seed, size=(2400, 1800), **exif))
    return path


def test_rep_adds_a_photo_and_the_supervisor_opens_it(new_page, live_server, org, tmp_path):
    visit = photo_visit(org.rep, min_photos=1)
    step = photo_step(visit)
    page = new_page()
    grant_geolocation(page, *samples.SHOP, accuracy=9)
    login(page, live_server, org.rep.login, PASSWORD)
    page.goto(f"/visits/{visit.id}")
    card = page.locator(f"#step-{step.id}")
    expect(page.locator("#checkout .checkout-status")).to_contain_text("1 required step left")
    page.evaluate("window.__sameDocument = true")

    # Hold the upload on its way, so the tile in flight can be seen.
    held = []
    page.route(f"**/visits/{visit.id}/steps/{step.id}/photos", lambda route: held.append(route))
    card.locator("input[data-photo-input=camera][capture=environment]").set_input_files(
        str(big_photo(tmp_path, gps=ELSEWHERE)))
    pending = card.locator(".photo-tile.photo-pending")
    expect(pending.locator("progress.photo-progress")).to_be_visible()
    for _tick in range(200):  # the request leaves once the phone has shrunk the photo
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the upload never left the page"
    expect(pending.locator(".photo-status")).to_have_text("Sending…")
    held[0].continue_()
    page.unroute(f"**/visits/{visit.id}/steps/{step.id}/photos")

    # Stored: the thumbnail with its flag replaces the tile; the step and the check-out bar follow.
    tile = card.locator(".photo-tile[id^=photo-]")
    expect(tile).to_have_count(1)
    expect(pending).to_have_count(0)
    expect(tile.locator(".badge-flag")).to_have_text("Taken elsewhere")
    expect(tile.locator("img")).to_have_js_property("complete", True)
    assert tile.locator("img").evaluate("img => img.naturalWidth") > 0
    expect(card.locator("[data-photo-have]")).to_have_text("1")
    expect(page.locator(f"#step-head-{step.id} .step-mark")).to_have_text("✓")
    expect(page.locator("#checkout .checkout-status")).to_contain_text("Ready to check out")
    assert page.evaluate("window.__sameDocument === true")  # no reload
    assert no_horizontal_overflow(page)
    keep_shot(page, "photo-flow-rep")

    # The phone shrank it to ≤ 2048 px and kept its EXIF time and GPS; it sent its own position.
    db.session.expire_all()
    photo = db.session.execute(select(Photo)).scalar_one()
    assert max(photo.width, photo.height) == 2048 and photo.exif_taken_at is not None
    assert 1400 < photo.exif_distance_m < 1600 and photo.phone_distance_m < 50
    assert photo.flag_codes == ["exif_outside_geofence"]

    # The supervisor taps the thumbnail on the visit and reads the photo.
    boss = new_page()
    login(boss, live_server, org.supervisor.login, PASSWORD)
    boss.goto(f"/visits/{visit.id}")
    boss.locator(f"#step-{step.id} a.photo-link").click()
    boss.wait_for_url(f"**/photos/{photo.id}")
    shown = boss.locator(".photo-figure img")
    expect(shown).to_have_attribute("src", f"/photos/{photo.id}/display.jpg")
    expect(shown).to_have_js_property("complete", True)
    assert 0 < shown.evaluate("img => img.naturalWidth") <= 1600
    flags = boss.locator(".photo-viewer .flags")
    expect(flags).to_contain_text("Taken elsewhere")
    expect(flags).to_contain_text("outside its 200 m fence")
    facts = boss.locator(".photo-viewer .facts").first
    expect(facts).to_contain_text(org.rep.name)
    expect(facts).to_contain_text("m from the store")
    expect(boss.locator(".photo-void summary")).to_be_visible()
    assert no_horizontal_overflow(boss)
    keep_shot(boss, "photo-flow-viewer")


def test_the_visit_page_with_photos_fits_a_phone_in_english_and_chinese(new_page, live_server, org):
    visit = photo_visit(org.rep, allow_album=True)
    step = photo_step(visit)
    page = new_page()
    grant_geolocation(page, *samples.SHOP)
    login(page, live_server, org.rep.login, PASSWORD)
    page.goto(f"/visits/{visit.id}")
    card = page.locator(f"#step-{step.id}")
    camera = card.locator("input[data-photo-input=camera]")
    # One photo taken 1.5 km away (flagged), one at the store.
    for n, exif in enumerate(({"gps": ELSEWHERE}, {}), start=1):
        camera.set_input_files({"name": f"IMG_{n}.jpg", "mimeType": "image/jpeg",
                                "buffer": good_jpeg(seed=30 + n, **exif)})
        expect(card.locator(".photo-tile[id^=photo-]")).to_have_count(n)
    expect(page.locator(f"#step-head-{step.id} .step-mark")).to_have_text("✓")
    for locale, width in (("en", 412), ("en", 360), ("zh_CN", 412), ("zh_CN", 360)):
        org.rep.locale = locale
        db.session.commit()
        page.set_viewport_size({"width": width, "height": 800})
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if locale == "zh_CN" else "en")
        expect(card.locator(".photo-tile[id^=photo-]")).to_have_count(2)
        expect(card.locator(".photo-tile img").last).to_have_js_property("complete", True)
        assert no_horizontal_overflow(page), (locale, width)
        for target in (card.locator(".photo-pick").first, card.locator(".photo-pick").last,
                       card.locator("a.photo-link").first):
            box = target.bounding_box()
            assert box["height"] >= MIN_TAP and box["width"] >= MIN_TAP, (locale, width, box)
        card.evaluate("card => card.scrollIntoView({block: 'start'})")
        keep_shot(page, f"photo-step-{locale}-{width}", full_page=False)

    # Checked out: the supervisor sees the step's thumbnails on the completed visit.
    page.locator("#checkout button[type=submit]").click()
    page.wait_for_url("**/today**")  # after check-out the rep is back on Today
    page.goto(f"/visits/{visit.id}")
    expect(page.locator(".badge-status-completed")).to_be_visible()
    boss = new_page(viewport={"width": 360, "height": 800})
    login(boss, live_server, org.supervisor.login, PASSWORD)
    boss.goto(f"/visits/{visit.id}")
    card = boss.locator(f"#step-{step.id}")
    expect(card.locator(".photo-tile[id^=photo-]")).to_have_count(2)
    expect(card.locator("input[type=file]")).to_have_count(0)
    expect(boss.locator(f"#step-head-{step.id} .step-state")).to_have_text("Done ✓")
    assert no_horizontal_overflow(boss)
    card.evaluate("card => card.scrollIntoView({block: 'start'})")
    keep_shot(boss, "photo-step-supervisor-completed-en-360", full_page=False)
