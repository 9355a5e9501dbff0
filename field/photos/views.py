"""Photo views: the upload a photo step's page sends, the viewer, the bytes (always through scope), void.

The upload answers JSON to static/js/photos.js, the thumbnail fragment to htmx, and a
redirect back to the visit to a plain form (the page works without JavaScript)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta, timezone

from babel.dates import format_datetime, get_timezone_name
from flask import Response, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import get_locale, get_timezone, gettext as _, lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wsgi import wrap_file
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from field import errors, permissions, scope
from field.photos import bp, flags as photo_flags, ingest
from field.photos.exif import TimeSource
from field.photos.images import HEIF, JPEG, PNG, WEBP
from field.photos.models import Photo
from field.photos.phash import hex64
from field.photos.storage import storage
from field.visits.models import VisitStatus
from field.web import me, refusal, render, wants_fragment

CACHE_SECONDS = 24 * 3600
EXTENSIONS = {k.content_type: k.ext for k in (JPEG, PNG, WEBP, HEIF)}


class VoidForm(FlaskForm):
    reason = TextAreaField(_l("Why is it voided?"), validators=[DataRequired(), Length(max=500)])


# --- template helpers ------------------------------------------------------------------------

@bp.app_template_global("photo_flag_label")
def flag_label(flag: dict) -> str:
    return photo_flags.label(flag)


@bp.app_template_global("photo_flag_text")
def flag_text(flag: dict) -> str:
    return photo_flags.sentence(flag)


@dataclass(frozen=True)
class CaptureTime:
    text: str    # '11 Apr 2026, 15:47:00 (UTC−05:00) · 12 Apr 2026, 04:47:00 China Time'
    source: str  # where the time's offset came from, in a few words


def utc_offset_text(minutes: int) -> str:
    """'UTC+08:00', 'UTC−05:00' (a true minus sign), 'UTC+05:45'."""
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{'−' if minutes < 0 else '+'}{hours:02d}:{mins:02d}"


def _source_text(source: str | None) -> str:
    return {
        TimeSource.EXIF_OFFSET: _("offset written in the file"),
        TimeSource.GPS: _("offset taken from the photo's GPS clock"),
        TimeSource.XMP: _("time and offset from the file's XMP data"),
        TimeSource.ZONE: _("no offset in the file: read in the rep's time zone"),
    }.get(source, "")


@bp.app_template_global("capture_time")
def capture_time(photo: Photo) -> CaptureTime | None:
    """The file's capture time in the photo's own local time (with its UTC offset) and, where the
    viewer's zone differs, in the viewer's too; None without one."""
    taken = photo.exif_taken_at
    if taken is None:
        return None
    locale, viewer = get_locale(), get_timezone()
    seen = format_datetime(taken, "medium", tzinfo=viewer, locale=locale)
    own = photo.exif_utc_offset_min
    source = _source_text(photo.taken_at_source or (TimeSource.ZONE if own is None else TimeSource.EXIF_OFFSET))
    if own is None:
        return CaptureTime(seen, source)
    zone = timezone(timedelta(minutes=own))
    text = f"{format_datetime(taken, 'medium', tzinfo=zone, locale=locale)} ({utc_offset_text(own)})"
    at = taken if taken.tzinfo else taken.replace(tzinfo=timezone.utc)
    if at.astimezone(viewer).utcoffset() != timedelta(minutes=own):
        text += f" · {seen} {get_timezone_name(viewer, locale=locale)}"
    return CaptureTime(text, source)


def _wants_json() -> bool:
    """photos.js asks for JSON; the phone's outbox (X-Field-Replay) gets JSON too, refusals included."""
    return errors.wants_json()


def _photo(photo_id: int) -> Photo:
    return scope.get_or_404(scope.photos(), photo_id)


# --- upload --------------------------------------------------------------------------------------

def _tile(photo: Photo) -> str:
    """The photo's thumbnail tile (templates/photos/_photo_thumb.html, which several pages include)."""
    return render("photos/_photo_thumb.html", block="tile", photo=photo)[0]


def _photo_json(photo: Photo, created: bool) -> dict:
    return {
        "id": photo.id, "client_id": photo.client_id, "created": created,
        "url": url_for("photos.show", photo_id=photo.id),
        "thumb_url": url_for("photos.thumb", photo_id=photo.id),
        "flags": [{"code": f["code"], "label": flag_label(f), "text": flag_text(f)} for f in photo.flags or []],
        "html": _tile(photo),
    }


