"""Decode a photo once and derive everything from that one decode.

The bytes are recognised by their signature, never by a file name. A JPEG is decoded
with Image.draft, already scaled down in the DCT domain to about the display size, so a
12 MP photo costs a quarter of a full decode; the display copy, the thumbnail and the
perceptual hash all come from that one decoded image."""
from __future__ import annotations

import io
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import pillow_heif
from flask_babel import gettext as _
from PIL import Image

from field.core import DomainError
from field.photos import exif
from field.photos.phash import phash

pillow_heif.register_heif_opener()

DISPLAY_SIDE = 1600
THUMB_SIDE = 320
DISPLAY_QUALITY = 82
THUMB_QUALITY = 75
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}


@dataclass(frozen=True)
class Kind:
    pil_format: str
    content_type: str
    ext: str


JPEG = Kind("JPEG", "image/jpeg", "jpg")
PNG = Kind("PNG", "image/png", "png")
WEBP = Kind("WEBP", "image/webp", "webp")
HEIF = Kind("HEIF", "image/heic", "heic")


class BadPhoto(DomainError):
    """The upload is not a photo we take; nothing of it is kept."""


@dataclass
class Decoded:
    kind: Kind
    width: int           # upright, full size
    height: int
    capture: exif.Capture
    display: Image.Image  # upright, ≤ DISPLAY_SIDE, no watermark yet
    thumb: Image.Image | None = None
    phash: int | None = None


def sniff(data: bytes) -> Kind:
    """What the bytes are, from their signature; anything else is refused."""
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return HEIF
    raise BadPhoto(_("This file is not a photo. Send a JPEG, PNG, WebP or HEIC picture."), 415)


def draft_size(width: int, height: int, side: int = DISPLAY_SIDE) -> tuple[int, int]:
    """The size to ask the JPEG decoder for: the largest 1/2ⁿ scale (n ≤ 3, what libjpeg
    decodes directly) whose long side fits `side`, so the display copy needs no resampling.
    A 12 MP photo decodes at 1/4 (1000 × 750), a phone-shrunk 2048 px one at 1/2 (1024)."""
    factor = 1
    while factor < 8 and math.ceil(max(width, height) / factor) > side:
        factor *= 2
    return math.ceil(width / factor), math.ceil(height / factor)


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


@dataclass
class Opened:
    """An upload whose signature, header and pixel count passed; pixels not decoded yet."""
    kind: Kind
    image: Image.Image
    capture: exif.Capture
    width: int
    height: int


@contextmanager
def _reading():
    """Whatever a malformed file makes Pillow raise becomes a 4xx with a message."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except BadPhoto:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise BadPhoto(_("The picture has too many pixels."), 413) from None
        except Exception:  # noqa: BLE001 — a damaged file is the sender's problem, never a 500
            raise BadPhoto(_("The photo could not be read: the file is damaged or incomplete. "
                             "Take or send it again.")) from None


def open_checked(data: bytes, max_pixels: int, zone: str) -> Opened:
    """Recognise the bytes and read the header: format, size (against the pixel cap), EXIF."""
    kind = sniff(data)
    with _reading():
        image = Image.open(io.BytesIO(data), formats=[kind.pil_format])
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise BadPhoto(_("The picture has too many pixels (at most %(mp)s megapixels).",
                             mp=max_pixels // 1_000_000), 413)
        capture = exif.read(image, zone)
    return Opened(kind, image, capture, width, height)


def derive(opened: Opened) -> Decoded:
    """Decode once (a JPEG already scaled down by its decoder) into the upright display copy."""
    image, capture = opened.image, opened.capture
    with _reading():
        if opened.kind is JPEG:
            image.draft("RGB", draft_size(opened.width, opened.height))
        image.load()
    display = exif.upright(_rgb(image), capture.orientation)
    width, height = (opened.height, opened.width) if capture.swaps_sides else (opened.width, opened.height)
    display.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE), Image.Resampling.BICUBIC)
    return Decoded(kind=opened.kind, width=width, height=height, capture=capture, display=display)


def thumbnail(display: Image.Image) -> Image.Image:
    """The thumbnail of a display copy (before its watermark): a box average by a whole factor,
    a tenth of a resample's cost and free of aliasing. It lands between 240 and 320 px on its
    long side (a 1000 px display copy gives 250)."""
    factor = math.ceil(max(display.size) / THUMB_SIDE)
    return display.reduce(factor) if factor > 1 else display.copy()


def thumb_and_hash(display: Image.Image) -> tuple[Image.Image, int]:
    """The thumbnail and the perceptual hash taken from it."""
    thumb = thumbnail(display)
    return thumb, phash(thumb)


def decode(data: bytes, zone: str, max_pixels: int) -> Decoded:
    """Recognise, check and decode the upload once; derive the display copy, thumbnail and pHash."""
    decoded = derive(open_checked(data, max_pixels, zone))
    decoded.thumb, decoded.phash = thumb_and_hash(decoded.display)
    return decoded


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()
