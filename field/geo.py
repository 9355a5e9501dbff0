"""Positions, datums and distances — pure functions, no database.

Inside the app a Point is always WGS-84. Chinese map providers publish GCJ-02
(Amap, Tencent) or BD-09 (Baidu); mixing them with GPS is an error of 300–700 m,
larger than a geofence, so every input is converted here before it is stored."""
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from html import escape
from urllib.parse import urlsplit

from geographiclib.geodesic import Geodesic
from geopy.distance import ELLIPSOIDS


class Datum(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float

    def __post_init__(self):
        if not valid_lat_lng(self.lat, self.lng):
            raise ValueError(f"not a position: {self.lat}, {self.lng}")


def valid_lat_lng(lat, lng) -> bool:
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        return False
    return (math.isfinite(lat) and math.isfinite(lng)
            and -90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0)


# geopy's geodesic() builds a Geodesic (its series coefficients) and two geopy Points on every call,
# most of its cost; this is the same computation (geographiclib, which geopy calls, on geopy's
# WGS-84 in kilometres) set up once, so each distance is the same figure to the last bit.
_A_KM, _, _F = ELLIPSOIDS["WGS-84"]  # semi-major axis (km), semi-minor axis, flattening
_WGS84_KM = Geodesic(_A_KM, _F)


def distance_m(a: Point, b: Point) -> float:
    """Geodesic distance on the WGS-84 ellipsoid, in metres (equal to geopy's geodesic().meters)."""
    return _WGS84_KM.Inverse(a.lat, a.lng, b.lat, b.lng, Geodesic.DISTANCE)["s12"] * 1000


def within(a: Point, b: Point, radius_m: float) -> bool:
    """True when a lies inside the circle of radius_m around b (the edge counts as inside)."""
    return distance_m(a, b) <= radius_m


# --- GCJ-02 ("Mars coordinates"), the published obfuscation algorithm -------------
_A = 6378245.0                      # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323        # its eccentricity squared


def _outside_china(lat: float, lng: float) -> bool:
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _delta(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 105.0, lat - 35.0
    pi = math.pi
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
            + (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * math.sin(y / 12.0 * pi) + 320 * math.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlng = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
            + (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * pi)
    return dlat, dlng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if _outside_china(lat, lng):
        return lat, lng
    dlat, dlng = _delta(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse by fixed-point iteration: converges to well under a centimetre."""
    if _outside_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        elat, elng = glat - lat, glng - lng
        wlat, wlng = wlat - elat, wlng - elng
        if abs(elat) < 1e-10 and abs(elng) < 1e-10:
            break
    return wlat, wlng


# --- BD-09 (Baidu), a further offset over GCJ-02 --------------------------------------
_X_PI = math.pi * 3000.0 / 180.0


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def to_wgs84(lat: float, lng: float, datum: Datum | str) -> Point:
    """A position given in any supported datum, as a WGS-84 Point."""
    datum = Datum(datum)
    if not valid_lat_lng(lat, lng):
        raise ValueError(f"not a position: {lat}, {lng}")
    lat, lng = float(lat), float(lng)
    if datum is Datum.GCJ02:
        lat, lng = gcj02_to_wgs84(lat, lng)
    elif datum is Datum.BD09:
        lat, lng = gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))
    return Point(lat, lng)


def from_wgs84(point: Point, datum: Datum | str) -> tuple[float, float]:
    """A WGS-84 Point expressed in another datum (for export and map links)."""
    datum = Datum(datum)
    if datum is Datum.GCJ02:
        return wgs84_to_gcj02(point.lat, point.lng)
    if datum is Datum.BD09:
        return gcj02_to_bd09(*wgs84_to_gcj02(point.lat, point.lng))
    return point.lat, point.lng


# --- positions on a map's tiles ------------------------------------------------------------------
# Map tiles are drawn in their provider's datum: OpenStreetMap in WGS-84, Amap (Gaode) and Tencent
# in GCJ-02, Baidu in BD-09. A marker is put where the tiles show its place by converting its stored
# WGS-84 position to the tiles' datum; outside China no provider shifts, and neither do we.

def in_china(point: Point) -> bool:
    """Inside the rough box where Chinese providers shift positions (the published GCJ-02 test)."""
    return not _outside_china(point.lat, point.lng)


def to_gcj02(point: Point) -> tuple[float, float]:
    """A WGS-84 point where GCJ-02 tiles (Amap, Tencent) show it; unchanged outside China."""
    return wgs84_to_gcj02(point.lat, point.lng)


def to_bd09(point: Point) -> tuple[float, float]:
    """A WGS-84 point where BD-09 tiles (Baidu) show it; unchanged outside China (Baidu's own
    offset is applied only over its GCJ-02 area)."""
    if not in_china(point):
        return point.lat, point.lng
    return gcj02_to_bd09(*wgs84_to_gcj02(point.lat, point.lng))


def on_tiles(point: Point, datum: Datum | str) -> tuple[float, float]:
    """A WGS-84 point in the datum of a map's tiles (WGS-84 itself for OpenStreetMap)."""
    datum = Datum(datum)
    if datum is Datum.GCJ02:
        return to_gcj02(point)
    if datum is Datum.BD09:
        return to_bd09(point)
    return point.lat, point.lng


@dataclass(frozen=True)
class TileSource:
    """Where a map's background tiles come from (MAP_TILES): a Leaflet URL template with its
    subdomains, whose datum markers are converted to, its attribution (HTML, shown on the map),
    and the origins the Content-Security-Policy must let images come from."""
    name: str
    url: str
    attribution: str
    datum: Datum = Datum.WGS84
    subdomains: str = ""
    max_zoom: int = 19
    crs: str = "EPSG3857"     # "baidu": Baidu's own tile grid (BD-09 Mercator, tiles counted from 0,0)

    @property
    def origins(self) -> tuple[str, ...]:
        """scheme://host[:port] of every tile server the template names ({s} expanded)."""
        parts = urlsplit(self.url)
        hosts = [parts.netloc.replace("{s}", s) for s in self.subdomains] if "{s}" in parts.netloc \
            else [parts.netloc]
        return tuple(f"{parts.scheme}://{host}" for host in dict.fromkeys(hosts))

    def for_page(self) -> dict:
        """What static/js/map.js needs to draw the tiles."""
        return {"url": self.url, "attribution": self.attribution, "subdomains": self.subdomains,
                "maxZoom": self.max_zoom, "crs": self.crs, "datum": str(self.datum)}


TILE_SOURCES = {
    "osm": TileSource(
        "osm", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        Datum.WGS84, max_zoom=19),
    "amap": TileSource(
        "amap", "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        '&copy; <a href="https://www.amap.com/">高德地图 AutoNavi</a>', Datum.GCJ02, "1234", max_zoom=18),
    "tencent": TileSource(
        "tencent", "https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={-y}&type=vector&styleid=0",
        '&copy; <a href="https://map.qq.com/">腾讯地图 Tencent</a>', Datum.GCJ02, "0123", max_zoom=18),
    "baidu": TileSource(
        "baidu", "https://maponline{s}.bdimg.com/tile/?qt=vtile&x={x}&y={y}&z={z}&styles=pl&scaler=1&udt=20200101",
        '&copy; <a href="https://map.baidu.com/">百度地图 Baidu</a>', Datum.BD09, "0123", max_zoom=18,
        crs="baidu"),
}
"""The tile servers MAP_TILES names. Chinese providers' public tile URLs are not a documented API;
a company with a key (or its own tile server) sets a custom template instead."""

_TEMPLATE_HOST = re.compile(r"^[A-Za-z0-9.-]*(\{s\}[A-Za-z0-9.-]*)?(:[0-9]{1,5})?$")
_TEMPLATE_REST = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@/%?{}\-\[\]]*$")


def tile_source(setting: str | None, datum: str | None = None, attribution: str | None = None,
                subdomains: str | None = None) -> TileSource | None:
    """The tile source a MAP_TILES setting names: None for "none" (or empty: a plain background), a
    built-in provider by name, or a custom http(s) URL template with {z}, {x} and {y} (and {s} for a
    subdomain, a, b, c unless told) whose datum (MAP_TILES_DATUM) is WGS-84 unless told.
    A setting that cannot work raises ValueError, saying why."""
    text = (setting or "").strip()
    if text.lower() in ("", "none", "off"):
        return None
    if text.lower() in TILE_SOURCES:
        return TILE_SOURCES[text.lower()]
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"MAP_TILES must be none, {', '.join(TILE_SOURCES)} or an http(s) URL template, "
                         f"not {text[:80]!r}")
    if parts.username or parts.password or not _TEMPLATE_HOST.match(parts.netloc):
        raise ValueError(f"MAP_TILES: {parts.netloc[:80]!r} is not a host name (letters, digits, dots, "
                         "dashes, {s}, a port)")
    if not _TEMPLATE_REST.match(text[len(parts.scheme) + 3 + len(parts.netloc):]):
        raise ValueError("MAP_TILES: the URL template holds characters a URL cannot (spaces, quotes, <>)")
    if not all(key in text for key in ("{z}", "{x}")) or not ("{y}" in text or "{-y}" in text):
        raise ValueError("MAP_TILES: a URL template needs {z}, {x} and {y}")
    try:
        datum = Datum((datum or "wgs84").strip().lower())
    except ValueError:
        raise ValueError(f"MAP_TILES_DATUM must be wgs84, gcj02 or bd09, not {datum[:20]!r}") from None
    subdomains = (subdomains or "abc").strip() if "{s}" in text else ""
    if not re.fullmatch(r"[A-Za-z0-9]*", subdomains):
        raise ValueError("MAP_TILES_SUBDOMAINS: letters or digits, one per subdomain (abc, 1234)")
    label = escape((attribution or "").strip() or parts.hostname.replace("{s}.", ""))
    return TileSource("custom", text, label, datum, subdomains, max_zoom=19,
                      crs="baidu" if datum is Datum.BD09 else "EPSG3857")
