"""The 64-bit perceptual hash (DCT pHash) and the band index that finds near copies without a scan.

pHash: the picture as 32×32 grey, its 2-D DCT-II, the 8×8 lowest frequencies, one bit per
coefficient above their median. Re-compression, resizing and brightening move few bits;
a different scene moves about half. Pure Python: the 32×32 transform is ~10k
multiply-adds, a millisecond, next to the JPEG decode it follows.

Bands (multi-index hashing): the hash is cut into 4 bands of 16 bits, each in its own
indexed column. If two hashes differ in at most T bits, some band differs in at most
⌊T/4⌋ bits (pigeonhole), so the candidates are the rows whose band equals one of the
values within PROBE_RADIUS bits of ours: 1 + 16 + 120 = 137 exact index probes a band.
T = 10 catches crops of a few per cent (bench/phash_threshold.py); an exact-band scheme
for T = 10 would need 11 bands of 6 bits, each value shared by 1/64 of all photos.

Windows (crops up to 10 % a side): the whole-image hash of a copy cropped 10 % moves ~20 bits,
so each photo also hashes sub-windows of itself. Cut a side by c of the frame; to first order
the copy's window trimmed q matches the original's window trimmed c + q. With u = 1/30 of the
frame, a photo keeps the 16 windows trimmed u or 3u on each side (STORED_TRIMS, an indexed
table), and an upload looks with its 32 windows trimmed 0 or u (is it a crop of a stored
photo? stored − query ∈ {0, u, 2u, 3u} a side) and 3u or 4u (is a stored photo a crop of it?
query − stored ∈ the same): every crop on the 4-D grid of 0–10 % in steps of u is one
(query, stored) pair, and a crop between grid points is ≤ u/2 a side from one. Window hashes
are 64-bit DCT hashes of a 16 × 16 resample of a 128 px grey copy (a quarter of the work of
32 × 32; same low frequencies), compared among themselves only. Their index is exact, not
probed within a radius: 3 bands of 22/21/21 bits (WINDOW_BANDS), looked up with the band as
it is and with its least certain bit (the coefficient nearest the median) flipped — 2 values a
band, 192 probes an upload, each value shared by one stored window in 2 million: about a
thousand candidates among 16 million windows. Measured on real photos: bench/reuse_eval.py."""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations, compress, product, repeat
from operator import add, mul, sub

from PIL import Image

SIDE = 32     # the grey image the DCT sees
KEEP = 8      # the 8×8 lowest frequencies make the 64 bits
BANDS = 4
BAND_BITS = 64 // BANDS
THRESHOLD = 10  # near reuse: Hamming distance ≤ 10 (measured: bench/phash_threshold.py)
PROBE_RADIUS = THRESHOLD // BANDS

_COS = [[math.cos(math.pi * (2 * x + 1) * u / (2 * SIDE)) for x in range(SIDE)] for u in range(KEEP)]