@bp.route("/visits/<int:visit_id>/steps/<int:step_id>/photos", methods=["POST"])
@login_required
def upload(visit_id: int, step_id: int):
    """Store one photo; the answer (JSON, the tile for htmx, or back to the visit) is sent only after
    the request committed the row, whose bytes were durable before it was staged."""
    visit = scope.get_or_404(scope.visits(), visit_id)
    with refusal() as refused:
        step = ingest.photo_step(visit, step_id)
        file = request.files.get("file")
        data = file.read(ingest.max_bytes() + 1) if file is not None else b""
        photo, created = ingest.add_photo(visit, step, ingest.upload_from_form(request.form, data), me())
    if refused:
        if _wants_json():
            return jsonify(error=refused.message), refused.status
        return render("photos/upload_error.html", status=refused.status, visit=visit, message=refused.message,
                      page_title=_("Photo not saved"))
    status = 201 if created else 200
    if _wants_json():
        return jsonify(_photo_json(photo, created)), status
    if wants_fragment():
        return _tile(photo), status
    flash(_("Photo saved.") if created else _("This photo was already saved."), "success")
    return redirect(url_for("visits.show", visit_id=visit.id, _anchor=f"step-{step.id}"), 303)


# --- viewer ----------------------------------------------------------------------------------------

def _viewer(photo: Photo, status: int = 200, form: VoidForm | None = None, error: str | None = None):
    can_void = permissions.may_void_photo(me(), photo)
    return render("photos/photo.html", status=status, photo=photo, page_title=photo.store.name,
                  can_void=can_void, void_form=form or (VoidForm(formdata=None) if can_void else None),
                  void_error=error, phash_hex=hex64(photo.phash),
                  in_progress=photo.visit.status == VisitStatus.IN_PROGRESS)


@bp.route("/photos/<int:photo_id>")
@login_required
def show(photo_id: int):
    return _viewer(_photo(photo_id))


@bp.route("/photos/<int:photo_id>/void", methods=["POST"])
@login_required
def void(photo_id: int):
    photo = _photo(photo_id)
    form = VoidForm()
    if not form.validate_on_submit():
        return _viewer(photo, 422, form)
    with refusal() as refused:
        ingest.void(photo, me(), form.reason.data)
    if refused:
        return _viewer(photo, refused.status, form, refused.message)
    flash(_("The photo is voided; it stays on record with your reason."), "success")
    return redirect(url_for("photos.show", photo_id=photo.id), 303)


# --- the bytes ---------------------------------------------------------------------------------------

def _serve(key: str, content_type: str, download_name: str | None = None, attachment: bool = False):
    etag = hashlib.sha256(key.encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        try:
            stored = storage().open(key)
        except FileNotFoundError:  # the row is there, its bytes are not: say so in the log, not as a 500
            current_app.logger.error("photo file missing from storage: %s", key)
            abort(404)
        response = Response(wrap_file(request.environ, stored), mimetype=content_type, direct_passthrough=True)
        if download_name:
            disposition = "attachment" if attachment else "inline"
            response.headers["Content-Disposition"] = f'{disposition}; filename="{download_name}"'
    response.set_etag(etag)
    # Private: a shared cache must never hand one user's evidence to another.
    response.cache_control.private = True
    response.cache_control.max_age = CACHE_SECONDS
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.vary.add("Cookie")
    return response


@bp.route("/photos/<int:photo_id>/display.jpg")
@login_required
def display(photo_id: int):
    return _serve(_photo(photo_id).display_key, "image/jpeg")


@bp.route("/photos/<int:photo_id>/thumb.jpg")
@login_required
def thumb(photo_id: int):
    return _serve(_photo(photo_id).thumb_key, "image/jpeg")


@bp.route("/photos/<int:photo_id>/original")
@login_required
def original(photo_id: int):
    photo = _photo(photo_id)
    # A file with other data after its picture (a JPEG+ZIP polyglot) is never shown inline: only downloaded.
    return _serve(photo.original_key, photo.content_type,
                  f"photo-{photo.id}.{EXTENSIONS.get(photo.content_type, 'bin')}",
                  attachment=photo_flags.download_only(photo.flags))


# --- a rep's own photos (receipts, selfies): the same serving, their own scope -------------------------

def _own(own_photo_id: int):
    return scope.get_or_404(scope.own_photos(), own_photo_id)


@bp.route("/own-photos/<int:own_photo_id>/display.jpg")
@login_required
def own_display(own_photo_id: int):
    return _serve(_own(own_photo_id).display_key, "image/jpeg")


@bp.route("/own-photos/<int:own_photo_id>/thumb.jpg")
@login_required
def own_thumb(own_photo_id: int):
    return _serve(_own(own_photo_id).thumb_key, "image/jpeg")


@bp.route("/own-photos/<int:own_photo_id>/original")
@login_required
def own_original(own_photo_id: int):
    photo = _own(own_photo_id)
    return _serve(photo.original_key, photo.content_type,
                  f"{photo.purpose}-{photo.id}.{EXTENSIONS.get(photo.content_type, 'bin')}",
                  attachment=photo_flags.download_only(photo.flags))
