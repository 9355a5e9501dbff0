"""The targets pages: a manager sets a region's monthly target and splits it to reps and stores (by hand,
or by last year's sales), a supervisor splits their team's reps' targets to stores, a rep reads their own
(and on Today); scope, CSRF and bad input on every route; import and export."""
import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import select

from field import providers
from field.audit import AuditEvent
from field.core import company_today
from field.extensions import db
from field.sales.models import Sale
from field.targets.models import Target
from field.targets.queries import month_key, month_start
from tests.conftest import login
from tests.factories import make_store

MARCH = date(2026, 3, 1)
_keys = iter(range(1, 10**6))


def sell(store, day, amount):
    db.session.add(Sale(store_id=store.id, sold_on=day, amount=amount, quantity=1, source="import",
                        source_key=f"t{next(_keys)}"))
    db.session.commit()


def rows(level=None):
    db.session.expire_all()
    stmt = select(Target).order_by(Target.id)
    if level:
        stmt = stmt.where(Target.level == level)
    return list(db.session.execute(stmt).scalars())


def audit_actions():
    return [e.action for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]


@pytest.fixture
def shops(org):
    """Two stores of the rep, one of the teammate, one in the west."""
    return {"a": make_store(rep=org.rep, code="E-A"), "b": make_store(rep=org.rep, code="E-B"),
            "c": make_store(rep=org.teammate, code="E-C"), "w": make_store(rep=org.west_rep, code="W-A")}


def set_target(client, region, amount, month="2026-03", **kw):
    return client.post("/targets", data={"month": month, "region": str(region.id), "amount": amount}, **kw)


def east_target(client, org, amount="10000.00"):
    login(client, org.manager)
    r = set_target(client, org.east, amount)
    assert r.status_code == 303, r.text
    return rows("region")[0]


# --- setting a region's target -----------------------------------------------------------------------

def test_a_manager_sets_a_region_target_and_changes_it_audited(client, org, shops):
    target = east_target(client, org)
    assert (target.month, target.level, target.region_id, target.amount) == (MARCH, "region", org.east.id, 1_000_000)
    page = client.get("/targets?month=2026-03")
    assert page.status_code == 200 and "East" in page.text and "¥10,000.00" in page.text
    assert set_target(client, org.east, "12,000.50").status_code == 303
    assert rows("region")[0].amount == 1_200_050 and len(rows()) == 1
    assert audit_actions() == ["targets.set", "targets.set"]


@pytest.mark.parametrize("amount, message", [
    ("-5", "negative"), ("1.234", "decimal"), ("abc", ""), ("", "yuan"), ("1,50", "commas"),
])
def test_a_bad_amount_is_refused_with_its_reason_and_nothing_written(client, org, amount, message):
    login(client, org.manager)
    r = set_target(client, org.east, amount)
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert message.lower() in r.text.lower()
    assert rows() == [] and audit_actions() == []


@pytest.mark.parametrize("month", ["2026-13", "March", "2026-03-15", "1999-01"])
def test_a_malformed_month_is_refused(client, org, month):
    login(client, org.manager)
    r = set_target(client, org.east, "100", month=month)
    assert r.status_code == 422 and "write it as 2026-03" in r.text and rows() == []
    assert client.get(f"/targets?month={month}").status_code == 400


def test_a_region_outside_the_managers_scope_or_unknown_is_refused(client, org):
    login(client, org.manager)
    for region in (org.west, org.china):
        r = set_target(client, region, "100")
        assert r.status_code == 422 and "Choose one of your regions" in r.text
    r = client.post("/targets", data={"month": "2026-03", "region": "99999999999", "amount": "1"})
    assert r.status_code == 422 and rows() == []


def test_posts_without_the_csrf_token_are_refused(client, org, shops):
    target = east_target(client, org)
    for url, data in [("/targets", {"month": "2026-03", "region": org.east.id, "amount": "1"}),
                      (f"/targets/{target.id}/split", {}), (f"/targets/{target.id}/proportional", {}),
                      (f"/targets/{target.id}/delete", {}), ("/targets/import", {})]:
        assert client.post(url, data=data, csrf=False).status_code == 400, url
    assert len(rows()) == 1 and rows()[0].amount == 1_000_000


