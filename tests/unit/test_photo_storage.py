"""Photo storage: durable local files, and the same interface over a real S3 API (moto's server on
loopback, tests/fixtures/s3.py); the settings checked at start-up; the orphan sweep and its race with
an upload of the same bytes."""
import os
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from field import create_app
from field.photos import storage as storage_module
from field.photos.storage import (LocalStorage, S3Storage, StorageSettingsError, make_storage,
                                  sweep_orphans)
from tests.fixtures import s3


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


def _age(path, hours: float) -> None:
    moment = (datetime.now(timezone.utc) - timedelta(hours=hours)).timestamp()
    os.utime(path, (moment, moment))


def _fresh(moment: datetime, seconds: float = 5) -> bool:
    return abs((datetime.now(timezone.utc) - moment).total_seconds()) < seconds


def test_local_put_of_an_existing_key_refreshes_its_time_and_keeps_its_bytes(tmp_path):
    store = LocalStorage(tmp_path)
    store.put("originals/ab/abc.jpg", b"bytes", "image/jpeg")
    _age(tmp_path / "originals/ab/abc.jpg", 2)
    assert store.put("originals/ab/abc.jpg", b"bytes", "image/jpeg") is False
    [stored] = store.listing("originals")
    assert _fresh(stored.modified) and store.open("originals/ab/abc.jpg").read() == b"bytes"


def test_of_two_local_writers_of_one_key_only_the_first_is_told_it_created_it(tmp_path, monkeypatch):
    """The second writer looked before the first one's file landed: its link finds the key taken."""
    store = LocalStorage(tmp_path)
    store.put("originals/ab/abc.jpg", b"first", "image/jpeg")
    monkeypatch.setattr(storage_module, "_touch", lambda path, real=storage_module._touch: False)
    assert store.put("originals/ab/abc.jpg", b"second", "image/jpeg") is False
    assert store.open("originals/ab/abc.jpg").read() == b"first"
    assert [p.name for p in (tmp_path / "originals/ab").iterdir()] == ["abc.jpg"]  # no temporary file left


# --- S3, against moto's server on loopback ------------------------------------------------------------

@pytest.fixture
def bucket():
    return s3.new_bucket()


