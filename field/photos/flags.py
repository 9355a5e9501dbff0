"""Why a photo deserves a second look. Flags never block the rep; they rank the supervisor's queue.

- exact reuse: the same bytes (SHA-256) as an earlier photo;
- near reuse: a perceptual hash within THRESHOLD bits of an earlier photo of another visit
  (re-compressed, resized, brightened, cropped a few per cent), or a window hash within
  WINDOW_THRESHOLD bits of one of its windows (cropped up to 10 % a side, either way round);
- EXIF or phone position beyond the store's geofence;
- EXIF time before check-in or after check-out (or now, while the visit runs) by more than 10 min;
- no capture data at all (neither EXIF time nor EXIF position);
- chosen from the album rather than shot with the camera;
- data after the end of the picture (a JPEG+ZIP polyglot): its original is served only as a download."""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import insert, select

from field.extensions import db
from field.geo import Point, distance_m
from field.photos.exif import Capture
from field.photos.models import Photo, PhotoWindow, Source
from field.photos.phash import (THRESHOLD, WINDOW_BANDS, WINDOW_THRESHOLD, Windows, bands, distance, probes,
                                window_bands)
from field.stores.models import Store
from field.visits.models import Visit

TIME_TOLERANCE = timedelta(minutes=10)
MAX_LISTED = 5  # matching photo ids kept in a flag


class Flag(StrEnum):
    EXACT_REUSE = "exact_reuse"
    NEAR_REUSE = "near_reuse"
    EXIF_OUTSIDE_GEOFENCE = "exif_outside_geofence"
    PHONE_OUTSIDE_GEOFENCE = "phone_outside_geofence"
    TIME_OUTSIDE_VISIT = "time_outside_visit"
    NO_CAPTURE_DATA = "no_capture_data"
    ALBUM = "album"
    TRAILING_DATA = "trailing_data"


# --- place and time: pure -------------------------------------------------------------------

def distance_to(store: Store, point: Point | None) -> float | None:
    if point is None or store.point is None:
        return None
    return distance_m(point, store.point)


def place_and_time(capture: Capture, exif_distance_m: float | None, phone_distance_m: float | None,
                   store: Store, visit: Visit, received: datetime, source: str) -> list[dict]:
    """The flags that need no other photo: positions (as distances to the store), EXIF time,
    capture data, album."""
    flags = []
    for code, d in ((Flag.EXIF_OUTSIDE_GEOFENCE, exif_distance_m), (Flag.PHONE_OUTSIDE_GEOFENCE, phone_distance_m)):
        if d is not None and d > store.geofence_m:
            flags.append({"code": code, "distance_m": round(d), "geofence_m": store.geofence_m})
    if capture.taken_at is not None and visit.checkin_at is not None:
        start = visit.checkin_at - TIME_TOLERANCE
        end = (visit.checkout_at or received) + TIME_TOLERANCE
        if capture.taken_at < start:
            flags.append({"code": Flag.TIME_OUTSIDE_VISIT,
                          "minutes_before": round((visit.checkin_at - capture.taken_at).total_seconds() / 60)})
        elif capture.taken_at > end:
            end_at = visit.checkout_at or received
            flags.append({"code": Flag.TIME_OUTSIDE_VISIT,
                          "minutes_after": round((capture.taken_at - end_at).total_seconds() / 60)})
    if capture.empty:
        flags.append({"code": Flag.NO_CAPTURE_DATA})
    if source == Source.ALBUM:
        flags.append({"code": Flag.ALBUM})
    return flags


def trailing_data(trailing_bytes: int) -> list[dict]:
    """The flag of a file that carries other data after the end of its picture (none: [])."""
    return [{"code": Flag.TRAILING_DATA, "bytes": trailing_bytes}] if trailing_bytes > 0 else []


def download_only(flags: list[dict] | None) -> bool:
    """Whether the photo's original file may be served only as a download, never shown inline."""
    return any(f.get("code") == Flag.TRAILING_DATA for f in flags or [])


# --- reuse: index lookups -----------------------------------------------------------------------

def exact_matches(sha256: str) -> list[int]:
    """Ids of earlier photos with these very bytes."""
    return list(db.session.execute(select(Photo.id).where(Photo.sha256 == sha256)
                                   .order_by(Photo.id).limit(MAX_LISTED)).scalars())


def _near_parts(value: int, visit_id: int | None, postgres: bool) -> tuple[list[str], list]:
    """The SELECTs (id, phash) of near_matches, one a band, and their parameters."""
    mark = "%s" if postgres else "?"
    parts, params = [], []
    for i, band in enumerate(bands(value)):
        values = probes(band)
        if postgres:
            probed, close = f"band{i} = ANY({mark}::integer[])", f"bit_count((phash # {mark}::bigint)::bit(64)) <= {mark}"
            params += [values, value, THRESHOLD]
        else:
            probed = f"band{i} IN ({','.join([mark] * len(values))})"
            close = f"hamming64(phash, {mark}) <= {mark}"
            params += [*values, value, THRESHOLD]
        other = ""
        if visit_id is not None:
            other = f" AND visit_id <> {mark}"
            params.append(visit_id)
        parts.append(f"SELECT id, phash FROM photos WHERE {probed} AND {close}{other}")
    return parts, params


