"""flask seed-demo / logins / create-admin: the demo company a first run shows, and the admin a
production setup starts from.

The demo takes seconds to seed, so the tests that read it share one seeded database (they only
read it, or do what changes nothing); every other test starts on empty tables, as elsewhere."""
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from field import core, demo, scope
from field.activities.models import Activity, ActivityStatus, ActivityStore, Evidence, Review
from field.audit import AuditEvent
from field.auth.models import Region, Role, User
from field.claims.models import Claim, LedgerLine
from field.extensions import db, limiter
from field.geo import Point, distance_m, from_wgs84
from field.photos.models import Photo
from field.products.models import Product
from field.roi.models import RoiFigure, SalesDaily
from field.sales.models import Sale
from field.stores.models import TIERS, Channel, Store
from field.visits.models import Visit, VisitStatus
from tests.conftest import _empty_all_tables

_demo: dict = {}  # the seed-demo result the demo tests share, while its database stands


def count(stmt):
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


@pytest.fixture(autouse=True)
def ctx(app, request):
    """Like the suite's: an app context, on empty tables — except for the tests that read the demo."""
    with app.app_context():
        if "seeded" not in request.fixturenames:
            _empty_all_tables()
            _demo.clear()
        limiter.reset()
        yield
        db.session.remove()


@pytest.fixture
def seeded(runner):
    if "result" not in _demo or not demo.login_rows():
        _empty_all_tables()
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        _demo["result"] = result
    return _demo["result"]


def user(login: str) -> User:
    return db.session.scalar(select(User).where(User.login == login))


def in_city(store: Store) -> str | None:
    for city, (lat_min, lat_max, lng_min, lng_max) in demo.BOUNDS.items():
        if lat_min <= store.lat <= lat_max and lng_min <= store.lng <= lng_max:
            return city
    return None


def test_seed_builds_the_company_and_prints_every_login(seeded):
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {Role.ADMIN: 1, Role.MANAGER: 2, Role.SUPERVISOR: 4, Role.REP: 20, Role.DEALER: 1}
    assert count(select(Store)) == 600
    assert count(select(Product)) == 40
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    assert regions["CN"].parent is None
    assert {regions["EAST"].parent, regions["SW"].parent} == {regions["CN"]}
    for login in ["admin", "manager1", "manager2", "sup1", "sup4", "rep01", "rep20"]:
        assert login in seeded.output
    assert demo.PASSWORD in seeded.output
    assert "陈建国" in seeded.output  # names as the team knows them


def test_demo_users_sign_in_with_the_shared_password_in_chinese(seeded, client):
    rep = db.session.scalar(select(User).where(User.login == "rep01"))
    assert rep.check_password(demo.PASSWORD) and rep.locale == "zh_CN"
    assert rep.supervisor.login == "sup1"
    r = client.post("/login", data={"login": "manager2", "password": demo.PASSWORD})
    assert r.status_code == 302


def test_every_store_lies_in_shanghai_or_chengdu_and_in_its_reps_area(seeded):
    stores = db.session.scalars(select(Store)).all()
    for store in stores:
        city = in_city(store)
        assert city is not None, (store.code, store.lat, store.lng)
        assert store.code.startswith(city)
        assert store.address.startswith(demo.CITY_NAMES[city])
        rep = store.owner_rep
        assert rep.role == Role.REP
        assert any(store.region.path.startswith(r.path) for r in rep.regions), store.code
        assert store.tier in TIERS and store.channel in set(Channel)
    # The same rep's stores are all in one city: a territory, not a scatter.
    cities = {}
    for store in stores:
        cities.setdefault(store.owner_rep_id, set()).add(in_city(store))
    assert all(len(c) == 1 for c in cities.values()) and len(cities) == 20


def test_some_positions_came_from_chinese_maps_and_were_converted(seeded):
    datums = dict(db.session.execute(select(Store.datum, func.count()).group_by(Store.datum)).all())
    assert datums.get("gcj02", 0) > 50 and datums.get("wgs84", 0) > 300
    # What is stored is WGS-84, whatever it was given in: on a GCJ-02 map it sits hundreds of metres away.
    for store in db.session.scalars(select(Store).where(Store.datum != "wgs84").limit(20)):
        assert 300 < distance_m(store.point, Point(*from_wgs84(store.point, "gcj02"))) < 700


