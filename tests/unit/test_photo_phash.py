"""The perceptual hash and its band index: copies stay close, distinct scenes far, and every pair
within the threshold shares a probed band (so the index never misses what a scan would find)."""
import io
import random

import pytest
from PIL import Image, ImageEnhance

from field.photos.phash import (BAND_BITS, BANDS, PROBE_RADIUS, THRESHOLD, bands, distance, hex64, phash, probes,
                                to_signed, to_unsigned)
from tests.fixtures.photos import scene


def _jpeg(img, quality):
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


def test_hash_is_a_signed_64_bit_integer_with_half_its_bits_set():
    value = phash(scene(1))
    assert -(1 << 63) <= value < (1 << 63)
    assert to_unsigned(value).bit_count() == 32  # one bit per coefficient above the median
    assert to_signed(to_unsigned(value)) == value and len(hex64(value)) == 16


def test_copies_are_within_the_threshold_and_distinct_scenes_far_beyond_it():
    img = scene(2, (1000, 750))
    h = phash(img)
    w, ht = img.size
    copies = [_jpeg(img, 60), _jpeg(img, 95), img.resize((500, 375)), img.resize((250, 188)),
              ImageEnhance.Brightness(img).enhance(1.15), ImageEnhance.Brightness(img).enhance(0.85),
              img.crop((20, 15, w, ht)), img.crop((0, 0, w - 30, ht - 22))]
    distances = [distance(h, phash(c)) for c in copies]
    assert max(distances) <= THRESHOLD, distances
    others = [distance(h, phash(scene(seed, (1000, 750)))) for seed in range(10, 30)]
    assert min(others) > THRESHOLD + 4


def test_bands_cut_the_hash_most_significant_first():
    value = to_signed(0x0123_4567_89AB_CDEF)
    assert bands(value) == [0x0123, 0x4567, 0x89AB, 0xCDEF]
    assert BANDS * BAND_BITS == 64 and PROBE_RADIUS == THRESHOLD // BANDS


def test_probes_are_every_value_within_the_radius_once():
    values = probes(0b1010, radius=2)
    assert len(values) == len(set(values)) == 1 + 16 + 120
    assert all((v ^ 0b1010).bit_count() <= 2 for v in values)


@pytest.mark.parametrize("seed", range(5))
def test_any_hash_within_the_threshold_shares_a_probed_band(seed):
    rnd = random.Random(seed)
    for _ in range(2000):
        a = rnd.getrandbits(64)
        b = a
        for bit in rnd.sample(range(64), rnd.randint(0, THRESHOLD)):
            b ^= 1 << bit
        assert any(bb in probes(ba) for ba, bb in zip(bands(to_signed(a)), bands(to_signed(b))))
