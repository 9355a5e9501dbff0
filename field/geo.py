"""Positions, datums and distances — pure functions, no database.

Inside the app a Point is always WGS-84. Chinese map providers publish GCJ-02
(Amap, Tencent) or BD-09 (Baidu); mixing them with GPS is an error of 300–700 m,
larger than a geofence, so every input is converted here before it is stored."""
import math
from dataclasses import dataclass
from enum import StrEnum

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
