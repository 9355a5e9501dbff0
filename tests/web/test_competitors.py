"""Competitor sightings through the app: the step on the visit page, its sightings for the report, the report
(scope, filters, drill-down with photos, export) and the admin's promotion types (CSRF, 403, 404)."""
import csv
import io

from sqlalchemy import func, select

from field.audit import AuditEvent
from field.competitors.models import CompetitorPromotionType, CompetitorSighting
from field.core import now
from field.extensions import db
from field.visits import operations as ops
from field.visits.models import StepKind, StepResult, VisitStatus
from tests.factories import make_photo, make_store, make_visit

HX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def promotion(name="特价", name_en="Price cut", active=True) -> CompetitorPromotionType:
    kind = CompetitorPromotionType(name=name, name_en=name_en, active=active)
    db.session.add(kind)
    db.session.commit()
    return kind


def started(rep, store=None):
    store = store or make_store(rep=rep)
    visit = make_visit(rep, store, at=now(), code="promotion")
    return visit, next(s for s in visit.visit_type.steps if s.kind == StepKind.COMPETITOR)


def sighting_form(*rows) -> dict:
    out = {f"c-{name}": [r.get(name, "") for r in rows]
           for name in ("brand", "product", "price", "promotion", "display", "facings")}
    return out


def sightings():
    return db.session.execute(select(CompetitorSighting).order_by(CompetitorSighting.id)).scalars().all()


def save(client, visit, step, *rows, **kw):
    return client.post(f"/visits/{visit.id}/steps/{step.id}", data=sighting_form(*rows), headers=HX, **kw)


def test_the_visit_page_offers_the_competitor_step_with_the_admins_promotion_types(as_rep, rep):
    promotion("买赠", "Buy and get")
    promotion("停用", "Retired", active=False)
    visit, step = started(rep)
    html = as_rep.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert f'id="step-{step.id}"' in html and 'name="c-brand"' in html and 'name="c-price"' in html
    assert "Buy and get" in html and "Retired" not in html
    assert "End-cap" in html  # the display types
    assert f'/visits/{visit.id}/steps/{step.id}/photos' in html or "data-photo-step" in html