def test_reps_and_supervisors_may_not_set_targets_or_import(client, org):
    for user in (org.rep, org.supervisor):
        login(client, user)
        assert set_target(client, org.east, "100").status_code == 403
        assert client.get("/targets/import").status_code == 403
        assert client.get("/targets/export.csv?month=2026-03").status_code == 403
        assert client.get("/targets/template.csv").status_code == 403
    assert rows() == []


def test_signed_out_goes_to_sign_in(client):
    assert client.get("/targets").status_code == 302
    assert client.get("/targets/1").status_code == 302


# --- splitting ---------------------------------------------------------------------------------------

def test_the_proportional_split_follows_last_years_sales_down_to_the_stores_to_the_fen(client, org, shops):
    sell(shops["a"], date(2025, 3, 5), 2_000_00)   # the rep: 3,000 last March (2,000 + 1,000)
    sell(shops["b"], date(2025, 3, 9), 1_000_00)
    sell(shops["c"], date(2025, 3, 20), 1_000_00)  # the teammate: 1,000
    sell(shops["c"], date(2025, 4, 1), 9_000_00)   # April: not the same month
    sell(shops["w"], date(2025, 3, 1), 5_000_00)   # the west: not this region
    target = east_target(client, org, "10000.01")
    r = client.post(f"/targets/{target.id}/proportional")
    assert r.status_code == 303
    reps = {t.rep_id: t.amount for t in rows("rep")}
    assert reps == {org.rep.id: 750_001, org.teammate.id: 250_000}  # 7500.0075 gets the leftover fen
    stores = {t.store_id: t.amount for t in rows("store")}
    assert stores[shops["a"].id] + stores[shops["b"].id] == 750_001
    assert stores == {shops["a"].id: 500_001, shops["b"].id: 250_000, shops["c"].id: 250_000}
    assert all(t.basis == "proportional" for t in rows() if t.level != "region")
    assert "Unallocated" in client.get(f"/targets/{target.id}").text
    assert "targets.split" in audit_actions()


def test_with_no_sales_last_year_the_split_is_even_and_says_so(client, org, shops):
    target = east_target(client, org, "100.00")
    r = client.post(f"/targets/{target.id}/proportional", follow_redirects=True)
    assert "split evenly" in r.text
    assert sorted(t.amount for t in rows("rep")) == [50_00, 50_00]
    assert {t.basis for t in rows("rep")} == {"even"}


def test_a_split_by_hand_may_leave_some_unallocated_never_more_than_the_target(client, org, shops):
    target = east_target(client, org, "1000.00")
    r = client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "600", f"part-{org.teammate.id}": ""})
    assert r.status_code == 303
    assert {t.rep_id: t.amount for t in rows("rep")} == {org.rep.id: 60_000}
    page = client.get(f"/targets/{target.id}").text
    assert 'id="unallocated">¥400.00' in page
    r = client.post(f"/targets/{target.id}/split",
                    data={f"part-{org.rep.id}": "600", f"part-{org.teammate.id}": "400.01"})
    assert r.status_code == 422 and "¥1,000.01" in r.text and "¥0.01 more than" in r.text
    assert {t.rep_id: t.amount for t in rows("rep")} == {org.rep.id: 60_000}
    r = client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "-1"})
    assert r.status_code == 422 and "negative" in r.text.lower()
    r = client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "1.005"})
    assert r.status_code == 422 and {t.rep_id: t.amount for t in rows("rep")} == {org.rep.id: 60_000}
    # Empty takes the part away.
    assert client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": ""}).status_code == 303
    assert rows("rep") == []


def test_a_split_to_someone_outside_scope_is_refused_and_a_bad_id_is_404(client, org, shops):
    target = east_target(client, org, "1000.00")
    r = client.post(f"/targets/{target.id}/split", data={f"part-{org.west_rep.id}": "10"})
    assert r.status_code == 422 and "not yours to split" in r.text and rows("rep") == []
    r = client.post(f"/targets/{target.id}/split", data={f"part-{org.supervisor.id}": "10"})  # not a rep
    assert r.status_code == 422
    assert client.post(f"/targets/{target.id}/split", data={"part-abc": "10"}).status_code == 404
    r = client.post(f"/targets/{target.id}/split", data={})
    assert r.status_code == 422 and "Nothing to save" in r.text


