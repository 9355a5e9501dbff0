"""The one way a photo comes in, and the one way it goes out of play (void).

add_photo() checks the rules, decodes the upload once, computes its flags, writes its
bytes (original under its SHA-256, display copy and thumbnail under keys of their own,
fsynced) and stages the row under a savepoint that is kept only once they are durable; the
request commits it before it answers, so a photo is acknowledged only once its bytes are durable. A refusal raises a DomainError
(4xx) having stored nothing; a failure after the writes removes what this attempt wrote. The
client id makes it idempotent: the same id again, also at the same moment, answers the photo
already stored (the row goes in under a savepoint, so losing that race undoes only it); the same id
with other bytes is refused. The id is also the photo's client write (field/visits: client_writes),
which keeps the phone's time of the tap, so no other kind of write can take it."""
from __future__ import annotations

import contextvars
import hashlib
import math
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from field import audit, config, permissions
from field.auth.models import User
from field.core import Conflict, DomainError, now, user_zone
from field.extensions import db
from field.geo import Point, valid_lat_lng
from field.photos import flags as photo_flags
from field.photos import watermark
from field.photos.images import (DISPLAY_QUALITY, THUMB_QUALITY, BadPhoto, Opened, derive, display_copy,
                                 drafted_size, jpeg_bytes, open_checked, thumbnail)
from field.photos.models import OwnPhoto, Photo, Source
from field.photos.phash import phash, windows
from field.photos.storage import Storage, storage
from field.photos.watermark import burn
from field.visits import operations as visit_ops
from field.visits.checkin import non_ascii_digits
from field.visits.models import ClientWrite, StepKind, Visit, VisitStatus, VisitStep, WriteKind

# Defaults of the PHOTO_MAX_BYTES and PHOTO_MAX_PIXELS settings (field/config.py reads and checks them):
# 25 MiB, and 60 MP (a 50 MP phone sensor fits; a pixel bomb does not).
MAX_BYTES = config.PHOTO_MAX_BYTES
MAX_PIXELS = config.PHOTO_MAX_PIXELS


@dataclass(frozen=True)
class Upload:
    """What the phone sent with the file."""
    data: bytes
    client_id: str
    source: str = Source.CAMERA
    phone_point: Point | None = None
    accuracy_m: float | None = None
    captured_at: datetime | None = None
    phone_at: datetime | None = None  # when the rep tapped (the outbox's phone_at); None: on arrival


# --- reading the request ---------------------------------------------------------------------

def _number(raw, message: str) -> float | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if non_ascii_digits(raw):  # float() reads full-width digits; a phone's position API never sends them
        raise DomainError(message)
    try:
        value = float(raw)
    except ValueError:
        raise DomainError(message) from None
    if not math.isfinite(value):
        raise DomainError(message)
    return value


def parse_client_id(raw) -> str:
    try:
        return str(uuid.UUID(str(raw or "").strip()))
    except ValueError:
        raise DomainError(_("The upload has no valid photo id; reload the page and try again.")) from None


def parse_time(raw) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(_("The capture time is not a time.")) from None
    if value.tzinfo is None:
        raise DomainError(_("The capture time has no time zone."))
    return value.astimezone(timezone.utc)


def upload_from_form(form, data: bytes) -> Upload:
    """An Upload from the multipart fields; a malformed field is a 422 with its reason."""
    bad_position = _("The phone's position is not a valid latitude and longitude.")
    lat, lng = _number(form.get("lat"), bad_position), _number(form.get("lng"), bad_position)
    if (lat is None) != (lng is None) or (lat is not None and not valid_lat_lng(lat, lng)):
        raise DomainError(bad_position)
    accuracy = _number(form.get("accuracy"), _("The position's accuracy is not a number."))
    if accuracy is not None and not 0 <= accuracy <= 1_000_000:
        raise DomainError(_("The position's accuracy is not a number."))
    source = (form.get("source") or Source.CAMERA).strip()
    if source not in (Source.CAMERA, Source.ALBUM):
        raise DomainError(_("Say whether the photo comes from the camera or the album."))
    return Upload(data=data, client_id=parse_client_id(form.get("client_id")), source=source,
                  phone_point=Point(lat, lng) if lat is not None else None, accuracy_m=accuracy,
                  captured_at=parse_time(form.get("captured_at")), phone_at=visit_ops.phone_time(form.get("phone_at")))


# --- rules ---------------------------------------------------------------------------------------

def photo_step(visit: Visit, step_id: int) -> VisitStep:
    step = next((s for s in visit.visit_type.steps if s.id == step_id), None)
    if step is None:
        raise DomainError(_("Not found, or not yours to see."), 404)
    if step.kind not in (StepKind.PHOTO, StepKind.COMPETITOR):  # a competitor sighting's photos too
        raise DomainError(_("This step takes no photos."))
    return step