def _window_parts(windows: Windows, visit_id: int | None, postgres: bool) -> tuple[list[str], list]:
    """The SELECTs (photo id, distance) of window_matches, one a band, and their parameters."""
    parts, params = [], []
    for i in range(len(WINDOW_BANDS)):
        pairs = list(dict.fromkeys((v, value) for value, band_probes in windows.probes for v in band_probes[i]))
        if postgres:
            parts.append(f"SELECT w.photo_id, bit_count((w.hash # l.h)::bit(64)) FROM "
                         f"unnest(%s::integer[], %s::bigint[]) AS l(v, h) JOIN photo_windows w ON w.band{i} = l.v "
                         f"WHERE bit_count((w.hash # l.h)::bit(64)) <= %s AND w.visit_id IS DISTINCT FROM %s")
            params += [[v for v, _h in pairs], [h for _v, h in pairs], WINDOW_THRESHOLD, visit_id]
        else:
            looks = ",".join(["(?, ?)"] * len(pairs))
            parts.append(f"SELECT w.photo_id, d FROM (SELECT w.photo_id, hamming64(w.hash, l.column2) AS d, w.visit_id "
                         f"FROM (VALUES {looks}) AS l JOIN photo_windows w ON w.band{i} = l.column1) AS w "
                         f"WHERE d <= ? AND w.visit_id IS NOT ?")
            params += [x for pair in pairs for x in pair] + [WINDOW_THRESHOLD, visit_id]
    return parts, params


def _no_parallel(connection) -> None:
    """A parallel plan costs more to start than the whole lookup (PostgreSQL; for this transaction)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


def _near_found(value: int, rows) -> dict[int, int]:
    found = {}
    for photo_id, other_hash in rows:
        d = distance(value, other_hash)
        if d <= THRESHOLD:
            found[photo_id] = d
    return found


def _nearest(found: dict[int, int]) -> list[tuple[int, int]]:
    return sorted(found.items(), key=lambda item: (item[1], item[0]))


def near_matches(value: int, visit_id: int | None) -> list[tuple[int, int]]:
    """(id, distance) of photos of other visits within THRESHOLD bits, nearest first.

    One UNION of BANDS index-only lookups, each probing the band values within PROBE_RADIUS
    bits: never a scan. The candidates (under 1 % of the photos) have their bits compared
    inside the database — bit_count on PostgreSQL, hamming64 (field/photos/models.py) on
    SQLite — so only real matches come back. Sent as the driver's own SQL on purpose: it
    runs on every upload, its text never changes (prepared once), and building 548
    parameters through the expression layer cost more than the lookup itself."""
    connection = db.session.connection()
    parts, params = _near_parts(value, visit_id, connection.dialect.name == "postgresql")
    _no_parallel(connection)
    return _nearest(_near_found(value, connection.exec_driver_sql(" UNION ALL ".join(parts), tuple(params))))


def window_matches(windows: Windows, visit_id: int | None) -> list[tuple[int, int]]:
    """(id, distance) of photos of other visits one of whose windows is within WINDOW_THRESHOLD
    bits of one of the upload's look windows, nearest first: a crop of them, or they of it.

    One UNION of three joins, one a band: the (probed value, look) pairs of the upload against
    that band's index — exact index probes only (192 values, flipped least certain bits
    included) — each candidate's bits compared with its look inside the database, as
    near_matches does, so only real matches come back."""
    if not windows.probes:
        return []
    connection = db.session.connection()
    parts, params = _window_parts(windows, visit_id, connection.dialect.name == "postgresql")
    found: dict[int, int] = {}
    for photo_id, d in connection.exec_driver_sql(" UNION ALL ".join(parts), tuple(params)):
        found[photo_id] = min(d, found.get(photo_id, d))
    return _nearest(found)


def _matches(sha256: str, value: int, visit_id: int | None, windows: Windows | None):
    """exact_matches, near_matches and window_matches in one statement (one round trip, one plan):
    each SELECT of the UNION says which lookup its row answers."""
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    parts = [f"SELECT 0, id, 0 FROM (SELECT id FROM photos WHERE sha256 = {mark} ORDER BY id LIMIT {MAX_LISTED}) AS e"]
    params: list = [sha256]
    near_parts, near_params = _near_parts(value, visit_id, postgres)
    parts += [part.replace("SELECT ", "SELECT 1, ", 1) for part in near_parts]
    params += near_params
    if windows is not None and windows.probes:
        window_parts, window_params = _window_parts(windows, visit_id, postgres)
        parts += [part.replace("SELECT ", "SELECT 2, ", 1) for part in window_parts]
        params += window_params
    _no_parallel(connection)
    rows = connection.exec_driver_sql(" UNION ALL ".join(parts), tuple(params)).all()
    exact, near_rows, cropped = [], [], {}
    for kind, photo_id, x in rows:
        if kind == 0:
            exact.append(photo_id)
        elif kind == 1:
            near_rows.append((photo_id, x))
        else:
            cropped[photo_id] = min(x, cropped.get(photo_id, x))
    return sorted(exact), _near_found(value, near_rows), cropped


def hold(sha256: str) -> None:
    """Serialise uploads of the same bytes: until this transaction ends, another one holding the
    same SHA-256 waits here, and then sees this one's photo (so the later of two simultaneous
    uploads is always flagged as reuse of the earlier). PostgreSQL: a transaction-level advisory
    lock on the hash (READ COMMITTED: the next statement sees what the other committed). SQLite:
    writers are serialised already, and the savepoint ingest opens before calling this has taken
    the write lock (BEGIN IMMEDIATE, field/__init__.py) before the exact-match read."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (key,))


