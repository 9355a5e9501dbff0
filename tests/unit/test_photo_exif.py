"""Reading EXIF: time with and without offset, GPS in every hemisphere, malformed fields ignored."""
import io
from datetime import datetime, timezone

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from field.photos import exif
from tests.fixtures.photos import jpeg, plain_jpeg


def read(data: bytes, zone="Asia/Shanghai") -> exif.Capture:
    return exif.read(Image.open(io.BytesIO(data)), zone)


def test_time_with_its_offset_is_stored_in_utc():
    capture = read(jpeg(taken="2026:11:23 09:41:07", offset="+08:00"))
    assert capture.taken_at == datetime(2026, 11, 23, 1, 41, 7, tzinfo=timezone.utc)
    assert capture.utc_offset_min == 480


def test_time_without_offset_is_read_in_the_given_zone():
    capture = read(jpeg(taken="2026:07:01 12:00:00", offset=None), zone="Europe/Berlin")
    assert capture.taken_at == datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc) and capture.utc_offset_min is None


@pytest.mark.parametrize("taken", ["0000:00:00 00:00:00", "garbage", "2026:13:45 99:00:00", "    "])
def test_malformed_times_are_ignored(taken):
    assert read(jpeg(taken=taken)).taken_at is None


@pytest.mark.parametrize("text, minutes", [("+08:00", 480), ("-05:30", -330), ("+0545", 345), ("+15:00", None),
                                           ("8", None), ("", None), (b"+01:00\x00", 60)])
def test_offsets(text, minutes):
    assert exif.parse_offset(text) == minutes


@pytest.mark.parametrize("gps", [(31.2304, 121.4737), (-33.8688, 151.2093), (40.7128, -74.006), (-22.9, -43.2)])
def test_gps_in_every_hemisphere(gps):
    point = read(jpeg(gps=gps)).point
    assert point.lat == pytest.approx(gps[0], abs=1e-6) and point.lng == pytest.approx(gps[1], abs=1e-6)


@pytest.mark.parametrize("raw", [
    {1: "N", 2: (IFDRational(1, 0), IFDRational(0, 1), IFDRational(0, 1)), 3: "E", 4: (IFDRational(121, 1),) * 3},
    {1: "N", 2: (IFDRational(91, 1), IFDRational(0, 1), IFDRational(0, 1)), 3: "E", 4: (IFDRational(121, 1),) * 3},
    {1: "N", 2: (IFDRational(31, 1),) * 3, 3: "E", 4: (IFDRational(181, 1), IFDRational(0, 1), IFDRational(0, 1))},
    {1: "N", 2: (IFDRational(31, 1), IFDRational(75, 1), IFDRational(0, 1)), 3: "E", 4: (IFDRational(121, 1),) * 3},
    {1: "X", 2: (IFDRational(31, 1),) * 3, 3: "E", 4: (IFDRational(121, 1),) * 3},
    {1: "N", 2: (IFDRational(0, 1),) * 3, 3: "E", 4: (IFDRational(0, 1),) * 3},
    {1: "N", 3: "E"},
])
def test_malformed_or_impossible_gps_is_ignored_and_the_rest_still_read(raw):
    capture = read(jpeg(gps=None, raw_gps=raw))
    assert capture.point is None and capture.taken_at is not None


def test_a_file_without_exif_has_no_capture_data():
    capture = read(plain_jpeg())
    assert capture.empty and capture.orientation == 1


@pytest.mark.parametrize("value, expected", [(6, 6), (9, 1), (0, 1)])
def test_orientation_out_of_range_counts_as_upright(value, expected):
    assert read(jpeg(orientation=value)).orientation == expected


# --- capture time: which rule gave it, and the photo's own offset --------------------------------

def _gps_clock(date="2026:04:11", hms=(20, 47, 3), gps=(40.4168, -3.7038)) -> dict:
    from tests.fixtures.photos import _dms
    lat, lng = gps
    return {1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lng >= 0 else "W", 4: _dms(lng),
            7: tuple(IFDRational(v, 1) for v in hms), 29: date}


