"""Decoding within a memory budget: the cost of a decode known from the header, refused above the
budget; the display copy made strip by strip (16-bit, transparent, palette, CMYK pictures right);
HEIF orientation by the picture whatever the container transforms and EXIF say; trailing data."""
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from field.photos import images
from field.photos.images import DISPLAY_RESAMPLE, BadPhoto, decode, open_checked
from tests.fixtures import photo_inputs as inputs
from tests.fixtures.photos import encode, exif_bytes, jpeg, scene

pytestmark = pytest.mark.usefixtures("request_ctx")
CAP = 60_000_000
ROOT = Path(__file__).resolve().parents[2]


# --- the cost, from the header -----------------------------------------------------------------

def test_cost_is_known_before_decoding_and_a_baseline_jpeg_costs_its_draft_only():
    image = Image.open(io.BytesIO(jpeg(size=(4000, 3000))))
    assert images.decode_cost(images.JPEG, image) == 1000 * 750 * 4
    assert image.tile  # nothing decoded


def test_a_progressive_jpeg_counts_its_coefficients_at_full_size():
    data = encode(scene(1, (1600, 1200)), "JPEG", quality=80, progressive=True)  # 4:2:0
    cost = images.decode_cost(images.JPEG, Image.open(io.BytesIO(data)))
    assert cost == 1600 * 1200 * 4 + (200 * 150 + 2 * 100 * 75) * 64 * 2


@pytest.mark.parametrize("mode, per_pixel", [("RGB", 4), ("RGBA", 4), ("L", 1), ("P", 1)])
def test_png_costs_pillows_own_pixels(mode, per_pixel):
    data = encode(scene(1, (300, 200)).convert(mode), "PNG")
    assert images.decode_cost(images.PNG, Image.open(io.BytesIO(data))) == 300 * 200 * per_pixel


def test_webp_size_is_read_from_its_header_for_every_kind_of_webp():
    for params in ({"quality": 50}, {"lossless": True}):
        assert images.webp_size(encode(scene(1, (321, 123)), "WEBP", **params)) == (321, 123)
    assert images.webp_size(inputs.webp_claiming(7000, 8000)) == (7000, 8000)
    assert images.webp_size(b"RIFF\x00\x00\x00\x00WEBPjunkjunkjunkjunk") is None


@pytest.mark.parametrize("make, kind", [
    (lambda: inputs.webp_claiming(7700, 7700), "WEBP"),   # 59 MP, under the pixel cap
    (lambda: inputs.heic_claiming(7700, 7700), "HEIC"),
])
def test_pictures_under_the_pixel_cap_whose_decode_would_not_fit_are_refused_from_the_header(make, kind, monkeypatch):
    data = make()

    def no_decode(*args, **kwargs):
        raise AssertionError("decoded")
    monkeypatch.setattr(Image.Image, "load", no_decode)
    with pytest.raises(BadPhoto) as err:
        decode(data, "UTC", CAP)
    assert err.value.status == 413
    assert f"This {kind} picture is too large to process (59.3 megapixels; at most about" in err.value.message
    assert "Send it as a JPEG" in err.value.message


def test_the_pixel_cap_still_comes_first():
    with pytest.raises(BadPhoto) as err:
        open_checked(inputs.webp_claiming(9000, 9000), CAP, "UTC")
    assert err.value.status == 413 and "at most 60 megapixels" in err.value.message


def test_an_upload_that_would_take_more_than_the_budget_is_refused(monkeypatch):
    data = encode(scene(1, (1000, 1000)), "PNG")
    open_checked(data, CAP, "UTC")
    monkeypatch.setattr(images, "UPLOAD_BUDGET", images.WORK_BYTES + 2 * len(data) + 3_999_999)
    with pytest.raises(BadPhoto) as err:
        open_checked(data, CAP, "UTC")  # 1 MP × 4 bytes no longer fits
    assert err.value.status == 413 and "1.0 megapixels; at most about 1.0" in err.value.message


# --- one decode, strips, every mode right ---------------------------------------------------------

def test_a_large_png_is_made_into_the_display_copy_without_a_second_full_size_copy(monkeypatch):
    made = []
    original = Image.Image.crop

    def spy(self, box=None):
        part = original(self, box)
        made.append(part.size[0] * part.size[1])
        return part
    monkeypatch.setattr(Image.Image, "crop", spy)
    decoded = decode(inputs.flat_png(4000, 3000), "UTC", CAP)
    assert decoded.display.size == (1600, 1200) and (decoded.width, decoded.height) == (4000, 3000)
    assert made and max(made) <= images.STRIP_PIXELS + 4000 * 2  # strips, never the whole picture


def test_strips_give_the_same_picture_as_a_whole_reduce():
    img = scene(3, (3300, 1700))
    data = encode(img, "PNG")
    decoded = decode(data, "UTC", CAP)
    whole = img.reduce(2)
    whole.thumbnail((1600, 1600), DISPLAY_RESAMPLE)
    assert decoded.display.size == whole.size
    diff = max(abs(a - b) for a, b in zip(decoded.display.tobytes(), whole.tobytes()))
    assert diff <= 2


