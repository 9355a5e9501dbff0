"""Where photo bytes live: one small interface, local files by default, S3-compatible by configuration.

    put(key, data, content_type) -> bool   durable when it returns; False if the key was there already
                                            (then its time is refreshed: it is in use again, see below)
    open(key) -> binary file object         for serving through a scoped view
    exists(key) -> bool
    discard(key)                            only to undo the writes of an ingest that failed
    listing(top) -> Stored…                 the files under a top folder ("originals", …), for the sweep
    discard_if_older(key, than) -> Stored?  the sweep's removal: only if still last written before `than`

Keys are relative paths ("originals/ab/abcd….jpg"). Nothing here is reachable by URL:
every byte is served by a view that checks scope first.

The settings (PHOTO_STORAGE, UPLOAD_DIR, S3_*) are read and checked once, when the app starts
(install(), called by create_app): one that cannot work stops the app with a message naming it,
rather than failing the first upload."""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, NoReturn, Protocol
from urllib.parse import urlsplit

from flask import current_app

_KEY = re.compile(r"^[a-z0-9]+(/[A-Za-z0-9._-]+)+$")


# Where ingest writes: the original under its hash, the display copy and the thumbnail.
TOPS = ("originals", "display", "thumbs")


@dataclass(frozen=True)
class Stored:
    """A stored file as a listing sees it: its key, its size and when it was last written (UTC)."""
    key: str
    size: int
    modified: datetime


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> bool: ...
    def open(self, key: str) -> IO[bytes]: ...
    def exists(self, key: str) -> bool: ...
    def discard(self, key: str) -> None: ...
    def listing(self, top: str) -> Iterator[Stored]: ...
    def discard_if_older(self, key: str, than: datetime) -> Stored | None: ...


