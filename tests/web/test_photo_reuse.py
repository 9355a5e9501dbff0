"""Reuse through the upload route: crops of a real photograph found either way round through the
window index, photos without windows still found by their whole-image hash, and two uploads of
the same bytes at the same moment serialised so the later one is always flagged."""
import threading

from PIL import Image
from sqlalchemy import delete, func, select

from field.extensions import db
from field.photos import flags as photo_flags
from field.photos.models import Photo, PhotoWindow
from field.visits import operations as ops
from tests.conftest import login
from tests.fixtures import photos as samples
from tests.web.test_photos import codes, local_now, post, visit_in_progress

REAL = samples.__file__.rsplit("/", 1)[0] + "/real_photos"


def real(name: str) -> Image.Image:
    return Image.open(f"{REAL}/{name}.jpg").convert("RGB")


def camera(img: Image.Image, quality=92) -> bytes:
    return samples.encode(img, "JPEG", samples.exif_bytes(taken=local_now()), quality=quality)


def cropped(img: Image.Image, left=.1, top=0., right=0., bottom=0.) -> bytes:
    w, h = img.size
    return camera(img.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom))), 85)


def near(photo_id: int) -> dict | None:
    return next((f for f in db.session.get(Photo, photo_id).flags if f["code"] == "near_reuse"), None)


def two_visits(client, org):
    first = visit_in_progress(org.rep)
    login(client, org.rep)
    return first


def test_a_copy_cropped_10_percent_is_caught_either_way_round(client, org):
    first = two_visits(client, org)
    coffee, chelsea = real("coffee"), real("chelsea")
    original = post(client, first, camera(coffee)).get_json()
    crop_first = post(client, first, cropped(chelsea, .1, .1, 0, 0)).get_json()
    assert db.session.scalar(select(func.count()).select_from(PhotoWindow)
                             .where(PhotoWindow.photo_id == original["id"])) == 16
    ops.cancel(first, org.rep, "moved on")
    later = visit_in_progress(org.rep, store=first.store)
    # The crop after the original…
    copy = post(client, later, cropped(coffee, .1, 0, .1, 0)).get_json()
    flag = near(copy["id"])
    assert flag and flag["photo_ids"] == [original["id"]] and flag["cropped"] and flag["distance"] <= 10
    assert "crop" in next(f for f in copy["flags"] if f["code"] == "near_reuse")["text"]
    # …and the original after its crop.
    whole = post(client, later, camera(chelsea)).get_json()
    assert near(whole["id"])["photo_ids"] == [crop_first["id"]]
    # A different photograph is no copy of either.
    assert "near_reuse" not in codes(post(client, later, camera(real("rocket"))).get_json())


def test_a_crop_in_the_same_visit_is_no_reuse(client, org):
    visit = two_visits(client, org)
    img = real("astronaut")
    post(client, visit, camera(img))
    assert "near_reuse" not in codes(post(client, visit, cropped(img, 0, 0, .1, .1)).get_json())


def test_a_photo_stored_before_windows_is_still_found_by_its_whole_hash(client, org):
    first = two_visits(client, org)
    img = real("camera")
    old = post(client, first, camera(img)).get_json()
    db.session.execute(delete(PhotoWindow))  # as a photo stored before migration 0011 has none
    db.session.commit()
    ops.cancel(first, org.rep, "moved on")
    later = visit_in_progress(org.rep, store=first.store)
    copy = post(client, later, camera(img.resize((img.width // 2, img.height // 2)), 70)).get_json()
    assert near(copy["id"])["photo_ids"] == [old["id"]]


def test_window_matches_skips_the_asking_visit_and_finds_the_others(client, org):
    first = two_visits(client, org)
    img = real("coffee")
    original = post(client, first, camera(img)).get_json()
    from field.photos.images import decode
    from field.photos.phash import windows
    looks = windows(decode(cropped(img, 0, .1, 0, .1), "UTC", 100_000_000).thumb)
    found = dict(photo_flags.window_matches(looks, visit_id=None))
    assert original["id"] in found and found[original["id"]] <= 10
    assert original["id"] not in dict(photo_flags.window_matches(looks, visit_id=first.id))


# --- the same bytes at the same moment ---------------------------------------------------------------

def test_the_same_bytes_uploaded_at_the_same_moment_are_flagged_every_time(app, org, monkeypatch):
    """Two clients post the same file under two client ids at once. Each request's exact-match read is
    held open (a barrier the other reaches only if it is not kept waiting), so on code that reads
    before it serialises both reads see nothing and neither photo is flagged; serialised on the
    SHA-256, the second waits for the first and is flagged as its reuse, every round."""
    visit = visit_in_progress(org.rep)
    real_exact = photo_flags.exact_matches

    for round_ in range(3):
        data = camera(real("rocket").rotate(round_ * 90))
        barrier = threading.Barrier(2)

        def exact_then_wait(sha256):
            found = real_exact(sha256)
            try:
                barrier.wait(timeout=1.5)
            except threading.BrokenBarrierError:
                pass
            return found
        monkeypatch.setattr(photo_flags, "exact_matches", exact_then_wait)
        bodies, failures = [], []

        def upload(user_id):
            with app.app_context():
                try:
                    client = app.test_client()
                    login(client, db.session.get(type(org.rep), user_id))
                    r = post(client, db.session.get(type(visit), visit.id), data)
                    assert r.status_code == 201, r.get_data(as_text=True)
                    bodies.append(r.get_json())
                except Exception as exc:  # noqa: BLE001
                    failures.append(exc)
                finally:
                    db.session.remove()
        threads = [threading.Thread(target=upload, args=(org.rep.id,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures
        db.session.expire_all()
        photos = db.session.execute(select(Photo).where(Photo.id.in_([b["id"] for b in bodies]))
                                    .order_by(Photo.id)).scalars().all()
        assert len(photos) == 2 and photos[0].sha256 == photos[1].sha256
        assert "exact_reuse" not in photos[0].flag_codes, round_
        exact = next((f for f in photos[1].flags if f["code"] == "exact_reuse"), None)
        assert exact and exact["photo_ids"] == [photos[0].id], round_