def test_a_believable_mix_of_tiers_channels_and_products(seeded):
    tiers = dict(db.session.execute(select(Store.tier, func.count()).group_by(Store.tier)).all())
    assert 0 < tiers["A"] < tiers["B"] < tiers["C"] < tiers["D"]
    channels = dict(db.session.execute(select(Store.channel, func.count()).group_by(Store.channel)).all())
    assert set(channels) >= {"ka", "supermarket", "convenience", "traditional", "catering"}
    assert channels["ka"] < channels["traditional"]
    assert count(select(Store.name).distinct()) == 600
    assert all(s.dealer for s in db.session.scalars(select(Store)))
    products = db.session.scalars(select(Product)).all()
    assert {p.category for p in products} == {"饮料", "零食", "乳品", "酒水", "日化"}
    assert all(p.unit_price > 0 and 0 < p.margin_pct < 100 for p in products)


def test_scope_follows_the_tree(seeded):
    assert count(scope.stores(user("admin"))) == 600
    assert count(scope.stores(user("manager1"))) == 300
    assert count(scope.stores(user("sup3"))) == 150
    assert count(scope.stores(user("rep07"))) == 30
    east = {s.id for s in db.session.scalars(scope.stores(user("manager1")))}
    west = {s.id for s in db.session.scalars(scope.stores(user("manager2")))}
    assert not east & west


def test_seed_is_deterministic_and_audited(seeded):
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "demo.seed"))
    details = event.details
    assert details.pop("visits") > 20 * 15  # four weeks of history for every rep
    assert details.pop("sales") > 20_000 and 80 <= details.pop("photos") <= 160
    assert details.pop("reviews") > 50 and details.pop("claims") >= 10 and details.pop("ledger_lines") >= 8
    assert details.pop("incentive_tasks") == 3 and details.pop("points_lines") > 0  # the incentives demo
    assert details.pop("competitor_sightings") > 50  # the promotion visits' competitor steps
    assert details.pop("dealer_orders") == 6  # field/demo/orders.py: dealer1's orders
    assert details.pop("workdays") > 20 * 10  # field/demo/workdays.py: most past weekdays of every rep
    assert details.pop("dealers") == 6  # issue 17: the six distributors as records
    assert details.pop("targets") == 4  # field/demo/targets.py: this month's target of each area
    assert details == {"regions": 7, "users": 27, "stores": 600, "products": 40, "activity_types": 5,
                       "activities": 13}
    area_ids = {r.code: r.id for r in db.session.scalars(select(Region))}
    rep_ids = {u.login: u.id for u in db.session.scalars(select(User))}
    stored = [(s.code, s.name, s.address, s.tier, s.owner_rep_id, pytest.approx(s.lat, abs=1e-7))
              for s in db.session.scalars(select(Store).order_by(Store.id))]
    for _ in range(2):  # every demo looks the same
        rows = demo.store_rows(area_ids, rep_ids)
        assert [(r["code"], r["name"], r["address"], r["tier"], r["owner_rep_id"], r["lat"]) for r in rows] == stored


def test_demo_has_the_built_in_visit_types_and_a_day_planned_for_every_rep(seeded):
    from field.visits.models import Visit, VisitStatus, VisitType
    assert count(select(VisitType)) == 8
    planned_reps = set(db.session.scalars(select(Visit.rep_id).where(Visit.status == VisitStatus.PLANNED)))
    assert len(planned_reps) == 20
    flagged = [v for v in db.session.scalars(select(Visit).where(Visit.status == VisitStatus.COMPLETED))
               if "outside_geofence" in v.flag_codes]
    assert flagged and all(f["reason"] for v in flagged for f in v.flags if f["code"] == "outside_geofence")