def max_bytes() -> int:
    return int(current_app.config.get("PHOTO_MAX_BYTES", MAX_BYTES))


def max_pixels() -> int:
    return int(current_app.config.get("PHOTO_MAX_PIXELS", MAX_PIXELS))


def _check_rep(visit: Visit, actor: User) -> None:
    if visit.rep_id != actor.id:
        raise DomainError(_("Only the rep doing this visit can add photos to it."), 403)


def _check_upload(visit: Visit, step: VisitStep, upload: Upload) -> None:
    if visit.status != VisitStatus.IN_PROGRESS:
        raise Conflict(_("This visit is not in progress: photos are taken during the visit."))
    if upload.source == Source.ALBUM and not (step.config or {}).get("allow_album"):
        raise DomainError(_("This step needs a photo taken with the camera now, not one from the album."))
    if not upload.data:
        raise BadPhoto(_("The file is empty. Take the photo again."))
    if len(upload.data) > max_bytes():
        raise BadPhoto(_("The photo is larger than %(mb)s MB.", mb=round(max_bytes() / (1024 * 1024), 1)), 413)


def _earlier(upload: Upload, visit: Visit, step: VisitStep, actor: User) -> Photo | None:
    """The photo this client id already made, if it belongs to this very step and has these very bytes;
    another use (another photo, another kind of write) is a conflict."""
    photo = db.session.execute(select(Photo).where(Photo.client_id == upload.client_id)).scalar_one_or_none()
    if photo is None:
        visit_ops.earlier_write(visit_ops.Write(upload.client_id), actor, WriteKind.PHOTO)
        return None
    if photo.rep_id != actor.id or photo.visit_id != visit.id or photo.step_id != step.id:
        raise Conflict(_("This photo id was already used for another photo."))
    if hashlib.sha256(upload.data).hexdigest() != photo.sha256:
        raise Conflict(_("A different photo was already sent under this photo's id; this one was not saved. "
                         "Take it again."))
    return photo


# --- the watermark's words ----------------------------------------------------------------------

def _local(moment: datetime, zone: str, offset_min: int | None = None) -> str:
    try:
        local = moment.astimezone(timezone(timedelta(minutes=offset_min)) if offset_min is not None
                                  else ZoneInfo(zone))
    except Exception:  # noqa: BLE001
        local = moment
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M:%S") + (f" {offset[:3]}:{offset[3:]}" if offset else "")


def watermark_lines(photo: Photo, zone: str, received: datetime) -> list[str]:
    """Time, store, rep, position: language-neutral, so a photo reads the same to everyone."""
    taken = photo.exif_taken_at or photo.phone_captured_at or received
    # The file's time in the photo's own local time when it has one (its offset, GPS or XMP), else the rep's.
    own = photo.exif_utc_offset_min if photo.exif_taken_at is not None else None
    if photo.phone_lat is not None:
        where = f"{photo.phone_lat:.6f}, {photo.phone_lng:.6f}"
        if photo.phone_accuracy_m is not None:
            where += f" ±{round(photo.phone_accuracy_m)} m"
    elif photo.exif_lat is not None:
        where = f"{photo.exif_lat:.6f}, {photo.exif_lng:.6f} (EXIF)"
    else:
        where = "—"
    return [_local(taken, zone, own), f"{photo.store.name} · {photo.store.code}", photo.rep.name, where]


# --- add -------------------------------------------------------------------------------------------

# Durable writes (fsync, or an S3 PUT) wait on the disk or the network, not on Python: they run
# beside the decode and the encodes instead of after them.
_IO = ThreadPoolExecutor(max_workers=4, thread_name_prefix="photo-io")
# The decode runs beside the request's own Python work (see add_photo); a pool of its own, so a slow disk
# never holds up a decode, and no more decodes at once than a server has cores for.
_DECODE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="photo-decode")
# One watermark at a time: the FreeType faces are shared (watermark.font caches them) and not thread-safe.
_FONT = threading.Lock()


