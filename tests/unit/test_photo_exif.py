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
