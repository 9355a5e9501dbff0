"""Photo storage: durable local files, and the same interface over S3 (a fake client, no network)."""
import io

import pytest

from field.photos.storage import LocalStorage, S3Storage, make_storage


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

    def __init__(self):
        self.objects, self.calls = {}, []

    def put_object(self, Bucket, Key, Body, ContentType):
        self.calls.append(("put", Bucket, Key, ContentType))
        self.objects[(Bucket, Key)] = bytes(Body)

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
