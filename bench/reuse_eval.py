"""Reuse detection on real photographs: ≥ 95 % of copies caught for every kind of copy, crops of
10 % included, with false flags ≤ 0.1 % of distinct pairs.

The originals are the 20 real photographs in tests/fixtures/real_photos (sources and licences
in SOURCES.md there; no network). Each is uploaded as a camera JPEG (quality 92, EXIF time and
GPS); its copies are made in the run (fixed seed), each kind on its own:
  crop 10 % one side (×4), two sides (×4), all sides (×1), 5–6 % all sides (×2), random
  0–10 % on each side (×4); re-encoded at quality 50, 70, 85; resized to ½; brightness and
  contrast ×0.8 / ×1.2; rotated ±1.5° / ±3° (straightened: cropped to fill, as phone editors
  do); EXIF stripped (the APP1 segment cut out, pixels untouched).
Every image goes through ingest's own path (field.photos.images.decode: signature, EXIF,
draft-scaled decode, display copy, thumbnail; then phash and windows), and is matched with the
lookups' own rule: whole-image hashes within THRESHOLD bits (flags.near_matches), or an upload's
window sharing a probed band value with a stored window and within WINDOW_THRESHOLD bits
(flags.window_matches; emulated in memory here, the same bands and probes). SHA-256 matches
(exact reuse) are not counted: only pictures are compared.

A copy is caught in an order when, uploaded after the original, it is flagged (and "original
after copy" the other way round); both orders are printed. A false flag is a pair of images made
from two different originals (originals and copies alike) flagged in either order.

    .venv/bin/python bench/reuse_eval.py
"""
from __future__ import annotations

import io
import math
import random
import sys
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageEnhance  # noqa: E402

PHOTOS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "real_photos"
CATCH_BUDGET = 0.95
FALSE_BUDGET = 0.001


def originals(names: list[str] | None = None) -> dict[str, Image.Image]:
    files = sorted(PHOTOS.glob("*.jpg"))
    return {f.stem: Image.open(f).convert("RGB") for f in files if names is None or f.stem in names}


def camera_jpeg(img: Image.Image, quality: int = 92) -> bytes:
    from tests.fixtures.photos import exif_bytes
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, exif=exif_bytes())
    return buf.getvalue()


def jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def strip_exif(data: bytes) -> bytes:
    """The JPEG without its APP1 (EXIF/XMP) segments; the compressed pixels stay as they are."""
    out, i = bytearray(data[:2]), 2
    while i < len(data) and data[i] == 0xFF and data[i + 1] not in (0xDA, 0xD9):
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if data[i + 1] != 0xE1:
            out += data[i:i + 2 + length]
        i += 2 + length
    return bytes(out + data[i:])


def crop(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom)))


def straightened(img: Image.Image, degrees: float) -> Image.Image:
    """Rotated and cropped to the largest centred rectangle of the same shape with no corner showing."""
    w, h = img.size
    a = math.radians(abs(degrees))
    k = 1 / (math.cos(a) + math.sin(a) * max(w / h, h / w))
    turned = img.rotate(degrees, resample=Image.Resampling.BICUBIC)
    cw, ch = w * k, h * k
    return turned.crop((round((w - cw) / 2), round((h - ch) / 2), round((w + cw) / 2), round((h + ch) / 2)))


