"""Where photo bytes live: one small interface, local files by default, S3-compatible by configuration.

    put(key, data, content_type) -> bool   durable when it returns; False if the key was there already
    open(key) -> binary file object         for serving through a scoped view
    exists(key) -> bool
    discard(key)                            only to undo the writes of an ingest that failed

Keys are relative paths ("originals/ab/abcd….jpg"). Nothing here is reachable by URL:
every byte is served by a view that checks scope first."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import IO, Protocol

from flask import current_app

_KEY = re.compile(r"^[a-z0-9]+(/[A-Za-z0-9._-]+)+$")


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> bool: ...
    def open(self, key: str) -> IO[bytes]: ...
    def exists(self, key: str) -> bool: ...
    def discard(self, key: str) -> None: ...


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
