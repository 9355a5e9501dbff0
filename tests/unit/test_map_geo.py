"""Positions on map tiles, and the MAP_TILES setting.

Reference values for (lat 39.915, lng 116.404), Tiananmen, are the widely published coordtransform
ones (wandergis/coordtransform): wgs84togcj02 → (39.91640428150164, 116.41024449916938) and
gcj02tobd09 of that GCJ-02 input → (39.92133699351022, 116.41036949371029)."""
import pytest

from field.geo import (TILE_SOURCES, Datum, Point, TileSource, distance_m, gcj02_to_bd09, in_china, on_tiles,
                       tile_source, to_bd09, to_gcj02)

TIANANMEN = Point(39.915, 116.404)
SHANGHAI = Point(31.2304, 121.4737)
ABROAD = [Point(51.5007, -0.1246), Point(40.6892, -74.0445), Point(-33.8568, 151.2153), Point(35.6586, 139.7454),
          Point(48.8584, 2.2945)]


def test_gcj02_for_amap_and_tencent_tiles_matches_the_reference():
    assert to_gcj02(TIANANMEN) == pytest.approx((39.91640428150164, 116.41024449916938), abs=1e-9)
    assert on_tiles(TIANANMEN, "gcj02") == to_gcj02(TIANANMEN)


def test_bd09_for_baidu_tiles_is_baidus_offset_over_gcj02():
    # coordtransform's gcj02tobd09 reference, and our composite is exactly that over our GCJ-02.
    assert gcj02_to_bd09(39.915, 116.404) == pytest.approx((39.92133699351022, 116.41036949371029), abs=1e-9)
    gcj = to_gcj02(TIANANMEN)
    assert to_bd09(TIANANMEN) == pytest.approx(gcj02_to_bd09(*gcj), abs=1e-12)
    assert on_tiles(TIANANMEN, Datum.BD09) == to_bd09(TIANANMEN)


def test_openstreetmap_tiles_take_wgs84_as_stored():
    assert on_tiles(SHANGHAI, "wgs84") == (SHANGHAI.lat, SHANGHAI.lng)


def test_the_shifts_are_the_hundreds_of_metres_a_wrong_datum_costs():
    gcj, bd = Point(*to_gcj02(SHANGHAI)), Point(*to_bd09(SHANGHAI))
    assert 300 < distance_m(SHANGHAI, gcj) < 700
    assert 700 < distance_m(SHANGHAI, bd) < 1500


@pytest.mark.parametrize("point", ABROAD)
@pytest.mark.parametrize("datum", list(Datum))
def test_outside_china_no_tiles_shift(point, datum):
    assert not in_china(point)
    assert on_tiles(point, datum) == (point.lat, point.lng)


def test_china_is_inside():
    assert in_china(TIANANMEN) and in_china(SHANGHAI)


# --- MAP_TILES ------------------------------------------------------------------------------------

@pytest.mark.parametrize("setting", [None, "", "none", "NONE", " off "])
def test_no_tiles_is_the_default(setting):
    assert tile_source(setting) is None


@pytest.mark.parametrize("name, datum, origins", [
    ("osm", Datum.WGS84, ("https://tile.openstreetmap.org",)),
    ("amap", Datum.GCJ02, tuple(f"https://webrd0{n}.is.autonavi.com" for n in "1234")),
    ("tencent", Datum.GCJ02, tuple(f"https://rt{n}.map.gtimg.com" for n in "0123")),
    ("baidu", Datum.BD09, tuple(f"https://maponline{n}.bdimg.com" for n in "0123")),
])
def test_the_named_providers(name, datum, origins):
    source = tile_source(name.upper())
    assert source is TILE_SOURCES[name]
    assert source.datum is datum
    assert source.origins == origins
    assert source.attribution
    assert source.for_page()["crs"] == ("baidu" if name == "baidu" else "EPSG3857")


def test_a_custom_template_with_subdomains_datum_and_attribution():
    source = tile_source("https://{s}.tiles.example.com:8443/cn/{z}/{x}/{y}.png", "GCJ02", "Example <Maps>", "ab")
    assert isinstance(source, TileSource)
    assert source.datum is Datum.GCJ02
    assert source.origins == ("https://a.tiles.example.com:8443", "https://b.tiles.example.com:8443")
    assert source.attribution == "Example &lt;Maps&gt;"   # shown as text, never as markup
    plain = tile_source("http://tiles.local/{z}/{x}/{-y}.png")
    assert plain.origins == ("http://tiles.local",) and plain.datum is Datum.WGS84
    assert plain.attribution == "tiles.local"
    assert tile_source("https://{s}.t.example.com/{z}/{x}/{y}.png").origins == tuple(
        f"https://{s}.t.example.com" for s in "abc")


@pytest.mark.parametrize("setting, datum, says", [
    ("google", None, "MAP_TILES must be"),
    ("ftp://tiles.example.com/{z}/{x}/{y}.png", None, "MAP_TILES must be"),
    ("https://tiles.example.com/tile.png", None, "{z}, {x} and {y}"),
    ("https://user:pw@tiles.example.com/{z}/{x}/{y}.png", None, "not a host name"),
    ("https://tiles.example.com;script-src */{z}/{x}/{y}.png", None, "not a host name"),
    ("https://tiles.example.com 'unsafe-inline'/{z}/{x}/{y}", None, "not a host name"),
    ("https://tiles.example.com/{z}/{x}/{y}.png?a=<b>", None, "characters a URL cannot"),
    ("https://tiles.example.com/{z}/{x}/{y}.png", "mars", "MAP_TILES_DATUM"),
])
def test_a_setting_that_cannot_work_says_why(setting, datum, says):
    with pytest.raises(ValueError, match=says.replace("{", r"\{").replace("}", r"\}")):
        tile_source(setting, datum)