def reuse(sha256: str, value: int, visit_id: int, windows: Windows | None = None) -> list[dict]:
    """The reuse flags of an upload: its bytes, its whole-image hash and its windows looked up at once
    (one statement: bench/near_dup.py times it among 1,000,000 photos)."""
    flags = []
    exact, near, by_window = _matches(sha256, value, visit_id, windows)
    if exact:
        flags.append({"code": Flag.EXACT_REUSE, "photo_ids": exact})
    cropped = set()
    for pid, d in by_window.items():
        if pid not in near:
            near[pid] = d
            cropped.add(pid)
    ranked = sorted(((pid, d) for pid, d in near.items() if pid not in exact), key=lambda item: (item[1], item[0]))
    if ranked:
        flag = {"code": Flag.NEAR_REUSE, "photo_ids": [pid for pid, _d in ranked[:MAX_LISTED]],
                "distance": ranked[0][1]}
        if ranked[0][0] in cropped:
            flag["cropped"] = True
        flags.append(flag)
    return flags


def window_rows(photo: Photo, windows: Windows) -> list[PhotoWindow]:
    """The rows that keep a flushed photo's window hashes (as ORM objects; ingest uses store_windows)."""
    return [PhotoWindow.of(photo, value) for value in windows.stored]


def store_windows(photo: Photo, windows: Windows) -> None:
    """Insert a flushed photo's window hashes: one Core executemany in the session's transaction (16 rows
    written once and never read back as objects need no ORM unit of work: a third of the cost)."""
    if not windows.stored:
        return
    rows = [{"photo_id": photo.id, "visit_id": photo.visit_id, "hash": value,
             **{f"band{i}": b for i, b in enumerate(window_bands(value))}} for value in windows.stored]
    db.session.execute(insert(PhotoWindow.__table__), rows)


# --- words ------------------------------------------------------------------------------------

LABELS = {
    Flag.EXACT_REUSE: lambda: _("Reused photo"),
    Flag.NEAR_REUSE: lambda: _("Near copy"),
    Flag.EXIF_OUTSIDE_GEOFENCE: lambda: _("Taken elsewhere"),
    Flag.PHONE_OUTSIDE_GEOFENCE: lambda: _("Phone outside the fence"),
    Flag.TIME_OUTSIDE_VISIT: lambda: _("Taken outside the visit"),
    Flag.NO_CAPTURE_DATA: lambda: _("No capture data"),
    Flag.ALBUM: lambda: _("From the album"),
    Flag.TRAILING_DATA: lambda: _("Hidden data"),
}


def label(flag: dict) -> str:
    make = LABELS.get(flag.get("code"))
    return make() if make else str(flag.get("code", ""))


def sentence(flag: dict) -> str:
    code = flag.get("code")
    if code == Flag.EXACT_REUSE:
        return _("The same file as an earlier photo.")
    if code == Flag.NEAR_REUSE:
        if flag.get("cropped"):
            return _("Looks like a crop of an earlier photo of another visit, or that photo a crop of it "
                     "(%(bits)s of 64 bits differ).", bits=flag.get("distance", "?"))
        return _("Looks like an earlier photo of another visit (%(bits)s of 64 bits differ).",
                 bits=flag.get("distance", "?"))
    if code == Flag.EXIF_OUTSIDE_GEOFENCE:
        return _("The photo's own GPS puts it %(m)s m from the store, outside its %(r)s m fence.",
                 m=flag.get("distance_m", "?"), r=flag.get("geofence_m", "?"))
    if code == Flag.PHONE_OUTSIDE_GEOFENCE:
        return _("The phone was %(m)s m from the store, outside its %(r)s m fence.",
                 m=flag.get("distance_m", "?"), r=flag.get("geofence_m", "?"))
    if code == Flag.TIME_OUTSIDE_VISIT:
        if "minutes_before" in flag:
            return _("Taken %(n)s min before check-in.", n=flag["minutes_before"])
        return _("Taken %(n)s min after the visit.", n=flag.get("minutes_after", "?"))
    if code == Flag.NO_CAPTURE_DATA:
        return _("The file carries no capture time or position.")
    if code == Flag.ALBUM:
        return _("Chosen from the album, not shot with the camera.")
    if code == Flag.TRAILING_DATA:
        return _("The file carries %(kb)s KB of other data after the end of the picture (another file may be "
                 "hidden in it); its original is offered only as a download.",
                 kb=max(1, round(flag.get("bytes", 0) / 1024)))
    return ""

