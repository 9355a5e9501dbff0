"""The product catalogue by request: everyone reads it; admins and managers change, import and export it."""
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from field.audit import AuditEvent
from field.extensions import db
from field.products.models import Product
from tests.conftest import login
from tests.factories import make_product

HX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def count() -> int:
    return db.session.execute(select(func.count(Product.id))).scalar_one()


def by_sku(sku: str) -> Product:
    db.session.expire_all()
    return db.session.execute(select(Product).where(Product.sku == sku)).scalar_one()


def skus_on(html: str) -> list[str]:
    return re.findall(r'data-sku="([^"]+)"', html)


def audit_actions() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def upload(client, data: bytes, filename="products.csv", **kw):
    return client.post("/products/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", **kw)


def csv_bytes(*lines, encoding="utf-8-sig") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def form(**over) -> dict:
    data = {"sku": "P-1", "name": "冰红茶 500ml", "category": "Drinks", "unit_price": "3.50", "margin_pct": "28.5"}
    data.update(over)
    return data


@pytest.fixture
def catalogue(org):
    return [make_product(sku="TEA", name="Green tea", category="Drinks", unit_price=350),
            make_product(sku="NOOD", name="Noodles", category="Food", unit_price=1250),
            ]


# --- reading ------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["rep", "supervisor", "west_rep", "manager", "admin"])
def test_everyone_signed_in_reads_the_catalogue(client, org, catalogue, who):
    login(client, getattr(org, who))
    r = client.get("/products")
    assert r.status_code == 200 and sorted(skus_on(r.text)) == ["NOOD", "TEA"]
    assert "¥12.50" in r.text
    page = client.get(f"/products/{catalogue[0].id}")
    assert page.status_code == 200 and "Green tea" in page.text and "30.00 %" in page.text


def test_signed_out_is_sent_to_login(client, catalogue):
    assert client.get("/products").status_code == 302
    assert client.get(f"/products/{catalogue[0].id}").status_code == 302


def test_unknown_product_is_404(client, org):
    assert login(client, org.rep).get("/products/424242").status_code == 404


def test_search_and_htmx_fragment(client, org, catalogue):
    login(client, org.rep)
    assert skus_on(client.get("/products?q=food").text) == ["NOOD"]
    assert skus_on(client.get("/products?q=tea").text) == ["TEA"]
    r = client.get("/products?q=nood", headers=HX)
    assert skus_on(r.text) == ["NOOD"] and "<html" not in r.text and 'name="q"' not in r.text


def test_inactive_products_come_last(client, org):
    make_product(sku="A", name="Apple")
    make_product(sku="B", name="Banana")
    db.session.execute(Product.__table__.update().where(Product.sku == "A").values(active=False))
    db.session.commit()
    assert skus_on(login(client, org.rep).get("/products").text) == ["B", "A"]


# --- changing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["rep", "supervisor"])
def test_reps_and_supervisors_cannot_change_products(client, org, catalogue, who):
    login(client, getattr(org, who))
    assert client.get("/products/new").status_code == 403
    assert client.post("/products/new", data=form()).status_code == 403
    assert client.get(f"/products/{catalogue[0].id}/edit").status_code == 403
    assert client.post(f"/products/{catalogue[0].id}/edit", data=form()).status_code == 403
    assert client.post(f"/products/{catalogue[0].id}/deactivate").status_code == 403
    assert client.get("/products/import").status_code == 403
    assert client.get("/products/export.csv").status_code == 403
    assert count() == 2 and by_sku("TEA").active and audit_actions() == []


def test_manager_adds_a_product_in_minor_units(client, org):
    login(client, org.manager)
    assert client.get("/products/new").status_code == 200
    r = client.post("/products/new", data=form())
    assert r.status_code == 302
    product = by_sku("P-1")
    assert product.unit_price == 350 and product.margin_pct == Decimal("28.50")
    assert audit_actions() == ["product.create"]
    assert "¥3.50" in client.get(r.headers["Location"]).text


@pytest.mark.parametrize("over, message", [
    ({"unit_price": "3.505"}, "Did you mean 3.50 or 3.51?"),
    ({"unit_price": "-1"}, "“-1” is negative"),
    ({"unit_price": "abc"}, "“abc” is not an amount in yuan"),
    ({"margin_pct": "100.01"}, "must be between 0 and 100"),
    ({"margin_pct": "12.345"}, "at most 2 decimals"),
    ({"sku": ""}, "This field is required"),
])
def test_bad_product_form_answers_422_and_writes_nothing(client, org, over, message):
    r = login(client, org.admin).post("/products/new", data=form(**over))
    assert r.status_code == 422 and message in r.text
    assert count() == 0 and audit_actions() == []


def test_duplicate_sku_is_refused(client, org, catalogue):
    r = login(client, org.manager).post("/products/new", data=form(sku="tea"))
    assert r.status_code == 422 and "already exists" in r.text and count() == 2