def test_second_run_adds_nothing_and_shows_the_logins_again(seeded, runner):
    tables = (User, Store, Product, Visit, Activity, Photo, Evidence, Review, Claim, LedgerLine, Sale, SalesDaily,
              AuditEvent)
    before = {t: count(select(t)) for t in tables}
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert "already seeded" in result.output and "rep20" in result.output
    assert count(select(User)) == 28 and count(select(Store)) == 600 and count(select(Product)) == 40
    assert count(select(AuditEvent).where(AuditEvent.action == "demo.seed")) == 1
    assert {t: count(select(t)) for t in tables} == before


def test_logins_prints_the_demo_logins(seeded, runner):
    result = runner.invoke(args=["logins"])
    assert result.exit_code == 0
    for login in demo.LOGINS:
        assert login in result.output


# --- the demo's promotions: what a manager, a supervisor and finance see on a first run ---------------

def page(client, login: str, url: str) -> str:
    client.login_as(user(login))
    response = client.get(url)
    assert response.status_code == 200, (login, url, response.status_code)
    return response.get_data(as_text=True)


ROI_ROW = re.compile(r'<tr class="([^"]*)" data-activity="(\d+)">(.*?)</tr>', re.S)


@pytest.mark.parametrize("login", ["manager1", "manager2"])
def test_the_managers_roi_page_measures_their_activities_and_one_lost_money(seeded, client, login):
    rows = ROI_ROW.findall(page(client, login, "/roi"))  # the default period: the last 90 days
    assert len(rows) >= 4
    rois = [re.search(r"data-roi>([^<]*)<", body).group(1).strip() for _class, _id, body in rows]
    assert all(re.fullmatch(r"−?[\d,]+\.\d\s?%", roi) for roi in rois), rois
    negative = [roi for (css, _id, _body), roi in zip(rows, rois) if "roi-negative" in css]
    assert negative and all(roi.startswith("−") for roi in negative)
    assert len(negative) < len(rows) / 2  # most activities earned their money back


def test_activities_in_every_state_applied_and_approved_by_the_right_people(seeded, client):
    activities = db.session.scalars(select(Activity).order_by(Activity.id)).all()
    statuses = [a.status for a in activities]
    assert 10 <= len(activities) <= 14
    assert statuses.count(ActivityStatus.DRAFT) == 1 and statuses.count(ActivityStatus.REJECTED) == 1
    assert 1 <= statuses.count(ActivityStatus.SUBMITTED) <= 2
    assert statuses.count(ActivityStatus.RUNNING) >= 2 and statuses.count(ActivityStatus.ENDED) >= 4
    for activity in activities:
        assert 5 <= len(activity.stores) <= 20
        assert activity.budget_total == sum(line.budget for line in activity.stores) > 0
        assert {line.store.region.parent.code for line in activity.stores} in ({"EAST"}, {"SW"})
        moves = [(t.from_status, t.to_status) for t in activity.transitions]
        times = [t.at for t in activity.transitions]
        assert times == sorted(times) and all(activity.created_at <= t for t in times)
        if activity.status in (ActivityStatus.RUNNING, ActivityStatus.ENDED):
            assert moves[:3] == [("draft", "submitted"), ("submitted", "approved"), ("approved", "running")]
            approver = activity.transitions[1].actor
            assert approver.id != activity.applicant_id and approver.role in (Role.MANAGER, Role.ADMIN)
            assert activity.transitions[2].actor is None  # started by its dates
    # Each manager has an application waiting for their decision.
    for login in ("manager1", "manager2"):
        assert page(client, login, "/activities/inbox").count("data-activity=") == 1


def test_every_supervisor_has_evidence_to_verify_with_the_flagged_first(seeded, client):
    flagged_first = 0
    for login in ("sup1", "sup2", "sup3", "sup4"):
        html = page(client, login, "/activities/queue")
        items = html.split('data-item="')[1:]
        assert items, login
        flagged_first += "queue-photo flagged" in items[0]
    assert flagged_first >= 2
    reviews = db.session.scalars(select(Review)).all()
    rejected = [r for r in reviews if r.verdict == "rejected"]
    assert len(reviews) > 50 and 0 < len(rejected) < len(reviews) / 4
    assert all(r.reason for r in rejected) and {r.reviewer.role for r in reviews} == {Role.SUPERVISOR}