class _Writes:
    """The storage writes of one ingest attempt, started in the background, undone on failure."""

    def __init__(self, store: Storage):
        self.store, self.pending = store, []

    def start(self, key: str, data: bytes, content_type: str) -> None:
        self.pending.append((key, _IO.submit(self.store.put, key, data, content_type)))

    def start_jpeg(self, key: str, image, quality: int) -> None:
        """Encode `image` as JPEG and write it, both in the background (the encoder releases the GIL)."""
        self.pending.append((key, _IO.submit(lambda: self.store.put(key, jpeg_bytes(image, quality), "image/jpeg"))))

    def start_display(self, key: str, pixels, lines: list[str], mark: tuple | None = None) -> None:
        """Make the display copy of the decoded `pixels` (resize, watermark, encode) and write it, all in
        the background: Pillow's resample, paste and encoder release the GIL while the request hashes.
        `mark`: the watermark already drawn for the size the copy was expected to have (_mark)."""
        def make() -> bool:
            display = display_copy(pixels)
            if mark is not None and mark[0] == display.size:
                watermark.apply(display, *mark[1:])
            else:
                with _FONT:
                    burn(display, lines)
            return self.store.put(key, jpeg_bytes(display, DISPLAY_QUALITY), "image/jpeg")
        self.pending.append((key, _IO.submit(make)))

    def add(self, key: str, write: Future) -> None:
        """Count a write started elsewhere as this attempt's (to be undone on failure)."""
        self.pending.append((key, write))

    def wait(self) -> None:
        """Block until every write is durable; the first failure is raised."""
        for _key, future in self.pending:
            future.result()

    def undo(self, keep: str | None = None) -> None:
        """Remove what this attempt created (all writes finished first), except `keep`."""
        for key, future in self.pending:
            try:
                created = future.result()
            except Exception:  # noqa: BLE001 — a write that failed left nothing to remove
                continue
            if created and key != keep:
                self.store.discard(key)


def _store_original(store: Storage, opened: Opened, named: Future) -> bool:
    """Hash the original and count its trailing bytes, say (hash, key, trailing bytes) through `named`,
    then write its bytes unchanged under the key."""
    try:
        sha = hashlib.sha256(opened.data).hexdigest()
        named.set_result((sha, f"originals/{sha[:2]}/{sha}.{opened.kind.ext}", opened.count_trailing()))
    except BaseException as exc:
        named.set_exception(exc)
        raise
    return store.put(named.result()[1], opened.data, opened.kind.content_type)


def _mark(size: tuple[int, int], lines: list[str]) -> tuple:
    """The watermark for a display copy of `size`: (size, top, text), for _Writes.start_display. Drawn
    during the decode: the glyphs hold the GIL, which the request's thread then has no use for."""
    with _FONT:
        return (size, *watermark.band(size, lines))


def _open(upload: Upload, zone: str) -> tuple[Opened | None, BadPhoto | None]:
    """The upload's header read and checked, or why it is refused (raised only after the checks that come
    first, so the answers stay in their order); nothing is read of a file _check_upload will refuse."""
    if not upload.data or len(upload.data) > max_bytes():
        return None, None
    try:
        return open_checked(upload.data, max_pixels(), zone, trailing=False), None
    except BadPhoto as refused:
        return None, refused


def add_photo(visit: Visit, step: VisitStep, upload: Upload, actor: User) -> tuple[Photo, bool]:
    """Store one photo for a photo step of the rep's visit in progress: (photo, created).

    A photo already stored under this client id is answered as it is, even after check-out:
    the phone may learn only then that its first try arrived.

    The decode starts as soon as the header has passed its checks, in a worker thread (libjpeg runs
    without the GIL), and the request's own Python work (the rules, the row, the watermark's words) runs
    beside it; what an answer other than a new photo leaves of it is dropped. Nothing is written before
    the rules have passed."""
    zone = user_zone(actor).key
    opened, unreadable = _open(upload, zone)
    expected = drafted_size(opened) if opened else None
    # In the request's context (its language, for a damaged file's message).
    decoding = _DECODE.submit(contextvars.copy_context().run, derive, opened, sized=False) if opened else None
    _check_rep(visit, actor)
    earlier = _earlier(upload, visit, step, actor)
    if earlier is not None:
        return earlier, False
    _check_upload(visit, step, upload)
    if unreadable is not None:
        raise unreadable
    writes = _Writes(storage())
    # Hashing and writing the original run beside the decode: the key is the hash.
    named: Future = Future()
    original = _IO.submit(_store_original, writes.store, opened, named)
    sha = original_key = ""
    try:
        photo = _new_photo(visit, step, upload, actor, opened)
        lines = watermark_lines(photo, zone, photo.created_at)
        marking = _IO.submit(_mark, expected, lines) if expected else None
        sha, original_key, trailing = named.result()
        writes.add(original_key, original)
        photo.sha256, photo.original_key = sha, original_key
        photo.flags = photo.flags + photo_flags.trailing_data(trailing)
        decoded = decoding.result()  # at most twice the display side: resized below, beside us
        # The thumbnail comes from the decoded pixels before the display copy is made of them, the hashes
        # from the thumbnail (one grey copy for both). The display copy (resize, watermark, encode) and the
        # writes run in the background while this thread computes the pHash (~1 ms), the window hashes
        # (~3 ms) and stages the row: Pillow's C work and the disk release the GIL.
        thumb = thumbnail(decoded.display)
        writes.start_jpeg(photo.thumb_key, thumb, THUMB_QUALITY)
        writes.start_display(photo.display_key, decoded.display, lines, marking.result() if marking else None)
        grey = thumb.convert("L")
        value = phash(grey)
        photo.set_phash(value)
        looks = windows(grey)
        with db.session.begin_nested():
            # The same bytes uploaded at this moment wait here for this photo, then see it.
            photo_flags.hold(sha)
            photo.flags = photo_flags.reuse(sha, value, visit.id, looks) + photo.flags
            db.session.add(photo)
            audit.record("photo.add", photo, actor=actor, visit=visit.id, step=step.id,
                         client_id=photo.client_id, flags=photo.flag_codes)
            db.session.add(ClientWrite(client_id=photo.client_id, user_id=actor.id, kind=WriteKind.PHOTO,
                                       visit_id=visit.id, record_id=photo.id, phone_at=upload.phone_at,
                                       received_at=photo.created_at))
            db.session.flush()  # the audit event and the client write in one go
            photo_flags.store_windows(photo, looks)
            # The row is staged beside the writes; it stays only if they are durable (else the
            # savepoint goes back), and the request commits it after this.
            writes.wait()
    except IntegrityError:
        writes.undo(keep=original_key if _original_shared(sha) else None)
        winner = db.session.execute(select(Photo).where(Photo.client_id == upload.client_id)).scalar_one_or_none()
        if winner is None:
            # Another kind of write took the id a moment ago: refused; else the race was not ours.
            visit_ops.earlier_write(visit_ops.Write(upload.client_id), actor, WriteKind.PHOTO)
            raise
        # The same client id won a moment ago (a retry racing the first try): answer with it.
        return winner, False
    except BaseException:
        if not original_key and named.exception() is None:  # failed before the original's key was taken
            sha, original_key, _trailing = named.result()
            writes.add(original_key, original)
        writes.undo(keep=original_key if original_key and _original_shared(sha) else None)
        raise
    return photo, True