def copies(img: Image.Image, upload: bytes, rnd: random.Random, few: bool = False) -> dict[str, list[bytes]]:
    """The copies of one original by kind (`few`: one or two of each, for the unit test)."""
    t = .1
    kinds = {
        "crop 10% one side": [jpeg(crop(img, *box)) for box in ((t, 0, 0, 0), (0, t, 0, 0), (0, 0, t, 0), (0, 0, 0, t))],
        "crop 10% two sides": [jpeg(crop(img, *box)) for box in ((t, t, 0, 0), (0, 0, t, t), (t, 0, t, 0), (0, t, 0, t))],
        "crop 10% all sides": [jpeg(crop(img, t, t, t, t))],
        "crop 5-6% all sides": [jpeg(crop(img, p, p, p, p)) for p in (.05, .06)],
        "crop random 0-10% a side": [jpeg(crop(img, *(rnd.uniform(0, t) for _ in range(4)))) for _ in range(4)],
        "re-encoded q50-85": [jpeg(img, q) for q in (50, 70, 85)],
        "resized 1/2": [jpeg(img.resize((img.width // 2, img.height // 2), Image.Resampling.BICUBIC))],
        "brightness/contrast ±20%": [jpeg(enhance(img).enhance(f)) for enhance in (ImageEnhance.Brightness,
                                                                                   ImageEnhance.Contrast)
                                     for f in (.8, 1.2)],
        "rotated ±1.5/3° (straightened)": [jpeg(straightened(img, d)) for d in (-3, -1.5, 1.5, 3)],
        "EXIF stripped": [strip_exif(upload)],
    }
    if few:
        kinds = {k: v[::2] for k, v in kinds.items()}
    return kinds


class Seen:
    """One decoded image: its whole-image hash and window hashes, as ingest computes them."""

    def __init__(self, source: str, kind: str, data: bytes):
        from field.photos.images import decode
        from field.photos.phash import windows
        decoded = decode(data, "UTC", 100_000_000)
        self.source, self.kind = source, kind
        self.phash = decoded.phash
        self.windows = windows(decoded.thumb)


def flagged_pairs(seen: list[Seen]) -> set[tuple[int, int]]:
    """(i, j) for every image j that image i, uploaded after it, would be flagged as a near copy of."""
    from field.photos.phash import THRESHOLD, WINDOW_THRESHOLD, distance, window_bands
    out = set()
    for i, a in enumerate(seen):
        for j, b in enumerate(seen):
            if i != j and distance(a.phash, b.phash) <= THRESHOLD:
                out.add((i, j))
    index: list[dict[int, list[tuple[int, int]]]] = [{}, {}, {}]
    for j, b in enumerate(seen):
        for value in b.windows.stored:
            for band, v in enumerate(window_bands(value)):
                index[band].setdefault(v, []).append((j, value))
    for i, a in enumerate(seen):
        for value, band_probes in a.windows.probes:
            for band, values in enumerate(band_probes):
                for v in values:
                    for j, other in index[band].get(v, ()):
                        if j != i and distance(value, other) <= WINDOW_THRESHOLD:
                            out.add((i, j))
    return out


def evaluate(names: list[str] | None = None, few: bool = False, seed: int = 14):
    """(catch by kind: {kind: (after original, original after, total)}, false pairs, distinct pairs, n images)."""
    rnd = random.Random(seed)
    seen: list[Seen] = []
    originals_at: dict[str, int] = {}
    for name, img in originals(names).items():
        upload = camera_jpeg(img)
        originals_at[name] = len(seen)
        seen.append(Seen(name, "original", upload))
        for kind, datas in copies(img, upload, rnd, few).items():
            seen.extend(Seen(name, kind, d) for d in datas)
    pairs = flagged_pairs(seen)
    catch: dict[str, list[int]] = {}
    for i, s in enumerate(seen):
        if s.kind == "original":
            continue
        o = originals_at[s.source]
        row = catch.setdefault(s.kind, [0, 0, 0])
        row[0] += (i, o) in pairs
        row[1] += (o, i) in pairs
        row[2] += 1
    distinct = [(i, j) for i, j in combinations(range(len(seen)), 2) if seen[i].source != seen[j].source]
    false = [(i, j) for i, j in distinct if (i, j) in pairs or (j, i) in pairs]
    return catch, [(seen[i], seen[j]) for i, j in false], len(distinct), len(seen)


def main() -> int:
    from field.photos.phash import THRESHOLD, WINDOW_THRESHOLD
    catch, false, distinct, n = evaluate()
    print(f"reuse evaluation: {len(originals())} real photographs (tests/fixtures/real_photos), {n} images, "
          f"whole-image threshold {THRESHOLD} bits, window threshold {WINDOW_THRESHOLD} bits")
    worst = 1.0
    for kind, (after, before, total) in catch.items():
        rate = min(after, before) / total
        worst = min(worst, rate)
        print(f"  caught {kind}: {after}/{total} copy after original, {before}/{total} original after copy "
              f"({rate:.1%} (budget {CATCH_BUDGET:.0%}))")
    rate = len(false) / distinct
    print(f"  false flags: {len(false)} of {distinct:,} distinct pairs ({rate:.3%} (budget {FALSE_BUDGET:.1%}))")
    for a, b in false[:10]:
        print(f"    {a.source} ({a.kind}) ~ {b.source} ({b.kind})")
    print(f"  worst kind: {worst:.1%} caught")
    return 0 if worst >= CATCH_BUDGET and rate <= FALSE_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
