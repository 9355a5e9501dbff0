"""The scope rule, role by role: who sees which stores and which people.

A rep sees their own stores; a supervisor their team's and their regions'; a manager
their regions' whole subtree (nested areas included); an admin everything. An id
outside scope is a 404, never a wider lookup."""
from types import SimpleNamespace

import pytest
from werkzeug.exceptions import NotFound

from field import scope
from field.auth.models import Role
from field.extensions import db
from tests.factories import make_org, make_region, make_store, make_user

# One cheap hash round per made-up user: these tests are about scope, not passwords.
pytestmark = pytest.mark.usefixtures("cheap_hashes")


@pytest.fixture
def world():
    org = make_org()
    shanghai = make_region("SH", "Shanghai", org.east)       # an area below the east region
    pudong = make_region("PD", "Pudong", shanghai)            # and one below that
    w = SimpleNamespace(**vars(org), shanghai=shanghai, pudong=pudong)
    w.rep_store = make_store(rep=org.rep, region=org.east, code="E-REP")
    w.mate_store = make_store(rep=org.teammate, region=shanghai, code="E-MATE")
    w.pudong_store = make_store(region=pudong, code="E-PUDONG")          # nobody owns it yet
    w.west_store = make_store(rep=org.west_rep, region=org.west, code="W-REP")
    w.west_open = make_store(region=org.west, code="W-OPEN")
    return w


def store_codes(user) -> set[str]:
    return {s.code for s in db.session.execute(scope.stores(user)).scalars()}


def user_logins(user) -> set[str]:
    return {u.login for u in db.session.execute(scope.users(user)).scalars()}


# --- stores ---------------------------------------------------------------------------------

def test_rep_sees_only_their_own_stores(world):
    assert store_codes(world.rep) == {"E-REP"}
    assert store_codes(world.teammate) == {"E-MATE"}
    assert store_codes(world.west_rep) == {"W-REP"}


def test_supervisor_sees_the_team_and_their_regions_including_nested_areas(world):
    assert store_codes(world.supervisor) == {"E-REP", "E-MATE", "E-PUDONG"}


def test_supervisor_sees_a_team_members_store_outside_their_regions(world):
    far = make_store(rep=world.rep, region=world.west, code="W-BY-EAST-REP")
    assert "W-BY-EAST-REP" in store_codes(world.supervisor)
    assert far.code not in store_codes(world.west_rep)


def test_manager_sees_the_whole_subtree_of_their_regions(world):
    assert store_codes(world.manager) == {"E-REP", "E-MATE", "E-PUDONG"}


def test_a_manager_of_an_area_sees_only_that_area_and_below(world):
    area_manager = make_user(Role.MANAGER, login="shmanager", regions=[world.shanghai])
    assert store_codes(area_manager) == {"E-MATE", "E-PUDONG"}


def test_admin_sees_every_store(world):
    assert store_codes(world.admin) == {"E-REP", "E-MATE", "E-PUDONG", "W-REP", "W-OPEN"}


def test_a_west_store_is_invisible_in_the_east(world):
    for user in (world.manager, world.supervisor, world.rep, world.teammate):
        assert not store_codes(user) & {"W-REP", "W-OPEN"}, user.login
    assert store_codes(world.west_supervisor) == {"W-REP", "W-OPEN"}


def test_a_user_without_regions_or_team_sees_no_store(world):
    lonely_manager = make_user(Role.MANAGER, login="lonely")
    lonely_supervisor = make_user(Role.SUPERVISOR, login="lonelysup")
    assert store_codes(lonely_manager) == set()
    assert store_codes(lonely_supervisor) == set()


def test_moving_a_region_moves_its_stores_into_the_new_managers_scope(world):
    world.shanghai.set_parent(world.west)
    world.pudong.set_parent(world.shanghai)
    db.session.commit()
    # The unowned store goes with its area; the teammate's store stays visible through the team.
    assert "E-PUDONG" not in store_codes(world.manager)
    assert store_codes(world.manager) == {"E-REP", "E-MATE"}
    assert store_codes(world.west_supervisor) == {"W-REP", "W-OPEN", "E-MATE", "E-PUDONG"}


# --- people ---------------------------------------------------------------------------------

def test_rep_sees_only_themselves(world):
    assert user_logins(world.rep) == {"rep"}


def test_supervisor_sees_themselves_and_their_team(world):
    assert user_logins(world.supervisor) == {"supervisor", "rep", "teammate"}


def test_manager_sees_the_people_of_their_regions(world):
    assert user_logins(world.manager) == {"manager", "supervisor", "rep", "teammate"}


def test_manager_sees_a_rep_without_regions_whose_supervisor_works_there(world):
    make_user(Role.REP, login="newbie", supervisor=world.supervisor)
    assert "newbie" in user_logins(world.manager)
    assert "newbie" not in user_logins(world.west_supervisor)


def test_admin_sees_everyone(world):
    assert user_logins(world.admin) == {"admin", "manager", "supervisor", "rep", "teammate",
                                        "westsup", "westrep"}


def test_west_people_are_invisible_to_the_east(world):
    for user in (world.manager, world.supervisor, world.rep):
        assert not user_logins(user) & {"westsup", "westrep"}, user.login


# --- regions and single records -------------------------------------------------------------

def test_regions_are_the_users_subtree(world):
    codes = lambda u: [r.code for r in db.session.execute(scope.regions(u)).scalars()]  # noqa: E731
    assert codes(world.manager) == ["EAST", "SH", "PD"]
    assert codes(world.admin) == ["CN", "EAST", "SH", "PD", "WEST"]


def test_get_or_404_returns_a_record_in_scope(world):
    assert scope.get_or_404(scope.stores(world.rep), world.rep_store.id) == world.rep_store
    assert scope.get_or_404(scope.users(world.supervisor), world.rep.id) == world.rep


@pytest.mark.parametrize("who", ["rep", "supervisor", "manager"])
def test_get_or_404_of_an_out_of_scope_id_is_not_found(world, who):
    user = getattr(world, who)
    with pytest.raises(NotFound):
        scope.get_or_404(scope.stores(user), world.west_store.id)
    with pytest.raises(NotFound):
        scope.get_or_404(scope.users(user), world.west_rep.id)


def test_get_or_404_of_a_missing_id_is_not_found(world):
    with pytest.raises(NotFound):
        scope.get_or_404(scope.stores(world.admin), 999_999)
