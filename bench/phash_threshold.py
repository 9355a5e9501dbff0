"""How far apart are copies and distinct photos in pHash bits? Picks the near-reuse threshold.

Builds a test set in the run (fixed seed): shelf-like scenes drawn with Pillow and
natural-looking ones (octave noise, colourised, with shapes). Each original gets copies
re-encoded at JPEG quality 60–95, resized, cropped 2–5 % (one side and all sides),
brightened ±15 %, and combinations; "re-shot" variants (the same scene framed 8 % off,
other light) stand for an honest second photo of the same shelf. Prints the distance
distribution of each kind against the distinct pairs, and how many of each the
threshold in field/photos/phash.py catches.

    .venv/bin/python bench/phash_threshold.py [originals=60]
"""
import io
import random
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps  # noqa: E402

from field.photos.images import DISPLAY_SIDE, thumb_and_hash  # noqa: E402
from field.photos.phash import THRESHOLD, distance  # noqa: E402


def phash(img: Image.Image) -> int:
    """The hash as ingest takes it: display copy (≤ 1600 px), its thumbnail, the pHash of that."""
    display = img.copy()
    display.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE))
    return thumb_and_hash(display)[1]

W, H = 1024, 768


def octave_noise(rnd: random.Random, size=(W, H)) -> Image.Image:
    out = Image.new("L", size, 128)
    for cells, weight in ((3, .5), (6, .25), (12, .15), (24, .07), (48, .03)):
        small = Image.new("L", (cells, max(2, cells * size[1] // size[0])))
        small.putdata([rnd.randrange(256) for _ in range(small.width * small.height)])
        out = Image.blend(out, small.resize(size, Image.Resampling.BICUBIC), weight / (weight + .5))
    return ImageOps.autocontrast(out)


def natural_scene(rnd: random.Random) -> Image.Image:
    base = octave_noise(rnd)
    dark = tuple(rnd.randrange(0, 90) for _ in range(3))
    light = tuple(rnd.randrange(150, 256) for _ in range(3))
    img = ImageOps.colorize(base, dark, light).convert("RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(rnd.randrange(2, 6)):
        x, y = rnd.randrange(W), rnd.randrange(H)
        r = rnd.randrange(30, 200)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rnd.randrange(256) for _ in range(3)))
    return img.filter(ImageFilter.GaussianBlur(1.5))


def shelf_scene(rnd: random.Random) -> Image.Image:
    """A store shelf: a wall colour, 3–5 shelf boards, rows of packs in a few brand colours."""
    wall = tuple(rnd.randrange(160, 240) for _ in range(3))
    img = Image.new("RGB", (W, H), wall)
    draw = ImageDraw.Draw(img)
    brands = [tuple(rnd.randrange(256) for _ in range(3)) for _ in range(rnd.randrange(3, 7))]
    boards = rnd.randrange(3, 6)
    pitch = H // boards
    for b in range(boards):
        y = b * pitch + pitch - 14
        draw.rectangle((0, y, W, y + 14), fill=(90, 90, 95))
        x = rnd.randrange(0, 30)
        while x < W:
            w, h = rnd.randrange(40, 110), rnd.randrange(pitch // 2, pitch - 20)
            colour = rnd.choice(brands)
            draw.rectangle((x, y - h, x + w, y), fill=colour, outline=(30, 30, 30))
            draw.rectangle((x + 6, y - h + 10, x + w - 6, y - h + 30), fill=(250, 250, 250))
            x += w + rnd.randrange(2, 12)
    noise = octave_noise(rnd).convert("RGB")
    return Image.blend(img, noise, .12).filter(ImageFilter.GaussianBlur(1))


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def crop(img: Image.Image, pct: float, sides: str) -> Image.Image:
    dx, dy = int(img.width * pct), int(img.height * pct)
    if sides == "all":
        return img.crop((dx // 2, dy // 2, img.width - dx // 2, img.height - dy // 2))
    if sides == "corner":
        return img.crop((dx, dy, img.width, img.height))
    return img.crop((0, 0, img.width - dx, img.height))  # one side


def copies(img: Image.Image, rnd: random.Random) -> dict[str, list[Image.Image]]:
    out = {
        "re-encoded q60-95": [jpeg(img, q) for q in (60, 75, 85, 95)],
        "resized 50% / 25%": [jpeg(img.resize((img.width // 2, img.height // 2)), 85),
                              jpeg(img.resize((img.width // 4, img.height // 4)), 85)],
        "brightened ±15%": [jpeg(ImageEnhance.Brightness(img).enhance(f), 85) for f in (.85, 1.15)],
        "cropped 2% (one side, corner, all)": [jpeg(crop(img, .02, s), 85) for s in ("one", "corner", "all")],
        "cropped 3%": [jpeg(crop(img, .03, s), 85) for s in ("one", "corner", "all")],
        "cropped 5%": [jpeg(crop(img, .05, s), 85) for s in ("one", "corner", "all")],
        "crop 3% + resize + q70 + ±10%": [
            jpeg(ImageEnhance.Brightness(crop(img, .03, rnd.choice(("one", "corner", "all"))).resize(
                (img.width * 3 // 5, img.height * 3 // 5))).enhance(rnd.choice((.9, 1.1))), 70)],
    }
    return out


def reshot(img: Image.Image) -> Image.Image:
    """The same shelf shot again: framed 8 % off, a little darker."""
    dx, dy = int(img.width * .08), int(img.height * .05)
    return jpeg(ImageEnhance.Brightness(img.crop((dx, dy, img.width, img.height))).enhance(.9), 85)


def histogram(values: list[int]) -> str:
    counts = Counter(values)
    return " ".join(f"{d}:{counts[d]}" for d in sorted(counts))


def main(n: int) -> int:
    rnd = random.Random(7)
    originals = [(shelf_scene if i % 2 else natural_scene)(rnd) for i in range(n)]
    hashes = [phash(img) for img in originals]
    kinds: dict[str, list[int]] = {}
    for img, h in zip(originals, hashes):
        for kind, imgs in copies(img, rnd).items():
            kinds.setdefault(kind, []).extend(distance(h, phash(c)) for c in imgs)
        kinds.setdefault("re-shot (another honest photo)", []).append(distance(h, phash(reshot(img))))
    distinct = [distance(hashes[i], hashes[j]) for i in range(n) for j in range(i + 1, n)]
    shelves = [distance(hashes[i], hashes[j]) for i in range(1, n, 2) for j in range(i + 2, n, 2)]

    print(f"pHash distances over {n} originals (half shelf scenes, half natural); threshold T = {THRESHOLD}")
    print(f"{'kind':40} {'n':>5} {'median':>6} {'max':>4} {'≤T':>6}   distribution d:count")
    for kind, ds in kinds.items():
        caught = sum(d <= THRESHOLD for d in ds) / len(ds)
        print(f"{kind:40} {len(ds):5} {statistics.median(ds):6.1f} {max(ds):4} {caught:6.0%}   {histogram(ds)}")
    for label, ds in (("distinct pairs (all)", distinct), ("distinct pairs (shelf vs shelf)", shelves)):
        false = sum(d <= THRESHOLD for d in ds)
        print(f"{label:40} {len(ds):5} {statistics.median(ds):6.1f} min {min(ds):2}   ≤T: {false} "
              f"({false / len(ds):.2%})   lowest: {histogram(sorted(ds)[:15])}")
    copy_all = [d for k, ds in kinds.items() if not k.startswith("re-shot") for d in ds]
    print(f"all copies: {sum(d <= THRESHOLD for d in copy_all) / len(copy_all):.1%} caught at T = {THRESHOLD}; "
          f"distinct photos flagged: {sum(d <= THRESHOLD for d in distinct)} of {len(distinct)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 60))
