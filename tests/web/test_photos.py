"""Photo evidence by request: upload from a photo step, idempotency, bad input, flags, the viewer,
scoped bytes, void — as the phone's page and the supervisor's browser use them."""
import io
import re
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask import g
from PIL import Image
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.core import now
from field.extensions import db
from field.geo import Point
from field.photos import ingest
from field.photos.models import Photo
from field.visits import operations as ops
from field.visits.models import Visit
from tests.conftest import login
from tests.fixtures import photos as samples
from tests.fixtures.photos import visit_in_progress

SHOP = Point(*samples.SHOP)
HX = {"HX-Request": "true", "HX-Request-Type": "partial"}
JSON = {"Accept": "application/json"}


# --- helpers ------------------------------------------------------------------------------------

def north(metres: float) -> Point:
    return Point(SHOP.lat + metres / 110_900.0, SHOP.lng)


def photo_step(visit: Visit):
    return next(s for s in visit.visit_type.steps if s.kind == "photo")


def local_now(minutes: int = 0) -> str:
    """An EXIF DateTimeOriginal for now (+ minutes), written in China time (the offset goes alongside)."""
    return (now() + timedelta(hours=8, minutes=minutes)).strftime("%Y:%m:%d %H:%M:%S")


def good_jpeg(seed=1, **exif) -> bytes:
    exif.setdefault("taken", local_now())
    return samples.jpeg(seed, **exif)


def form(data: bytes, name="photo.jpg", client_id=None, point: Point | None = SHOP, **extra) -> dict:
    out = {"file": (io.BytesIO(data), name), "client_id": client_id or str(uuid.uuid4()), "accuracy": "8",
           "captured_at": now().isoformat()}
    if point is not None:
        out.update(lat=f"{point.lat:.6f}", lng=f"{point.lng:.6f}")
    out.update(extra)
    return out


def url(visit, step=None) -> str:
    return f"/visits/{visit.id}/steps/{(step or photo_step(visit)).id}/photos"


def post(client, visit, data: bytes, step=None, headers=JSON, **kw):
    return client.post(url(visit, step), data=form(data, **kw), headers=headers,
                       content_type="multipart/form-data")


def upload_dir(app) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def stored_files(app) -> set[str]:
    root = upload_dir(app)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def photo_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Photo))


def codes(photo_json) -> set[str]:
    return {f["code"] for f in photo_json["flags"]}


# --- upload: the good path ---------------------------------------------------------------------------

def test_rep_uploads_a_photo_and_gets_it_back_with_its_copies(app, client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    data = good_jpeg(size=(1200, 900))
    before = stored_files(app)
    r = post(client, visit, data)
    assert r.status_code == 201
    body = r.get_json()
    assert body["created"] is True and body["flags"] == []
    assert f'href="/photos/{body["id"]}"' in body["html"] and "thumb.jpg" in body["html"]
    photo = db.session.get(Photo, body["id"])
    assert photo.rep_id == org.rep.id and photo.visit_id == visit.id and photo.store_id == visit.store_id
    assert (photo.width, photo.height, photo.bytes) == (1200, 900, len(data))
    assert photo.exif_utc_offset_min == 480 and photo.exif_lat == pytest.approx(SHOP.lat, abs=1e-5)
    assert photo.phone_accuracy_m == 8 and photo.phone_distance_m < 1
    # Original kept byte for byte under its SHA-256; display copy and thumbnail beside it.
    assert stored_files(app) - before == {photo.original_key, photo.display_key, photo.thumb_key}
    assert photo.sha256 in photo.original_key
    assert (upload_dir(app) / photo.original_key).read_bytes() == data
    display = Image.open(upload_dir(app) / photo.display_key)
    thumb = Image.open(upload_dir(app) / photo.thumb_key)
    assert max(display.size) <= 1600 and max(thumb.size) <= 320 and display.format == "JPEG"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "photo.add", AuditEvent.object_id == photo.id)) == 1