def test_saving_the_step_writes_one_sighting_per_row_and_saving_again_replaces_them(as_rep, rep, org):
    cut = promotion()
    visit, step = started(rep)
    r = save(as_rep, visit, step,
             {"brand": "康师傅", "product": "冰红茶", "price": "3.50", "promotion": str(cut.id), "display": "end_cap",
              "facings": "6"},
             {"brand": "统一", "price": "3", "display": "shelf", "facings": "2"},
             {"display": "shelf"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "康师傅" in html and "¥3.50" in html and "Price cut" in html
    rows = sightings()
    assert [(s.brand, s.price, s.promotion_type_id, s.display, s.facings) for s in rows] == [
        ("康师傅", 350, cut.id, "end_cap", 6), ("统一", 300, None, "shelf", 2)]
    assert {(s.store_id, s.rep_id, s.region_id, s.channel) for s in rows} == {
        (visit.store_id, rep.id, org.east.id, "convenience")}
    assert rows[0].week.weekday() == 0 and rows[0].week <= rows[0].seen_on
    r = save(as_rep, visit, step, {"brand": "统一", "price": "2.80", "display": "shelf", "facings": "3"})
    assert r.status_code == 200
    assert [(s.brand, s.price) for s in sightings()] == [("统一", 280)]
    r = as_rep.post(f"/visits/{visit.id}/steps/{step.id}/skip", data={"skip_reason": "No competitors here"},
                    headers=HX)
    assert r.status_code == 200 and sightings() == []


def test_bad_prices_are_refused_in_place_and_nothing_is_written(as_rep, rep):
    visit, step = started(rep)
    for price, message in (("-3", "is negative"), ("250000", "is not a shelf price: at most ¥100,000."),
                           ("3.456", "has more than two decimals"), ("0", "A shelf price is above zero.")):
        r = save(as_rep, visit, step, {"brand": "统一", "price": "9", "display": "shelf", "facings": "1"},
                 {"brand": "康师傅", "price": price, "display": "shelf", "facings": "1"})
        assert r.status_code == 422, price
        html = r.get_data(as_text=True)
        assert message in html and 'value="康师傅"' in html  # the rep's typing stays
    r = save(as_rep, visit, step, {"brand": "统一", "price": "3", "promotion": "99999", "display": "shelf",
                                   "facings": "1"})
    assert r.status_code == 422 and "Pick a promotion type from the list." in r.get_data(as_text=True)
    assert sightings() == []
    assert db.session.scalar(select(func.count()).select_from(StepResult)) == 0


def test_saving_the_step_needs_the_csrf_token(as_rep, rep):
    visit, step = started(rep)
    r = save(as_rep, visit, step, {"brand": "统一", "price": "3", "display": "shelf", "facings": "1"}, csrf=False)
    assert r.status_code == 400 and sightings() == []


def seen(rep, store, brand, price, kind=None):
    """A competitor step saved through the operation (as the page does), on a visit of its own."""
    visit, step = started(rep, store)
    from werkzeug.datastructures import MultiDict
    form = MultiDict([("c-brand", brand), ("c-product", ""), ("c-price", price),
                      ("c-promotion", str(kind.id) if kind else ""), ("c-display", "end_cap"), ("c-facings", "4")])
    ops.save_step(visit, step.id, form, rep)
    visit.status, visit.checkout_at = VisitStatus.COMPLETED, now()  # a rep has one visit in progress at a time
    db.session.commit()
    return visit, step


def test_the_report_shows_promotions_prices_and_where_within_scope(client, org):
    cut = promotion()
    east = make_store(rep=org.rep)
    seen(org.rep, east, "康师傅", "3.00", cut)
    seen(org.teammate, make_store(rep=org.teammate), "康师傅", "4.00", cut)
    seen(org.rep, east, "康师傅", "3.50", cut)
    seen(org.west_rep, make_store(rep=org.west_rep), "西部可乐", "9.90")
    html = client.login_as(org.manager).get("/competitors/").get_data(as_text=True)
    assert "康师傅" in html and "Price cut" in html and "西部可乐" not in html
    assert "¥3.00" in html and "¥3.50" in html and "¥4.00" in html  # min, median, max
    assert "By region" in html
    html = client.get("/competitors/?brand=康师傅").get_data(as_text=True)
    assert "East 3" in html  # where, once a brand is picked
    assert "<polyline" in html  # the trend
    html = client.login_as(org.west_supervisor).get("/competitors/").get_data(as_text=True)
    assert "西部可乐" in html and "康师傅" not in html
    html = client.login_as(org.admin).get("/competitors/?channel=convenience&brand=西部可乐").get_data(as_text=True)
    assert "西部可乐" in html and "¥9.90" in html and "<strong>西部可乐</strong> · No promotion" in html and "· Price cut" not in html


def test_the_report_refuses_reps_and_regions_out_of_scope(client, org):
    assert client.login_as(org.rep).get("/competitors/").status_code == 403
    assert client.login_as(org.rep).get("/competitors/sightings").status_code == 403
    assert client.login_as(org.rep).get("/competitors/export.csv").status_code == 403
    manager = client.login_as(org.manager)
    assert manager.get(f"/competitors/?region={org.west.id}").status_code == 404
    assert manager.get(f"/competitors/sightings?region={org.west.id}").status_code == 404
    assert manager.get(f"/competitors/export.csv?region={org.west.id}").status_code == 404
    assert manager.get("/competitors/?region=abc").status_code == 404
    assert manager.get(f"/competitors/?region={org.east.id}").status_code == 200
    assert manager.get("/competitors/export.pdf").status_code == 404


def test_the_drill_down_lists_the_sightings_with_their_photos(client, org):
    cut = promotion()
    store = make_store(rep=org.rep, name="Corner Shop")
    visit, step = seen(org.rep, store, "康师傅", "3.00", cut)
    photo = make_photo(visit, step)
    seen(org.west_rep, make_store(rep=org.west_rep), "康师傅", "5.00", cut)
    r = client.login_as(org.supervisor).get(f"/competitors/sightings?brand=康师傅&promotion={cut.id}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Corner Shop" in html and "¥3.00" in html and "¥5.00" not in html
    assert f"/photos/{photo.id}/thumb" in html or f'id="photo-{photo.id}"' in html
    assert html.count('class="card competitor-sighting"') == 1
    html = client.get("/competitors/sightings?promotion=none").get_data(as_text=True)
    assert "No competitor sightings match." in html


def test_the_export_holds_what_the_report_shows(client, org):
    cut = promotion()
    seen(org.rep, make_store(rep=org.rep), "康师傅", "3.00", cut)
    seen(org.rep, make_store(rep=org.rep), "康师傅", "5.00", cut)
    r = client.login_as(org.manager).get("/competitors/export.csv?weeks=4")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    assert table[0][:6] == ["brand", "promotion", "sightings", "min_price", "median_price", "max_price"]
    assert table[1][:6] == ["康师傅", "特价", "2", "3.00", "4.00", "5.00"] or \
        table[1][:6] == ["康师傅", "Price cut", "2", "3.00", "4.00", "5.00"]
    r = client.get("/competitors/export.xlsx")
    assert r.status_code == 200 and r.data[:2] == b"PK"


def test_admin_keeps_the_promotion_types(client, org, as_admin):
    assert as_admin.get("/competitors/promotion-types").status_code == 200
    r = as_admin.post("/competitors/promotion-types", data={"name": "买赠", "name_en": "Buy and get"})
    assert r.status_code == 303
    kind = db.session.execute(select(CompetitorPromotionType)).scalar_one()
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "competitor_promotion_type.create")).scalar_one()
    r = as_admin.post("/competitors/promotion-types", data={"name": "买赠"})
    assert r.status_code == 422 and "There is already a promotion type of that name." in r.get_data(as_text=True)
    r = as_admin.post("/competitors/promotion-types", data={"name": " "})
    assert r.status_code == 422 and "Enter a name for the promotion type." in r.get_data(as_text=True)
    r = as_admin.post(f"/competitors/promotion-types/{kind.id}", data={"name": "买一赠一", "name_en": "BOGO"})
    assert r.status_code == 303
    db.session.refresh(kind)
    assert (kind.name, kind.active) == ("买一赠一", False)
    assert as_admin.post("/competitors/promotion-types/99999", data={"name": "x"}).status_code == 404
    assert as_admin.post("/competitors/promotion-types", data={"name": "抽奖"}, csrf=False).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(CompetitorPromotionType)) == 1


def test_only_the_admin_keeps_the_promotion_types(client, org):
    kind = promotion()
    manager = client.login_as(org.manager)
    assert manager.get("/competitors/promotion-types").status_code == 403
    assert manager.post("/competitors/promotion-types", data={"name": "抽奖"}).status_code == 403
    assert manager.post(f"/competitors/promotion-types/{kind.id}", data={"name": "抽奖"}).status_code == 403
