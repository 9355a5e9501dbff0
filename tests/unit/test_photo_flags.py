"""Photo flags as rules: place, time and capture data (pure), reuse through the band index."""
import random
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from field.extensions import db
from field.geo import Point
from field.photos import flags
from field.photos.exif import Capture
from field.photos.models import Photo
from field.photos.phash import THRESHOLD, to_signed
from field.visits import operations as ops
from tests.fixtures.photos import visit_in_progress

SHOP = Point(31.2304, 121.4737)
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
STORE = SimpleNamespace(point=SHOP, geofence_m=200)


def visit(checkout=None):
    return SimpleNamespace(checkin_at=T0, checkout_at=checkout)


def north(m):
    return Point(SHOP.lat + m / 110_900, SHOP.lng)


def judge(capture, phone, store=STORE, v=None, received=T0, source="camera"):
    return flags.place_and_time(capture, flags.distance_to(store, capture.point), flags.distance_to(store, phone),
                                store, v or visit(), received, source)


def test_nothing_to_say_about_a_good_photo():
    capture = Capture(taken_at=T0 + timedelta(minutes=5), point=north(20))
    assert judge(capture, north(30), received=T0 + timedelta(minutes=6)) == []


def test_geofence_applies_to_exif_and_phone_positions_separately():
    out = judge(Capture(taken_at=T0, point=north(350)), north(50))
    assert [f["code"] for f in out] == ["exif_outside_geofence"] and 340 < out[0]["distance_m"] < 360
    out = judge(Capture(taken_at=T0, point=north(10)), north(260))
    assert [f["code"] for f in out] == ["phone_outside_geofence"]


def test_exif_time_tolerance_is_ten_minutes_each_side():
    def codes(taken, checkout=None, received=T0 + timedelta(hours=1)):
        return [f["code"] for f in judge(Capture(taken_at=taken, point=SHOP), None, v=visit(checkout),
                                          received=received)]
    assert codes(T0 - timedelta(minutes=10)) == []
    assert codes(T0 - timedelta(minutes=11)) == ["time_outside_visit"]
    end = T0 + timedelta(minutes=30)
    assert codes(end + timedelta(minutes=10), checkout=end) == []
    assert codes(end + timedelta(minutes=11), checkout=end) == ["time_outside_visit"]
    # Still in progress: "now" is the end.
    assert codes(T0 + timedelta(minutes=75), received=T0 + timedelta(minutes=60)) == ["time_outside_visit"]


def test_no_capture_data_and_album():
    out = judge(Capture(), SHOP, source="album")
    assert [f["code"] for f in out] == ["no_capture_data", "album"]


def test_a_store_without_a_position_flags_no_distance():
    no_point = SimpleNamespace(point=None, geofence_m=200)
    assert judge(Capture(taken_at=T0, point=north(5000)), north(5000), store=no_point) == []




def _stored(org, hashes):
    """Rows with given hashes on two visits of the rep (only the columns the lookup reads matter)."""
    first = visit_in_progress(org.rep)
    ops.cancel(first, org.rep, "test")
    second = visit_in_progress(org.rep, store=first.store)
    rows = []
    for i, value in enumerate(hashes):
        v = first if i % 2 == 0 else second
        photo = Photo(client_id=str(uuid.uuid4()), visit_id=v.id, step_id=None, rep_id=org.rep.id,
                      store_id=v.store_id, sha256=f"{i:064x}", content_type="image/jpeg", width=1, height=1,
                      bytes=1, original_key="originals/x", display_key="display/x", thumb_key="thumbs/x",
                      flags=[], void_reason="")
        photo.set_phash(value)
        db.session.add(photo)
        rows.append(photo)
    db.session.commit()
    return first, second, rows


def test_near_matches_finds_every_hash_within_the_threshold_of_another_visit(org):
    rnd = random.Random(3)
    base = rnd.getrandbits(64)

    def flip(value, n):
        for bit in rnd.sample(range(64), n):
            value ^= 1 << bit
        return value
    hashes = [to_signed(flip(base, n)) for n in (0, 1, 4, 7, 10, 11, 16, 30)] + \
             [to_signed(rnd.getrandbits(64)) for _ in range(40)]
    first, second, rows = _stored(org, hashes)
    # Asked from a third visit: everything within 10 bits, whichever band carries the difference.
    found = dict(flags.near_matches(to_signed(base), visit_id=None))
    expected = {p.id for p, h in zip(rows, hashes) if bin((h ^ to_signed(base)) & (2**64 - 1)).count("1") <= THRESHOLD}
    assert set(found) == expected and len(expected) >= 5
    # From the first visit, its own photos do not count.
    own = dict(flags.near_matches(to_signed(base), visit_id=first.id))
    assert all(db.session.get(Photo, pid).visit_id == second.id for pid in own)