def _grey32(image: Image.Image) -> list[list[float]]:
    small = image.convert("L")
    if small.width > 4 * SIDE or small.height > 4 * SIDE:
        # A box pre-shrink keeps the final Lanczos cheap on a large copy; it changes no bit that matters.
        small = small.reduce(max(1, min(small.width, small.height) // (4 * SIDE)))
    small = small.resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    data = small.tobytes()
    return [data[y * SIDE:(y + 1) * SIDE] for y in range(SIDE)]


def _low_dct(rows: list[list[float]]) -> list[float]:
    """The KEEP×KEEP lowest DCT-II coefficients of a SIDE×SIDE block (unnormalised: only their order matters).
    Separable: a pass along the rows, then one down the columns, each a C-level sum(map(mul)) with the
    same products in the same order as the textbook double loop (so the same floats, bit for bit)."""
    across = [[sum(map(mul, row, c)) for row in rows] for c in _COS]  # across[u][y]
    return [sum(map(mul, cv, column)) for cv in _COS for column in across]  # v-major, u-minor


def phash(image: Image.Image) -> int:
    """The 64-bit pHash of an image, as a signed 64-bit integer (it fits a BIGINT column)."""
    coeffs = _low_dct(_grey32(image))
    median = sorted(coeffs)[len(coeffs) // 2 - 1: len(coeffs) // 2 + 1]
    cut = (median[0] + median[1]) / 2
    value = 0
    for c in coeffs:
        value = (value << 1) | (1 if c > cut else 0)
    return to_signed(value)


def to_signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value & ((1 << 64) - 1)


def distance(a: int, b: int) -> int:
    """Hamming distance between two hashes (signed or not)."""
    return (to_unsigned(a) ^ to_unsigned(b)).bit_count()


def bands(value: int) -> list[int]:
    """The hash cut into BANDS unsigned pieces, most significant first."""
    u = to_unsigned(value)
    mask = (1 << BAND_BITS) - 1
    return [(u >> (BAND_BITS * (BANDS - 1 - i))) & mask for i in range(BANDS)]


def _flip_masks(radius: int) -> tuple[int, ...]:
    """The masks of every set of at most `radius` of a band's bits (the empty one first)."""
    out = [0]
    for flips in range(1, radius + 1):
        for bits in combinations(range(BAND_BITS), flips):
            out.append(sum(1 << bit for bit in bits))
    return tuple(out)


_MASKS = {PROBE_RADIUS: _flip_masks(PROBE_RADIUS)}  # made once: 137 masks, looked up on every upload


def probes(band: int, radius: int = PROBE_RADIUS) -> list[int]:
    """Every band value within `radius` bits of `band` (itself first)."""
    masks = _MASKS.get(radius) or _flip_masks(radius)
    return [band ^ mask for mask in masks]


def hex64(value: int) -> str:
    return f"{to_unsigned(value):016x}"


# --- windows: crops up to 10 % a side ------------------------------------------------------------

WINDOW_SIDE = 16       # the resample a window hash sees
WINDOW_BASE = 128      # the grey copy windows are cut from (long side, px)
WINDOW_THRESHOLD = 10  # window hashes within 10 bits: a near copy (bench/reuse_eval.py)
WINDOW_STEP = 1 / 30   # u: the crop grid's step, as a share of a side
WINDOW_BANDS = ((42, 22), (21, 21), (0, 21))  # (shift, bits) of each band of a window hash
WINDOW_FLIPS = 1       # least certain bit of a band also probed flipped (2: +1 point of recall, 2× the probes)

# (left, top, right, bottom) trims, in steps of u.
STORED_TRIMS = tuple(product((1, 3), repeat=4))
QUERY_TRIMS = tuple(product((0, 1), repeat=4)) + tuple(product((3, 4), repeat=4))

_WCOS = [tuple(math.cos(math.pi * (2 * x + 1) * u / (2 * WINDOW_SIDE)) for x in range(WINDOW_SIDE))
         for u in range(KEEP)]


@dataclass(frozen=True)
class Windows:
    """A photo's window hashes: `stored` (signed, distinct) go into photo_windows; `probes`
    are the upload's looks, each (hash, [values to look up in band i for i in 0..2])."""
    stored: tuple[int, ...]
    probes: tuple[tuple[int, tuple[tuple[int, ...], ...]], ...]


# The window DCT in integers, all windows of a photo at once. The cosines are scaled by 2^20 and
# rounded (an error of 2^-21 of a pixel step, far below what moves a bit); each window row is a 64-bit
# lane of one Python integer, so one multiply-add of big integers does a step of the transform for
# every row of every window (C loops over the limbs instead of Python loops over pixels: 46 windows
# in ~0.7 ms instead of ~7). Pixels × cosines stay below 2^32 after the row pass and 2^56 after the
# column pass, so a lane never spills into the next one; signed lanes are read with a bias of 2^62.
_WQ = [[round(c * (1 << 20)) for c in row] for row in _WCOS]
_LANE = 8  # bytes
_BITS = tuple(1 << (63 - i) for i in range(64))  # coefficient i is bit 63 - i
_BIAS = 1 << 62


def _lanes(count: int) -> int:
    """_BIAS in each of `count` 64-bit lanes."""
    return int.from_bytes(_BIAS.to_bytes(_LANE, "little") * count, "little")


def _pairs(lines: list[int]) -> list[list[int]]:
    """[sums, differences] of lines x and 15 - x (x < 8): cos u(15 - x) = (-1)^u cos u(x), so an even
    frequency weighs their sum and an odd one their difference, half the multiplies of the transform
    (the same integers: _WQ keeps the symmetry exactly)."""
    last = len(lines) - 1
    return [[lines[x] + lines[last - x] for x in range(len(lines) // 2)],
            [lines[x] - lines[last - x] for x in range(len(lines) // 2)]]


def _low_dcts(pixels: list[bytes]) -> list[list[int]]:
    """The KEEP×KEEP lowest DCT-II coefficients (v-major, u-minor, scaled and biased alike: only their
    order and differences matter) of each 16 × 16 window in `pixels`."""
    n, side = len(pixels), WINDOW_SIDE
    rows = n * side                      # lane (window, y)
    block = b"".join(pixels)             # (window, y, x)
    columns = []                         # columns[x]: pixel x of every row, a lane each
    for x in range(side):
        spread = bytearray(rows * _LANE)
        spread[::_LANE] = block[x::side]
        columns.append(int.from_bytes(spread, "little"))
    bias = _lanes(rows)
    across = []                          # across[u]: the row pass, lane (window, y), biased
    for q, pixel_pairs in zip(_WQ, _pairs(columns) * (KEEP // 2)):
        total = bias
        for x in range(side // 2):
            total += q[x] * pixel_pairs[x]
        across.append(memoryview(total.to_bytes(rows * _LANE, "little")).cast("Q"))
    # The column pass: lane (u, window); the row pass's lanes regrouped by y (strided copies in C).
    unbias = _lanes(n * KEEP)
    down = [int.from_bytes(b"".join(a[y::side].tobytes() for a in across), "little") - unbias for y in range(side)]
    out = []
    bias = unbias
    for q, row_pairs in zip(_WQ, _pairs(down) * (KEEP // 2)):
        total = bias
        for y in range(side // 2):
            total += q[y] * row_pairs[y]
        out.append(memoryview(total.to_bytes(n * KEEP * _LANE, "little")).cast("Q"))
    values = [o.tolist() for o in out]  # values[v][u * n + w]
    return [[c for lanes in values for c in lanes[w::n]] for w in range(n)]


def _window_pixels(grey: Image.Image, trims: list[tuple[int, ...]]) -> list[bytes]:
    """Each window of the grey copy, trimmed by `trims` steps a side, resampled to 16 × 16 by Lanczos
    (Pillow, C), in the order of `trims`: the very bytes of one grey.resize(box=window) a window.

    Pillow resamples in two passes rounded to 8 bits in between: across then down, or down first when
    the height shrinks more than twice as much as the width (Pillow 13). A window's pass across depends
    only on its left and right trims, its pass down only on its top and bottom; so each first pass is
    made once per pair of trims it depends on (10 for the 46 windows), side by side in one image, and
    each second pass once per pair of the other two, over the columns its windows use. A third of
    the work of one resize a window, in 20 calls instead of 46 (tests/unit/test_photo_phash.py checks
    the bytes against the one-resize-a-window way)."""
    w, h = grey.size
    if h - WINDOW_SIDE > 0 and h - WINDOW_SIDE > (w - WINDOW_SIDE) * 2:
        # Down first: the same passes on the transposed copy (Lanczos weighs rows as it weighs columns).
        turned = _windows_across_first(grey.transpose(Image.Transpose.TRANSPOSE),
                                       [(top, left, bottom, right) for left, top, right, bottom in trims])
        return [b"".join([p[x::WINDOW_SIDE] for x in range(WINDOW_SIDE)]) for p in turned]
    return _windows_across_first(grey, trims)


def _windows_across_first(grey: Image.Image, trims: list[tuple[int, ...]]) -> list[bytes]:
    """_window_pixels with the pass across first."""
    w, h = grey.size
    side, lanczos = WINDOW_SIDE, Image.Resampling.LANCZOS
    # Ordered by the sum of the trims, so the windows of each (top, bottom) of the crop grid use a run
    # of columns.
    spans = sorted(dict.fromkeys((t[0], t[2]) for t in trims), key=lambda s: (s[0] + s[1], s))
    column = {span: i for i, span in enumerate(spans)}
    across = Image.new("L", (side * len(spans), h))
    for i, (left, right) in enumerate(spans):
        across.paste(grey.resize((side, h), lanczos, box=(w * (left * WINDOW_STEP), 0,
                                                          w * (1 - right * WINDOW_STEP), h)), (side * i, 0))
    out = {}
    for top, bottom in dict.fromkeys((t[1], t[3]) for t in trims):
        mine = [t for t in trims if (t[1], t[3]) == (top, bottom)]
        first = min(column[(t[0], t[2])] for t in mine)
        last = max(column[(t[0], t[2])] for t in mine)
        width = side * (last - first + 1)
        part = across.crop((side * first, 0, side * (last + 1), h))
        down = part.resize((width, side), lanczos,
                           box=(0, h * (top * WINDOW_STEP), width, h * (1 - bottom * WINDOW_STEP))).tobytes()
        for t in mine:
            x = side * (column[(t[0], t[2])] - first)
            out[t] = b"".join([down[y * width + x:y * width + x + side] for y in range(side)])
    return [out[t] for t in trims]


def _window_hash(coeffs: list[int], weak: bool) -> tuple[int, list[int]]:
    """The 64-bit hash of one window's coefficients, and (when `weak`: a look's) the least certain
    bit of each band (WINDOW_FLIPS = 1: a minimum a band, no sort of all 64)."""
    ranked = sorted(coeffs)
    cut = ranked[31] + ranked[32]        # twice the median: compared with 2c, all in integers
    doubled = list(map(add, coeffs, coeffs))
    value = sum(compress(_BITS, map(cut.__lt__, doubled)))
    if not weak:
        return value, []
    # Coefficient i is bit 63 - i; within a band the first of the least certain in coefficient order
    # wins a tie, as a stable sort of all 64 would have it.
    margins = list(map(abs, map(sub, doubled, repeat(cut, 64))))
    out = []
    for shift, bits in WINDOW_BANDS:
        first = 63 - (shift + bits - 1)
        i = margins.index(min(margins[first:first + bits]), first, first + bits)
        out.append(63 - i)
    return value, out


def window_bands(value: int) -> list[int]:
    u = to_unsigned(value)
    return [(u >> shift) & ((1 << bits) - 1) for shift, bits in WINDOW_BANDS]


def _band_probes(value: int, weak: list[int]) -> tuple[tuple[int, ...], ...]:
    """Each band's values to look up: the band as it is, then with its least certain bits flipped
    (the first WINDOW_FLIPS of `weak` that fall in the band: bit positions, least certain first)."""
    out = []
    for shift, bits in WINDOW_BANDS:
        mine = [b for b in weak if shift <= b < shift + bits][:WINDOW_FLIPS]
        values = {}
        for k in range(len(mine) + 1):
            for flipped in combinations(mine, k):
                v = value
                for b in flipped:
                    v ^= 1 << b
                values[(v >> shift) & ((1 << bits) - 1)] = None
        out.append(tuple(values))
    return tuple(out)


_LOOKS = frozenset(QUERY_TRIMS)


def windows(image: Image.Image) -> Windows:
    """The window hashes of an image (the thumbnail ingest makes: 240–320 px)."""
    grey = image.convert("L")
    if max(grey.size) > WINDOW_BASE:
        grey.thumbnail((WINDOW_BASE, WINDOW_BASE), Image.Resampling.BOX)
    trims = list(dict.fromkeys(STORED_TRIMS + QUERY_TRIMS))
    coeffs = _low_dcts(_window_pixels(grey, trims))
    made = {t: _window_hash(c, t in _LOOKS) for t, c in zip(trims, coeffs)}
    stored = tuple(dict.fromkeys(to_signed(made[t][0]) for t in STORED_TRIMS))
    probes_ = tuple((to_signed(made[t][0]), _band_probes(*made[t])) for t in QUERY_TRIMS)
    return Windows(stored, probes_)
