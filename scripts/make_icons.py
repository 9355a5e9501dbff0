"""Draw the app's icons once; the PNGs and favicon.ico are committed (nothing is drawn at run time).

    .venv/bin/python scripts/make_icons.py

A white map pin with a tick on the theme green (#0b6e4f, as base.html's theme-color): "any" icons
on a rounded square, maskable ones full-bleed with the pin inside the 80 % safe circle, the
apple-touch-icon (iOS rounds it itself) and a 16/32/48 px favicon.ico."""
import math
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "static" / "icons"
GREEN = (11, 110, 79, 255)
WHITE = (255, 255, 255, 255)
SCALE = 4  # drawn large, then reduced: smooth edges without anti-aliased primitives


def pin(draw: ImageDraw.ImageDraw, size: int, box: float) -> None:
    """A pin whose height is `box` of the image, centred, with a tick cut out of its head."""
    height = size * box
    radius = height * 0.36
    cx, top = size / 2, (size - height) / 2 + height * 0.02
    cy = top + radius
    tip = top + height
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=WHITE)
    # The tail: the two tangents from the tip to the head.
    angle = math.acos(radius / (tip - cy))
    dx, dy = radius * math.sin(angle), radius * math.cos(angle)
    draw.polygon([(cx - dx, cy + dy), (cx + dx, cy + dy), (cx, tip)], fill=WHITE)
    w = max(2, round(radius * 0.22))
    tick = [(cx - radius * 0.48, cy + radius * 0.02), (cx - radius * 0.12, cy + radius * 0.38),
            (cx + radius * 0.52, cy - radius * 0.34)]
    draw.line(tick, fill=GREEN, width=w, joint="curve")
    for x, y in (tick[0], tick[-1]):
        draw.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=GREEN)


def icon(size: int, maskable: bool = False, rounded: bool = True) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable or not rounded:
        draw.rectangle((0, 0, big, big), fill=GREEN)
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=GREEN)
    pin(draw, big, 0.52 if maskable else 0.66)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        icon(size).save(ICONS / f"icon-{size}.png", optimize=True)
        icon(size, maskable=True).save(ICONS / f"maskable-{size}.png", optimize=True)
    icon(180, rounded=False).save(ICONS / "apple-touch-icon.png", optimize=True)
    icon(256).save(ROOT / "static" / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
