"""Photo storage: durable local files, and the same interface over S3 (a fake client, no network)."""
import io
import os
from datetime import datetime, timedelta, timezone

import pytest

from field.photos.storage import LocalStorage, S3Storage, make_storage, sweep_orphans


def test_local_put_is_atomic_and_leaves_no_temporary_file(tmp_path):
    store = LocalStorage(tmp_path)
    assert store.put("originals/ab/abc.jpg", b"bytes", "image/jpeg") is True
    assert store.exists("originals/ab/abc.jpg") and store.open("originals/ab/abc.jpg").read() == b"bytes"
    assert [p.name for p in (tmp_path / "originals" / "ab").iterdir()] == ["abc.jpg"]
    # Content-addressed: the same key again writes nothing and says so.
    assert store.put("originals/ab/abc.jpg", b"bytes", "image/jpeg") is False
    store.discard("originals/ab/abc.jpg")
    assert not store.exists("originals/ab/abc.jpg")
    store.discard("originals/ab/abc.jpg")  # discarding twice is harmless


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "originals/../../x", "originals", "a b/c", ""])
def test_keys_cannot_leave_the_storage_root(tmp_path, key):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).put(key, b"x", "image/jpeg")


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    store = LocalStorage(tmp_path)

    def broken_fsync(fd):
        raise OSError("disk full")
    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError):
        store.put("display/2026/11/x.jpg", b"data", "image/jpeg")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


class ClientError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class FakeS3:
    """The four calls S3Storage makes, as boto3's client answers them."""

    def __init__(self, page_size=1000):
        self.objects, self.calls, self.page_size, self.modified = {}, [], page_size, {}

    def put_object(self, Bucket, Key, Body, ContentType):
        self.calls.append(("put", Bucket, Key, ContentType))
        self.objects[(Bucket, Key)] = bytes(Body)
        self.modified[(Bucket, Key)] = datetime.now(timezone.utc)

    def list_objects_v2(self, Bucket, Prefix, ContinuationToken=None):
        keys = sorted(k for b, k in self.objects if b == Bucket and k.startswith(Prefix))
        start = int(ContinuationToken or 0)
        page = keys[start:start + self.page_size]
        more = start + self.page_size < len(keys)
        return {"Contents": [{"Key": k, "Size": len(self.objects[(Bucket, k)]),
                              "LastModified": self.modified[(Bucket, k)]} for k in page],
                "IsTruncated": more, **({"NextContinuationToken": str(start + self.page_size)} if more else {})}

    def head_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise ClientError("404")
        return {"ContentLength": len(self.objects[(Bucket, Key)])}

    def get_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise ClientError("NoSuchKey")
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def delete_object(self, Bucket, Key):
        self.calls.append(("delete", Bucket, Key))
        self.objects.pop((Bucket, Key), None)


def test_s3_storage_puts_under_its_prefix_and_reads_back():
    client = FakeS3()
    store = S3Storage(client, "evidence", prefix="field/")
    assert store.put("originals/ab/abc.jpg", b"photo", "image/jpeg") is True
    assert client.calls == [("put", "evidence", "field/originals/ab/abc.jpg", "image/jpeg")]
    assert store.exists("originals/ab/abc.jpg") and store.open("originals/ab/abc.jpg").read() == b"photo"
    assert store.put("originals/ab/abc.jpg", b"photo", "image/jpeg") is False
    store.discard("originals/ab/abc.jpg")
    assert not store.exists("originals/ab/abc.jpg")


def test_s3_errors_other_than_not_found_are_raised():
    class Denied(FakeS3):
        def head_object(self, Bucket, Key):
            raise ClientError("403")
    with pytest.raises(ClientError):
        S3Storage(Denied(), "evidence").exists("originals/ab/abc.jpg")


def test_storage_is_chosen_by_configuration(app, monkeypatch):
    assert isinstance(make_storage(), LocalStorage)
    monkeypatch.setitem(app.config, "PHOTO_STORAGE", "ftp")
    with pytest.raises(RuntimeError):
        make_storage()
    monkeypatch.setitem(app.config, "PHOTO_STORAGE", "s3")
    monkeypatch.delenv("S3_BUCKET", raising=False)
    with pytest.raises(RuntimeError, match="S3_BUCKET"):
        make_storage()


HOUR = timedelta(hours=1)


def test_the_sweep_removes_old_files_no_row_refers_to_and_nothing_else(tmp_path):
    store = LocalStorage(tmp_path)
    for key in ("originals/ab/used.jpg", "display/2026/01/used.jpg", "originals/ab/stray.jpg",
                "thumbs/2026/01/stray.jpg", "display/2026/01/fresh.jpg"):
        store.put(key, b"12345", "image/jpeg")
    (tmp_path / "thumbs/2026/01/.x.jpg.0af.tmp").write_bytes(b"half")  # a write a killed worker left
    (tmp_path / "elsewhere.txt").write_bytes(b"not ours")
    two_hours_ago = (datetime.now(timezone.utc) - 2 * HOUR).timestamp()
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "fresh.jpg":
            os.utime(path, (two_hours_ago, two_hours_ago))
    used = {"originals/ab/used.jpg", "display/2026/01/used.jpg"}
    asked = []

    def in_use(keys):
        asked.append(set(keys))
        return keys & used
    stale = {"originals/ab/stray.jpg", "thumbs/2026/01/stray.jpg", "thumbs/2026/01/.x.jpg.0af.tmp"}
    assert {f.key for f in sweep_orphans(store, in_use, HOUR, dry_run=True, batch=2)} == stale
    assert all(len(a) <= 2 for a in asked) and all(store.exists(k) for k in stale)  # asked in batches
    removed = sweep_orphans(store, in_use, HOUR)
    assert {f.key for f in removed} == stale and sum(f.size for f in removed) == 14
    assert not any(store.exists(k) for k in stale)
    assert all(store.exists(k) for k in used | {"display/2026/01/fresh.jpg"})
    assert (tmp_path / "elsewhere.txt").exists()


def test_s3_lists_under_its_prefix_page_by_page_for_the_sweep():
    client = FakeS3(page_size=2)
    store = S3Storage(client, "evidence", prefix="field/")
    for key in ("originals/ab/a.jpg", "originals/ab/b.jpg", "originals/cd/c.jpg", "thumbs/x/t.jpg"):
        store.put(key, b"abc", "image/jpeg")
    client.objects[("evidence", "other/originals/z.jpg")] = b"not ours"
    client.modified[("evidence", "other/originals/z.jpg")] = datetime.now(timezone.utc)
    listed = list(store.listing("originals"))
    assert [f.key for f in listed] == ["originals/ab/a.jpg", "originals/ab/b.jpg", "originals/cd/c.jpg"]
    assert all(f.size == 3 and f.modified.tzinfo is not None for f in listed)
    for k in client.modified:
        client.modified[k] -= 2 * HOUR
    removed = sweep_orphans(store, lambda keys: keys & {"originals/ab/a.jpg"}, HOUR)
    assert {f.key for f in removed} == {"originals/ab/b.jpg", "originals/cd/c.jpg", "thumbs/x/t.jpg"}
    assert store.exists("originals/ab/a.jpg") and ("evidence", "other/originals/z.jpg") in client.objects
