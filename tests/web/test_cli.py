"""flask seed-demo / logins / create-admin: the demo company a first run shows, and the admin a
production setup starts from."""
import pytest
from sqlalchemy import func, select

from field import demo, scope
from field.audit import AuditEvent
from field.auth.models import Region, Role, User
from field.extensions import db
from field.geo import Point, distance_m, from_wgs84
from field.products.models import Product
from field.stores.models import TIERS, Channel, Store


def count(stmt):
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


@pytest.fixture
def seeded(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def in_city(store: Store) -> str | None:
    for city, (lat_min, lat_max, lng_min, lng_max) in demo.BOUNDS.items():
        if lat_min <= store.lat <= lat_max and lng_min <= store.lng <= lng_max:
            return city
    return None


def test_seed_builds_the_company_and_prints_every_login(seeded):
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {Role.ADMIN: 1, Role.MANAGER: 2, Role.SUPERVISOR: 4, Role.REP: 20}
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
    def user(login):
        return db.session.scalar(select(User).where(User.login == login))

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
    assert details == {"regions": 7, "users": 27, "stores": 600, "products": 40}
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
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert "already seeded" in result.output and "rep20" in result.output
    assert count(select(User)) == 27 and count(select(Store)) == 600 and count(select(Product)) == 40
    assert count(select(AuditEvent).where(AuditEvent.action == "demo.seed")) == 1


def test_logins_prints_the_demo_logins(seeded, runner):
    result = runner.invoke(args=["logins"])
    assert result.exit_code == 0
    for login in demo.LOGINS:
        assert login in result.output


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
