"""Dealer and tier pages: the list, form, import and export (field/dealers); tiers, criteria,
proposals and the scorecard (field/channel). Every route in and out of scope, with and without CSRF."""
import io
from datetime import date
from field.core import now

import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.channel import operations as ops
from field.channel.models import DealerMonth, Tier, TierCriterion, TierProposal
from field.dealers.models import Dealer
from field.extensions import db
from field.stores.models import Store
from tests.conftest import login
from tests.factories import make_store

NOV = date(2026, 11, 1)


def make_dealer(region, code="D1", name="华东经销商", tier=""):
    dealer = Dealer(code=code, name=name, region=region, tier=tier, active=True, contact_name="王经理",
                    phone="13800000000", address="")
    db.session.add(dealer)
    db.session.commit()
    return dealer


@pytest.fixture
def dealers(org):
    return {"east": make_dealer(org.east, "E1", "东方商贸"), "west": make_dealer(org.west, "W1", "西部商贸")}


def upload(client, url, data: bytes, filename="dealers.csv", **kw):
    return client.post(url, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data", **kw)


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


# --- list ------------------------------------------------------------------------------------------

def test_managers_and_supervisors_see_their_regions_dealers(client, org, dealers):
    for user in (org.manager, org.supervisor):
        html = login(client, user).get("/dealers").get_data(as_text=True)
        assert 'data-dealer="E1"' in html and 'data-dealer="W1"' not in html
    html = login(client, org.admin).get("/dealers").get_data(as_text=True)
    assert 'data-dealer="E1"' in html and 'data-dealer="W1"' in html
    assert login(client, org.rep).get("/dealers").status_code == 403


def test_search_answers_the_rows_to_htmx(client, org, dealers):
    make_dealer(org.east, "E2", "南方批发")
    r = login(client, org.manager).get("/dealers?q=批发", headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert 'data-dealer="E2"' in html and 'data-dealer="E1"' not in html and "<html" not in html


# --- form ------------------------------------------------------------------------------------------

def form(org, **kw):
    return {"code": "E9", "name": "新经销商", "contact_name": "李", "phone": "1", "address": "", "region": str(org.east.id),
            "active": "y", **kw}


def test_a_manager_adds_and_edits_a_dealer_in_their_regions(client, org, dealers):
    c = login(client, org.manager)
    r = c.post("/dealers/new", data=form(org))
    assert r.status_code == 302
    dealer = db.session.execute(select(Dealer).where(Dealer.code == "E9")).scalar_one()
    assert dealer.region_id == org.east.id
    r = c.post(f"/dealers/{dealer.id}/edit", data=form(org, name="改名"))
    assert r.status_code == 302 and dealer.name == "改名"
    assert {"dealer.create", "dealer.update"} <= set(db.session.execute(select(AuditEvent.action)).scalars())


@pytest.mark.parametrize("bad,message", [
    ({"code": "E1"}, "already exists"),
    ({"region": ""}, "region"),
    ({"name": ""}, "required"),
])
def test_bad_dealer_forms_say_why_and_write_nothing(client, org, dealers, bad, message):
    before = count(Dealer)
    r = login(client, org.manager).post("/dealers/new", data=form(org, **bad))
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert count(Dealer) == before


def test_a_region_outside_scope_is_refused(client, org, dealers):
    r = login(client, org.manager).post("/dealers/new", data=form(org, region=str(org.west.id)))
    assert r.status_code == 422 and count(Dealer) == 2


def test_dealer_routes_out_of_scope_are_404_and_reps_supervisors_may_not_edit(client, org, dealers):
    west = dealers["west"]
    c = login(client, org.manager)
    assert c.get(f"/dealers/{west.id}/edit").status_code == 404
    assert c.post(f"/dealers/{west.id}/edit", data=form(org)).status_code == 404
    assert c.get(f"/dealers/{west.id}/scorecard").status_code == 404
    assert c.get("/dealers/999999/scorecard").status_code == 404
    s = login(client, org.supervisor)
    assert s.get("/dealers/new").status_code == 403
    assert s.get(f"/dealers/{dealers['east'].id}/edit").status_code == 403
    assert s.get("/dealers/import").status_code == 403
    assert s.get("/dealers/export.csv").status_code == 403


def test_every_post_needs_the_csrf_token(client, org, dealers):
    tier = Tier(name="T", rank=1)
    db.session.add(tier)
    db.session.add(TierCriterion(tier=tier, metric="coverage", threshold=10))
    db.session.add(TierProposal(dealer_id=dealers["east"].id, month=NOV, from_tier="", to_tier="T", figures={},
                                status="open"))
    db.session.commit()
    proposal = db.session.execute(select(TierProposal)).scalar_one()
    c = login(client, org.manager)
    assert c.post("/dealers/new", data=form(org), csrf=False).status_code == 400
    assert c.post(f"/dealers/{dealers['east'].id}/edit", data=form(org), csrf=False).status_code == 400
    assert upload(c, "/dealers/import", b"code,name,region\nE5,x,EAST\n", csrf=False).status_code == 400
    assert c.post("/dealer-tiers", data={"name": "X", "rank": "2"}, csrf=False).status_code == 400
    assert c.post(f"/dealer-tiers/{tier.id}/criteria", data={"metric": "coverage", "threshold": "5"},
                  csrf=False).status_code == 400
    assert c.post(f"/dealer-tiers/{tier.id}/criteria/coverage/remove", csrf=False).status_code == 400
    assert c.post(f"/dealer-proposals/{proposal.id}/confirm", csrf=False).status_code == 400
    assert count(Dealer) == 2 and count(Tier) == 1 and count(TierCriterion) == 1
    assert proposal.status == "open"


# --- import and export -----------------------------------------------------------------------------

def test_import_creates_updates_and_a_reimport_changes_nothing(client, org, dealers):
    c = login(client, org.manager)
    good = "code,name,contact_name,region\nE1,东方商贸(新),张,EAST\nE2,南方批发,,EAST\n".encode()
    r = upload(c, "/dealers/import", good)
    assert r.status_code == 302
    assert dealers["east"].name == "东方商贸(新)" and count(Dealer) == 3
    exported = c.get("/dealers/export.csv").get_data()
    assert b"E2" in exported and b"W1" not in exported
    r = upload(c, "/dealers/import", exported, follow_redirects=True)
    assert "0 new, 0 updated, 2 unchanged" in r.get_data(as_text=True)
    assert c.get("/dealers/export.xlsx").status_code == 200


@pytest.mark.parametrize("body,message", [
    ("code,name,region\nE5,a,EAST\ne5,b,EAST\n", "also in row 2"),
    ("code,name,region\nW1,a,EAST\n", "outside your scope"),
    ("code,name,region\nE5,a,WEST\n", "no region with code WEST"),
    ("code,name\nE5,a\n", "region code"),
    ("name,region\na,EAST\n", "code"),
])
def test_a_bad_import_says_why_and_imports_nothing(client, org, dealers, body, message):
    r = upload(login(client, org.manager), "/dealers/import", (body + "E6,fine,EAST\n").encode())
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert count(Dealer) == 2


def test_the_store_import_links_its_dealer_by_code_and_keeps_unknown_text(client, org, dealers):
    body = "code,name,region,dealer\nS1,店一,EAST,e1\nS2,店二,EAST,不认识的经销商\n".encode()
    r = upload(login(client, org.manager), "/stores/import", body, filename="stores.csv")
    assert r.status_code == 302
    s1 = db.session.execute(select(Store).where(Store.code == "S1")).scalar_one()
    s2 = db.session.execute(select(Store).where(Store.code == "S2")).scalar_one()
    assert s1.dealer_id == dealers["east"].id and s1.dealer == "e1"
    assert s2.dealer_id is None and s2.dealer == "不认识的经销商"


def test_dealers_link_names_only_the_unambiguous(runner, org, dealers):
    make_dealer(org.east, "E7", "同名")
    make_dealer(org.east, "E8", "同名")
    a = make_store(region=org.east, dealer="东方商贸")
    b = make_store(region=org.east, dealer="同名")
    c = make_store(region=org.east, dealer="无")
    out = runner.invoke(args=["dealers-link"])
    assert out.exit_code == 0, out.output
    assert "1 stores linked, 1 ambiguous, 1 with no matching dealer" in out.output
    db.session.expire_all()
    assert (a.dealer_id, b.dealer_id, c.dealer_id) == (dealers["east"].id, None, None)


# --- tiers and criteria -------------------------------------------------------------------------------

def test_a_manager_sets_tiers_and_criteria(client, org):
    c = login(client, org.manager)
    assert c.post("/dealer-tiers", data={"name": "价值渠道", "rank": "3"}).status_code == 303
    tier = db.session.execute(select(Tier)).scalar_one()
    assert c.post(f"/dealer-tiers/{tier.id}/criteria", data={"metric": "sales_3m", "threshold": "50,000"}
                  ).status_code == 303
    html = c.get("/dealer-tiers").get_data(as_text=True)
    assert 'data-tier="价值渠道"' in html and "¥50,000.00" in html
    assert c.post(f"/dealer-tiers/{tier.id}/criteria/sales_3m/remove").status_code == 303
    assert count(TierCriterion) == 0
    assert c.post(f"/dealer-tiers/{tier.id}/criteria/coverage/remove").status_code == 404
    assert c.post("/dealer-tiers/999999/criteria", data={"metric": "coverage", "threshold": "1"}).status_code == 404


@pytest.mark.parametrize("data,message", [
    ({"metric": "turnover", "threshold": "10"}, "There is no criterion"),
    ({"metric": "coverage", "threshold": "many"}, "is not a number"),
    ({"metric": "coverage", "threshold": "-3"}, "cannot be negative"),
    ({"metric": "sales_month", "threshold": "1.234"}, "more than two decimals"),
])
def test_a_bad_criterion_says_why_and_writes_nothing(client, org, data, message):
    tier = Tier(name="T", rank=1)
    db.session.add(tier)
    db.session.commit()
    r = login(client, org.manager).post(f"/dealer-tiers/{tier.id}/criteria", data=data)
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert count(TierCriterion) == 0


def test_bad_tiers_are_refused(client, org):
    c = login(client, org.manager)
    assert c.post("/dealer-tiers", data={"name": "", "rank": "1"}).status_code == 422
    assert c.post("/dealer-tiers", data={"name": "A", "rank": "abc"}).status_code == 422
    assert count(Tier) == 0


def test_supervisors_read_tiers_but_may_not_set_them(client, org):
    s = login(client, org.supervisor)
    assert s.get("/dealer-tiers").status_code == 200
    assert s.post("/dealer-tiers", data={"name": "A", "rank": "1"}).status_code == 403
    assert login(client, org.rep).get("/dealer-tiers").status_code == 403
    assert count(Tier) == 0


# --- proposals and the scorecard ----------------------------------------------------------------------

def _proposals(org, dealers):
    tier = Tier(name="潜力渠道", rank=1)
    db.session.add(tier)
    db.session.commit()
    ops.recompute(NOV, actor=org.manager)
    db.session.commit()
    return {d: db.session.execute(select(TierProposal).where(TierProposal.dealer_id == dealers[d].id)).scalar_one()
            for d in ("east", "west")}


def test_the_scorecard_shows_criteria_stores_tier_and_the_open_proposal(client, org, dealers):
    p = _proposals(org, dealers)
    make_store(region=org.east, dealer_id=dealers["east"].id, code="SE1")
    make_store(region=org.west, dealer_id=dealers["east"].id, code="SW1")  # not in the manager's regions
    html = login(client, org.manager).get(f"/dealers/{dealers['east'].id}/scorecard").get_data(as_text=True)
    for metric in ("sales_month", "sales_3m", "growth_yoy", "growth_mom", "coverage", "compliance"):
        assert f'data-criterion="{metric}"' in html
    assert 'data-store="SE1"' in html and 'data-store="SW1"' not in html
    assert f'data-open-proposal="{p["east"].id}"' in html and "<svg" in html
    assert "data-dealer-orders" in html and "No orders yet." in html  # field/orders answers: none yet


def test_the_scorecard_shows_the_orders_summary_when_provided(client, org, dealers, monkeypatch):
    from field import providers
    monkeypatch.setitem(providers._providers, "dealer_orders_summary", lambda dealer: {
        "by_status": [("Delivered", 3)], "recent": [{"id": 7, "store": "东方超市", "status_text": "Delivered",
                                                     "text": "3 of 3 lines", "placed_at": now(), "total_text": "¥42.00"}]})
    html = login(client, org.manager).get(f"/dealers/{dealers['east'].id}/scorecard").get_data(as_text=True)
    assert "data-dealer-orders" in html and 'data-order="7"' in html and "东方超市" in html and "¥42.00" in html


def test_a_manager_confirms_or_rejects_in_scope_only(client, org, dealers):
    p = _proposals(org, dealers)
    c = login(client, org.manager)
    assert c.post(f"/dealer-proposals/{p['west'].id}/confirm").status_code == 404
    assert dealers["west"].tier == ""
    assert login(client, org.supervisor).post(f"/dealer-proposals/{p['east'].id}/confirm").status_code == 403
    c = login(client, org.manager)
    assert c.post(f"/dealer-proposals/{p['east'].id}/confirm").status_code == 303
    assert dealers["east"].tier == "潜力渠道" and p["east"].status == "confirmed"
    assert c.post(f"/dealer-proposals/{p['east'].id}/reject").status_code == 409
    assert dealers["east"].tier == "潜力渠道"
    html = c.get(f"/dealers/{dealers['east'].id}/scorecard").get_data(as_text=True)
    assert 'data-status="confirmed"' in html


def test_the_recompute_command(runner, org, dealers):
    out = runner.invoke(args=["dealers-recompute", "--month", "2026-11"])
    assert out.exit_code == 0, out.output
    assert "2026-11: 2 dealers recomputed" in out.output
    assert count(DealerMonth) == 2
    bad = runner.invoke(args=["dealers-recompute", "--month", "Nov"])
    assert bad.exit_code != 0 and "not a month" in bad.output


def test_the_store_page_links_its_dealer_record_for_those_who_read_dealers(client, org, dealers):
    store = make_store(rep=org.rep, dealer="东方商贸", dealer_id=dealers["east"].id)
    link = f'/dealers/{dealers["east"].id}/scorecard'
    assert link in login(client, org.manager).get(f"/stores/{store.id}").get_data(as_text=True)
    html = login(client, org.rep).get(f"/stores/{store.id}").get_data(as_text=True)
    assert link not in html and "东方商贸" in html


def test_a_manager_records_payments_and_punctuality_follows_at_the_recompute(client, org, dealers):
    east = dealers["east"]
    c = login(client, org.manager)
    assert c.post(f"/dealers/{east.id}/payments", data={"month": "2026-11", "on_time": "yes"}).status_code == 303
    assert c.post(f"/dealers/{east.id}/payments", data={"month": "2026-10", "on_time": "no"}).status_code == 303
    ops.recompute(NOV, actor=org.manager)
    db.session.commit()
    kept = db.session.execute(select(DealerMonth).where(DealerMonth.dealer_id == east.id,
                                                        DealerMonth.month == NOV)).scalar_one()
    assert (kept.payments, kept.on_time) == (1, 1)
    html = c.get(f"/dealers/{east.id}/scorecard").get_data(as_text=True)
    assert 'data-payment="2026-11"' in html and 'data-criterion="punctuality"' in html
    assert "50%" in html  # one of the two recorded months on time


@pytest.mark.parametrize("month,message", [("11/2026", "YYYY-MM"), ("2999-01", "future"), ("", "YYYY-MM")])
def test_a_bad_payment_month_is_refused(client, org, dealers, month, message):
    from field.channel.models import DealerPayment
    r = login(client, org.manager).post(f"/dealers/{dealers['east'].id}/payments", data={"month": month, "on_time": "yes"})
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert count(DealerPayment) == 0


def test_payments_scope_csrf_and_role(client, org, dealers):
    from field.channel.models import DealerPayment
    data = {"month": "2026-11", "on_time": "yes"}
    assert login(client, org.manager).post(f"/dealers/{dealers['west'].id}/payments", data=data).status_code == 404
    assert login(client, org.manager).post(f"/dealers/{dealers['east'].id}/payments", data=data,
                                           csrf=False).status_code == 400
    assert login(client, org.supervisor).post(f"/dealers/{dealers['east'].id}/payments", data=data).status_code == 403
    assert count(DealerPayment) == 0