def objects(bucket: str) -> dict[str, bytes]:
    client = s3.client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def test_s3_storage_puts_under_its_prefix_and_reads_back(bucket):
    store = S3Storage(s3.client(), bucket, prefix="/field/")
    assert not store.exists("originals/ab/abc.jpg")
    assert store.put("originals/ab/abc.jpg", b"photo", "image/jpeg") is True
    assert objects(bucket) == {"field/originals/ab/abc.jpg": b"photo"}
    head = s3.client().head_object(Bucket=bucket, Key="field/originals/ab/abc.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert store.exists("originals/ab/abc.jpg") and store.open("originals/ab/abc.jpg").read() == b"photo"
    store.discard("originals/ab/abc.jpg")
    assert not store.exists("originals/ab/abc.jpg") and objects(bucket) == {}
    store.discard("originals/ab/abc.jpg")  # discarding twice is harmless
    with pytest.raises(FileNotFoundError):  # a missing object reads as a missing file does
        store.open("originals/ab/abc.jpg")
    with pytest.raises(ValueError):
        store.put("../outside.jpg", b"x", "image/jpeg")


def test_s3_put_of_an_existing_key_is_false_and_refreshes_its_time(bucket):
    store = S3Storage(s3.client(), bucket)
    assert store.put("originals/ab/abc.jpg", b"photo", "image/png") is True
    s3.backdate(bucket, "originals/ab/abc.jpg", 2)
    [before] = store.listing("originals")
    assert not _fresh(before.modified, 3600)
    assert store.put("originals/ab/abc.jpg", b"photo", "image/png") is False
    [after] = store.listing("originals")
    assert _fresh(after.modified) and after.size == 5
    head = s3.client().head_object(Bucket=bucket, Key="originals/ab/abc.jpg")
    assert head["ContentType"] == "image/png" and objects(bucket) == {"originals/ab/abc.jpg": b"photo"}


def test_of_two_s3_writers_of_one_key_only_the_first_is_told_it_created_it(bucket):
    """The second writer's HEAD came before the first one's PUT landed: its conditional PUT is refused."""
    store = S3Storage(s3.client(), bucket)
    store.put("originals/ab/abc.jpg", b"first", "image/jpeg")
    late = S3Storage(s3.client(), bucket)
    late.exists = lambda key: False
    assert late.put("originals/ab/abc.jpg", b"second", "image/jpeg") is False
    assert objects(bucket) == {"originals/ab/abc.jpg": b"first"}


def test_s3_errors_other_than_not_found_are_raised(bucket):
    store = S3Storage(s3.client(), "no-such-bucket-" + bucket[-12:])
    with pytest.raises(ClientError) as raised:
        store.put("originals/ab/abc.jpg", b"photo", "image/jpeg")
    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(ClientError):
        list(store.listing("originals"))


def test_s3_lists_under_its_prefix_page_by_page(bucket):
    store = S3Storage(s3.client(), bucket, prefix="field", page_size=3)
    keys = [f"originals/{i:02x}/{i:064x}.jpg" for i in range(10)]
    for key in keys + ["thumbs/2026/01/t.jpg", "display/2026/01/d.jpg"]:
        store.put(key, b"abc", "image/jpeg")
    client = s3.client()
    client.put_object(Bucket=bucket, Key="other/originals/z.jpg", Body=b"not ours")      # outside the prefix
    client.put_object(Bucket=bucket, Key="field/originals/ab/a b.jpg", Body=b"not ours")  # not a name we write
    client.put_object(Bucket=bucket, Key="fieldx/originals/ab/c.jpg", Body=b"not ours")   # a prefix's neighbour
    pages = []
    real = client.list_objects_v2
    store.client = type("Counting", (), {"list_objects_v2": lambda self, **kw: pages.append(kw) or real(**kw)})()
    listed = list(store.listing("originals"))
    assert [f.key for f in listed] == keys
    assert all(f.size == 3 and _fresh(f.modified) and f.modified.tzinfo is not None for f in listed)
    assert len(pages) == 4 and all(p["MaxKeys"] == 3 for p in pages)  # 10 files + 1 not ours, by 3


# --- the settings, checked at start-up ------------------------------------------------------------------

@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    """No AWS setting from the machine or the environment reaches the test (nor the instance metadata)."""
    for name in ("PHOTO_STORAGE", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_PREFIX", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                 "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


@pytest.fixture
def with_keys(no_aws, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return no_aws


def s3_settings(**settings) -> dict:
    return {"UPLOAD_DIR": "/unused", "PHOTO_STORAGE": "s3", "S3_BUCKET": "evidence", **settings}


def test_local_storage_needs_no_setting(no_aws):
    store = make_storage({"UPLOAD_DIR": str(no_aws / "uploads")})
    assert isinstance(store, LocalStorage) and (no_aws / "uploads").is_dir()


def test_s3_settings_of_the_right_shape_make_a_client_and_contact_no_server(with_keys):
    # Nothing listens on port 9 (discard): a start-up that asked the server would fail.
    store = make_storage(s3_settings(PHOTO_STORAGE=" S3 ", S3_ENDPOINT_URL="http://127.0.0.1:9",
                                     S3_REGION="cn-north-1", S3_PREFIX="/field/evidence/"))
    assert isinstance(store, S3Storage) and (store.bucket, store.prefix) == ("evidence", "field/evidence")
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9" and store.client.meta.region_name == "cn-north-1"


@pytest.mark.parametrize("settings, message", [
    ({"PHOTO_STORAGE": "ftp"}, "PHOTO_STORAGE must be 'local' or 's3', not 'ftp'"),
    ({"S3_BUCKET": ""}, "PHOTO_STORAGE=s3 needs S3_BUCKET"),
    ({"S3_BUCKET": "s3://evidence"}, "S3_BUCKET must be a bucket's name"),
    ({"S3_BUCKET": "evidence/field"}, "a folder inside the bucket goes in S3_PREFIX"),
    ({"S3_BUCKET": "Evidence"}, "S3_BUCKET must be a bucket's name"),
    ({"S3_BUCKET": "ev"}, "S3_BUCKET must be a bucket's name"),
    ({"S3_ENDPOINT_URL": "127.0.0.1:9000"}, "S3_ENDPOINT_URL must be the server's address"),
    ({"S3_ENDPOINT_URL": "ftp://minio:9000"}, "S3_ENDPOINT_URL must be the server's address"),
    ({"S3_ENDPOINT_URL": "http://minio:90000"}, "S3_ENDPOINT_URL must be the server's address"),
    ({"S3_ENDPOINT_URL": "http://minio:9000/?x=1"}, "S3_ENDPOINT_URL must be the server's address"),
    ({"S3_ENDPOINT_URL": "http://key:secret@minio:9000"}, "must not carry credentials"),
    ({"S3_REGION": "US East"}, "S3_REGION must be a region's name"),
    ({"S3_PREFIX": "field/../other"}, "S3_PREFIX must be a folder path"),
    ({"S3_PREFIX": "field evidence"}, "S3_PREFIX must be a folder path"),
])
def test_s3_settings_that_cannot_work_are_named(with_keys, settings, message):
    with pytest.raises(StorageSettingsError) as refused:
        make_storage(s3_settings(**settings))
    assert str(refused.value).startswith("field: ") and message in str(refused.value)


def test_s3_without_credentials_or_with_half_of_them_is_refused(no_aws, monkeypatch):
    with pytest.raises(StorageSettingsError, match="found no credentials"):
        make_storage(s3_settings())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    with pytest.raises(StorageSettingsError, match="settings do not work: .*AWS_SECRET_ACCESS_KEY|secret"):
        make_storage(s3_settings())


def test_an_upload_dir_that_cannot_be_written_is_refused(no_aws):
    (no_aws / "a-file").write_text("not a folder")
    with pytest.raises(StorageSettingsError, match="UPLOAD_DIR .* cannot be made"):
        make_storage({"UPLOAD_DIR": str(no_aws / "a-file" / "uploads")})
    with pytest.raises(StorageSettingsError, match="UPLOAD_DIR .* is not a folder"):
        make_storage({"UPLOAD_DIR": str(no_aws / "a-file")})


def test_the_app_does_not_start_with_a_bad_storage_setting(app, no_aws, monkeypatch):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    monkeypatch.setenv("PHOTO_STORAGE", "s4")
    with pytest.raises(StorageSettingsError, match="PHOTO_STORAGE must be 'local' or 's3', not 's4'"):
        create_app({"SQLALCHEMY_DATABASE_URI": url})
    monkeypatch.setenv("PHOTO_STORAGE", "s3")
    with pytest.raises(StorageSettingsError, match="needs S3_BUCKET"):
        create_app({"SQLALCHEMY_DATABASE_URI": url})


def test_the_app_starts_with_its_storage_made_once(app, no_aws):
    started = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "UPLOAD_DIR": str(no_aws / "uploads")})
    store = started.extensions["photo_storage"]
    assert isinstance(store, LocalStorage) and store.root == no_aws / "uploads"
    with started.app_context():
        assert storage_module.storage() is store


def test_storage_is_chosen_by_the_app_configuration(app, monkeypatch):
    assert isinstance(make_storage(), LocalStorage)
    monkeypatch.setitem(app.config, "PHOTO_STORAGE", "ftp")
    with pytest.raises(RuntimeError):
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



# --- the sweep over S3, and its race with an upload of the same bytes -------------------------------

@pytest.fixture(params=["local", "s3"])
def aged_store(request, tmp_path):
    """(store, age): a storage of either kind and how to make one of its files look `hours` old."""
    if request.param == "local":
        return LocalStorage(tmp_path), lambda key, hours: _age(tmp_path / key, hours)
    bucket = s3.new_bucket()
    return S3Storage(s3.client(), bucket, prefix="field"), lambda key, hours: s3.backdate(bucket, "field/" + key, hours)


def test_the_sweep_over_s3_removes_old_unused_files_only(bucket):
    store = S3Storage(s3.client(), bucket, prefix="field", page_size=2)
    for key in ("originals/ab/used.jpg", "originals/ab/stray.jpg", "originals/cd/stray.jpg", "thumbs/2026/01/stray.jpg",
                "display/2026/01/fresh.jpg"):
        store.put(key, b"12345", "image/jpeg")
        if "fresh" not in key:
            s3.backdate(bucket, "field/" + key, 2)
    s3.client().put_object(Bucket=bucket, Key="other/originals/ab/z.jpg", Body=b"not ours")
    s3.backdate(bucket, "other/originals/ab/z.jpg", 2)
    stale = {"originals/ab/stray.jpg", "originals/cd/stray.jpg", "thumbs/2026/01/stray.jpg"}
    in_use = lambda keys: keys & {"originals/ab/used.jpg"}  # noqa: E731
    assert {f.key for f in sweep_orphans(store, in_use, HOUR, dry_run=True)} == stale
    assert len(objects(bucket)) == 6
    removed = sweep_orphans(store, in_use, HOUR)
    assert {f.key for f in removed} == stale and all(f.size == 5 for f in removed)
    assert set(objects(bucket)) == {"field/originals/ab/used.jpg", "field/display/2026/01/fresh.jpg",
                                    "other/originals/ab/z.jpg"}


ORIGINAL = "originals/ab/" + "ab" * 32 + ".jpg"


def _reupload(store, rows: set):
    """An ingest of the same bytes: its original found there (put() is False), then its row committed."""
    def run():
        assert store.put(ORIGINAL, b"the photo", "image/jpeg") is False
        rows.add(ORIGINAL)
    return run


def _orphaned_original(store, age) -> set:
    store.put(ORIGINAL, b"the photo", "image/jpeg")  # written by an ingest whose worker was killed: no row
    age(ORIGINAL, 2)
    return set()


def test_a_reupload_committed_between_the_sweeps_listing_and_its_removal_keeps_its_original(aged_store):
    """The racy order: listed old, found unused; the re-upload puts and commits; then the sweep's turn."""
    store, age = aged_store
    rows = _orphaned_original(store, age)
    reupload, asked = _reupload(store, rows), []

    def in_use(keys):
        answer = keys & rows
        asked.append((set(keys), set(answer)))
        if len(asked) == 1:
            reupload()  # lands after the first answer
        return answer
    assert sweep_orphans(store, in_use, HOUR) == []
    assert asked[0] == ({ORIGINAL}, set()) and asked[1] == ({ORIGINAL}, {ORIGINAL})  # asked again, seen in use
    assert store.exists(ORIGINAL) and store.open(ORIGINAL).read() == b"the photo"


def test_a_reupload_landing_after_the_second_look_keeps_its_original_by_its_fresh_time(aged_store):
    """The put refreshes the original's time; its row commits after the sweep's last question."""
    store, age = aged_store
    rows = _orphaned_original(store, age)
    reupload = _reupload(store, rows)
    racing = store.discard_if_older

    def discard_if_older(key, than):
        reupload()  # between the sweep's last look at the rows and its removal
        return racing(key, than)
    store.discard_if_older = discard_if_older
    assert sweep_orphans(store, lambda keys: keys & rows, HOUR) == []
    assert store.exists(ORIGINAL) and store.open(ORIGINAL).read() == b"the photo" and ORIGINAL in rows


def test_a_local_reupload_landing_while_the_sweep_holds_the_file_aside_writes_it_anew(tmp_path, monkeypatch):
    """LocalStorage renames the file aside before looking at its time: a put() then finds the key free."""
    store = LocalStorage(tmp_path)
    rows = _orphaned_original(store, lambda key, hours: _age(tmp_path / key, hours))
    rename = os.rename

    def rename_then_reupload(src, dst):
        rename(src, dst)
        if str(src).endswith(ORIGINAL):
            assert store.put(ORIGINAL, b"the photo", "image/jpeg") is True  # written anew, fresh
            rows.add(ORIGINAL)
    monkeypatch.setattr(storage_module.os, "rename", rename_then_reupload)
    removed = sweep_orphans(store, lambda keys: keys & rows, HOUR)
    assert [f.key for f in removed] == [ORIGINAL]  # the old copy went, the new one stays
    assert store.open(ORIGINAL).read() == b"the photo"
    assert [p.name for p in (tmp_path / "originals/ab").iterdir()] == [ORIGINAL.rsplit("/", 1)[1]]


def test_a_file_written_again_while_aside_is_put_back(tmp_path, monkeypatch):
    """The put refreshed the time just before the rename: the sweep sees a young file and restores it."""
    store = LocalStorage(tmp_path)
    _orphaned_original(store, lambda key, hours: _age(tmp_path / key, hours))
    rename = os.rename

    def touch_then_rename(src, dst):
        if str(src).endswith(ORIGINAL) and str(dst).endswith(".sweep"):
            assert store.put(ORIGINAL, b"the photo", "image/jpeg") is False
        rename(src, dst)
    monkeypatch.setattr(storage_module.os, "rename", touch_then_rename)
    assert sweep_orphans(store, lambda keys: set(), HOUR) == []
    assert store.open(ORIGINAL).read() == b"the photo"
    assert [p.name for p in (tmp_path / "originals/ab").iterdir()] == [ORIGINAL.rsplit("/", 1)[1]]


def test_a_server_that_does_not_know_conditional_puts_still_takes_the_photo(bucket):
    """Some S3-compatible servers answer 501 to If-None-Match: the PUT is made without it from then on."""
    client, sent = s3.client(), []
    real = client.put_object

    def put_object(**ask):
        sent.append("IfNoneMatch" in ask)
        if "IfNoneMatch" in ask:
            raise ClientError({"Error": {"Code": "NotImplemented"}}, "PutObject")
        return real(**ask)
    client.put_object = put_object
    store = S3Storage(client, bucket)
    assert store.put("originals/ab/a.jpg", b"a", "image/jpeg") and store.put("originals/ab/b.jpg", b"b", "image/jpeg")
    assert sent == [True, False, False] and objects(bucket) == {"originals/ab/a.jpg": b"a", "originals/ab/b.jpg": b"b"}
