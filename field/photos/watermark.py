"""The burned-in watermark of a display copy: time, store, rep, position — in a font that has Chinese.

The font is the system's Noto Sans CJK (Debian/Ubuntu package fonts-noto-cjk, which CI
and scripts install), not a copy shipped in the repo: the .ttc is 20 MB, and a system
package gets security and glyph updates. PHOTO_FONT overrides the path. Without any CJK
font the app still ingests photos but logs one clear warning, since Chinese store names
would be drawn as boxes."""
from __future__ import annotations

import logging
import os
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

# (path, face index): the Simplified Chinese face of each collection.
CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
)
MISSING = ("no CJK font found for photo watermarks: install fonts-noto-cjk (apt-get install fonts-noto-cjk) "
           "or set PHOTO_FONT to a .ttf/.ttc with Chinese glyphs; Chinese text is drawn as boxes until then")


def font_source() -> tuple[str, int] | None:
    """The font file and face the watermark uses, or None when the system has no CJK font."""
    override = os.environ.get("PHOTO_FONT")
    if override:
        return override, int(os.environ.get("PHOTO_FONT_INDEX", "0"))
    for path, index in CANDIDATES:
        if os.path.exists(path):
            return path, index
    return None


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    source = font_source()
    if source is None:
        log.warning(MISSING)
        return ImageFont.load_default(size)
    # Basic layout: Chinese and Latin need no shaping, and it is several times faster than raqm.
    return ImageFont.truetype(source[0], size, index=source[1], layout_engine=ImageFont.Layout.BASIC)


def _fit(text: str, face, width: float) -> str:
    """The text, cut with an ellipsis if it is wider than `width`."""
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def band(size: tuple[int, int], lines: list[str]) -> tuple[int, Image.Image]:
    """The watermark of a picture of `size`: the row where its band starts, and the band's text as a
    mask (255 where the glyphs are). Made apart from the picture, so ingest draws it while the picture
    is still being decoded."""
    w, h = size
    size_px = max(12, round(min(w, h) / 34))
    face = font(size_px)
    pad, gap = size_px // 2, size_px // 4
    line_h = size_px + gap
    band_h = pad * 2 + line_h * len(lines) - gap
    text = Image.new("L", (w, band_h), 0)
    draw = ImageDraw.Draw(text)
    for i, line in enumerate(lines):
        draw.text((pad, pad + i * line_h), _fit(line, face, w - 2 * pad), font=face, fill=255)
    return h - band_h, text


def apply(image: Image.Image, top: int, text: Image.Image) -> Image.Image:
    """Lay a band made by band() for this picture's size on it (in place): darkened, the text in white."""
    w, h = image.size
    image.paste((0, 0, 0), (0, top, w, h), Image.new("L", (w, h - top), 140))
    image.paste((255, 255, 255), (0, top, w, top + text.height), text)
    return image


def burn(image: Image.Image, lines: list[str]) -> Image.Image:
    """Draw `lines` on a dark band along the bottom of `image` (in place) and return it."""
    return apply(image, *band(image.size, lines))