def test_evidence_photos_went_through_ingest_in_completed_visits(seeded, app):
    photos = db.session.scalars(select(Photo)).all()
    assert 80 <= len(photos) <= 160
    root = Path(app.config["UPLOAD_DIR"])
    assert all((root / p.original_key).is_file() and (root / p.display_key).is_file() for p in photos)
    assert count(select(Evidence).where(Evidence.photo_id.is_not(None))) == len(photos)
    codes = [f["code"] for p in photos for f in p.flags]
    assert {"exact_reuse", "near_reuse"} <= set(codes)
    assert len([p for p in photos if p.flags]) <= 8  # distinct pictures: the near-copy check stays quiet
    assert len({p.sha256 for p in photos}) == len(photos) - codes.count("exact_reuse")
    for photo in photos:
        visit = db.session.get(Visit, photo.visit_id)
        assert visit.status == VisitStatus.COMPLETED and visit.visit_type.code == "promotion"
        assert visit.checkin_at <= photo.created_at <= visit.checkout_at
        if not any(f["code"] == "time_outside_visit" for f in photo.flags):
            assert visit.checkin_at <= photo.exif_taken_at <= visit.checkout_at


def test_claims_in_every_state_and_the_ledger_with_a_reversal(seeded, client):
    statuses = dict(db.session.execute(select(Claim.status, func.count()).group_by(Claim.status)).all())
    assert set(statuses) == {"submitted", "approved", "rejected", "reversed"}
    assert statuses["approved"] > 2 * statuses["rejected"] and statuses["submitted"] >= 2
    assert statuses["reversed"] == 1
    claims = db.session.scalars(select(Claim)).all()
    assert [c.reason for c in claims if c.overridden] and all(c.reason for c in claims if c.status == "rejected")
    shown = set()
    for login in ("manager1", "manager2"):
        shown |= set(re.findall(r'data-status="(\w+)"', page(client, login, "/claims?show=all")))
    assert shown == set(statuses)
    # The ledger: a payment per approved or reversed claim, and the reversal that undoes one.
    lines = db.session.scalars(select(LedgerLine)).all()
    payments = {line.claim_id: line for line in lines if line.kind == "payment"}
    reversals = [line for line in lines if line.kind == "reversal"]
    assert len(payments) == statuses["approved"] + statuses["reversed"] and len(reversals) == 1
    assert all(payments[c.id].amount == c.approved_amount for c in claims if c.id in payments)
    assert reversals[0].amount == -db.session.get(LedgerLine, reversals[0].reverses_id).amount
    ledger = page(client, "manager1", "/ledger") + page(client, "manager2", "/ledger")
    assert ledger.count("data-ledger-line=") == len(lines)
    assert re.search(rf'badge-flag">[^<]*#{reversals[0].reverses_id}<', ledger)  # "reverses #n", in Chinese here


def test_sales_feed_the_daily_table_at_catalogue_prices(seeded):
    assert db.session.scalar(select(func.sum(Sale.amount))) == db.session.scalar(select(func.sum(SalesDaily.amount)))
    assert count(select(Sale)) == db.session.scalar(select(func.sum(SalesDaily.lines)))
    mismatched = select(Sale).join(Product, Product.id == Sale.product_id) \
        .where(Sale.amount != Sale.quantity * Product.unit_price)
    assert count(mismatched) == 0


@pytest.mark.parametrize("login, urls", [
    ("admin", ["/", "/activities", "/roi", "/claims", "/ledger", "/audit", "/activity-types"]),
    ("manager1", ["/", "/activities", "/activities/queue", "/roi/activities/{ended}", "/claims", "/ledger"]),
    ("sup2", ["/", "/activities", "/activities/queue?show=overdue", "/claims", "/team"]),
    ("rep07", ["/", "/today", "/activities/mine", "/claims"]),
])
def test_the_demo_pages_open_for_each_role(seeded, client, login, urls):
    in_shanghai = ActivityStore.store.has(Store.region.has(Region.code.like("SH%")))
    ended = db.session.scalar(select(Activity.id).where(Activity.status == ActivityStatus.ENDED,
                                                        Activity.stores.any(in_shanghai)).order_by(Activity.id))
    for url in urls:
        page(client, login, url.format(ended=ended))


