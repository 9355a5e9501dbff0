"""Decode a photo once, within a fixed memory budget, and derive everything from that one decode.

The bytes are recognised by their signature, never by a file name. What a decode will cost is
known from the header before any pixel is decoded, and an upload that would take more than
UPLOAD_BUDGET is refused with its reason (so one small file can never take the server's
memory). A JPEG is decoded with Image.draft, already scaled down in the DCT domain to about the
display size, so a 12 MP photo costs a quarter of a full decode. The other formats (PNG, WebP,
HEIC) have no reduced decode: their pixels are decoded once at full size and turned into the
display copy strip by strip, so no second full-size copy is ever made. The display copy, the
thumbnail and the perceptual hash all come from that one decoded image."""
from __future__ import annotations

import io
import math
import os
import re
import struct
import tempfile
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
# The display copy's last resample (at most 2:1 after the decoder's own scaling): bilinear, half the
# cost of bicubic at this ratio and no visible difference at display size.
DISPLAY_RESAMPLE = Image.Resampling.BILINEAR
THUMB_QUALITY = 75
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}

# The most one upload may take: its bytes (twice: the request's copy and ours), the decode's peak
# (decode_cost, from the header) and the work around it (strips, display copy, encodes). An upload that
# would need more is refused before a pixel is decoded. bench/photo_ingest.py prints the peaks measured.
UPLOAD_BUDGET = 300_000_000
WORK_BYTES = 30_000_000
STRIP_PIXELS = 1_000_000  # full-size pixels turned into the display copy at a time
DECODE_BLOCK = 4 * 1024 * 1024  # a JPEG's bytes handed to the decoder at a time (counted in WORK_BYTES)
# Peak bytes per pixel of a full decode (measured with bench/photo_ingest.py, rounded up ~5 %):
PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}  # Pillow's own; else 4
WEBP_BYTES_PER_PIXEL = 16  # libwebp's canvas and previous frame (8), the frame's bytes (4), Pillow's copy (4)
# libheif's planes and its interleaved 8-bit output, by (bit depth, chroma, alpha); Pillow never holds the
# full-size picture (see _heif_display). Anything else is counted at HEIF_WORST.
HEIF_BYTES_PER_PIXEL = {(8, 420, False): 4.9, (8, 420, True): 8.1, (10, 420, False): 7.8, (8, 444, False): 9.8}
HEIF_WORST = 12.0


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
    trailing_bytes: int = 0  # bytes after the end of the picture (a JPEG+ZIP polyglot)


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


# --- what a decode costs, from the header ------------------------------------------------------