def _new_photo(visit: Visit, step: VisitStep, upload: Upload, actor: User, opened: Opened) -> Photo:
    """The row for an opened upload with its copies' storage keys and place/time flags (its hashes, the
    original's key and the reuse and trailing-data flags are added once known); not yet in the session."""
    received = now()
    store, capture = visit.store, opened.capture
    exif_distance = photo_flags.distance_to(store, capture.point)
    phone_distance = photo_flags.distance_to(store, upload.phone_point)
    width, height = opened.upright_size
    photo = Photo(
        client_id=upload.client_id, visit=visit, step=step, rep=actor, store=store, source=upload.source,
        content_type=opened.kind.content_type, width=width, height=height,
        bytes=len(upload.data), exif_taken_at=capture.taken_at, exif_utc_offset_min=capture.utc_offset_min,
        taken_at_source=capture.time_source,
        exif_lat=capture.point.lat if capture.point else None, exif_lng=capture.point.lng if capture.point else None,
        exif_distance_m=exif_distance,
        phone_lat=upload.phone_point.lat if upload.phone_point else None,
        phone_lng=upload.phone_point.lng if upload.phone_point else None,
        phone_accuracy_m=upload.accuracy_m, phone_captured_at=upload.captured_at,
        phone_distance_m=phone_distance, created_at=received)
    photo.flags = photo_flags.place_and_time(capture, exif_distance, phone_distance, store, visit, received,
                                             upload.source)
    token = f"{received:%Y/%m}/{uuid.uuid4().hex}"
    photo.display_key, photo.thumb_key = f"display/{token}.jpg", f"thumbs/{token}.jpg"
    return photo


def _original_shared(sha256: str) -> bool:
    """Whether a stored photo (a visit's, or a rep's own: field/photos/own.py) has these bytes too (then their
    original file must stay)."""
    try:
        return any(db.session.execute(select(model.id).where(model.sha256 == sha256).limit(1)).first() is not None
                   for model in (Photo, OwnPhoto))
    except Exception:  # noqa: BLE001 — the database is what failed: an orphan file beats a lost original
        return True


# --- void -------------------------------------------------------------------------------------------

def void(photo: Photo, actor: User, reason: str) -> Photo:
    """Take a photo out of play with a reason; its bytes and row stay for the record."""
    if not permissions.may_void_photo(actor):
        raise permissions.NotAllowed(_("Only a supervisor or a manager can void a photo."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the photo is voided."))
    if len(reason) > 500:
        raise DomainError(_("At most %(n)s characters.", n=500))
    if photo.voided_at is not None:
        raise Conflict(_("This photo is already voided."))
    photo.voided_at, photo.voided_by, photo.void_reason = now(), actor, reason
    audit.record("photo.void", photo, actor=actor, reason=reason, visit=photo.visit_id)
    return photo
