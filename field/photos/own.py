"""A rep's own photos — of no store: a travel receipt, a selfie at the start or the end of the day.

They come in the way a visit's photo does (field/photos/ingest.py), by the same means: the phone's client id
makes the upload idempotent (the same id and bytes again answer the photo already stored; the same id with
other bytes, or for another purpose or rep, is refused); the file is checked against the same limits (size,
pixels, decode cost, still pictures only) and a bad one is refused with its reason having stored nothing; the
original (under its SHA-256), the watermarked display copy and the thumbnail are durable before the row is
staged, and the request commits the row before it answers. No near-copy hashes: a receipt's duplicate is
found by its bytes (field/workday/receipts.py). Nothing here commits."""
from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import Future

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from field.auth.models import User
from field.core import Conflict, now, user_zone
from field.extensions import db
from field.photos import flags as photo_flags
from field.photos.images import THUMB_QUALITY, BadPhoto, derive, open_checked, thumbnail
from field.photos.ingest import (_IO, Upload, _local, _original_shared, _store_original, _Writes, max_bytes,
                                 max_pixels)
from field.photos.models import OwnPhoto, OwnPurpose
from field.photos.storage import storage

# What the watermark says the photo is for: the same words for everyone (as a visit photo's store name).
PURPOSE_MARK = {OwnPurpose.RECEIPT: "Receipt 票据", OwnPurpose.SELFIE: "Selfie 自拍"}


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def earlier(upload: Upload, actor: User, purpose: str) -> OwnPhoto | None:
    """The photo this client id already made, if it is the actor's, for this purpose, with these bytes; None when
    the id is new. Any other use of the id is refused (409)."""
    photo = db.session.execute(select(OwnPhoto).where(OwnPhoto.client_id == upload.client_id)).scalar_one_or_none()
    if photo is None:
        return None
    if photo.rep_id != actor.id or photo.purpose != purpose:
        raise Conflict(_("This photo id was already used for another photo."))
    if content_hash(upload.data) != photo.sha256:
        raise Conflict(_("A different photo was already sent under this photo's id; this one was not saved. "
                         "Take it again."))
    return photo


def check_file(upload: Upload) -> None:
    """The size checks every photo passes before it is read (the rest: open_checked)."""
    if not upload.data:
        raise BadPhoto(_("The file is empty. Take the photo again."))
    if len(upload.data) > max_bytes():
        raise BadPhoto(_("The photo is larger than %(mb)s MB.", mb=round(max_bytes() / (1024 * 1024), 1)), 413)


def watermark_lines(photo: OwnPhoto, actor: User, zone: str) -> list[str]:
    taken = photo.exif_taken_at or photo.phone_captured_at or photo.created_at
    if photo.phone_lat is not None:
        where = f"{photo.phone_lat:.6f}, {photo.phone_lng:.6f}"
        if photo.phone_accuracy_m is not None:
            where += f" ±{round(photo.phone_accuracy_m)} m"
    else:
        where = "—"
    return [_local(taken, zone), PURPOSE_MARK.get(photo.purpose, photo.purpose), actor.name, where]


def add_own_photo(upload: Upload, actor: User, purpose: str) -> tuple[OwnPhoto, bool]:
    """Store one of the actor's own photos: (photo, created). The same client id again answers the photo stored."""
    done = earlier(upload, actor, purpose)
    if done is not None:
        return done, False
    check_file(upload)
    zone = user_zone(actor).key
    opened = open_checked(upload.data, max_pixels(), zone)
    writes = _Writes(storage())
    named: Future = Future()
    original = _IO.submit(_store_original, writes.store, opened, named)
    sha = original_key = ""
    try:
        decoded = derive(opened, sized=False)
        sha, original_key, _trailing = named.result()
        writes.add(original_key, original)
        thumb = thumbnail(decoded.display)
        received = now()
        token = f"{received:%Y/%m}/{uuid.uuid4().hex}"
        capture = decoded.capture
        photo = OwnPhoto(
            client_id=upload.client_id, rep_id=actor.id, purpose=purpose, source=upload.source, sha256=sha,
            content_type=decoded.kind.content_type, width=decoded.width, height=decoded.height,
            bytes=len(upload.data), original_key=original_key, display_key=f"display/own/{token}.jpg",
            thumb_key=f"thumbs/own/{token}.jpg", exif_taken_at=capture.taken_at,
            phone_lat=upload.phone_point.lat if upload.phone_point else None,
            phone_lng=upload.phone_point.lng if upload.phone_point else None,
            phone_accuracy_m=upload.accuracy_m, phone_captured_at=upload.captured_at,
            flags=photo_flags.trailing_data(decoded.trailing_bytes), created_at=received)
        writes.start_jpeg(photo.thumb_key, thumb, THUMB_QUALITY)
        writes.start_display(photo.display_key, decoded.display, watermark_lines(photo, actor, zone))
        writes.wait()
        with db.session.begin_nested():
            db.session.add(photo)
            db.session.flush()
    except IntegrityError:
        writes.undo(keep=original_key if _original_shared(sha) else None)
        winner = db.session.execute(select(OwnPhoto).where(OwnPhoto.client_id == upload.client_id)
                                    ).scalar_one_or_none()
        if winner is None:
            raise
        return earlier(upload, actor, purpose) or winner, False
    except BaseException:
        if not original_key and named.exception() is None:  # the decode failed first
            sha, original_key, _trailing = named.result()
            writes.add(original_key, original)
        writes.undo(keep=original_key if original_key and _original_shared(sha) else None)
        raise
    return photo, True