def test_the_demo_has_this_months_targets_split_to_every_rep_and_shown_on_their_home(seeded, client):
    from field.targets.models import Target
    month = core.company_today().replace(day=1)
    rows = db.session.scalars(select(Target).where(Target.month == month).order_by(Target.id)).all()
    regions = [r for r in rows if r.level == "region"]
    assert sorted(db.session.get(Region, r.subject_id).code for r in regions) == ["CD-N", "CD-S", "SH-PD", "SH-PX"]
    for region in regions:  # the parts add up to the whole, to the fen, at each level
        reps = [r for r in rows if r.parent_id == region.id]
        assert reps and sum(r.amount for r in reps) == region.amount
        for rep in reps:
            assert sum(r.amount for r in rows if r.parent_id == rep.id) == rep.amount
    assert all(r.amount % 100 == 0 for r in rows)  # whole yuan, as a manager types them
    assert {r.rep_id for r in rows if r.level == "rep"} == set(db.session.scalars(
        select(User.id).where(User.role == Role.REP)))
    card = re.search(r'<section class="card targets-summary".*?</section>', page(client, "rep07", "/"), re.S)
    assert card, "the rep's home shows the month's target"
    assert re.search(r'<span class="target-pct">\d+(\.\d)?%</span>', card.group(0))  # the completion so far


def test_the_demo_s_log_reads_as_words(seeded, app):
    """Every kind of record and every detail the demo's events name has a label (no "sales_targets #3",
    no "dealer_orders" in a Chinese log)."""
    from field.admin.views import DETAIL_LABELS, RECORD_LABELS
    from field.audit import AuditEvent
    events = db.session.scalars(select(AuditEvent)).all()
    types = {e.object_type for e in events if e.object_type}
    keys = {k for e in events for k in (e.details or {})}
    assert "sales_targets" in types and {"targets", "sales", "parts"} <= keys
    assert types - set(RECORD_LABELS) == set()
    assert keys - set(DETAIL_LABELS) == set()


def test_roi_refresh_measures_the_missing_figures_once(seeded, runner):
    db.session.execute(delete(RoiFigure))  # a cache: whatever an earlier test measured goes
    db.session.commit()
    first = runner.invoke(args=["roi-refresh"])
    assert first.exit_code == 0, first.output
    measured = int(re.search(r"Measured (\d+) activity stores", first.output).group(1))
    assert measured == count(select(RoiFigure)) > 0
    assert "Measured 0 activity stores" in runner.invoke(args=["roi-refresh"]).output


# --- photos-sweep --------------------------------------------------------------------------------