def webp_size(data: bytes) -> tuple[int, int] | None:
    """A WebP's canvas size from its first chunk. Read before the file is opened: libwebp's decoder
    takes the memory for the whole canvas (twice) the moment it is made."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return (int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF)
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_cost(image: Image.Image) -> int:
    """The draft-scaled output, and for a progressive JPEG the whole image's DCT coefficients, which
    libjpeg keeps (2 bytes each, per component at its own sampling) whatever the output scale."""
    width, height = image.size
    out_w, out_h = draft_size(width, height)
    cost = out_w * out_h * 4
    if image.info.get("progressive") or image.info.get("progression"):
        layers = getattr(image, "layer", None) or [(0, 1, 1, 0)] * len(image.getbands())
        h_max, v_max = max(h for _c, h, _v, _q in layers), max(v for _c, _h, v, _q in layers)
        for _c, h, v, _q in layers:
            cost += math.ceil(width * h / h_max / 8) * math.ceil(height * v / v_max / 8) * 64 * 2
    return cost


def _heif_bytes_per_pixel(image: Image.Image) -> float:
    depth = image.info.get("bit_depth") or 8
    key = (8 if depth <= 8 else 10 if depth == 10 else depth, image.info.get("chroma"), image.mode in ("RGBA", "LA"))
    return HEIF_BYTES_PER_PIXEL.get(key, HEIF_WORST)


def decode_cost(kind: Kind, image: Image.Image) -> int:
    """The peak bytes decoding this opened (not loaded) image will take, from its header."""
    width, height = image.size
    pixels = width * height
    if kind is JPEG:
        return _jpeg_cost(image)
    if kind is WEBP:
        return pixels * WEBP_BYTES_PER_PIXEL
    if kind is HEIF:
        return math.ceil(pixels * _heif_bytes_per_pixel(image))
    return pixels * PIXEL_BYTES.get(image.mode, 4)


def _room(data: bytes) -> int:
    """What the decode of this upload may take: the budget less its bytes and the work around it."""
    return UPLOAD_BUDGET - 2 * len(data) - WORK_BYTES


def _check_cost(kind: Kind, width: int, height: int, cost: int, data: bytes) -> None:
    room = _room(data)
    if cost <= room:
        return
    # The largest picture of this kind that would fit, for the message (same cost per pixel).
    fits = max(0, room) * width * height // max(cost, 1)
    values = {"kind": kind.pil_format.replace("HEIF", "HEIC"), "mp": round(width * height / 1e6, 1),
              "max": round(fits / 1e6, 1)}
    if kind is JPEG:  # a progressive JPEG keeps all its coefficients
        raise BadPhoto(_("This %(kind)s picture is too large to process (%(mp)s megapixels; at most about "
                         "%(max)s for this kind of file). Send it smaller.", **values), 413)
    raise BadPhoto(_("This %(kind)s picture is too large to process (%(mp)s megapixels; at most about "
                     "%(max)s for this kind of file). Send it as a JPEG, or smaller.", **values), 413)


# --- JPEG: what follows the end of the picture --------------------------------------------------

_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_PADDING = re.compile(rb"[\x00\xff\r\n ]*")


def jpeg_trailing_bytes(data: bytes, pictures: list[tuple[int, int]] = ()) -> int:
    """How many bytes follow the JPEG's end-of-image marker, not counting padding nor the pictures its
    multi-picture index (MPF: a phone's depth map or second image) declares there, given as
    (offset, size) from the index's base. A JPEG+ZIP polyglot has the whole ZIP there.
    0 when the markers cannot be followed."""
    i, n, base = 2, len(data), None
    while i + 4 <= n:
        if data[i] != 0xFF:
            return 0
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
        elif marker == 0xD9:  # EOI
            end = i + 2
            if base is not None:
                end = max([end] + [base + offset + size for offset, size in pictures if offset])
            padding = _PADDING.match(data, end)
            return max(0, n - (padding.end() if padding else end))
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 2
        else:
            if marker == 0xE2 and data[i + 4:i + 8] == b"MPF\x00":
                base = i + 8  # MPF offsets count from its TIFF header
            i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
            if marker == 0xDA:  # start of scan: the entropy-coded data runs to the next real marker
                found = _ENTROPY_END.search(data, i)
                if found is None:
                    return 0
                i = found.start()
    return 0


def _mpf_pictures(image: Image.Image) -> list[tuple[int, int]]:
    """(offset, size) of the pictures the file's MPF index declares ([]: no index, or a broken one)."""
    try:
        return [(int(e["DataOffset"]), int(e["Size"])) for e in image.mpinfo[0xB002]]
    except Exception:  # noqa: BLE001
        return []


# --- HEIF: the transforms the container applies -------------------------------------------------

def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, payload end) of the ISO-BMFF boxes in data[start:end]."""
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        head = 8
        if size == 1:
            if i + 16 > end:
                return
            size, head = struct.unpack(">Q", data[i + 8:i + 16])[0], 16
        elif size == 0:
            size = end - i
        if size < head or i + size > end:
            return
        yield kind, i + head, i + size
        i += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in _boxes(data, start, end) if k == kind), None)


def heif_transforms(data: bytes) -> list[str] | None:
    """The rotation (irot) and mirror (imir) properties of the HEIF's primary picture, in order
    (e.g. ['irot']); None when the container cannot be followed."""
    try:
        meta = _child(data, 0, len(data), b"meta")
        if meta is None:
            return None
        start, end = meta[0] + 4, meta[1]  # a full box: version and flags first
        pitm, iprp = _child(data, start, end, b"pitm"), _child(data, start, end, b"iprp")
        if pitm is None or iprp is None:
            return None
        primary = (struct.unpack(">H", data[pitm[0] + 4:pitm[0] + 6])[0] if data[pitm[0]] == 0
                   else struct.unpack(">I", data[pitm[0] + 4:pitm[0] + 8])[0])
        ipco, ipma = _child(data, *iprp, b"ipco"), _child(data, *iprp, b"ipma")
        if ipco is None or ipma is None:
            return None
        properties = [k for k, _s, _e in _boxes(data, *ipco)]
        version, flags = data[ipma[0]], int.from_bytes(data[ipma[0] + 1:ipma[0] + 4], "big")
        i = ipma[0] + 4
        count = struct.unpack(">I", data[i:i + 4])[0]
        i += 4
        for _entry in range(count):
            if version < 1:
                item = struct.unpack(">H", data[i:i + 2])[0]
                i += 2
            else:
                item = struct.unpack(">I", data[i:i + 4])[0]
                i += 4
            n = data[i]
            i += 1
            indexes = []
            for _a in range(n):
                if flags & 1:
                    indexes.append(struct.unpack(">H", data[i:i + 2])[0] & 0x7FFF)
                    i += 2
                else:
                    indexes.append(data[i] & 0x7F)
                    i += 1
            if item == primary:
                return [properties[k - 1].decode() for k in indexes
                        if 0 < k <= len(properties) and properties[k - 1] in (b"irot", b"imir")]
        return []
    except (struct.error, IndexError):
        return None


def heif_orientation(data: bytes, image: Image.Image) -> int:
    """The EXIF orientation still to apply once libheif has decoded the picture.

    libheif turns and mirrors the picture as the HEIF's own transforms (irot, imir) say: those are
    what a HEIF viewer follows, and a phone that writes them (an iPhone, a Nokia) may leave an EXIF
    orientation beside them that no longer applies (pillow_heif resets it to 1). A file with no
    transforms at all relies on its EXIF orientation (pillow_heif keeps it as "original_orientation"),
    which is then applied."""
    transforms = heif_transforms(data)
    if transforms:
        return 1
    original = image.info.get("original_orientation")
    if transforms is None or not isinstance(original, int) or not 1 <= original <= 8:
        return 1
    return original


# --- open: header checks, nothing decoded -------------------------------------------------------

@dataclass
class Opened:
    """An upload whose signature, header, pixel count and decode cost passed; pixels not decoded yet."""
    kind: Kind
    image: Image.Image
    capture: exif.Capture
    width: int
    height: int
    data: bytes = b""
    trailing_bytes: int = 0
    pictures: list[tuple[int, int]] | None = None  # a JPEG's MPF pictures, for trailing_bytes()

    @property
    def upright_size(self) -> tuple[int, int]:
        """(width, height) once turned as its orientation says (what the photo's row keeps)."""
        return (self.height, self.width) if self.capture.swaps_sides else (self.width, self.height)

    def count_trailing(self) -> int:
        """The bytes after the end of its picture (open_checked(trailing=False) leaves them uncounted:
        a scan of the whole file that ingest runs beside the decode)."""
        if self.kind is JPEG:
            self.trailing_bytes = jpeg_trailing_bytes(self.data, self.pictures or [])
        return self.trailing_bytes


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
        except MemoryError:
            raise BadPhoto(_("The server has no room to process this picture now. Try again in a moment."),
                           503) from None
        except Exception:  # noqa: BLE001 — a damaged file is the sender's problem, never a 500
            raise BadPhoto(_("The photo could not be read: the file is damaged or incomplete. "
                             "Take or send it again.")) from None


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width < 1 or height < 1 or width * height > max_pixels:
        raise BadPhoto(_("The picture has too many pixels (at most %(mp)s megapixels).",
                         mp=max_pixels // 1_000_000), 413)


def open_checked(data: bytes, max_pixels: int, zone: str, trailing: bool = True) -> Opened:
    """Recognise the bytes and read the header: format, size (against the pixel cap), what decoding
    it will cost (against UPLOAD_BUDGET), one still picture, EXIF/XMP; and (`trailing`) count the
    bytes after the end of the picture, else Opened.count_trailing() does it later."""
    kind = sniff(data)
    with _reading():
        if kind is WEBP:
            size = webp_size(data)
            if size is None:
                raise ValueError("no WebP header")
            _check_pixels(*size, max_pixels)
            _check_cost(kind, *size, size[0] * size[1] * WEBP_BYTES_PER_PIXEL, data)
        image = Image.open(io.BytesIO(data), formats=[kind.pil_format])
        width, height = image.size
        _check_pixels(width, height, max_pixels)
        if kind is not HEIF and getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
            raise BadPhoto(_("This is an animation, not a photo. Send a still picture."), 415)
        _check_cost(kind, width, height, decode_cost(kind, image), data)
        orientation = heif_orientation(data, image) if kind is HEIF else None
        capture = exif.read(image, zone, orientation=orientation)
        opened = Opened(kind, image, capture, width, height, data,
                        pictures=_mpf_pictures(image) if kind is JPEG else None)
        if trailing:
            opened.count_trailing()
    return opened


# --- decode once, into the display copy ----------------------------------------------------------

_GREY16 = {"I;16": 1, "I;16L": 1, "I;16N": 1, "I;16B": 0}  # where the high byte of a sample is


def _rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, transparency flattened on white, 16-bit grey kept by its high byte."""
    if image.mode == "RGB":
        return image
    if image.mode in _GREY16:
        high = image.tobytes()[_GREY16[image.mode]::2]
        return Image.frombytes("L", image.size, high).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _shrink_factor(width: int, height: int) -> int:
    """The whole factor that brings the long side between DISPLAY_SIDE and twice that."""
    return max(1, max(width, height) // DISPLAY_SIDE)


def _strips(width: int, height: int, factor: int, strip):
    """The display-size RGB copy made from full-size strips: strip(top, bottom) gives one full-size
    strip in any mode; each is made RGB and box-reduced by `factor`, then dropped."""
    out = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)))
    rows = max(1, STRIP_PIXELS // max(width * factor, 1)) * factor
    for top in range(0, height, rows):
        part = _rgb(strip(top, min(height, top + rows)))
        out.paste(part.reduce(factor) if factor > 1 else part, (0, top // factor))
    return out


def _reduced(image: Image.Image) -> Image.Image:
    """A loaded image as 8-bit RGB at display scale, never a second full-size copy."""
    width, height = image.size
    factor = _shrink_factor(width, height)
    if factor == 1 and image.mode == "RGB":
        return image
    return _strips(width, height, factor, lambda top, bottom: image.crop((0, top, width, bottom)))


def _heif_display(data: bytes) -> Image.Image:
    """The HEIF's primary picture decoded by libheif (its transforms applied) into its own buffer,
    turned into the display copy strip by strip: Pillow never holds the full-size picture."""
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True, remove_stride=False)
    frame = heif[heif.primary_index]
    buffer = frame.data  # decodes; the size may change here (a crop the container applies)
    (width, height), mode, stride = frame.size, frame.mode, frame.stride
    factor = _shrink_factor(width, height)
    view = memoryview(buffer)
    strip = lambda top, bottom: Image.frombuffer(  # noqa: E731
        mode, (width, bottom - top), view[top * stride:bottom * stride], "raw", mode, stride, 1)
    try:
        return _strips(width, height, factor, strip)
    finally:
        view.release()


def drafted_size(opened: Opened) -> tuple[int, int] | None:
    """The upright size of the display copy derive() will make of a JPEG, known before its decode (its
    decoder is set to the reduced scale here, in the thread that opened it); None for another kind, or
    when display_copy() will still resize it."""
    if opened.kind is not JPEG:
        return None
    opened.image.draft("RGB", draft_size(opened.width, opened.height))
    width, height = opened.image.size
    if max(width, height) > DISPLAY_SIDE:
        return None
    return (height, width) if opened.capture.swaps_sides else (width, height)


def derive(opened: Opened, *, sized: bool = True) -> Decoded:
    """Decode once (a JPEG already scaled down by its decoder) into the upright display copy; with
    `sized=False` the display is left as decoded (at most twice the display side: display_copy()
    finishes it), so a caller can take the thumbnail first and resize beside other work."""
    image, capture = opened.image, opened.capture
    with _reading():
        if opened.kind is HEIF:
            image.close()
            pixels = _heif_display(opened.data)
        else:
            if opened.kind is JPEG:
                image.draft("RGB", draft_size(opened.width, opened.height))
                # In a few large reads, not 64 KB ones: the decoder releases the GIL for each, and a
                # thread that has to win it back 30 times waits on the request's Python work beside it.
                image.decodermaxblock = DECODE_BLOCK
            image.load()
            pixels = _reduced(image)
            if pixels is not image:
                image.close()  # the full-size pixels go now, not when the request ends
    display = exif.upright(pixels, capture.orientation)
    width, height = opened.upright_size
    if sized:
        display_copy(display)
    return Decoded(kind=opened.kind, width=width, height=height, capture=capture, display=display,
                   trailing_bytes=opened.trailing_bytes)


def display_copy(image: Image.Image) -> Image.Image:
    """Decoded pixels brought to the display size, in place (at most DISPLAY_SIDE a side)."""
    image.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE), DISPLAY_RESAMPLE)
    return image


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
    decoded = derive(open_checked(data, max_pixels, zone), sized=False)
    decoded.thumb, decoded.phash = thumb_and_hash(decoded.display)  # as ingest: before the display copy
    display_copy(decoded.display)
    return decoded


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    """The image as a JPEG, encoded into an anonymous file: Pillow's encoder releases the GIL only when it
    writes to a file descriptor (into a BytesIO it holds it for the whole encode, ~1.5 ms of a display
    copy made beside the request's thread, which then waits)."""
    with _scratch() as file:
        image.save(file, "JPEG", quality=quality)
        file.seek(0)
        return file.read()


def _scratch():
    """A file in memory with a descriptor (Linux: memfd), else a temporary file."""
    make = getattr(os, "memfd_create", None)
    if make is not None:
        return open(make("photo-jpeg"), "w+b")
    return tempfile.TemporaryFile()
