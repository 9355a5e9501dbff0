"""Regions admin: the tree with its counts, add, rename, move (the whole subtree follows) — admins only."""
import re

import pytest
from sqlalchemy import func, select

from field import scope
from field.audit import AuditEvent
from field.auth.models import Region, Role
from field.extensions import db
from tests.factories import make_region, make_store, make_user

pytestmark = pytest.mark.usefixtures("cheap_hashes")


@pytest.fixture
def areas(org):
    """Shanghai under East, and Pudong under Shanghai."""
    shanghai = make_region("SH", "Shanghai", org.east)
    pudong = make_region("PD", "Pudong", shanghai)
    return shanghai, pudong


def region(code: str) -> Region:
    db.session.expire_all()
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one()


def region_count() -> int:
    return db.session.execute(select(func.count(Region.id))).scalar_one()


def edit_form(r: Region, **overrides) -> dict:
    data = {"code": r.code, "name": r.name, "parent": str(r.parent_id) if r.parent_id else ""}
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["rep", "supervisor", "manager"])
def test_only_admins_reach_the_regions_pages(client, org, role):
    client.login_as(getattr(org, role))
    assert client.get("/regions").status_code == 403
    assert client.get(f"/regions/{org.east.id}/edit").status_code == 403
    assert client.post("/regions", data={"new-code": "N", "new-name": "North"}).status_code == 403
    assert client.post(f"/regions/{org.east.id}/edit", data=edit_form(org.east, name="X")).status_code == 403
    assert region("EAST").name == "East" and region_count() == 3


def test_an_unknown_region_is_not_found(as_admin):
    assert as_admin.get("/regions/999999/edit").status_code == 404


def test_the_tree_is_indented_and_counts_stores_and_people_below(as_admin, org, areas):
    shanghai, pudong = areas
    make_store(region=pudong)
    make_store(region=org.east)
    make_store(region=org.west)
    make_user(Role.REP, login="pdrep", supervisor=org.supervisor, regions=[pudong])
    html = as_admin.get("/regions").get_data(as_text=True)
    codes = re.findall(r'data-region="(\w+)"', html)
    assert codes == ["CN", "EAST", "SH", "PD", "WEST"]

    def row(code):
        return html.split(f'data-region="{code}"')[1].split("</a>")[0]
    assert "margin-left: 0px" in row("CN") and "margin-left: 16px" in row("EAST") and "margin-left: 48px" in row("PD")
    assert "3 stores" in row("CN") and "2 stores" in row("EAST") and "1 store" in row("PD")
    assert "5 people" in row("EAST")  # manager, supervisor, rep, teammate, pdrep
    assert "1 person" in row("SH")


def test_admin_adds_a_region_under_a_parent(as_admin, org):
    r = as_admin.post("/regions", data={"new-code": "NORTH", "new-name": "North", "new-parent": str(org.china.id)})
    assert r.status_code == 302
    north = region("NORTH")
    assert north.parent_id == org.china.id and north.path == f"{org.china.path}{north.id}/"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "region.create")).scalar_one()
    assert event.object_id == north.id and event.details["parent"] == "CN"


def test_a_region_may_sit_at_the_top(as_admin, org):
    assert as_admin.post("/regions", data={"new-code": "HK", "new-name": "Hong Kong", "new-parent": ""}
                         ).status_code == 302
    hk = region("HK")
    assert hk.parent_id is None and hk.path == f"/{hk.id}/"


def test_a_duplicate_code_or_missing_name_is_refused(as_admin, org):
    r = as_admin.post("/regions", data={"new-code": "east", "new-name": "Another East", "new-parent": ""})
    assert r.status_code == 422 and "The code east is taken." in r.get_data(as_text=True)
    r = as_admin.post("/regions", data={"new-code": "N2", "new-name": "", "new-parent": ""})
    assert r.status_code == 422
    assert region_count() == 3


def test_creating_without_a_csrf_token_is_refused(as_admin, org):
    r = as_admin.post("/regions", data={"new-code": "N", "new-name": "North", "new-parent": ""}, csrf=False)
    assert r.status_code == 400 and region_count() == 3


def test_rename_a_region(as_admin, org):
    r = as_admin.post(f"/regions/{org.east.id}/edit", data=edit_form(org.east, name="East China"))
    assert r.status_code == 302
    assert region("EAST").name == "East China"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "region.update")).scalar_one()
    assert event.details == {"name": ["East", "East China"]}


def test_moving_a_region_moves_every_area_below_it(as_admin, org, areas):
    shanghai, pudong = areas
    store = make_store(region=pudong, code="PD-1")
    r = as_admin.post(f"/regions/{shanghai.id}/edit", data=edit_form(shanghai, parent=str(org.west.id)))
    assert r.status_code == 302
    sh, pd, west = region("SH"), region("PD"), region("WEST")
    assert sh.parent_id == west.id and sh.path == f"{west.path}{sh.id}/"
    assert pd.parent_id == sh.id and pd.path == f"{west.path}{sh.id}/{pd.id}/"
    # Scope follows at once: the store deep in the moved subtree is now the west's, not the east's.
    west_codes = {s.code for s in db.session.execute(scope.stores(org.west_supervisor)).scalars()}
    east_codes = {s.code for s in db.session.execute(scope.stores(org.manager)).scalars()}
    assert store.code in west_codes and store.code not in east_codes
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "region.update")).scalar_one()
    assert event.details["parent"] == ["EAST", "WEST"] and event.details["moved_areas"] == 1


def test_a_region_cannot_move_under_its_own_descendant(as_admin, org, areas):
    shanghai, pudong = areas
    before = {r.code: r.path for r in db.session.execute(select(Region)).scalars()}
    r = as_admin.post(f"/regions/{org.east.id}/edit", data=edit_form(org.east, parent=str(pudong.id)))
    assert r.status_code == 422
    r = as_admin.post(f"/regions/{org.east.id}/edit", data=edit_form(org.east, parent=str(org.east.id)))
    assert r.status_code == 422
    db.session.expire_all()
    assert {r.code: r.path for r in db.session.execute(select(Region)).scalars()} == before


def test_the_edit_page_offers_no_parent_inside_the_region(as_admin, org, areas):
    shanghai, pudong = areas
    html = as_admin.get(f"/regions/{org.east.id}/edit").get_data(as_text=True)
    parent_select = html.split('name="parent"')[1].split("</select>")[0]
    assert "China (CN)" in parent_select and "West (WEST)" in parent_select
    assert "Pudong" not in parent_select and "Shanghai" not in parent_select and "East (EAST)" not in parent_select


def test_moving_without_a_csrf_token_is_refused(as_admin, org, areas):
    shanghai, _ = areas
    r = as_admin.post(f"/regions/{shanghai.id}/edit", data=edit_form(shanghai, parent=str(org.west.id)),
                      csrf=False)
    assert r.status_code == 400 and region("SH").parent_id == org.east.id


def test_operation_refuses_a_move_under_a_descendant(app, org, areas):
    from field.auth.operations import update_region
    from field.core import FieldError
    shanghai, pudong = areas
    with app.test_request_context(), pytest.raises(FieldError) as exc:
        update_region(org.east, {"code": "EAST", "name": "East", "parent": pudong}, org.admin)
    assert exc.value.field == "parent"
    assert region("EAST").parent_id == org.china.id
