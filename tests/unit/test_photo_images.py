"""Decoding once: recognised by bytes, a large JPEG drafted by its decoder, copies and hash from it."""

import pytest
from PIL import Image, ImageFile

from field.photos import images
from field.photos.images import BadPhoto, decode, draft_size, sniff
from tests.fixtures.photos import encode, heic, jpeg, scene

pytestmark = [pytest.mark.usefixtures("request_ctx"), pytest.mark.language(None)]


def test_formats_are_recognised_by_their_bytes_not_their_names():
    assert sniff(jpeg()) is images.JPEG
    assert sniff(encode(scene(1), "PNG")) is images.PNG
    assert sniff(encode(scene(1), "WEBP")) is images.WEBP
    assert sniff(heic()) is images.HEIF
    for data in (b"<html>", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a....", b"", b"%PDF-1.7"):
        with pytest.raises(BadPhoto) as err:
            sniff(data)
        assert err.value.status == 415


@pytest.mark.parametrize("size, expected", [((4000, 3000), (1000, 750)), ((3264, 2448), (816, 612)),
                                            ((2048, 1536), (1024, 768)), ((1600, 1200), (1600, 1200)),
                                            ((12000, 9000), (1500, 1125))])
def test_draft_size_is_the_largest_decoder_scale_that_fits_the_display(size, expected):
    assert draft_size(*size) == expected


def test_a_large_jpeg_is_decoded_once_already_scaled_down(monkeypatch):
    decodes = []
    original = ImageFile.ImageFile.load

    def spy(self):
        if self.tile:  # pixels still to decode
            decodes.append(self.size)
        return original(self)
    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    decoded = decode(jpeg(size=(4000, 3000), quality=80), "UTC", 60_000_000)
    assert (decoded.width, decoded.height) == (4000, 3000)
    assert decodes == [(1000, 750)]  # one decode, at a quarter scale: never the full 12 MP
    assert decoded.display.size == (1000, 750) and decoded.thumb.size == (250, 188)  # a whole-factor box reduce


def test_png_with_transparency_is_flattened_on_white():
    img = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    img.paste((10, 200, 10, 255), (0, 0, 200, 300))
    decoded = decode(encode(img, "PNG"), "UTC", 60_000_000)
    assert decoded.display.mode == "RGB"
    assert decoded.display.getpixel((350, 150)) == (255, 255, 255)
    assert decoded.display.getpixel((50, 150))[1] > 190


def test_truncated_and_bomb_files_are_bad_photos():
    data = jpeg(size=(1200, 900))
    with pytest.raises(BadPhoto) as err:
        decode(data[: len(data) // 3], "UTC", 60_000_000)
    assert err.value.status == 422
    with pytest.raises(BadPhoto) as err:
        decode(jpeg(size=(1200, 900)), "UTC", 1_000_000)
    assert err.value.status == 413


def test_pillow_decompression_bomb_error_is_a_4xx(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(BadPhoto) as err:
        decode(jpeg(size=(400, 300)), "UTC", 60_000_000)
    assert err.value.status == 413


@pytest.mark.parametrize("size,orientation", [((4000, 3000), 1), ((3264, 2448), 6), ((4032, 3024), 8),
                                              ((1600, 1200), 8), ((2048, 1536), 1), ((801, 1203), 5),
                                              ((3265, 2449), 1)])
def test_the_display_size_of_a_jpeg_is_known_before_its_decode(size, orientation):
    """Ingest draws the watermark for this size while the picture decodes (None: drawn after, on the copy)."""
    from field.photos.images import derive, display_copy, drafted_size, open_checked
    opened = open_checked(jpeg(size=size, orientation=orientation), 60_000_000, "UTC")
    expected = drafted_size(opened)
    made = display_copy(derive(opened, sized=False).display).size
    if size == (3265, 2449):  # Pillow decodes it at 1/2 (1633 px): display_copy() still resizes it
        assert expected is None and made == (1600, 1200)
    else:
        assert made == expected
