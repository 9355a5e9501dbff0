"""The dashboards over HTTP: who may open them, scope (an id outside it is a 404, a figure never counts
what the reader may not see), drill-downs, exports that carry what the page shows, the targets card."""
import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from jinja2 import ChoiceLoader, DictLoader

from field import providers
from field.core import company_today
from tests.factories import make_store, make_visit


@pytest.fixture
def visited(org):
    """East: the rep's A store visited this week, a B never; west: an A visited (out of the east's scope)."""
    a = make_store(rep=org.rep, tier="A", name="东方一店", channel="ka")
    b = make_store(rep=org.rep, tier="B", name="东方二店", channel="ka")
    west = make_store(rep=org.west_rep, tier="A", name="西部一店", channel="ka")
    when = datetime.now(timezone.utc) - timedelta(hours=1)
    make_visit(org.rep, a, at=when - timedelta(minutes=30), minutes=20)
    make_visit(org.west_rep, west, at=when - timedelta(minutes=30), minutes=20)
    return a, b, west


def kpi(html: str, key: str) -> str:
    m = re.search(rf'data-kpi="{key}">\s*<div class="kpi-value">([^<]*)<', html)
    assert m, f"no KPI {key}"
    return m.group(1)


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/stores", "/dashboard/reps", "/dashboard/export.csv"])
def test_reps_and_supervisors_may_not_open_the_managers_dashboard(client, org, path):
    assert client.login_as(org.rep).get(path).status_code == 403
    assert client.login_as(org.supervisor).get(path).status_code == 403


def test_a_rep_may_not_open_the_team_dashboard(client, org):
    assert client.login_as(org.rep).get("/dashboard/team").status_code == 403
    assert client.login_as(org.rep).get("/dashboard/team/export.csv").status_code == 403


def test_signed_out_visitors_go_to_sign_in(client):
    r = client.get("/dashboard")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_manager_sees_figures_of_their_regions_only(client, org, visited):
    html = client.login_as(org.manager).get("/dashboard?period=week").get_data(as_text=True)
    # East: two stores due (A visited, B never), one visited.
    assert kpi(html, "coverage") == "50.0 %"
    assert "1 of 2 due stores visited" in html
    admin = client.login_as(org.admin).get("/dashboard?period=week").get_data(as_text=True)
    assert kpi(admin, "coverage") == "66.7 %"   # the west store counts for the admin
    assert 'role="group"' in html and 'role="img"' not in html.split('id="coverage-tier"')[1].split("</section>")[0]


def test_a_region_outside_scope_is_a_404_and_one_inside_narrows_the_figures(client, org, visited):
    as_manager = client.login_as(org.manager)
    assert as_manager.get(f"/dashboard?region={org.west.id}").status_code == 404
    assert as_manager.get(f"/dashboard/stores?region={org.west.id}").status_code == 404
    assert as_manager.get("/dashboard?region=999999").status_code == 404
    assert as_manager.get(f"/dashboard?region={org.east.id}").status_code == 200


def test_drill_down_lists_the_stores_behind_a_figure_in_scope(client, org, visited):
    as_manager = client.login_as(org.manager)
    unvisited = as_manager.get("/dashboard/stores?period=week&state=unvisited").get_data(as_text=True)
    assert "东方二店" in unvisited and "东方一店" not in unvisited and "西部一店" not in unvisited
    visited_page = as_manager.get("/dashboard/stores?period=week&state=visited&tier=A").get_data(as_text=True)
    assert "东方一店" in visited_page and "西部一店" not in visited_page
    reps = as_manager.get("/dashboard/reps?period=week").get_data(as_text=True)
    assert f'data-rep="{org.rep.login}"' in reps and org.west_rep.login not in reps
    # Bad filters fall back, never a 5xx.
    assert as_manager.get("/dashboard/stores?state=nope&tier=Z&channel=x&page=-3").status_code == 200
    assert as_manager.get("/dashboard/reps?measure=x&min=abc&max=1e999").status_code == 200
    assert as_manager.get("/dashboard?period=x&on=not-a-date").status_code == 200


