"""Each role lands on its own home page, showing its own data and nobody else's."""
import re

import pytest

from field.extensions import db
from field.auth.models import Role
from tests.factories import make_product, make_region, make_store, make_user


@pytest.fixture
def stores(org):
    """East: the rep owns an A and two Bs, the teammate a C, an unowned D in a Shanghai area.
    West: the west rep owns two As. One inactive east store that counts nowhere."""
    shanghai = make_region("SH", "Shanghai", org.east)
    make_store(rep=org.rep, tier="A")
    make_store(rep=org.rep, tier="B")
    make_store(rep=org.rep, tier="B")
    make_store(rep=org.teammate, tier="C")
    make_store(region=shanghai, tier="D")
    make_store(rep=org.west_rep, tier="A")
    make_store(rep=org.west_rep, tier="A")
    make_store(rep=org.rep, tier="A", active=False)
    return shanghai


def home(client) -> str:
    r = client.get("/")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def count(html: str, attr: str, value: str) -> int:
    m = re.search(rf'data-{attr}="{value}">(\d+)<', html)
    assert m, f"no {attr}={value} on the page"
    return int(m.group(1))


def test_signed_out_visitors_go_to_sign_in(client):
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("role", ["rep", "supervisor", "manager", "admin"])
def test_each_role_lands_on_its_own_section_only(client, org, role):
    html = home(client.login_as(getattr(org, role)))
    assert f'id="home-{role}"' in html
    others = {"rep", "supervisor", "manager", "admin"} - {role}
    assert not any(f'id="home-{o}"' in html for o in others)


def test_rep_home_greets_with_todays_date_and_counts_their_stores_by_tier(as_rep, org, stores):
    html = home(as_rep)
    assert f"Hello, {org.rep.name}" in html
    assert 'class="muted today"' in html and re.search(r"\b20\d\d\b", html.split('class="muted today"')[1])
    assert count(html, "count", "total") == 3  # the inactive store is not counted
    assert (count(html, "tier", "A"), count(html, "tier", "B"), count(html, "tier", "C"),
            count(html, "tier", "D")) == (1, 2, 0, 0)


def test_rep_home_offers_the_store_list_nearest_first(as_rep, org):
    html = home(as_rep)
    form = html.split('action="/stores"')[1].split("</form>")[0]
    assert 'data-locate="submit"' in form and 'name="lat"' in form and 'name="lng"' in form
    assert "Stores nearest first" in form


def test_the_west_rep_sees_only_their_two_stores(client, org, stores):
    html = home(client.login_as(org.west_rep))
    assert count(html, "count", "total") == 2 and count(html, "tier", "A") == 2


def test_supervisor_home_lists_the_team_with_their_store_counts(as_supervisor, org, stores):
    make_user(Role.REP, login="leaver", name="Leaver", supervisor=org.supervisor, active=False)
    html = home(as_supervisor)
    team = html.split('id="my-team"')[1].split("</section>")[0]
    assert re.findall(r'data-rep="(\w+)"', team) == ["rep", "teammate", "leaver"]  # active first

    def line(login):
        return team.split(f'data-rep="{login}"')[1].split("</li>")[0]
    assert "3 stores" in line("rep") and "Active" in line("rep")
    assert "1 store" in line("teammate")
    assert "Inactive" in line("leaver")
    # Stores of the team and the regions: the rep's 3, the teammate's 1, the unowned Shanghai D.
    assert count(html, "count", "total") == 5 and count(html, "tier", "D") == 1
    assert 'href="/stores"' in html


def test_the_east_supervisor_does_not_see_west_people_or_stores(as_supervisor, org, stores):
    html = home(as_supervisor)
    assert org.west_rep.name not in html and "westrep" not in html
    assert count(html, "tier", "A") == 1


def test_manager_home_shows_regions_with_stores_per_tier_and_the_people(as_manager, org, stores):
    html = home(as_manager)
    assert re.findall(r'<tr data-region="(\w+)"', html) == ["EAST", "SH"]

    def cells(code):
        row = html.split(f'<tr data-region="{code}"')[1].split("</tr>")[0]
        return [int(n) for n in re.findall(r'class="num">(?:<strong>)?(\d+)', row)]
    assert cells("EAST") == [1, 2, 1, 1, 5]  # A B C D total, the Shanghai area included
    assert cells("SH") == [0, 0, 0, 1, 1]
    assert count(html, "count", "supervisors") == 1
    assert count(html, "count", "reps") == 2
    assert "West" not in html


def test_a_manager_without_regions_is_told_so(client, org):
    lonely = make_user(Role.MANAGER, login="lonely")
    html = home(client.login_as(lonely))
    assert "No region is assigned to you yet." in html
    assert count(html, "count", "reps") == 0


def test_admin_home_counts_everything_and_links_the_admin_pages(as_admin, org, stores):
    make_product()
    make_product()
    make_user(Role.REP, login="gone", supervisor=org.supervisor, active=False)
    html = home(as_admin)
    assert count(html, "count", "rep") == 3 and count(html, "count", "supervisor") == 2
    assert count(html, "count", "manager") == 1 and count(html, "count", "admin") == 1
    assert count(html, "count", "regions") == 4 and count(html, "count", "stores") == 7
    assert count(html, "count", "products") == 2
    assert "1 deactivated user" in html
    for href in ("/users", "/regions", "/audit", "/stores/import", "/products/import"):
        assert f'href="{href}"' in html
    for href in ("/users", "/regions", "/audit"):
        assert as_admin.get(href).status_code == 200


def test_supervisor_and_manager_homes_lead_to_alerts_with_the_open_count_and_to_the_map(client, org):
    from datetime import timedelta

    from field.alerts.evaluate import evaluate
    from field.core import company_today
    from tests.factories import make_visit

    make_visit(org.rep, planned_for=company_today() - timedelta(days=1))
    evaluate(org.east)
    db.session.commit()
    for user in (org.supervisor, org.manager):
        page = client.login_as(user).get("/").get_data(as_text=True)
        count = re.search(r'id="alerts-link"[^>]*>[^<]*<span class="count-pill" data-open-alerts>(\d+)<', page)
        assert count and int(count.group(1)) >= 1, user.login
        assert 'href="/map"' in page
    rep_home = client.login_as(org.rep).get("/").get_data(as_text=True)
    assert 'id="alerts-link"' not in rep_home