def _check(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under a directory (UPLOAD_DIR, in instance/ by default).

    A write goes to a temporary file in the same directory, is fsynced, linked under
    the key and the directory fsynced: after put() returns, a crash cannot lose it
    or leave half a file under the key."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / _check(key)

    def put(self, key: str, data: bytes, content_type: str) -> bool:
        path = self.path(key)
        if _touch(path):
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            # A hard link creates the key only if it is absent, so of two writers of the same
            # content-addressed original exactly one is told it created the file.
            try:
                os.link(tmp, path)
            except FileExistsError:
                _touch(path)
                return False
            except OSError:  # a file system without hard links
                os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)
        return True

    def open(self, key: str) -> IO[bytes]:
        return open(self.path(key), "rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def discard(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def listing(self, top: str) -> Iterator[Stored]:
        base = self.path(top + "/x").parent
        for path in sorted(base.rglob("*")) if base.is_dir() else []:
            key = path.relative_to(self.root).as_posix()
            if not _KEY.match(key):  # not a name this storage writes: never ours to remove
                continue
            try:
                info = path.stat()
            except FileNotFoundError:  # removed meanwhile
                continue
            if path.is_file():
                yield Stored(key, info.st_size, _utc(info.st_mtime))

    def discard_if_older(self, key: str, than: datetime) -> Stored | None:
        """Remove the file if it was last written before `than`, as one step against a put() of the
        same key: the file is first renamed aside, so a put() either refreshed its time before (and
        the file is put back) or finds the key absent and writes it anew."""
        path = self.path(key)
        aside = path.parent / f".{path.name}.{uuid.uuid4().hex}.sweep"
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return None
        info = aside.stat()
        if _utc(info.st_mtime) < than:
            aside.unlink()
            return Stored(key, info.st_size, _utc(info.st_mtime))
        try:  # written again meanwhile: back under its key, unless a new copy is already there
            os.link(aside, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.rename(aside, path)
        aside.unlink(missing_ok=True)
        return None


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


def _touch(path: Path) -> bool:
    """Mark an existing file as written now (the sweep leaves it alone); False if there is none."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, OSS/COS in S3 mode) through a boto3 client.

    S3 acknowledges a PUT once the object is durably stored, so put() returning is the
    same promise as LocalStorage's fsync. The PUT asks `If-None-Match: *`, so of two writers
    of the same key one is told it was there (where the server honours the condition)."""

    def __init__(self, client, bucket: str, prefix: str = "", page_size: int = 1000):
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")
        self.page_size, self.conditional = page_size, True

    def _key(self, key: str) -> str:
        key = _check(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> bool:
        if self.exists(key) and self._touch(key, content_type):
            return False
        ask = {"Bucket": self.bucket, "Key": self._key(key), "Body": data, "ContentType": content_type}
        try:
            self.client.put_object(**ask, **({"IfNoneMatch": "*"} if self.conditional else {}))
        except Exception as exc:
            if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                return False  # another writer's copy landed first: the same bytes, just written
            if _code(exc) not in ("NotImplemented", "501") or not self.conditional:
                raise
            self.conditional = False  # a server that does not know the condition: as before it
            self.client.put_object(**ask)
        return True

    def _touch(self, key: str, content_type: str) -> bool:
        """Copy the object onto itself so its LastModified is now (the sweep leaves it alone);
        False if it is gone."""
        try:
            self.client.copy_object(Bucket=self.bucket, Key=self._key(key), ContentType=content_type,
                                    CopySource={"Bucket": self.bucket, "Key": self._key(key)},
                                    MetadataDirective="REPLACE")
        except Exception as exc:
            if _code(exc) in _NOT_FOUND:
                return False
            raise
        return True

    def open(self, key: str) -> IO[bytes]:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except Exception as exc:
            if _code(exc) in _NOT_FOUND:  # as LocalStorage says it: the caller handles one kind
                raise FileNotFoundError(key) from None
            raise

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:  # botocore's ClientError; not imported so boto3 stays optional
            if _code(exc) in _NOT_FOUND:
                return None
            raise

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def discard(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def discard_if_older(self, key: str, than: datetime) -> Stored | None:
        """Remove the object if it was last written before `than`. S3 has no rename and no delete
        conditional on the time, so a put() refreshing it in the moment between this HEAD and the
        DELETE (one round trip) still loses it; LocalStorage closes that moment."""
        head = self._head(key)
        if head is None or head["LastModified"] >= than:
            return None
        self.discard(key)
        return Stored(key, int(head["ContentLength"]), head["LastModified"].astimezone(timezone.utc))

    def listing(self, top: str) -> Iterator[Stored]:
        folder = self._key(top + "/x")[:-1]
        strip = len(self.prefix) + 1 if self.prefix else 0
        ask = {"Bucket": self.bucket, "Prefix": folder, "MaxKeys": self.page_size}
        while True:
            page = self.client.list_objects_v2(**ask)
            for obj in page.get("Contents", []):
                key = obj["Key"][strip:]
                if _KEY.match(key):
                    yield Stored(key, int(obj["Size"]), obj["LastModified"].astimezone(timezone.utc))
            if not page.get("IsTruncated"):
                return
            ask["ContinuationToken"] = page["NextContinuationToken"]


_NOT_FOUND = ("404", "NoSuchKey", "NotFound")


def _code(exc: Exception) -> str:
    """The S3 error code of a botocore ClientError ('' for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def sweep_orphans(store: Storage, in_use: Callable[[set[str]], set[str]], older_than: timedelta,
                  dry_run: bool = False, batch: int = 500) -> list[Stored]:
    """Remove the stored files no photo refers to that were last written before `older_than` ago
    (a killed worker's display copies and thumbnails, a crashed write's temporary file); returns them.

    `in_use(keys)` answers which of `keys` a row refers to (as committed when asked). A file younger
    than the limit may belong to an ingest still running (its row not yet committed) and is left alone.
    The listing may take long, so each file is checked again right before it goes: asked again whether
    a row refers to it, then removed only if still old (discard_if_older). An upload of the same bytes
    meanwhile finds its original there and refreshes its time (put()), before its row commits: the
    second look sees either the row or the fresh time. Ages are by the wall clock, which wrote the
    files' times, not by the app's clock (which a demo may wind)."""
    limit = datetime.now(timezone.utc) - older_than
    old = [f for top in TOPS for f in store.listing(top) if f.modified < limit]
    orphans = []
    for i in range(0, len(old), batch):
        chunk = old[i:i + batch]
        used = in_use({f.key for f in chunk})
        orphans += [f for f in chunk if f.key not in used]
    if dry_run:
        return orphans
    removed = []
    for f in orphans:
        if in_use({f.key}):
            continue
        gone = store.discard_if_older(f.key, limit)
        if gone is not None:
            removed.append(gone)
    return removed


class StorageSettingsError(RuntimeError):
    """A photo storage setting that cannot work. create_app raises it, so the app does not start
    (under gunicorn: "Worker failed to boot", and the server stops rather than retrying)."""


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


def _setting(config: Mapping, name: str, default: str = "") -> str:
    return str(config.get(name) or os.environ.get(name) or default).strip()


def _refuse(message: str) -> NoReturn:
    raise StorageSettingsError(f"field: {message}")


def make_storage(config: Mapping | None = None) -> Storage:
    """The storage the settings ask for: PHOTO_STORAGE=local (default, UPLOAD_DIR) or s3 (S3_BUCKET,
    S3_ENDPOINT_URL, S3_REGION, S3_PREFIX; credentials the usual boto3 way). Each setting is
    checked; StorageSettingsError names the first that cannot work. Contacts no server."""
    config = current_app.config if config is None else config
    kind = _setting(config, "PHOTO_STORAGE", "local").lower()
    if kind == "local":
        return _local(config)
    if kind == "s3":
        return _s3(config)
    _refuse(f"PHOTO_STORAGE must be 'local' or 's3', not {kind!r}")


def _local(config: Mapping) -> LocalStorage:
    raw = str(config.get("UPLOAD_DIR") or "").strip()
    if not raw:
        _refuse("UPLOAD_DIR is empty; it names the folder photos are kept in")
    root = Path(raw)
    unusable = f"UPLOAD_DIR {str(root)!r} is not a folder this app can write to"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file of that name
        _refuse(unusable)
    except OSError as exc:
        _refuse(f"UPLOAD_DIR {str(root)!r} cannot be made: {exc.strerror or exc}")
    if not os.access(root, os.W_OK | os.X_OK):
        _refuse(unusable)
    return LocalStorage(root)


def _s3(config: Mapping) -> S3Storage:
    bucket = _setting(config, "S3_BUCKET")
    if not bucket:
        _refuse("PHOTO_STORAGE=s3 needs S3_BUCKET, the bucket's name")
    if not _BUCKET.match(bucket) or ".." in bucket:
        _refuse(f"S3_BUCKET must be a bucket's name (3 to 63 lowercase letters, digits, dots and hyphens), "
                f"not {bucket!r}; a folder inside the bucket goes in S3_PREFIX, the server in S3_ENDPOINT_URL")
    endpoint = _setting(config, "S3_ENDPOINT_URL")
    if endpoint:
        try:
            url = urlsplit(endpoint)
            url.port  # noqa: B018 — raises ValueError for a port that is not one
        except ValueError:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            _refuse(f"S3_ENDPOINT_URL must be the server's address, like http://127.0.0.1:9000 or "
                    f"https://s3.example.com, not {endpoint!r}")
        if url.username or url.password:
            _refuse("S3_ENDPOINT_URL must not carry credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    region = _setting(config, "S3_REGION")
    if region and not _REGION.match(region):
        _refuse(f"S3_REGION must be a region's name like us-east-1 or cn-north-1, not {region!r}")
    prefix = _setting(config, "S3_PREFIX").strip("/")
    if prefix and not all(_SEGMENT.match(p) and p not in (".", "..") for p in prefix.split("/")):
        _refuse(f"S3_PREFIX must be a folder path of letters, digits, '.', '_' and '-', not {prefix!r}")
    try:  # only a deployment that asks for S3 needs boto3
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError
    except ImportError:
        _refuse("PHOTO_STORAGE=s3 needs boto3 (pip install -r requirements.lock)")
    try:
        session = boto3.session.Session(region_name=region or None)
        # From the environment, the AWS files or the instance's role; read here once, not per request.
        if session.get_credentials() is None:
            _refuse("PHOTO_STORAGE=s3 found no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                    "(or AWS_PROFILE, or give the server a role)")
        # Other S3-compatible servers (OSS, COS, older MinIO) may refuse the checksums boto3 adds by
        # default; with an endpoint of its own, send them only where S3 requires them.
        checksums = {"request_checksum_calculation": "when_required",
                     "response_checksum_validation": "when_required"} if endpoint else {}
        client = session.client("s3", endpoint_url=endpoint or None, config=Config(
            connect_timeout=5, retries={"mode": "standard", "max_attempts": 3}, **checksums))
    except (BotoCoreError, ValueError) as exc:
        _refuse(f"PHOTO_STORAGE=s3 settings do not work: {exc}")
    return S3Storage(client, bucket, prefix)


def install(app) -> None:
    """Read and check the storage settings when the app starts (create_app), and keep the storage."""
    app.extensions["photo_storage"] = make_storage(app.config)


def storage() -> Storage:
    """The app's photo storage (made at start-up; made here if a test took it away)."""
    ext = current_app.extensions
    if "photo_storage" not in ext:
        ext["photo_storage"] = make_storage()
    return ext["photo_storage"]