def test_a_page_past_the_last_shows_the_last_and_an_empty_list_says_so(client, org, visited):
    as_manager = client.login_as(org.manager)
    past = as_manager.get("/dashboard/stores?period=week&state=unvisited&page=9").get_data(as_text=True)
    assert "东方二店" in past and "东方一店" not in past
    none = as_manager.get("/dashboard/stores?period=week&state=visited&tier=B&page=3")
    assert none.status_code == 200 and "东方" not in none.get_data(as_text=True)


def test_the_export_carries_what_the_page_shows(client, org, visited):
    as_manager = client.login_as(org.manager)
    html = as_manager.get("/dashboard?period=week").get_data(as_text=True)
    r = as_manager.get("/dashboard/export.csv?period=week")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert "dashboard-week-" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["figure", "group", "value", "previous_period", "same_period_last_year", "unit"]
    coverage = next(row for row in rows if row[:2] == ["coverage", "all"])
    assert coverage[2] + " %" == kpi(html, "coverage")
    assert any(row[0] == "rep_visits_per_day" and row[1] == org.rep.login for row in rows)
    assert not any(org.west_rep.login in row for row in rows)
    xlsx = as_manager.get("/dashboard/export.xlsx?period=week")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_the_supervisor_sees_their_team_live_and_the_week(client, org, visited):
    a, b, _west = visited
    make_visit(org.rep, b, at=datetime.now(timezone.utc) - timedelta(minutes=5))   # in the store now
    html = client.login_as(org.supervisor).get("/dashboard/team").get_data(as_text=True)
    assert f'data-rep="{org.rep.login}"' in html and f'data-rep="{org.teammate.login}"' in html
    assert org.west_rep.login not in html
    assert "东方二店" in html                       # where the rep is now
    assert 'id="team-week"' in html
    export = client.login_as(org.supervisor).get("/dashboard/team/export.csv").get_data(as_text=True)
    assert org.rep.login in export and org.west_rep.login not in export


def test_a_manager_picks_a_supervisor_in_scope_and_one_outside_is_a_404(client, org, visited):
    as_manager = client.login_as(org.manager)
    picker = as_manager.get("/dashboard/team").get_data(as_text=True)
    assert f'data-supervisor="{org.supervisor.login}"' in picker and org.west_supervisor.login not in picker
    assert as_manager.get(f"/dashboard/team?supervisor={org.supervisor.id}").status_code == 200
    assert as_manager.get(f"/dashboard/team?supervisor={org.west_supervisor.id}").status_code == 404
    assert as_manager.get(f"/dashboard/team?supervisor={org.rep.id}").status_code == 404
    assert as_manager.get(f"/dashboard/team/export.csv?supervisor={org.west_supervisor.id}").status_code == 404


def test_homes_link_to_the_dashboards(client, org):
    assert 'id="dashboard-link"' in client.login_as(org.manager).get("/").get_data(as_text=True)
    assert 'id="team-dashboard-link"' in client.login_as(org.supervisor).get("/").get_data(as_text=True)


@pytest.fixture
def targets(app, monkeypatch):
    """A targets provider and card as the targets helper ships them (registered for this test only)."""
    seen = []

    def summary(user, month):
        seen.append((user.login, month))
        return [{"label": "销售指标", "target": 100_000, "actual": 50_000, "pct": None, "url": "/"}]
    monkeypatch.setitem(providers._providers, "targets_summary", summary)
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([DictLoader({
        "targets/_summary.html": '<section id="targets-card">{% for t in targets %}{{ t.label }}{% endfor %}</section>'}),
        app.jinja_env.loader]))
    app.jinja_env.cache.clear() if app.jinja_env.cache else None
    return seen


def test_the_targets_card_shows_on_the_reps_home_and_both_dashboards(client, org, targets):
    for user, path in ((org.rep, "/"), (org.supervisor, "/dashboard/team"), (org.manager, "/dashboard")):
        html = client.login_as(user).get(path).get_data(as_text=True)
        assert 'id="targets-card"' in html and "销售指标" in html, path
    month = company_today().replace(day=1)
    assert ("manager", month) in targets and all(m.day == 1 for _login, m in targets)


def test_without_a_targets_provider_no_card_shows(client, org):
    assert 'id="targets-card"' not in client.login_as(org.rep).get("/").get_data(as_text=True)
