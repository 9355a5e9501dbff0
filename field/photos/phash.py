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
for T = 10 would need 11 bands of 6 bits, each value shared by 1/64 of all photos."""
from __future__ import annotations

import math
from itertools import combinations

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
    """The KEEP×KEEP lowest DCT-II coefficients of a SIDE×SIDE block (unnormalised: only their order matters)."""
    across = [[sum(p * c for p, c in zip(row, _COS[u])) for u in range(KEEP)] for row in rows]
    out = []
    for v in range(KEEP):
        cv = _COS[v]
        for u in range(KEEP):
            out.append(sum(cv[y] * across[y][u] for y in range(SIDE)))
    return out


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


def probes(band: int, radius: int = PROBE_RADIUS) -> list[int]:
    """Every band value within `radius` bits of `band` (itself first)."""
    out = [band]
    for flips in range(1, radius + 1):
        for bits in combinations(range(BAND_BITS), flips):
            value = band
            for bit in bits:
                value ^= 1 << bit
            out.append(value)
    return out


def hex64(value: int) -> str:
    return f"{to_unsigned(value):016x}"