def test_a_target_cannot_be_lowered_below_its_split(client, org, shops):
    target = east_target(client, org, "1000.00")
    client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "800"})
    r = set_target(client, org.east, "700")
    assert r.status_code == 422 and "¥800.00" in r.text
    assert rows("region")[0].amount == 100_000
    rep_row = rows("rep")[0]
    client.post(f"/targets/{rep_row.id}/split", data={f"part-{shops['a'].id}": "500"})
    r = client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "400"})
    assert r.status_code == 422 and "¥500.00" in r.text and rows("rep")[0].amount == 80_000


def test_a_rep_split_from_one_region_cannot_be_split_from_another_the_same_month(client, org, shops):
    target = east_target(client, org, "1000.00")
    client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "100"})
    login(client, org.admin)
    r = set_target(client, org.china, "5000")
    china = next(t for t in rows("region") if t.region_id == org.china.id)
    r = client.post(f"/targets/{china.id}/split", data={f"part-{org.rep.id}": "100"})
    assert r.status_code == 422
    assert len(rows("rep")) == 1


# --- scope: who sees and splits what --------------------------------------------------------------------

def test_scope_ids_outside_it_are_404(client, org, shops):
    target = east_target(client, org, "1000.00")
    client.post(f"/targets/{target.id}/proportional")
    rep_row = next(t for t in rows("rep") if t.rep_id == org.rep.id)
    mate_row = next(t for t in rows("rep") if t.rep_id == org.teammate.id)
    login(client, org.west_supervisor)
    for url in (f"/targets/{target.id}", f"/targets/{rep_row.id}"):
        assert client.get(url).status_code == 404
        assert client.post(url + "/proportional").status_code == 404
        assert client.post(url + "/split", data={}).status_code == 404
    assert client.post(f"/targets/{target.id}/delete").status_code == 404
    login(client, org.rep)
    assert client.get(f"/targets/{rep_row.id}").status_code == 200
    assert client.get(f"/targets/{mate_row.id}").status_code == 404    # the teammate's
    assert client.get(f"/targets/{target.id}").status_code == 404      # the region's
    assert client.post(f"/targets/{rep_row.id}/proportional").status_code == 403
    assert client.get("/targets/99999999999").status_code == 404


def test_a_supervisor_splits_a_team_reps_target_to_stores_but_not_the_regions(client, org, shops):
    target = east_target(client, org, "1000.00")
    client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "600"})
    rep_row = rows("rep")[0]
    login(client, org.supervisor)
    page = client.get("/targets?month=2026-03")
    assert page.status_code == 200 and org.rep.name in page.text
    assert client.post(f"/targets/{target.id}/proportional").status_code == 403
    assert client.post(f"/targets/{target.id}/delete").status_code == 403
    r = client.post(f"/targets/{rep_row.id}/split",
                    data={f"part-{shops['a'].id}": "100", f"part-{shops['b'].id}": "200"})
    assert r.status_code == 303
    assert {t.store_id: t.amount for t in rows("store")} == {shops["a"].id: 10_000, shops["b"].id: 20_000}
    r = client.post(f"/targets/{rep_row.id}/split", data={f"part-{shops['c'].id}": "1"})  # the teammate's store
    assert r.status_code == 422
    r = client.post(f"/targets/{rep_row.id}/split", data={f"part-{shops['w'].id}": "1"})  # out of scope
    assert r.status_code == 422 and len(rows("store")) == 2