def test_a_seed_that_fails_half_way_gives_the_real_clock_back(runner, monkeypatch):
    def broken(_demo):
        raise RuntimeError("a step of the demo's past failed")

    monkeypatch.setattr(demo.promotions, "_activity_types", broken)  # the first step on the demo clock
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert abs(core.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_logins_without_demo_says_how_to_seed(runner):
    result = runner.invoke(args=["logins"])
    assert result.exit_code == 0 and "seed-demo" in result.output


def test_seed_leaves_a_production_database_alone(runner):
    assert runner.invoke(args=["create-admin", "boss"], input="long-enough-1\nlong-enough-1\n").exit_code == 0
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "not seeded" in result.output
    assert count(select(User)) == 1 and count(select(Store)) == 0


def test_create_admin_prompts_for_the_password_and_audits(runner, client):
    result = runner.invoke(args=["create-admin", "ops", "--name", "运维"], input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output  # the prompt hides it
    user = db.session.scalar(select(User).where(User.login == "ops"))
    assert user.role == Role.ADMIN and user.name == "运维" and user.check_password("s3cret-pass")
    assert count(select(AuditEvent).where(AuditEvent.action == "user.create", AuditEvent.object_id == user.id)) == 1
    assert client.post("/login", data={"login": "ops", "password": "s3cret-pass"}).status_code == 302


@pytest.mark.parametrize("args, stdin, message", [
    (["create-admin", "ops"], "short\nshort\n", "at least 8"),
    (["create-admin", "ops"], "long-enough-1\nlong-enough-2\nlong-enough-1\nlong-enough-1\n", None),
])
def test_create_admin_refuses_short_or_mistyped_passwords(runner, args, stdin, message):
    result = runner.invoke(args=args, input=stdin)
    if message:
        assert result.exit_code != 0 and message in result.output
        assert count(select(User)) == 0
    else:  # a mismatch asks again; the second, matching pair is taken
        assert result.exit_code == 0 and count(select(User)) == 1


def test_create_admin_refuses_an_existing_login(runner):
    runner.invoke(args=["create-admin", "ops"], input="long-enough-1\nlong-enough-1\n")
    result = runner.invoke(args=["create-admin", "ops"], input="other-pass-1\nother-pass-1\n")
    assert result.exit_code != 0 and "already exists" in result.output
    assert count(select(User)) == 1


@pytest.fixture
def own_uploads(app, tmp_path, monkeypatch):
    """An upload directory of this test's own (the session's holds every other test's files)."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    saved = app.extensions.pop("photo_storage", None)
    yield tmp_path
    app.extensions.pop("photo_storage", None)
    if saved is not None:
        app.extensions["photo_storage"] = saved


def _age(path: Path, hours: float) -> None:
    moment = (datetime.now(timezone.utc) - timedelta(hours=hours)).timestamp()
    os.utime(path, (moment, moment))


def test_photos_sweep_removes_old_orphans_only_and_says_what(client, org, runner, own_uploads):
    from tests.conftest import login
    from tests.web.test_photos import good_jpeg, post, visit_in_progress
    visit = visit_in_progress(org.rep)
    login(client, org.rep)
    assert post(client, visit, good_jpeg(seed=5)).status_code == 201
    photo = db.session.execute(select(Photo)).scalar_one()
    referenced = {photo.original_key, photo.display_key, photo.thumb_key}
    (own_uploads / "display/2026/01").mkdir(parents=True)
    (own_uploads / "thumbs/2026/01").mkdir(parents=True)
    (own_uploads / "display/2026/01/killed.jpg").write_bytes(b"x" * 700)  # a killed worker's copies
    (own_uploads / "thumbs/2026/01/killed.jpg").write_bytes(b"x" * 300)
    (own_uploads / "thumbs/2026/01/inflight.jpg").write_bytes(b"x" * 50)  # an upload still running
    for path in own_uploads.rglob("*"):
        if path.is_file() and path.name != "inflight.jpg":
            _age(path, 2)  # the referenced files are as old: age alone never removes them
    everything = {p.relative_to(own_uploads).as_posix() for p in own_uploads.rglob("*") if p.is_file()}

    dry = runner.invoke(args=["photos-sweep", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would remove 2 orphan files, 1000 bytes (dry run)." in dry.output
    assert "display/2026/01/killed.jpg (700 bytes)" in dry.output
    assert {p.relative_to(own_uploads).as_posix() for p in own_uploads.rglob("*") if p.is_file()} == everything

    swept = runner.invoke(args=["photos-sweep", "--older-than-minutes", "90"])
    assert swept.exit_code == 0, swept.output
    assert "Removed 2 orphan files, 1000 bytes." in swept.output
    left = {p.relative_to(own_uploads).as_posix() for p in own_uploads.rglob("*") if p.is_file()}
    assert left == everything - {"display/2026/01/killed.jpg", "thumbs/2026/01/killed.jpg"}
    assert referenced <= left and "thumbs/2026/01/inflight.jpg" in left

    late = runner.invoke(args=["photos-sweep", "--older-than-minutes", "180"])  # younger than the limit
    assert late.exit_code == 0 and "Removed 0 orphan files, 0 bytes." in late.output


def test_photos_sweep_refuses_a_limit_shorter_than_an_upload_may_take(runner, own_uploads):
    result = runner.invoke(args=["photos-sweep", "--older-than-minutes", "1"])
    assert result.exit_code != 0 and "older-than-minutes" in result.output