def test_a_16_bit_grey_png_keeps_its_tones():
    display = decode(inputs.png16_grey(), "UTC", CAP).display
    w, h = display.size
    left, middle, right = (display.getpixel((x, h // 2))[0] for x in (2, w // 2, w - 3))
    assert left < 10 and 110 < middle < 145 and right > 245  # a ramp, not clipped to white


def test_a_16_bit_rgb_png_keeps_its_colours():
    display = decode(inputs.png16_rgb(), "UTC", CAP).display
    w, h = display.size
    red, blue = display.getpixel((10, h // 2)), display.getpixel((w - 10, h // 2))
    assert red[0] > 200 and red[2] < 40 and blue[2] > 200 and blue[0] < 40


def test_a_cmyk_jpeg_shows_its_colours_upright():
    decoded = decode(inputs.cmyk_jpeg(), "UTC", CAP)
    assert decoded.display.mode == "RGB" and inputs.corners(decoded.display) == "R..B"


@pytest.mark.parametrize("mode", ["P", "LA", "1", "L"])
def test_other_png_modes_become_rgb(mode):
    img = inputs.marked((2400, 1600)).convert(mode)
    display = decode(encode(img, "PNG"), "UTC", CAP).display
    assert display.mode == "RGB" and display.size == (1600, 1067)


@pytest.mark.parametrize("make", [inputs.animated_webp, inputs.apng])
def test_animations_are_refused(make):
    with pytest.raises(BadPhoto) as err:
        decode(make(), "UTC", CAP)
    assert err.value.status == 415 and "animation" in err.value.message


def test_a_gif_is_not_a_photo():
    with pytest.raises(BadPhoto) as err:
        decode(inputs.gif(), "UTC", CAP)
    assert err.value.status == 415


def test_huge_icc_profile_and_exif_block_are_read_without_trouble():
    for data in (inputs.jpeg_with_icc(), inputs.jpeg_with_big_exif()):
        decoded = decode(data, "UTC", CAP)
        assert decoded.capture.taken_at is not None and decoded.display.size == (640, 480)


# --- HEIF orientation: by the picture -------------------------------------------------------------

@pytest.mark.parametrize("transform, exif_orientation, stored_for", [
    *[(o, o, o) for o in range(1, 9)],          # an iPhone: transforms, and the EXIF orientation beside them
    *[(o, None, o) for o in range(2, 9)],       # transforms only
    *[(o, 1, o) for o in (6, 8, 3, 5)],         # a Nokia: EXIF says 1, the container rotates
    *[(1, o, o) for o in range(2, 9)],          # EXIF only, no transforms: the EXIF orientation applies
    (8, 6, 8), (6, 3, 6), (2, 8, 2),            # both, disagreeing: the container wins
])
def test_heif_is_shown_upright_whatever_mix_of_transforms_and_exif(transform, exif_orientation, stored_for):
    upright = inputs.marked()
    data = inputs.heif(inputs.stored_as(upright, stored_for), transform, exif_orientation)
    decoded = decode(data, "UTC", CAP)
    assert inputs.corners(decoded.display) == "R..B", (transform, exif_orientation)
    assert (decoded.width, decoded.height) == upright.size


def test_heif_transforms_are_read_from_the_container():
    stored = inputs.stored_as(inputs.marked(), 5)
    assert images.heif_transforms(inputs.heif(stored, 5, None)) == ["irot", "imir"]
    assert images.heif_transforms(inputs.heif(stored, 1, 5)) == []
    assert images.heif_transforms(b"\x00\x00\x00\x18ftypheic") is None


# --- trailing data --------------------------------------------------------------------------------

def test_data_after_the_end_of_a_jpeg_is_counted():
    clean = jpeg(size=(400, 300))
    assert decode(clean, "UTC", CAP).trailing_bytes == 0
    assert decode(clean + b"\x00" * 100, "UTC", CAP).trailing_bytes == 0  # padding is not data
    mixed = inputs.polyglot(clean)
    decoded = decode(mixed, "UTC", CAP)
    assert decoded.trailing_bytes == len(mixed) - len(clean) and decoded.display.size == (400, 300)
    progressive = encode(scene(2, (400, 300)), "JPEG", exif_bytes(), progressive=True)
    assert images.jpeg_trailing_bytes(progressive) == 0
    assert images.jpeg_trailing_bytes(progressive + b"PK\x03\x04zipzip") == 10


def test_the_pictures_a_multi_picture_jpeg_declares_are_not_trailing_data():
    first, second = scene(1, (300, 200)), scene(2, (300, 200))
    buf = io.BytesIO()
    first.save(buf, "MPO", save_all=True, append_images=[second])
    data = buf.getvalue()
    assert decode(data, "UTC", CAP).trailing_bytes == 0
    assert decode(data + b"PK\x03\x04zip", "UTC", CAP).trailing_bytes == 7


# --- the memory bound, measured -------------------------------------------------------------------

MEASURE = """
import io, json, sys
sys.path.insert(0, {root!r})
from field import create_app
from field.photos.images import decode
from tests.fixtures import photo_inputs as inputs
def status(field):
    return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith(field + ":"))
data = inputs.flat_png(7700, 7700)
app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True}})
with app.test_request_context():
    decode(inputs.flat_png(64, 64), "UTC", 60_000_000)
    open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) starts again from here
    before = status("VmRSS")
    decode(data, "UTC", 60_000_000)
    after = status("VmHWM")
print(json.dumps({{"peak": after - before + 2 * len(data)}}))
"""


def test_a_png_near_the_pixel_cap_is_decoded_within_the_budget():
    """7700 × 7700 (59.3 MP, a few hundred KB): what raised the server by 677 MB before."""
    out = subprocess.run([sys.executable, "-c", MEASURE.format(root=str(ROOT))], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    peak = json.loads(out.stdout.strip().splitlines()[-1])["peak"]
    assert peak <= images.UPLOAD_BUDGET, peak
