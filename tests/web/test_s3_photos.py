"""Photos kept in S3: the app configured with PHOTO_STORAGE=s3 and an endpoint on loopback (moto's
server, tests/fixtures/s3.py) takes a rep's upload through the real route, keeps the original byte for
byte with its copies in the bucket and nothing on disk, serves the bytes back through the scoped views,
and sweeps the bucket's orphans. Credentials come from the environment, set for the test only."""
import io
import os

import pytest
from PIL import Image
from sqlalchemy import select

from field.extensions import db
from field.photos.models import Photo
from field.photos.storage import S3Storage, make_storage
from tests.conftest import login
from tests.fixtures import s3
from tests.fixtures.photos import visit_in_progress
from tests.web.test_photos import good_jpeg, post, stored_files

_AWS = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}


@pytest.fixture
def bucket(app, monkeypatch):
    """The app's photo storage switched to a fresh bucket on the loopback server, as its settings would
    make it at start-up; the settings, the credentials and the storage are put back after the test."""
    name = s3.new_bucket()
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3.REGION)
    for setting, value in {"PHOTO_STORAGE": "s3", "S3_BUCKET": name, "S3_ENDPOINT_URL": s3.endpoint(),
                           "S3_PREFIX": "field"}.items():
        monkeypatch.setitem(app.config, setting, value)
    monkeypatch.setitem(app.extensions, "photo_storage", make_storage(app.config))
    assert isinstance(app.extensions["photo_storage"], S3Storage)
    return name


def bucket_objects(name: str) -> dict[str, bytes]:
    client = s3.client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", [])]
    return {k: client.get_object(Bucket=name, Key=k)["Body"].read() for k in keys}


def test_a_photo_uploaded_by_a_rep_is_kept_in_s3_and_served_back_through_the_scoped_views(app, client, org, bucket):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    data = good_jpeg(seed=21, size=(1200, 900))
    on_disk = stored_files(app)
    r = post(client, visit, data)
    assert r.status_code == 201, r.get_data(as_text=True)
    photo = db.session.get(Photo, r.get_json()["id"])
    kept = bucket_objects(bucket)
    assert set(kept) == {f"field/{photo.original_key}", f"field/{photo.display_key}", f"field/{photo.thumb_key}"}
    assert kept[f"field/{photo.original_key}"] == data and photo.sha256 in photo.original_key
    assert stored_files(app) == on_disk  # nothing written to UPLOAD_DIR

    original = client.get(f"/photos/{photo.id}/original")
    assert original.status_code == 200 and original.get_data() == data
    assert original.headers["Content-Type"] == "image/jpeg" and "private" in original.headers["Cache-Control"]
    for view, key, longest in (("display.jpg", photo.display_key, 1600), ("thumb.jpg", photo.thumb_key, 320)):
        served = client.get(f"/photos/{photo.id}/{view}")
        assert served.status_code == 200 and served.get_data() == kept[f"field/{key}"]
        image = Image.open(io.BytesIO(served.get_data()))
        assert image.format == "JPEG" and max(image.size) <= longest

    # The same bytes again (another client id): the original is there already, still one object.
    again = post(client, visit, data)
    assert again.status_code == 201
    assert [k for k in bucket_objects(bucket) if k.startswith("field/originals/")] == [f"field/{photo.original_key}"]

    for outsider in (org.teammate, org.west_rep):  # out of scope: 404
        login(client, outsider)
        assert client.get(f"/photos/{photo.id}/original").status_code == 404


def test_photos_sweep_clears_the_buckets_orphans_and_keeps_every_photos_files(app, client, org, bucket, runner):
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    assert post(client, visit, good_jpeg(seed=22)).status_code == 201
    photo = db.session.execute(select(Photo)).scalar_one()
    client_s3 = s3.client()
    for key, size in (("display/2026/01/killed.jpg", 700), ("thumbs/2026/01/killed.jpg", 300)):
        client_s3.put_object(Bucket=bucket, Key=f"field/{key}", Body=b"x" * size)  # a killed worker's copies
    for key in bucket_objects(bucket):
        s3.backdate(bucket, key, 2)  # the photo's files are as old: age alone never removes them

    swept = runner.invoke(args=["photos-sweep"])
    assert swept.exit_code == 0, swept.output
    assert "Removed 2 orphan files, 1000 bytes." in swept.output
    assert set(bucket_objects(bucket)) == {f"field/{photo.original_key}", f"field/{photo.display_key}",
                                           f"field/{photo.thumb_key}"}


def test_the_s3_settings_and_credentials_stay_inside_their_tests(app):
    """Runs after the two above (file order): what their fixture set is undone."""
    assert app.config.get("PHOTO_STORAGE") in (None, "", "local") and "S3_BUCKET" not in app.config
    assert {k: os.environ.get(k) for k in _AWS} == _AWS
    assert not isinstance(app.extensions.get("photo_storage"), S3Storage)
