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


# --- windows: crops up to 10 % a side ------------------------------------------------------------------

def test_windows_keep_16_hashes_and_look_with_32_each_probed_in_3_bands():
    from field.photos.phash import QUERY_TRIMS, STORED_TRIMS, WINDOW_BANDS, WINDOW_FLIPS, window_bands, windows
    w = windows(scene(3, (320, 240)))
    assert len(STORED_TRIMS) == 16 and len(QUERY_TRIMS) == 32 and 1 <= len(w.stored) <= 16
    assert len(w.probes) == 32
    assert sum(bits for _shift, bits in WINDOW_BANDS) == 64
    for value, band_probes in w.probes:
        assert -(1 << 63) <= value < (1 << 63) and len(band_probes) == 3
        for own, values, (_shift, bits) in zip(window_bands(value), band_probes, WINDOW_BANDS):
            # The band as it is first, then with its least certain bits flipped.
            assert values[0] == own and 1 <= len(values) <= 2 ** WINDOW_FLIPS
            assert all(v < (1 << bits) and (v ^ own).bit_count() <= WINDOW_FLIPS for v in values)


def test_a_10_percent_crop_looks_like_one_of_the_originals_windows_and_the_original_like_one_of_the_crops():
    from field.photos.phash import WINDOW_THRESHOLD, distance, window_bands, windows
    img = scene(4, (320, 240))
    crop = img.crop((32, 0, 320, 216))  # 10 % off the left and the bottom
    a, b = windows(img), windows(crop)

    def found(looking, stored):
        return any(distance(v, s) <= WINDOW_THRESHOLD and any(band in probed for band, probed
                                                               in zip(window_bands(s), band_probes))
                   for v, band_probes in looking.probes for s in stored.stored)
    assert found(b, a) and found(a, b)
    assert not found(windows(scene(5, (320, 240))), a)


@pytest.mark.parametrize("size", [(128, 96), (96, 128), (68, 128), (128, 40), (16, 16), (7, 128), (128, 3), (33, 17)])
def test_window_pixels_are_the_bytes_of_one_lanczos_resize_a_window(size):
    """The shared passes give the stored hashes' very pixels: a hash stored before matches one made now."""
    from field.photos.phash import QUERY_TRIMS, STORED_TRIMS, WINDOW_STEP, _window_pixels
    rnd = random.Random(sum(size))
    grey = Image.frombytes("L", size, bytes(rnd.randrange(256) for _ in range(size[0] * size[1])))
    w, h = size
    trims = list(dict.fromkeys(STORED_TRIMS + QUERY_TRIMS))
    one_by_one = []
    for trim in trims:
        left, top, right, bottom = (t * WINDOW_STEP for t in trim)
        one_by_one.append(grey.resize((16, 16), Image.Resampling.LANCZOS,
                                      box=(w * left, h * top, w * (1 - right), h * (1 - bottom))).tobytes())
    assert _window_pixels(grey, trims) == one_by_one


def test_the_window_cosines_keep_their_symmetry_exactly():
    """_low_dcts weighs sums and differences of mirrored lines: right only if cos u(15 - x) = ±cos u(x) exactly."""
    from field.photos.phash import _WQ, WINDOW_SIDE
    assert all(q[WINDOW_SIDE - 1 - x] == (-1) ** u * q[x] for u, q in enumerate(_WQ) for x in range(WINDOW_SIDE))