def test_the_same_client_id_twice_stores_one_photo_and_answers_200(app, client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    cid = str(uuid.uuid4())
    data = good_jpeg()
    first = post(client, visit, data, client_id=cid)
    files = stored_files(app)
    again = post(client, visit, data, client_id=cid)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["created"] is False
    assert photo_count() == 1 and stored_files(app) == files


def test_a_retry_arriving_after_check_out_still_gets_its_photo(client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    cid = str(uuid.uuid4())
    data = good_jpeg(seed=6)
    first = post(client, visit, data, client_id=cid).get_json()
    ops.cancel(visit, org.rep, "closed early")
    again = post(client, visit, data, client_id=cid)
    assert again.status_code == 200 and again.get_json()["id"] == first["id"]
    assert post(client, visit, good_jpeg(seed=7)).status_code == 409  # a new photo is refused
    assert photo_count() == 1


def test_a_client_id_already_used_elsewhere_is_409(client, org):
    first = visit_in_progress(org.rep)
    login(client, org.rep)
    cid = str(uuid.uuid4())
    assert post(client, first, good_jpeg(seed=1), client_id=cid).status_code == 201
    ops.cancel(first, org.rep, "wrong store")
    second = visit_in_progress(org.rep, store=first.store)
    r = post(client, second, good_jpeg(seed=2), client_id=cid)
    assert r.status_code == 409 and r.get_json()["error"] and photo_count() == 1


def test_concurrent_uploads_with_one_client_id_make_one_photo(app, org, monkeypatch):
    visit = visit_in_progress(org.rep)
    step = photo_step(visit)
    visit_id, step_id, rep_id = visit.id, step.id, org.rep.id
    cid = str(uuid.uuid4())
    data = good_jpeg(seed=4)
    # Both requests pass the "seen this id?" check before either commits: the database decides.
    monkeypatch.setattr(ingest, "_earlier", lambda *args: None)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def upload():
        with app.app_context(), app.test_request_context():
            try:
                v = db.session.get(Visit, visit_id)
                s = next(x for x in v.visit_type.steps if x.id == step_id)
                rep = db.session.get(type(org.rep), rep_id)
                barrier.wait()
                photo, created = ingest.add_photo(v, s, ingest.Upload(data=data, client_id=cid), rep)
                db.session.commit()  # what the request does before it answers
                results.append((photo.id, created))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    before = stored_files(app)
    threads = [threading.Thread(target=upload) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len({pid for pid, _c in results}) == 1 and sorted(c for _p, c in results) == [False, True]
    db.session.expire_all()
    assert photo_count() == 1
    photo = db.session.execute(select(Photo)).scalar_one()
    # The loser removed its own copies and left the shared original alone.
    assert stored_files(app) - before == {photo.original_key, photo.display_key, photo.thumb_key}


def test_htmx_gets_the_thumbnail_fragment_and_a_plain_form_comes_back_to_the_visit(client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    r = post(client, visit, good_jpeg(seed=2), headers=HX)
    assert r.status_code == 201
    html = r.get_data(as_text=True)
    assert html.lstrip().startswith('<li class="photo-tile') and "<html" not in html
    r = post(client, visit, good_jpeg(seed=3), headers={})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/visits/{visit.id}#step-{photo_step(visit).id}")
    assert photo_count() == 2


@pytest.mark.parametrize("fmt, kind", [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_are_taken(client, org, fmt, kind):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    data = samples.encode(samples.scene(7), fmt)
    r = post(client, visit, data, name="x.bin")
    assert r.status_code == 201
    photo = db.session.get(Photo, r.get_json()["id"])
    assert photo.content_type == kind and "no_capture_data" in photo.flag_codes


def test_a_heic_photo_is_taken_with_its_exif(app, client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    data = samples.heic()
    r = post(client, visit, data, name="IMG_0001.HEIC")
    assert r.status_code == 201
    photo = db.session.get(Photo, r.get_json()["id"])
    assert photo.content_type == "image/heic" and photo.original_key.endswith(".heic")
    assert (photo.width, photo.height) == (640, 480) and photo.exif_lat is not None
    assert (upload_dir(app) / photo.original_key).read_bytes() == data
    assert Image.open(upload_dir(app) / photo.display_key).format == "JPEG"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_shown_upright(app, client, org, orientation):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    data, upright = samples.oriented(orientation)
    r = post(client, visit, data)
    assert r.status_code == 201
    photo = db.session.get(Photo, r.get_json()["id"])
    assert (photo.width, photo.height) == upright.size
    thumb = Image.open(upload_dir(app) / photo.thumb_key).convert("RGB")
    w, h = thumb.size
    assert (w, h) == (300, 200)
    red, blue = thumb.getpixel((8, 8)), thumb.getpixel((w - 8, h - 8))
    assert red[0] > 180 and red[2] < 80, red      # red block top left
    assert blue[2] > 180 and blue[0] < 80, blue   # blue block bottom right


def test_rep_reaching_the_minimum_completes_the_photo_step(client, org):
    visit = visit_in_progress(org.rep)
    step = photo_step(visit)
    step.required = True
    db.session.commit()
    assert step.config["min_photos"] == 2
    login(client, org.rep)
    post(client, visit, good_jpeg(seed=1))
    assert step in ops.missing_required(visit)
    post(client, visit, good_jpeg(seed=2))
    assert step not in ops.missing_required(visit)


# --- bad input: a clear 4xx, nothing stored ---------------------------------------------------------

def _truncated() -> bytes:
    data = samples.jpeg(9, size=(1200, 900))
    return data[: len(data) // 2]


def _png_bomb() -> bytes:
    """A PNG whose header claims 40 000 × 40 000 pixels (1.6 gigapixels) in a few hundred bytes."""
    import struct
    import zlib

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
            + chunk(b"IEND", b""))


def _jpeg_bomb() -> bytes:
    """A small JPEG whose frame header is rewritten to claim 60 000 × 60 000 pixels."""
    data = bytearray(samples.plain_jpeg(1, size=(64, 64)))
    i = data.index(b"\xff\xc0")
    data[i + 5:i + 9] = (60_000).to_bytes(2, "big") + (60_000).to_bytes(2, "big")
    return bytes(data)


BAD_FILES = {
    "not an image": (b"just some words, not a picture\n" * 20, "notes.jpg", 415),
    "zero bytes": (b"", "empty.jpg", 422),
    "truncated jpeg": (_truncated(), "cut.jpg", 422),
    "html named .jpg": (b"<!doctype html><html><body><script>alert(1)</script></body></html>", "x.jpg", 415),
    "svg named .jpg": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                       b'<script>alert(1)</script></svg>', "x.jpg", 415),
    "png pixel bomb": (_png_bomb(), "bomb.png", 413),
    "jpeg pixel bomb": (_jpeg_bomb(), "bomb.jpg", 413),
    "corrupt jpeg body": (b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 8, "bad.jpg", 422),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_files_are_refused_with_a_message_and_nothing_is_stored(app, client, org, name):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    data, filename, status = BAD_FILES[name]
    before = stored_files(app)
    r = post(client, visit, data, name=filename)
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.get_json()["error"]
    assert photo_count() == 0 and stored_files(app) == before


def test_a_damaged_photo_is_refused_in_the_reps_language(app, client, org):
    """The decode runs beside the request, in a thread of its own: its refusal still speaks the rep's language."""
    org.rep.locale = "zh_CN"
    db.session.commit()
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    before = stored_files(app)
    r = post(client, visit, _truncated(), name="cut.jpg")
    assert r.status_code == 422 and r.get_json()["error"] == "无法读取照片：文件已损坏或不完整，请重新拍摄或上传。"
    assert photo_count() == 0 and stored_files(app) == before


def test_the_visit_is_judged_before_the_file_and_a_refusal_stores_nothing(app, client, org):
    """The decode starts before the rules are checked; what the rules refuse leaves nothing behind, and the
    answer is the rule's, as before: the visit first, then the file."""
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    ops.cancel(visit, org.rep, "closed early")
    db.session.commit()
    before = stored_files(app)
    for data in (good_jpeg(), _truncated(), b"just some words, not a picture\n" * 20):
        r = post(client, visit, data)
        assert r.status_code == 409 and "not in progress" in r.get_json()["error"]
    assert photo_count() == 0 and stored_files(app) == before


def test_a_refused_plain_form_upload_shows_why_and_leads_back_to_the_visit(client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    r = post(client, visit, b"not a photo", headers={})
    assert r.status_code == 415
    html = r.get_data(as_text=True)
    assert "This file is not a photo" in html and f'href="/visits/{visit.id}"' in html


@pytest.mark.parametrize("fields", [
    {"lat": "nan", "lng": "121.47"}, {"lat": "91", "lng": "121.47"}, {"lat": "31.2", "lng": "-181"},
    {"lat": "31.2", "lng": ""}, {"lat": "north", "lng": "east"}, {"lat": "inf", "lng": "1"},
    {"accuracy": "-3"}, {"accuracy": "nan"}, {"captured_at": "yesterday"}, {"source": "scanner"},
    {"client_id": "not-a-uuid"},
])
def test_malformed_phone_fields_are_422_and_nothing_is_stored(app, client, org, fields):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    before = stored_files(app)
    data = form(good_jpeg(), point=None)
    data.update(fields)
    r = client.post(url(visit), data=data, headers=JSON, content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["error"]
    assert photo_count() == 0 and stored_files(app) == before


def test_a_file_over_the_size_cap_is_413(app, client, org, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 50_000)
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    big = samples.jpeg(1, size=(1600, 1200), quality=98)
    assert len(big) > 50_000
    before = stored_files(app)
    r = post(client, visit, big)
    assert r.status_code == 413 and photo_count() == 0 and stored_files(app) == before


def test_malformed_exif_gps_is_ignored_not_refused(client, org):
    from PIL.TiffImagePlugin import IFDRational
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    nan = {1: "N", 2: (IFDRational(1, 0), IFDRational(0, 1), IFDRational(0, 1)), 3: "E",
           4: (IFDRational(121, 1), IFDRational(0, 1), IFDRational(0, 1))}
    for raw in (nan, {1: "N", 2: (IFDRational(91, 1),) * 3, 3: "E", 4: (IFDRational(121, 1),) * 3},
                {1: "Q", 2: (IFDRational(31, 1),) * 3, 3: "E", 4: (IFDRational(121, 1),) * 3}):
        r = post(client, visit, good_jpeg(seed=len(str(raw)), gps=None, raw_gps=raw))
        assert r.status_code == 201
        photo = db.session.get(Photo, r.get_json()["id"])
        assert photo.exif_lat is None and photo.exif_taken_at is not None


def test_another_reps_visit_is_404_and_a_supervisor_cannot_upload_into_one(app, client, org):
    theirs = visit_in_progress(org.teammate)
    west = visit_in_progress(org.west_rep)
    before = stored_files(app)
    login(client, org.rep)
    assert post(client, theirs, good_jpeg()).status_code == 404
    assert post(client, west, good_jpeg()).status_code == 404
    login(client, org.supervisor)
    assert post(client, theirs, good_jpeg()).status_code == 403
    assert photo_count() == 0 and stored_files(app) == before


def test_wrong_step_wrong_state_and_album_rules(client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    checklist = next(s for s in visit.visit_type.steps if s.kind == "checklist")
    assert post(client, visit, good_jpeg(), step=checklist).status_code == 422
    assert client.post(f"/visits/{visit.id}/steps/999999/photos", data=form(good_jpeg()), headers=JSON,
                       content_type="multipart/form-data").status_code == 404
    r = post(client, visit, good_jpeg(), source="album")
    assert r.status_code == 422 and "album" in r.get_json()["error"]
    ops.cancel(visit, org.rep, "store closed")
    r = post(client, visit, good_jpeg())
    assert r.status_code == 409 and photo_count() == 0


def test_upload_without_csrf_token_is_refused(app, client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    before = stored_files(app)
    r = client.post(url(visit), data=form(good_jpeg()), headers=JSON, content_type="multipart/form-data",
                    csrf=False)
    assert r.status_code == 400 and photo_count() == 0 and stored_files(app) == before


def test_signed_out_upload_goes_to_login(client, org):
    visit = visit_in_progress(org.rep)
    r = client.post(url(visit), data=form(good_jpeg()), content_type="multipart/form-data")
    assert r.status_code == 302 and "/login" in r.headers["Location"] and photo_count() == 0


# --- flags -----------------------------------------------------------------------------------------

def test_clean_photo_has_no_flags_and_album_is_flagged_where_allowed(client, org):
    visit = visit_in_progress(org.rep)
    step = photo_step(visit)
    step.config = {**step.config, "allow_album": True}
    db.session.commit()
    login(client, org.rep)
    assert codes(post(client, visit, good_jpeg(seed=1)).get_json()) == set()
    assert codes(post(client, visit, good_jpeg(seed=2), source="album").get_json()) == {"album"}


def test_exact_reuse_is_flagged_with_the_earlier_photo(client, org):
    first_visit = visit_in_progress(org.rep)
    login(client, org.rep)
    data = good_jpeg(seed=5)
    first = post(client, first_visit, data).get_json()
    ops.cancel(first_visit, org.rep, "done elsewhere")
    second_visit = visit_in_progress(org.rep, store=first_visit.store)
    again = post(client, second_visit, data).get_json()
    exact = next(f for f in again["flags"] if f["code"] == "exact_reuse")
    assert exact["label"] == "Reused photo"
    photo = db.session.get(Photo, again["id"])
    assert photo.flags[0]["photo_ids"] == [first["id"]] and "near_reuse" not in photo.flag_codes


def _copies(seed) -> tuple[bytes, bytes, bytes]:
    """Re-compressed twice, and cropped 3 % off two sides then shrunk."""
    img = samples.scene(seed, (1000, 750))
    exif = samples.exif_bytes(taken=local_now())
    w, h = img.size
    return (samples.encode(img, "JPEG", exif, quality=62), samples.encode(img, "JPEG", exif, quality=75),
            samples.encode(img.crop((30, 22, w, h)).resize((800, 582)), "JPEG", exif, quality=80))


def test_near_reuse_catches_recompressed_and_cropped_copies_from_another_visit(client, org):
    first_visit = visit_in_progress(org.rep)
    login(client, org.rep)
    img = samples.scene(8, (1000, 750))
    original = post(client, first_visit, samples.encode(img, "JPEG", samples.exif_bytes(taken=local_now()),
                                                        quality=92)).get_json()
    # Within the same visit a similar shot is no reuse.
    same_shot, recompressed, cropped = _copies(8)
    assert "near_reuse" not in codes(post(client, first_visit, same_shot).get_json())
    ops.cancel(first_visit, org.rep, "moved on")
    later = visit_in_progress(org.rep, store=first_visit.store)
    for data in (recompressed, cropped):
        flagged = post(client, later, data).get_json()
        near = db.session.get(Photo, flagged["id"]).flags
        assert [f["code"] for f in near] == ["near_reuse"]
        assert original["id"] in near[0]["photo_ids"] and near[0]["distance"] <= 10
    assert "near_reuse" not in codes(post(client, later, good_jpeg(seed=99)).get_json())


def test_positions_beyond_the_fence_are_flagged_each_with_its_distance(client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    far = north(900)
    body = post(client, visit, good_jpeg(seed=11, gps=(far.lat, far.lng)), point=north(500)).get_json()
    photo = db.session.get(Photo, body["id"])
    flags = {f["code"]: f for f in photo.flags}
    assert set(flags) == {"exif_outside_geofence", "phone_outside_geofence"}
    assert 880 < flags["exif_outside_geofence"]["distance_m"] < 920
    assert 480 < flags["phone_outside_geofence"]["distance_m"] < 520
    assert 880 < photo.exif_distance_m < 920 and 480 < photo.phone_distance_m < 520
    inside = post(client, visit, good_jpeg(seed=12, gps=(north(150).lat, SHOP.lng)), point=north(150)).get_json()
    assert codes(inside) == set()


def test_exif_time_outside_the_visit_is_flagged_with_a_tolerance(client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    early = db.session.get(Photo, post(client, visit, good_jpeg(seed=13, taken=local_now(-45))).get_json()["id"])
    assert early.flags == [{"code": "time_outside_visit", "minutes_before": 45}]
    assert codes(post(client, visit, good_jpeg(seed=14, taken=local_now(-8))).get_json()) == set()
    late = db.session.get(Photo, post(client, visit, good_jpeg(seed=15, taken=local_now(30))).get_json()["id"])
    assert late.flag_codes == ["time_outside_visit"] and 29 <= late.flags[0]["minutes_after"] <= 30
    # Without an offset in the file the time is read in the rep's zone (Asia/Shanghai by default).
    assert codes(post(client, visit, good_jpeg(seed=16, offset=None)).get_json()) == set()


def test_no_capture_data_is_flagged(client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    body = post(client, visit, samples.plain_jpeg(17)).get_json()
    assert codes(body) == {"no_capture_data"}


# --- the viewer and the bytes, through scope ----------------------------------------------------------

@pytest.fixture
def stored(client, org):
    """A photo the rep took, 900 m from the store by its own GPS."""
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    far = north(900)
    data = good_jpeg(seed=21, gps=(far.lat, far.lng))
    photo = db.session.get(Photo, post(client, visit, data).get_json()["id"])
    return photo, data


def test_viewer_shows_the_display_copy_capture_data_flags_and_distance(client, org, stored):
    photo, _data = stored
    for user in (org.rep, org.supervisor, org.manager):
        login(client, user)
        r = client.get(f"/photos/{photo.id}")
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        assert f'src="/photos/{photo.id}/display.jpg"' in html
        assert "Taken elsewhere" in html and "outside its 200 m fence" in html
        assert "m from the store" in html and photo.sha256 in html and "华联超市" in html
    login(client, org.rep)
    assert "Void this photo" not in client.get(f"/photos/{photo.id}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["", "/display.jpg", "/thumb.jpg", "/original"])
def test_photo_urls_follow_scope(client, org, stored, path):
    photo, _data = stored
    for user, status in ((org.rep, 200), (org.supervisor, 200), (org.manager, 200), (org.admin, 200),
                         (org.teammate, 404), (org.west_rep, 404), (org.west_supervisor, 404)):
        login(client, user)
        assert client.get(f"/photos/{photo.id}{path}").status_code == status, (user.login, path)
    assert client.get(f"/photos/999999{path}").status_code == 404


def test_bytes_are_served_privately_and_the_original_unchanged(client, org, stored):
    photo, data = stored
    login(client, org.supervisor)
    r = client.get(f"/photos/{photo.id}/original")
    assert r.data == data and r.mimetype == "image/jpeg"
    for path in ("/original", "/display.jpg", "/thumb.jpg"):
        r = client.get(f"/photos/{photo.id}{path}")
        cache = r.headers["Cache-Control"]
        assert "private" in cache and "public" not in cache and r.headers["X-Content-Type-Options"] == "nosniff"
        assert client.get(f"/photos/{photo.id}{path}", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    assert Image.open(io.BytesIO(client.get(f"/photos/{photo.id}/display.jpg").data)).format == "JPEG"


def test_a_photo_whose_file_is_lost_answers_404_not_500(app, client, org, stored):
    photo, _data = stored
    (upload_dir(app) / photo.thumb_key).unlink()
    login(client, org.supervisor)
    assert client.get(f"/photos/{photo.id}/thumb.jpg").status_code == 404
    assert client.get(f"/photos/{photo.id}/display.jpg").status_code == 200


def test_signed_out_cannot_fetch_photo_bytes(client, org, stored):
    photo, _data = stored
    g.pop("_login_user", None)
    with client.session_transaction() as sess:
        sess.clear()
    r = client.get(f"/photos/{photo.id}/original")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


# --- void ----------------------------------------------------------------------------------------------

def test_supervisor_voids_a_photo_with_a_reason_and_it_stays_on_record(client, org, stored):
    photo, data = stored
    login(client, org.supervisor)
    r = client.post(f"/photos/{photo.id}/void", data={"reason": "Same shelf as last week"})
    assert r.status_code == 303
    db.session.expire_all()
    photo = db.session.get(Photo, photo.id)
    assert photo.voided_at is not None and photo.voided_by_id == org.supervisor.id
    assert photo.void_reason == "Same shelf as last week"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "photo.void")).scalar_one()
    assert event.object_id == photo.id and event.actor_id == org.supervisor.id
    html = client.get(f"/photos/{photo.id}").get_data(as_text=True)
    assert "Voided" in html and "Same shelf as last week" in html and "Void this photo" not in html
    assert client.get(f"/photos/{photo.id}/original").data == data
    assert client.post(f"/photos/{photo.id}/void", data={"reason": "again"}).status_code == 409


def test_void_needs_a_reason_a_role_scope_and_csrf(client, org, stored):
    photo, _data = stored
    login(client, org.supervisor)
    r = client.post(f"/photos/{photo.id}/void", data={"reason": "  "})
    assert r.status_code == 422 and "Why is it voided?" in r.get_data(as_text=True)
    assert client.post(f"/photos/{photo.id}/void", data={"reason": "x"}, csrf=False).status_code == 400
    login(client, org.rep)
    assert client.post(f"/photos/{photo.id}/void", data={"reason": "mine"}).status_code == 403
    login(client, org.west_supervisor)
    assert client.post(f"/photos/{photo.id}/void", data={"reason": "x"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Photo, photo.id).voided_at is None
    login(client, org.manager)
    assert client.post(f"/photos/{photo.id}/void", data={"reason": "Wrong store"}).status_code == 303


# --- the step include ----------------------------------------------------------------------------------

def _render_step(app, user, visit):
    from flask import render_template_string
    from flask_login import login_user
    from field import providers
    with app.test_request_context():
        login_user(user)
        step = photo_step(visit)
        photos = providers.ask("step_photos", visit)
        return render_template_string('{% include "photos/_step_photos.html" %}', visit=visit, step=step,
                                      photos=photos.get(step.id, []))


def test_step_include_offers_the_camera_to_the_rep_and_lists_tiles_with_flags(app, client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    post(client, visit, samples.plain_jpeg(31))
    html = _render_step(app, org.rep, visit)
    assert 'capture="environment"' in html and 'name="client_id"' in html and "csrf_token" in html
    assert f'data-upload-url="/visits/{visit.id}/steps/{photo_step(visit).id}/photos"' in html
    assert "No capture data" in html and re.search(r"js/photos\.[0-9a-f]{12}\.js", html)
    assert 'data-photo-input="album"' not in html
    assert "<strong data-photo-have>1</strong> / 2" in html
    supervisor_view = _render_step(app, org.supervisor, visit)
    assert "thumb.jpg" in supervisor_view and 'capture="environment"' not in supervisor_view


def test_the_no_javascript_form_works_end_to_end(client, org):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    r = client.post(url(visit), data={"file": (io.BytesIO(good_jpeg(seed=41)), "p.jpg"),
                                      "client_id": str(uuid.uuid4()), "source": "camera"},
                    content_type="multipart/form-data")
    assert r.status_code == 303 and photo_count() == 1
    photo = db.session.execute(select(Photo)).scalar_one()
    assert photo.phone_lat is None and photo.flags == []