def test_completion_counts_this_months_sales_of_each_level(client, org, shops, app):
    target = east_target(client, org, "1000.00")
    client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "400"})
    sell(shops["a"], date(2026, 3, 2), 100_00)
    sell(shops["b"], date(2026, 3, 31), 50_00)
    sell(shops["c"], date(2026, 3, 15), 50_00)
    sell(shops["a"], date(2026, 4, 1), 999_00)   # April
    sell(shops["w"], date(2026, 3, 2), 999_00)   # the west
    login(client, org.manager)
    page = client.get(f"/targets/{target.id}").text
    assert "¥200.00</strong> / ¥1,000.00" in page and "20.0%" in page
    assert "¥150.00 of ¥400.00" in page and "37.5%" in page
    with app.test_request_context():  # the provider builds links: inside a request, as on a page
        summary = providers.ask("targets_summary", org.manager, MARCH)
        assert summary and summary[0]["label"] == "East" and summary[0]["actual"] == 200_00
        assert str(summary[0]["pct"]) == "20.0" and summary[0]["url"] == f"/targets/{target.id}"
        rep_summary = providers.ask("targets_summary", org.rep, MARCH)
        assert [(s["target"], s["actual"]) for s in rep_summary] == [(400_00, 150_00)]
        sup = providers.ask("targets_summary", org.supervisor, MARCH)
        assert [s["label"] for s in sup] == [org.rep.name]
        assert providers.ask("targets_summary", org.west_supervisor, MARCH) is None
        assert providers.ask("targets_summary", org.teammate, MARCH) is None


def test_the_summary_card_renders(client, org, shops, app):
    target = east_target(client, org, "1000.00")
    sell(shops["a"], date(2026, 3, 2), 1_200_00)
    with app.test_request_context():
        from flask import render_template_string
        html = render_template_string('{% include "targets/_summary.html" %}',
                                      targets=providers.ask("targets_summary", org.manager, MARCH))
    assert "East" in html and "120.0%" in html and f'href="/targets/{target.id}"' in html and "tbar-done" in html


def test_a_manager_takes_a_target_away_with_its_split(client, org, shops):
    target = east_target(client, org, "1000.00")
    client.post(f"/targets/{target.id}/proportional")
    assert len(rows()) == 1 + 2 + 3
    r = client.post(f"/targets/{target.id}/delete")
    assert r.status_code == 303 and "month=2026-03" in r.location
    assert rows() == [] and "targets.delete" in audit_actions()


# --- Today ---------------------------------------------------------------------------------------------

def test_the_rep_sees_this_months_target_on_today(client, org, shops):
    month = month_start(company_today())
    login(client, org.rep)
    assert 'id="today-target"' not in client.get("/today").text
    login(client, org.manager)
    set_target(client, org.east, "1000", month=month_key(month))
    target = rows("region")[0]
    client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "400"})
    sell(shops["a"], company_today(), 100_00)
    login(client, org.rep)
    page = client.get("/today").text
    assert 'id="today-target"' in page and "¥100.00 / ¥400.00" in page and "25.0%" in page
    login(client, org.teammate)
    assert 'id="today-target"' not in client.get("/today").text


# --- import and export -----------------------------------------------------------------------------------

def csv_file(*lines, header="month,region,rep,store,amount") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def upload(client, data: bytes, name="targets.csv"):
    return client.post("/targets/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


GOOD = ["2026-03,EAST,,,1000.00", "2026-03,EAST,rep,,600.00", "2026-03,EAST,teammate,,300", "2026-03,EAST,,E-A,250.50",
        "2026-03,EAST,rep,E-B,100"]


def test_a_manager_imports_targets_and_the_same_file_again_changes_nothing(client, org, shops):
    login(client, org.manager)
    assert client.get("/targets/import").status_code == 200
    r = upload(client, csv_file(*GOOD))
    assert r.status_code == 302, r.text
    assert "5 new, 0 updated, 0 unchanged" in client.get(r.location).text
    region = rows("region")[0]
    assert region.amount == 100_000
    assert {t.rep_id: t.amount for t in rows("rep")} == {org.rep.id: 60_000, org.teammate.id: 30_000}
    assert {t.store_id: t.amount for t in rows("store")} == {shops["a"].id: 25_050, shops["b"].id: 10_000}
    r = upload(client, csv_file(*GOOD))
    assert "0 new, 0 updated, 5 unchanged" in client.get(r.location).text
    assert audit_actions().count("targets.import") == 2


def test_an_export_imports_back_unchanged_in_csv_and_xlsx(client, org, shops):
    login(client, org.manager)
    upload(client, csv_file(*GOOD))
    sell(shops["a"], date(2026, 3, 2), 50_00)
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/targets/export.{fmt}?month=2026-03")
        assert r.status_code == 200 and "targets-2026-03" in r.headers["Content-Disposition"]
        if fmt == "csv":
            text = r.data.decode("utf-8-sig")
            assert "month,region,rep,store,name,amount,actual,completion" in text
            assert "2026-03,EAST,,,East,1000.00,50.00,5.0%" in text
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
            assert [c.value for c in sheet[1]][:3] == ["month", "region", "rep"]
        again = upload(client, r.data, name=f"t.{fmt}")
        assert "0 new, 0 updated, 5 unchanged" in client.get(again.location).text
    assert client.get("/targets/export.csv?month=2026-99").status_code == 400


def test_an_xlsx_with_real_numbers_and_dates_imports(client, org, shops):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["月份", "区域", "业务员", "门店", "指标"])
    sheet.append([date(2026, 3, 1), "east", None, None, 1234.5])
    sheet.append(["2026年3月", "EAST", "REP", None, 1000])
    out = io.BytesIO()
    workbook.save(out)
    login(client, org.manager)
    r = upload(client, out.getvalue(), name="指标.xlsx")
    assert r.status_code == 302, r.text
    assert rows("region")[0].amount == 123_450 and rows("rep")[0].amount == 100_000