def test_edit_and_deactivate_are_audited(client, org, catalogue):
    tea = catalogue[0]
    login(client, org.manager)
    assert 'value="3.50"' in client.get(f"/products/{tea.id}/edit").text
    r = client.post(f"/products/{tea.id}/edit", data=form(sku="TEA", name="Green tea", unit_price="4",
                                                         margin_pct="30"))
    assert r.status_code == 302 and by_sku("TEA").unit_price == 400
    assert client.post(f"/products/{tea.id}/deactivate").status_code == 302
    assert not by_sku("TEA").active
    client.post(f"/products/{tea.id}/activate")
    assert by_sku("TEA").active
    assert audit_actions() == ["product.update", "product.deactivate", "product.activate"]
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "product.update")).scalar_one()
    assert event.details["changes"] == {"unit_price": [350, 400]}


def test_post_without_csrf_token_is_refused(client, org, catalogue):
    login(client, org.manager)
    assert client.post("/products/new", data=form(), csrf=False).status_code == 400
    assert client.post(f"/products/{catalogue[0].id}/edit", data=form(), csrf=False).status_code == 400
    assert client.post(f"/products/{catalogue[0].id}/deactivate", csrf=False).status_code == 400
    assert upload(client, csv_bytes("sku,name", "X,x"), csrf=False).status_code == 400
    assert count() == 2 and by_sku("TEA").active and audit_actions() == []


def test_unknown_product_edit_is_404(client, org):
    login(client, org.admin)
    assert client.get("/products/999/edit").status_code == 404
    assert client.post("/products/999/deactivate").status_code == 404


# --- import and export --------------------------------------------------------------------------

GOOD = csv_bytes("sku,name,category,unit_price,margin_pct,active",
                 "C-1,可乐 330ml,Drinks,2.5,35,yes",
                 "C-2,薯片,Snacks,¥6.80,40.25,",
                 "C-3,Old item,,0,,no")


def test_import_creates_then_reimport_changes_nothing_then_updates(client, org):
    login(client, org.manager)
    assert client.get("/products/import").status_code == 200
    r = upload(client, GOOD)
    assert r.status_code == 302 and count() == 3
    assert "3 new, 0 updated, 0 unchanged" in client.get(r.headers["Location"]).text
    chips = by_sku("C-2")
    assert chips.unit_price == 680 and chips.margin_pct == Decimal("40.25") and chips.active
    assert not by_sku("C-3").active and by_sku("C-3").margin_pct == 0
    r = upload(client, GOOD)
    assert "0 new, 0 updated, 3 unchanged" in client.get(r.headers["Location"]).text and count() == 3
    r = upload(client, GOOD.replace(b"2.5,35", b"2.8,35"))
    assert "0 new, 1 updated, 2 unchanged" in client.get(r.headers["Location"]).text
    assert by_sku("C-1").unit_price == 280 and count() == 3
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "products.import")
                               .order_by(AuditEvent.id)).scalars().all()
    assert [e.details["created"] for e in events] == [3, 0, 0]


def test_bad_import_lists_every_error_and_imports_nothing(client, org):
    bad = csv_bytes("sku,name,unit_price,margin_pct",
                    "D-1,ok,1,1",
                    "D-2,,1.234,101",
                    "D-1,again,1,1",
                    "D-4,neg,-2,x")
    r = upload(login(client, org.admin), bad)
    assert r.status_code == 422
    for expected in ("row 3, name: required", "row 3, unit_price: “1.234” has more than two decimals",
                     "row 3, margin_pct: must be between 0 and 100", "row 4, sku: D-1 is also in row 2",
                     "row 5, unit_price: “-2” is negative", "row 5, margin_pct: not a number"):
        assert expected in r.text, expected
    assert count() == 0 and audit_actions() == []
    r = upload(client, csv_bytes("name,price", "x,1"))
    assert r.status_code == 422 and "row 1, sku: required column is missing" in r.text


def test_gbk_file_with_chinese_headers(client, org):
    r = upload(login(client, org.manager), csv_bytes("商品编码,商品名称,单价,毛利率", "G-1,酱油,12.9,22", encoding="gbk"))
    assert r.status_code == 302
    assert by_sku("G-1").name == "酱油" and by_sku("G-1").unit_price == 1290


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(client, org, catalogue, fmt):
    login(client, org.manager)
    upload(client, GOOD)
    before = {p.sku: (p.name, p.category, p.unit_price, p.margin_pct, p.active)
              for p in db.session.execute(select(Product)).scalars()}
    r = client.get(f"/products/export.{fmt}")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    r2 = upload(client, r.data, filename=f"products.{fmt}")
    assert r2.status_code == 302
    assert "0 new, 0 updated, 5 unchanged" in client.get(r2.headers["Location"]).text
    db.session.expire_all()
    after = {p.sku: (p.name, p.category, p.unit_price, p.margin_pct, p.active)
             for p in db.session.execute(select(Product)).scalars()}
    assert after == before


def test_export_writes_yuan(client, org, catalogue):
    r = login(client, org.admin).get("/products/export.csv")
    text = r.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "sku,name,category,unit_price,margin_pct,active"
    assert "NOOD,Noodles,Food,12.50,30.00,yes" in text
    r = client.get("/products/export.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[0].iter_rows(values_only=True))
    assert ("NOOD", "Noodles", "Food", 12.5, 30, "yes") in rows