def _with_xmp(xmp: str, **exif_fields) -> bytes:
    from tests.fixtures.photos import encode, exif_bytes, scene
    return encode(scene(2), "JPEG", exif_bytes(**exif_fields), quality=85,
                  xmp=f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>{xmp}</rdf:RDF></x:xmpmeta>'.encode())


def test_rule_exif_offset_wins_and_says_so():
    capture = read(jpeg(taken="2026:04:11 15:47:00", offset="-05:00", gps=None, raw_gps=_gps_clock()))
    assert capture.taken_at == datetime(2026, 4, 11, 20, 47, tzinfo=timezone.utc)
    assert capture.utc_offset_min == -300 and capture.time_source == exif.TimeSource.EXIF_OFFSET


def test_rule_gps_clock_gives_the_offset_when_the_file_has_none():
    """An iPhone photo taken in Madrid (UTC+2 in April), read by a rep whose zone is Shanghai: the GPS
    clock (UTC 13:47) says the 15:47 on the file is +02:00, not the rep's +08:00."""
    capture = read(jpeg(taken="2026:04:11 15:47:00", offset=None, gps=None, raw_gps=_gps_clock(hms=(13, 46, 12))))
    assert capture.taken_at == datetime(2026, 4, 11, 13, 47, tzinfo=timezone.utc)
    assert capture.utc_offset_min == 120 and capture.time_source == exif.TimeSource.GPS
    assert capture.point is not None


@pytest.mark.parametrize("local, utc, offset", [
    (datetime(2026, 4, 11, 15, 47), datetime(2026, 4, 11, 10, 2), 345),     # Nepal, +05:45
    (datetime(2026, 4, 11, 0, 10), datetime(2026, 4, 10, 23, 59), 15),      # rounded to 15 min
    (datetime(2026, 4, 11, 8, 0), datetime(2026, 4, 11, 22, 0), -840),      # beyond −12:00: a broken clock
    (datetime(2026, 4, 11, 8, 0), datetime(2026, 4, 9, 8, 0), 2880),        # a stale fix, days old
])
def test_gps_offset_is_rounded_and_kept_sane(local, utc, offset):
    gps = {7: (IFDRational(utc.hour, 1), IFDRational(utc.minute, 1), IFDRational(0, 1)), 29: utc.strftime("%Y:%m:%d")}
    expected = offset if -720 <= offset <= 840 else None
    assert exif.gps_offset(local, gps) == expected


@pytest.mark.parametrize("gps", [{7: (IFDRational(1, 0),) * 3, 29: "2026:04:11"}, {29: "2026:04:11"},
                                 {7: (IFDRational(13, 1),) * 3}, {7: (IFDRational(25, 1),) * 3, 29: "2026:04:11"},
                                 {7: (IFDRational(13, 1),) * 3, 29: "garbage"}])
def test_a_broken_gps_clock_is_no_clock(gps):
    assert exif.gps_utc(gps) is None


def test_rule_xmp_date_with_its_offset_is_read_when_exif_has_no_time():
    capture = read(_with_xmp('<rdf:Description xmp:CreateDate="2026-04-11T15:47:00-05:00"/>', taken=None, gps=None))
    assert capture.taken_at == datetime(2026, 4, 11, 20, 47, tzinfo=timezone.utc)
    assert capture.utc_offset_min == -300 and capture.time_source == exif.TimeSource.XMP and not capture.empty


def test_xmp_dates_in_element_form_and_their_order():
    xmp = ("<rdf:Description><xmp:CreateDate>2026-01-01T00:00:00Z</xmp:CreateDate>"
           "<photoshop:DateCreated>2026-04-11T15:47:30.25+02:00</photoshop:DateCreated></rdf:Description>")
    capture = read(_with_xmp(xmp, taken=None, gps=None))
    assert capture.taken_at == datetime(2026, 4, 11, 13, 47, 30, tzinfo=timezone.utc) and capture.utc_offset_min == 120


def test_an_xmp_offset_serves_the_same_exif_time_but_not_another_one():
    same = read(_with_xmp('<rdf:Description exif:DateTimeOriginal="2026-04-11T15:47:00+02:00"/>',
                          taken="2026:04:11 15:47:00", offset=None, gps=None))
    assert same.utc_offset_min == 120 and same.time_source == exif.TimeSource.XMP
    other = read(_with_xmp('<rdf:Description exif:DateTimeOriginal="2025-01-01T10:00:00+02:00"/>',
                           taken="2026:04:11 15:47:00", offset=None, gps=None), zone="Asia/Shanghai")
    assert other.taken_at == datetime(2026, 4, 11, 7, 47, tzinfo=timezone.utc) and other.time_source == exif.TimeSource.ZONE


def test_an_xmp_time_without_offset_takes_the_gps_clock_or_the_rep_zone():
    with_gps = read(_with_xmp('<rdf:Description xmp:CreateDate="2026-04-11T15:47:00"/>', taken=None, gps=None,
                              raw_gps=_gps_clock(hms=(13, 47, 0))))
    assert with_gps.utc_offset_min == 120 and with_gps.time_source == exif.TimeSource.GPS
    alone = read(_with_xmp('<rdf:Description xmp:CreateDate="2026-04-11T15:47"/>', taken=None, gps=None),
                 zone="Asia/Shanghai")
    assert alone.taken_at == datetime(2026, 4, 11, 7, 47, tzinfo=timezone.utc)
    assert alone.utc_offset_min is None and alone.time_source == exif.TimeSource.ZONE


@pytest.mark.parametrize("text", ["2026", "2026-04-11", "not a date", "1970-01-01T00:00:00Z", "2026-13-45T99:00:00Z"])
def test_xmp_dates_that_are_no_capture_time_are_ignored(text):
    assert exif.parse_xmp_datetime(text) == (None, None)


def test_rule_zone_and_rule_none():
    zone = read(jpeg(taken="2026:07:01 12:00:00", offset=None, gps=None), zone="Europe/Berlin")
    assert zone.time_source == exif.TimeSource.ZONE and zone.utc_offset_min is None
    none = read(plain_jpeg())
    assert none.taken_at is None and none.time_source is None and none.utc_offset_min is None


def test_xmp_in_a_png_is_read_too():
    from PIL import PngImagePlugin

    from tests.fixtures.photos import encode, scene
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", '<rdf:Description xmp:CreateDate="2026-04-11T15:47:00+08:00"/>')
    capture = read(encode(scene(1), "PNG", pnginfo=info))
    assert capture.taken_at == datetime(2026, 4, 11, 7, 47, tzinfo=timezone.utc) and capture.utc_offset_min == 480
