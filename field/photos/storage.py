"""Where photo bytes live: one small interface, local files by default, S3-compatible by configuration.

    put(key, data, content_type) -> bool   durable when it returns; False if the key was there already
    open(key) -> binary file object         for serving through a scoped view
    exists(key) -> bool
    discard(key)                            only to undo the writes of an ingest that failed, or to
                                            sweep a file no photo refers to (sweep_orphans)
    listing(top) -> Stored…                 the files under a top folder ("originals", …), for the sweep

Keys are relative paths ("originals/ab/abcd….jpg"). Nothing here is reachable by URL:
every byte is served by a view that checks scope first."""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Protocol

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


def _check(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under a directory (UPLOAD_DIR, in instance/ by default).

    A write goes to a temporary file in the same directory, is fsynced, renamed over
    the key and the directory fsynced: after put() returns, a crash cannot lose it
    or leave half a file under the key."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / _check(key)

    def put(self, key: str, data: bytes, content_type: str) -> bool:
        path = self.path(key)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
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
                yield Stored(key, info.st_size, datetime.fromtimestamp(info.st_mtime, timezone.utc))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, OSS/COS in S3 mode) through a boto3 client.

    S3 acknowledges a PUT once the object is durably stored, so put() returning is the
    same promise as LocalStorage's fsync."""

    def __init__(self, client, bucket: str, prefix: str = ""):
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def _key(self, key: str) -> str:
        key = _check(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> bool:
        if self.exists(key):
            return False
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)
        return True

    def open(self, key: str) -> IO[bytes]:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:  # botocore's ClientError; not imported so boto3 stays optional
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def discard(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def listing(self, top: str) -> Iterator[Stored]:
        folder = self._key(top + "/x")[:-1]
        strip = len(self.prefix) + 1 if self.prefix else 0
        ask = {"Bucket": self.bucket, "Prefix": folder}
        while True:
            page = self.client.list_objects_v2(**ask)
            for obj in page.get("Contents", []):
                key = obj["Key"][strip:]
                if _KEY.match(key):
                    yield Stored(key, int(obj["Size"]), obj["LastModified"].astimezone(timezone.utc))
            if not page.get("IsTruncated"):
                return
            ask["ContinuationToken"] = page["NextContinuationToken"]


def sweep_orphans(store: Storage, in_use: Callable[[set[str]], set[str]], older_than: timedelta,
                  dry_run: bool = False, batch: int = 500) -> list[Stored]:
    """Remove the stored files no photo refers to that were last written before `older_than` ago
    (a killed worker's display copies and thumbnails, a crashed write's temporary file); returns them.

    `in_use(keys)` answers which of `keys` a row refers to. It is asked after the listing, so a photo
    committed meanwhile keeps its files; a file younger than the limit may belong to an ingest still
    running (its row not yet committed) and is left alone. Ages are by the wall clock, which wrote
    the files' times, not by the app's clock (which a demo may wind)."""
    limit = datetime.now(timezone.utc) - older_than
    old = [f for top in TOPS for f in store.listing(top) if f.modified < limit]
    orphans = []
    for i in range(0, len(old), batch):
        chunk = old[i:i + batch]
        used = in_use({f.key for f in chunk})
        orphans += [f for f in chunk if f.key not in used]
    if not dry_run:
        for f in orphans:
            store.discard(f.key)
    return orphans


def _setting(name: str, default: str = "") -> str:
    return str(current_app.config.get(name) or os.environ.get(name) or default)


def make_storage() -> Storage:
    """The storage this app is configured for: PHOTO_STORAGE=local (default) or s3."""
    kind = _setting("PHOTO_STORAGE", "local").lower()
    if kind == "s3":
        import boto3  # only a deployment that asks for S3 needs boto3

        bucket = _setting("S3_BUCKET")
        if not bucket:
            raise RuntimeError("PHOTO_STORAGE=s3 needs S3_BUCKET")
        client = boto3.client("s3", endpoint_url=_setting("S3_ENDPOINT_URL") or None,
                              region_name=_setting("S3_REGION") or None)
        return S3Storage(client, bucket, _setting("S3_PREFIX"))
    if kind != "local":
        raise RuntimeError(f"PHOTO_STORAGE must be 'local' or 's3', not {kind!r}")
    return LocalStorage(current_app.config["UPLOAD_DIR"])


def storage() -> Storage:
    """The app's photo storage, made once per app."""
    ext = current_app.extensions
    if "photo_storage" not in ext:
        ext["photo_storage"] = make_storage()
    return ext["photo_storage"]
