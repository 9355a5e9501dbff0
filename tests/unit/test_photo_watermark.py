"""The watermark draws Chinese with real glyphs (no tofu boxes) and fits long lines."""
from PIL import Image, ImageChops

from field.photos.watermark import burn, font, font_source


def _glyph(text: str) -> Image.Image:
    img = Image.new("L", (80, 80), 0)
    from PIL import ImageDraw
    ImageDraw.Draw(img).text((4, 4), text, font=font(48), fill=255)
    return img


def test_a_cjk_font_is_found():
    source = font_source()
    assert source is not None, "install fonts-noto-cjk (CI does) so watermarks can draw Chinese"
    assert "CJK" in font(20).getname()[0] or "PingFang" in font(20).getname()[0]


def test_chinese_characters_render_as_distinct_glyphs_not_boxes():
    shop, market, missing = _glyph("店"), _glyph("超"), _glyph("\U0010fffd")
    assert ImageChops.difference(shop, market).getbbox() is not None
    assert ImageChops.difference(shop, missing).getbbox() is not None
    assert shop.getbbox() is not None


def test_burn_darkens_a_band_at_the_bottom_and_leaves_the_top_alone():
    img = Image.new("RGB", (800, 600), (200, 200, 200))
    burn(img, ["2026-11-23 09:41:07 +08:00", "华联超市 南京东路店 · S00012" * 5, "张三", "31.230400, 121.473700 ±8 m"])
    assert img.getpixel((400, 10)) == (200, 200, 200)
    assert img.getpixel((799, 598))[0] < 120


def test_without_a_cjk_font_photos_still_get_a_watermark_and_a_clear_warning(monkeypatch, caplog):
    import logging

    from field.photos import watermark
    # Alembic's logging set-up (run by the test database's migration) disables loggers made before it.
    monkeypatch.setattr(logging.getLogger(watermark.__name__), "disabled", False)
    monkeypatch.setattr(watermark, "font_source", lambda: None)
    watermark.font.cache_clear()
    try:
        img = Image.new("RGB", (640, 480), (200, 200, 200))
        burn(img, ["2026-11-23 09:41:07 +08:00", "Store", "Rep", "—"])
        assert img.getpixel((639, 478))[0] < 120
        assert "fonts-noto-cjk" in caplog.text
    finally:
        watermark.font.cache_clear()