@pytest.mark.parametrize("lines, message", [
    (["2026-03,EAST,,,-5"], "row 3, amount"),
    (["2026-03,EAST,,,1.234"], "row 3, amount"),
    (["2026-13,EAST,,,5"], "row 3, month"),
    (["2026-03,WEST,,,5"], "no region with code WEST in your scope"),
    (["2026-03,EAST,westrep,,5"], "no rep with login westrep in your scope"),
    (["2026-03,EAST,,W-A,5"], "no store with code W-A in your scope"),
    (["2026-03,EAST,teammate,E-A,5"], "belongs to rep"),
    (["2026-03,EAST,rep,,5"], "EAST has no target for 2026-03"),
    (["2026-03,EAST,,,100", "2026-03,EAST,rep,,60", "2026-03,EAST,teammate,,50"], "more than its ¥100.00"),
    (["2026-03,EAST,,,100", "2026-03,east,,,100"], "also in row 3"),
])
def test_a_file_with_a_bad_row_imports_nothing_and_says_where(client, org, shops, lines, message):
    login(client, org.manager)
    r = upload(client, csv_file("2026-04,EAST,,,1", *lines))
    assert r.status_code == 422 and "Nothing was imported" in r.text
    assert message in r.text, r.text
    assert rows() == [] and audit_actions() == []


def test_an_unreadable_or_empty_file_imports_nothing(client, org):
    login(client, org.manager)
    for data, name in [(b"", "t.csv"), (b"PK\x03\x04garbage", "t.xlsx"), (b"month,region\n", "t.csv"),
                       (b"foo,bar\n1,2\n", "t.csv")]:
        r = upload(client, data, name)
        assert r.status_code == 422, name
    assert rows() == []


def test_changing_a_reps_part_by_hand_splits_their_stores_again_when_they_were_split_by_sales(client, org, shops):
    sell(shops["a"], date(2025, 3, 5), 3_000_00)
    sell(shops["b"], date(2025, 3, 9), 1_000_00)
    target = east_target(client, org, "1000.00")
    client.post(f"/targets/{target.id}/proportional")
    r = client.post(f"/targets/{target.id}/split", data={f"part-{org.rep.id}": "100.01"})
    assert r.status_code == 303, r.text
    stores = {t.store_id: t.amount for t in rows("store") if t.rep_id == org.rep.id}
    assert stores == {shops["a"].id: 7_501, shops["b"].id: 2_500}


def test_a_rep_reads_their_split_without_forms_or_a_link_up_to_the_regions(client, org, shops):
    target = east_target(client, org, "1000.00")
    client.post(f"/targets/{target.id}/proportional")
    rep_row = next(t for t in rows("rep") if t.rep_id == org.rep.id)
    login(client, org.rep)
    page = client.get(f"/targets/{rep_row.id}").text
    assert "E-A" not in page or "part-" not in page
    assert 'id="split-save"' not in page and f'href="/targets/{target.id}"' not in page
    assert client.get("/targets").status_code == 200
    login(client, org.manager)
    page = client.get(f"/targets/{rep_row.id}").text
    assert 'id="split-save"' in page and f'href="/targets/{target.id}"' in page
