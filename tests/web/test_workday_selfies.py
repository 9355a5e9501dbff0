"""The optional selfie at the start and the end of the day (issue 16), through the photo pipeline: stored with the
day, shown on the day's timeline to the rep and their supervisor (not to another team's), sent again by the outbox
as the same photo, and a bad file refuses the start with nothing written or stored."""
import io
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from field.core import set_clock
from field.extensions import db
from field.photos.models import OwnPhoto
from field.workday.models import Workday
from tests.conftest import login
from tests.factories import count_rows, stored_files
from tests.fixtures import photos as samples

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
HOME = {"lat": "31.2304", "lng": "121.4737", "accuracy": "12"}


@pytest.fixture(autouse=True)
def clock():
    moment = {"at": NOW}
    set_clock(lambda: moment["at"])
    yield moment
    set_clock(None)


def tap(client, url, selfie: bytes | None, client_id=None, headers=None):
    data = {"client_id": client_id or str(uuid.uuid4()), **HOME}
    if selfie is not None:
        data["selfie"] = (io.BytesIO(selfie), "me.jpg")
    return client.post(url, data=data, content_type="multipart/form-data", headers=headers or {})


def test_selfies_at_start_and_end_show_on_the_timeline_to_the_rep_and_their_supervisor(client, org, clock):
    login(client, org.rep)
    assert 'name="selfie"' in client.get(f"/reps/{org.rep.id}/workday").get_data(as_text=True)
    key = str(uuid.uuid4())
    assert tap(client, "/workday/start", samples.jpeg(31), key).status_code == 303
    # The outbox sends the tap again: the same day, the same photo.
    assert tap(client, "/workday/start", samples.jpeg(31), key, {"X-Field-Replay": "1"}).status_code == 303
    assert count_rows(Workday) == 1 and count_rows(OwnPhoto) == 1
    clock["at"] = NOW + timedelta(hours=9)
    assert tap(client, "/workday/end", samples.jpeg(32)).status_code == 303
    w = db.session.execute(select(Workday)).scalar_one()
    start, end = db.session.get(OwnPhoto, w.start_photo_id), db.session.get(OwnPhoto, w.end_photo_id)
    assert (start.purpose, end.purpose, start.rep_id) == ("selfie", "selfie", org.rep.id)
    assert {start.original_key, start.display_key, start.thumb_key, end.thumb_key} <= stored_files()
    page = client.get(f"/reps/{org.rep.id}/workday").get_data(as_text=True)
    assert f"/own-photos/{start.id}/thumb.jpg" in page and f"/own-photos/{end.id}/thumb.jpg" in page
    assert client.get(f"/own-photos/{start.id}/thumb.jpg").status_code == 200

    login(client, org.supervisor)
    page = client.get(f"/reps/{org.rep.id}/workday?date=2026-12-07").get_data(as_text=True)
    assert f"/own-photos/{start.id}/thumb.jpg" in page
    assert client.get(f"/own-photos/{start.id}/display.jpg").status_code == 200
    for outsider in (org.west_supervisor, org.teammate):
        login(client, outsider)
        assert client.get(f"/own-photos/{start.id}/thumb.jpg").status_code == 404
        assert client.get(f"/reps/{org.rep.id}/workday").status_code == 404


def test_a_start_without_a_selfie_has_none(client, org):
    login(client, org.rep)
    assert tap(client, "/workday/start", None).status_code == 303
    w = db.session.execute(select(Workday)).scalar_one()
    assert w.start_photo_id is None and count_rows(OwnPhoto) == 0
    assert "data-selfie" not in client.get(f"/reps/{org.rep.id}/workday").get_data(as_text=True)


@pytest.mark.parametrize("data", [b"not a picture" * 20, b"\xff\xd8\xff\xe0" + b"\0" * 200])
def test_a_bad_selfie_refuses_the_start_with_nothing_written_or_stored(client, org, data):
    login(client, org.rep)
    before = stored_files()
    r = tap(client, "/workday/start", data)
    assert 400 <= r.status_code < 500
    assert count_rows(Workday) == 0 and count_rows(OwnPhoto) == 0 and stored_files() == before
    r = tap(client, "/workday/start", data, headers={"X-Field-Replay": "1"})
    assert 400 <= r.status_code < 500 and r.get_json()["error"]


def test_a_selfie_needs_csrf_like_the_start(client, org):
    login(client, org.rep)
    r = client.post("/workday/start", data={"client_id": str(uuid.uuid4()), "selfie": (io.BytesIO(samples.jpeg(33)),
                                                                                        "me.jpg")},
                    content_type="multipart/form-data", csrf=False)
    assert r.status_code == 400 and count_rows(Workday) == 0 and count_rows(OwnPhoto) == 0
