"""Users admin: list and search, add, edit (re-assign, regions, password), (de)activate — admins only."""

import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.auth.models import Role, User
from field.extensions import db
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.usefixtures("cheap_hashes")


def user_count() -> int:
    return db.session.execute(select(func.count(User.id))).scalar_one()


def events(action: str, user: User | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if user is not None:
        stmt = stmt.where(AuditEvent.object_type == "users", AuditEvent.object_id == user.id)
    return db.session.execute(stmt).scalars().all()


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def new_rep_form(org, **overrides) -> dict:
    data = {"login": "Newrep", "name": "New Rep", "role": "rep", "password": "long-enough",
            "supervisor": str(org.supervisor.id), "regions": [str(org.east.id)], "phone": "13800000000",
            "locale": "zh_CN"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- who may --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["rep", "supervisor", "manager"])
def test_only_admins_reach_the_users_pages(client, org, role):
    client.login_as(getattr(org, role))
    assert client.get("/users").status_code == 403
    assert client.get("/users/new").status_code == 403
    assert client.get(f"/users/{org.rep.id}/edit").status_code == 403
    assert client.post("/users/new", data=new_rep_form(org)).status_code == 403
    assert client.post(f"/users/{org.rep.id}/deactivate").status_code == 403
    assert reload(org.rep).active


def test_signed_out_visitors_are_sent_to_sign_in(client, org):
    r = client.get("/users")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_an_unknown_user_id_is_not_found(as_admin):
    assert as_admin.get("/users/999999/edit").status_code == 404
    assert as_admin.post("/users/999999/deactivate").status_code == 404


# --- list -----------------------------------------------------------------------------------

def test_list_shows_people_with_role_supervisor_regions_and_status(as_admin, org):
    make_user(Role.REP, login="gone", name="Gone Rep", supervisor=org.supervisor, active=False)
    html = as_admin.get("/users").get_data(as_text=True)
    assert 'data-user="westrep"' in html and 'data-user="rep"' in html
    assert f"reports to {org.supervisor.name}" in html
    assert "East" in html and "West" in html
    assert "Inactive" in html and "Active" in html


def test_search_by_name_or_login_and_filter_by_role(as_admin, org):
    make_user(Role.REP, login="zhangwei", name="Zhang Wei", supervisor=org.supervisor)
    html = as_admin.get("/users?q=zhang").get_data(as_text=True)
    assert 'data-user="zhangwei"' in html and 'data-user="rep"' not in html
    html = as_admin.get("/users?q=Wei").get_data(as_text=True)
    assert 'data-user="zhangwei"' in html
    html = as_admin.get("/users?role=supervisor").get_data(as_text=True)
    assert 'data-user="supervisor"' in html and 'data-user="westsup"' in html
    assert 'data-user="rep"' not in html and 'data-user="admin"' not in html


def test_htmx_search_answers_only_the_results(as_admin, org):
    r = as_admin.get("/users?q=west", headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html
    assert 'data-user="westrep"' in html and 'data-user="westsup"' in html


# --- create ---------------------------------------------------------------------------------

def test_admin_adds_a_rep_who_can_then_sign_in(as_admin, org, client):
    r = as_admin.post("/users/new", data=new_rep_form(org))
    assert r.status_code == 302 and r.headers["Location"] == "/users"
    user = db.session.execute(select(User).where(User.login == "newrep")).scalar_one()  # lower-cased
    assert user.role == "rep" and user.supervisor_id == org.supervisor.id
    assert [r.code for r in user.regions] == ["EAST"] and user.phone == "13800000000"
    assert user.locale == "zh_CN" and user.check_password("long-enough")
    (event,) = events("user.create", user)
    assert event.actor_id == org.admin.id and event.details["supervisor"] == "supervisor"

    client.post("/logout")
    r = client.post("/login", data={"login": "newrep", "password": "long-enough"})
    assert r.status_code == 302 and r.headers["Location"] == "/today"  # a rep lands on Today


def test_a_duplicate_login_is_refused_whatever_its_case(as_admin, org):
    before = user_count()
    r = as_admin.post("/users/new", data=new_rep_form(org, login="REP"))
    assert r.status_code == 422
    assert "The login rep is taken." in r.get_data(as_text=True)
    assert user_count() == before and not events("user.create")


def test_a_short_password_is_refused(as_admin, org):
    before = user_count()
    r = as_admin.post("/users/new", data=new_rep_form(org, password="short"))
    assert r.status_code == 422
    assert "At least 8 characters." in r.get_data(as_text=True)
    assert user_count() == before


def test_a_rep_needs_a_supervisor(as_admin, org):
    before = user_count()
    r = as_admin.post("/users/new", data=new_rep_form(org, supervisor=""))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "A rep needs a supervisor." in html
    assert 'value="newrep"' in html  # what was typed stays in place
    assert user_count() == before and not events("user.create")


def test_a_rep_cannot_report_to_an_inactive_supervisor_or_a_non_supervisor(as_admin, org):
    gone = make_user(Role.SUPERVISOR, login="gonesup", active=False)
    before = user_count()
    for supervisor in (gone, org.manager):
        r = as_admin.post("/users/new", data=new_rep_form(org, supervisor=str(supervisor.id)))
        assert r.status_code == 422
    assert user_count() == before


def test_a_supervisor_needs_no_supervisor(as_admin, org):
    r = as_admin.post("/users/new", data=new_rep_form(org, login="sup2", role="supervisor", supervisor=""))
    assert r.status_code == 302
    user = db.session.execute(select(User).where(User.login == "sup2")).scalar_one()
    assert user.role == "supervisor" and user.supervisor_id is None


def test_a_login_with_spaces_or_symbols_is_refused(as_admin, org):
    r = as_admin.post("/users/new", data=new_rep_form(org, login="li si"))
    assert r.status_code == 422 and user_count() == 7


def test_adding_without_a_csrf_token_is_refused(as_admin, org):
    r = as_admin.post("/users/new", data=new_rep_form(org), csrf=False)
    assert r.status_code == 400
    assert db.session.execute(select(User).where(User.login == "newrep")).scalar_one_or_none() is None


# --- edit -----------------------------------------------------------------------------------

def test_the_edit_form_shows_the_user(as_admin, org):
    html = as_admin.get(f"/users/{org.rep.id}/edit").get_data(as_text=True)
    assert 'value="rep"' in html and org.rep.name in html
    assert f'<option selected value="{org.supervisor.id}">' in html or \
        f'value="{org.supervisor.id}" selected' in html


def test_reassign_a_rep_to_another_supervisor_and_region(as_admin, org):
    data = new_rep_form(org, login="rep", name=org.rep.name, supervisor=str(org.west_supervisor.id),
                        regions=[str(org.west.id)], password="", phone="", locale="en")
    old_hash = org.rep.password_hash
    r = as_admin.post(f"/users/{org.rep.id}/edit", data=data)
    assert r.status_code == 302
    rep = reload(org.rep)
    assert rep.supervisor_id == org.west_supervisor.id and [x.code for x in rep.regions] == ["WEST"]
    assert rep.password_hash == old_hash  # an empty password leaves it unchanged
    (event,) = events("user.update", rep)
    assert event.details["supervisor"] == ["supervisor", "westsup"]
    assert event.details["regions"] == ["EAST", "WEST"]
    assert "password" not in event.details


def test_a_new_password_on_edit_replaces_the_old_one(as_admin, org):
    data = new_rep_form(org, login="rep", name=org.rep.name, password="brand-new-pass", phone="", locale="en")
    assert as_admin.post(f"/users/{org.rep.id}/edit", data=data).status_code == 302
    rep = reload(org.rep)
    assert rep.check_password("brand-new-pass") and not rep.check_password(PASSWORD)
    (event,) = events("user.update", rep)
    assert event.details["password"] == "changed" and "brand-new-pass" not in event.detail


def test_a_bad_edit_changes_nothing(as_admin, org):
    data = new_rep_form(org, login="westrep", name="Renamed", password="", supervisor=str(org.supervisor.id))
    r = as_admin.post(f"/users/{org.rep.id}/edit", data=data)
    assert r.status_code == 422
    rep = reload(org.rep)
    assert rep.login == "rep" and rep.name != "Renamed" and not events("user.update")


def test_an_edit_that_drops_the_supervisor_of_a_rep_is_refused(as_admin, org):
    data = new_rep_form(org, login="rep", name=org.rep.name, password="", supervisor="")
    assert as_admin.post(f"/users/{org.rep.id}/edit", data=data).status_code == 422
    assert reload(org.rep).supervisor_id == org.supervisor.id


def test_a_supervisor_with_active_reps_cannot_change_role(as_admin, org):
    data = new_rep_form(org, login="supervisor", name=org.supervisor.name, role="manager", password="",
                        supervisor="")
    r = as_admin.post(f"/users/{org.supervisor.id}/edit", data=data)
    assert r.status_code == 422 and "Re-assign them" in r.get_data(as_text=True)
    assert reload(org.supervisor).role == "supervisor"


def test_an_admin_cannot_change_their_own_role(as_admin, org):
    data = new_rep_form(org, login="admin", name=org.admin.name, role="manager", password="", supervisor="")
    assert as_admin.post(f"/users/{org.admin.id}/edit", data=data).status_code == 422
    assert reload(org.admin).role == "admin"


def test_an_edit_without_csrf_token_is_refused(as_admin, org):
    data = new_rep_form(org, login="rep", name="Changed", password="")
    assert as_admin.post(f"/users/{org.rep.id}/edit", data=data, csrf=False).status_code == 400
    assert reload(org.rep).name != "Changed"


# --- deactivate / activate ------------------------------------------------------------------

def test_deactivated_user_cannot_sign_in_and_it_is_audited(as_admin, org, client):
    r = as_admin.post(f"/users/{org.west_rep.id}/deactivate")
    assert r.status_code == 302
    assert not reload(org.west_rep).active
    (event,) = events("user.deactivate", org.west_rep)
    assert event.actor_id == org.admin.id

    client.post("/logout")
    r = client.post("/login", data={"login": "westrep", "password": PASSWORD})
    assert r.status_code == 422 and "deactivated" in r.get_data(as_text=True)


def test_a_deactivated_user_already_signed_in_is_signed_out(as_admin, org, app):
    other = app.test_client().login_as(org.west_rep)
    assert other.get("/").status_code == 200
    as_admin.post(f"/users/{org.west_rep.id}/deactivate")
    assert other.get("/").status_code == 302


def test_reactivate_lets_them_sign_in_again(as_admin, org):
    gone = make_user(Role.REP, login="back", supervisor=org.supervisor, active=False)
    assert as_admin.post(f"/users/{gone.id}/activate").status_code == 302
    assert reload(gone).active and events("user.activate", gone)


def test_an_admin_cannot_deactivate_themself(as_admin, org):
    r = as_admin.post(f"/users/{org.admin.id}/deactivate")
    assert r.status_code == 409 and "You cannot deactivate yourself." in r.get_data(as_text=True)
    assert reload(org.admin).active and not events("user.deactivate")


def test_a_supervisor_with_active_reps_must_hand_them_over_first(as_admin, org):
    r = as_admin.post(f"/users/{org.supervisor.id}/deactivate")
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "Re-assign them to another supervisor first." in html and org.rep.name in html
    assert reload(org.supervisor).active

    # Hand both reps over to the west supervisor, then it works.
    for rep in (org.rep, org.teammate):
        data = new_rep_form(org, login=rep.login, name=rep.name, password="",
                            supervisor=str(org.west_supervisor.id))
        assert as_admin.post(f"/users/{rep.id}/edit", data=data).status_code == 302
    assert as_admin.post(f"/users/{org.supervisor.id}/deactivate").status_code == 302
    assert not reload(org.supervisor).active
    assert len(events("user.update")) == 2 and len(events("user.deactivate")) == 1


def test_a_rep_without_an_active_supervisor_is_not_reactivated(as_admin, org):
    gone_sup = make_user(Role.SUPERVISOR, login="gonesup", active=False)
    gone = make_user(Role.REP, login="orphan", supervisor=gone_sup, active=False)
    r = as_admin.post(f"/users/{gone.id}/activate")
    assert r.status_code == 409 and "no active supervisor" in r.get_data(as_text=True)
    assert not reload(gone).active


def test_deactivate_without_csrf_token_is_refused(as_admin, org):
    assert as_admin.post(f"/users/{org.west_rep.id}/deactivate", csrf=False).status_code == 400
    assert reload(org.west_rep).active


def test_an_admin_sets_a_users_e_mail_and_the_audit_log_says_so(as_admin, org):
    data = new_rep_form(org, login="rep", name=org.rep.name, password="", phone="", locale="en",
                        email="rep@example.com")
    assert as_admin.post(f"/users/{org.rep.id}/edit", data=data).status_code == 302
    assert reload(org.rep).email == "rep@example.com"
    (event,) = events("user.update", org.rep)
    assert event.details["email"] == [None, "rep@example.com"]
    r = as_admin.post(f"/users/{org.rep.id}/edit", data={**data, "email": "rep@"})
    assert r.status_code == 422 and reload(org.rep).email == "rep@example.com"
