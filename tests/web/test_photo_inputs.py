"""Awkward uploads through the real upload path: near the pixel cap, animations, 16-bit, CMYK, huge
metadata, HEIF orientation — no 5xx, nothing stored on refusal, a clear message; a JPEG+ZIP polyglot
taken but flagged and its original only downloaded; the capture time shown in the photo's own time."""
import pytest
from PIL import Image

from field.extensions import db
from field.photos.models import Photo
from tests.conftest import login
from tests.fixtures import photo_inputs as inputs
from tests.fixtures.photos import visit_in_progress
from tests.web.test_photos import good_jpeg, photo_count, post, stored_files, upload_dir

REFUSED = {
    "png near the cap, too costly by header": (lambda: inputs.heic_claiming(7700, 7700), 413, "too large to process"),
    "webp near the cap": (lambda: inputs.webp_claiming(7700, 7700), 413, "too large to process"),
    "animated webp": (inputs.animated_webp, 415, "animation"),
    "animated png": (inputs.apng, 415, "animation"),
    "gif": (inputs.gif, 415, "not a photo"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_refused_with_a_message_and_nothing_stored(app, client, org, name):
    make, status, words = REFUSED[name]
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    before = stored_files(app)
    r = post(client, visit, make())
    assert r.status_code == status, r.get_data(as_text=True)
    assert words in r.get_json()["error"]
    assert photo_count() == 0 and stored_files(app) == before


TAKEN = {
    "png near the pixel cap": (lambda: inputs.flat_png(7700, 7700), (7700, 7700)),
    "16-bit grey png": (inputs.png16_grey, (400, 300)),
    "16-bit rgb png": (inputs.png16_rgb, (400, 300)),
    "cmyk jpeg": (inputs.cmyk_jpeg, (600, 400)),
    "8 MB icc profile": (inputs.jpeg_with_icc, (640, 480)),
    "full exif block": (inputs.jpeg_with_big_exif, (640, 480)),
    "nokia heif (exif 1, rotated 270)": (lambda: inputs.heif(inputs.stored_as(inputs.marked(), 6), 6, 1), (600, 400)),
}


@pytest.mark.parametrize("name", TAKEN)
def test_taken(app, client, org, name):
    make, size = TAKEN[name]
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    r = post(client, visit, make())
    assert r.status_code == 201, r.get_data(as_text=True)
    photo = db.session.get(Photo, r.get_json()["id"])
    assert (photo.width, photo.height) == size
    display = Image.open(upload_dir(app) / photo.display_key)
    assert display.format == "JPEG" and max(display.size) <= 1600
    if "heif" in name or "cmyk" in name:  # the thumbnail: the display copy's bottom carries the watermark
        assert inputs.corners(Image.open(upload_dir(app) / photo.thumb_key)) == "R..B"


def test_a_jpeg_zip_polyglot_is_taken_flagged_and_its_original_only_downloaded(app, client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    data = inputs.polyglot(good_jpeg(seed=31))
    r = post(client, visit, data)
    assert r.status_code == 201
    body = r.get_json()
    flag = next(f for f in body["flags"] if f["code"] == "trailing_data")
    assert flag["label"] == "Hidden data" and "after the end of the picture" in flag["text"]
    original = client.get(f"/photos/{body['id']}/original")
    assert original.data == data
    assert original.headers["Content-Disposition"].startswith("attachment;")
    clean = post(client, visit, good_jpeg(seed=32)).get_json()
    assert "trailing_data" not in {f["code"] for f in clean["flags"]}
    assert client.get(f"/photos/{clean['id']}/original").headers["Content-Disposition"].startswith("inline;")


def test_the_viewer_shows_the_photos_own_time_the_viewers_and_the_source(client, org):
    """Taken 11 April 15:47 −05:00 in the file; the viewer's zone is China's (+08:00)."""
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    r = post(client, visit, good_jpeg(seed=33, taken="2026:04:11 15:47:00", offset="-05:00"))
    photo_id = r.get_json()["id"]
    html = client.get(f"/photos/{photo_id}").get_data(as_text=True)
    assert "3:47:00\u202fPM (UTC−05:00) · Apr 12, 2026, 4:47:00\u202fAM China Time" in html.replace(" PM", "\u202fPM").replace(" AM", "\u202fAM")
    assert "offset written in the file" in html
    photo = db.session.get(Photo, photo_id)
    assert photo.taken_at_source == "exif_offset" and photo.exif_utc_offset_min == -300


def test_a_photo_in_the_viewers_own_offset_is_shown_once_and_a_zone_read_says_so(client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    same = post(client, visit, good_jpeg(seed=34, offset="+08:00")).get_json()["id"]
    html = client.get(f"/photos/{same}").get_data(as_text=True)
    assert "(UTC+08:00)" in html and "China Time" not in html.split("Taken (file)")[1].split("</dd>")[0]
    zoned = post(client, visit, good_jpeg(seed=35, offset=None)).get_json()["id"]
    html = client.get(f"/photos/{zoned}").get_data(as_text=True)
    assert "no offset in the file: read in the rep&#39;s time zone" in html
