"""The demo's evidence photos: a shelf or end-cap drawn at random, as a phone in Shanghai would
save it (JPEG with the local capture time, its offset and GPS), and a spot near a store where it
was shot. Pure picture-making: nothing here touches the database."""
from __future__ import annotations

import io
import random
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from PIL.TiffImagePlugin import IFDRational

from field.geo import Point
from field.photos.watermark import font_source

ZONE = "Asia/Shanghai"  # the phones' time zone

_FONTS: dict[int, object] = {}


def _font(size: int):
    """The watermark's CJK font at `size`, or None when the system has none (the banner stays blank)."""
    if size not in _FONTS:
        source = font_source()
        try:
            _FONTS[size] = ImageFont.truetype(source[0], size, index=source[1]) if source else None
        except OSError:
            _FONTS[size] = None
    return _FONTS[size]


def shelf_picture(seed: int, slogan: str, size=(640, 480)) -> Image.Image:
    """A shelf or end-cap as a phone sees it: wall, big blocks of displays, shelves of packs, a
    banner with the promotion's words. Laid out at random, so two seeds differ in their pHash."""
    rnd = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, tuple(rnd.randrange(90, 235) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(rnd.randint(4, 7)):  # floor, fridge doors, pillars: what the pHash mostly sees
        x0, y0 = rnd.randrange(-w // 4, w), rnd.randrange(-h // 4, h)
        draw.rectangle((x0, y0, x0 + rnd.randrange(w // 5, w), y0 + rnd.randrange(h // 5, h)),
                       fill=tuple(rnd.randrange(256) for _ in range(3)))
    for _ in range(rnd.randint(1, 3)):  # round signs and bins, behind the shelves
        x, y, r = rnd.randrange(w), rnd.randrange(h), rnd.randrange(20, h // 4)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rnd.randrange(256) for _ in range(3)))
    left, right = rnd.randrange(0, w // 3), rnd.randrange(2 * w // 3, w)
    for y in sorted(rnd.sample(range(h // 5, h - 20), rnd.randint(2, 4))):
        draw.rectangle((left, y, right, y + 8), fill=(70, 70, 75))
        x = left + rnd.randrange(4, 20)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        while x < right - 20:
            pack_w, pack_h = rnd.randrange(14, 40), rnd.randrange(30, 70)
            if rnd.random() < 0.3:
                colour = tuple(rnd.randrange(256) for _ in range(3))
            draw.rectangle((x, y - pack_h, x + pack_w, y - 1), fill=colour, outline=(40, 40, 40))
            x += pack_w + rnd.randrange(1, 6)
    bx, by = rnd.randrange(0, w // 3), rnd.randrange(0, h // 3)
    draw.rectangle((bx, by, bx + w // 2, by + 54), fill=(200 + rnd.randrange(55), rnd.randrange(60), rnd.randrange(60)))
    font = _font(30)
    if font is not None:
        draw.text((bx + 12, by + 10), slogan, fill=(255, 240, 120), font=font)
    draw.rectangle((bx + 30, by + 70, bx + 110, by + 110), fill=(250, 220, 40))  # the price tag
    return img.filter(ImageFilter.GaussianBlur(1.2))


def _dms(value: float) -> tuple:
    milliseconds = round(abs(value) * 3600 * 1000)
    deg, rest = divmod(milliseconds, 3600 * 1000)
    minutes, ms = divmod(rest, 60 * 1000)
    return (IFDRational(deg, 1), IFDRational(minutes, 1), IFDRational(ms, 1000))


def jpeg(img: Image.Image, taken: datetime, point: Point, quality: int = 86) -> bytes:
    """The picture as a phone writes it: JPEG with the local capture time, its offset and GPS."""
    exif = Image.Exif()
    local = taken.astimezone(ZoneInfo(ZONE))
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = local.strftime("%Y:%m:%d %H:%M:%S")
    ifd[0x9011] = "+08:00"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: _dms(point.lat), 3: "E", 4: _dms(point.lng)})
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


def near(rnd: random.Random, point: Point, metres: float) -> Point:
    """A point about `metres` from `point`, in a random direction."""
    lat = point.lat + rnd.uniform(-1, 1) * metres / 111_000
    lng = point.lng + rnd.uniform(-1, 1) * metres / 95_000
    return Point(lat, lng)
