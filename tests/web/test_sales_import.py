"""The sales import page: a file is validated whole (every error as row and column, nothing imported
from a bad file) and importing the same or an overlapping file never counts a sale twice."""
import io
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from field.extensions import db
from field.roi.models import SalesDaily
from field.sales.models import Sale
from field.core import company_today
from tests.conftest import login
from tests.factories import make_product, make_store


def csv_file(*rows, header="store_code,date,sku,quantity,amount") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def upload(client, data: bytes, name="sales.csv", **kw):
    return client.post("/sales/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", **kw)


def count() -> int:
    return db.session.execute(select(func.count()).select_from(Sale)).scalar_one()


def total(store) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.coalesce(func.sum(SalesDaily.amount), 0))
                              .where(SalesDaily.store_id == store.id)).scalar_one()


@pytest.fixture
def shop(org):
    make_product(sku="COLA", category="Drinks")
    make_product(sku="TEA", category="Drinks")
    return make_store(rep=org.rep, code="SH-001")


WEEK = ["SH-001,2026-03-02,COLA,10,35.00", "SH-001,2026-03-02,TEA,4,18.50", "SH-001,2026/3/3,COLA,12,42.00"]


def test_a_manager_imports_sales_and_the_same_file_again_changes_nothing(client, org, shop):
    login(client, org.manager)
    r = upload(client, csv_file(*WEEK))
    assert r.status_code == 302
    assert "3 new, 0 replaced, 0 already there" in client.get(r.location).text
    assert count() == 3 and total(shop) == 9_550
    sale = db.session.execute(select(Sale).where(Sale.sold_on == date(2026, 3, 3))).scalar_one()
    assert (sale.quantity, sale.amount, sale.source, sale.product.sku) == (12, 4_200, "import", "COLA")
    r = upload(client, csv_file(*WEEK))
    assert "0 new, 0 replaced, 3 already there" in client.get(r.location).text
    assert count() == 3 and total(shop) == 9_550


def test_an_overlapping_file_replaces_the_days_it_repeats_and_adds_the_rest(client, org, shop):
    login(client, org.manager)
    upload(client, csv_file(*WEEK))
    r = upload(client, csv_file("SH-001,2026-03-03,COLA,13,45.50",      # corrected
                                "SH-001,2026-03-02,TEA,4,18.50",        # the same
                                "sh-001,2026-03-04,cola,9,31.50"))      # new (codes match without case)
    assert "1 new, 1 replaced, 1 already there" in client.get(r.location).text
    assert count() == 4
    assert total(shop) == 3_500 + 1_850 + 4_550 + 3_150


def test_an_excel_workbook_is_read_the_same_way(client, org, shop):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["门店编码", "日期", "产品编码", "数量", "金额"])
    sheet.append(["SH-001", date(2026, 3, 2), "COLA", 10, 35])
    sheet.append(["SH-001", date(2026, 3, 3), "TEA", 2, 9.5])
    out = io.BytesIO()
    book.save(out)
    r = upload(login(client, org.manager), out.getvalue(), name="sales.xlsx")
    assert r.status_code == 302 and count() == 2 and total(shop) == 4_450


def test_every_error_is_reported_by_row_and_column_and_nothing_is_imported(client, org, shop):
    west = make_store(rep=org.west_rep, code="W-9")
    tomorrow = (company_today() + timedelta(days=1)).isoformat()
    r = upload(login(client, org.manager), csv_file(
        "SH-001,2026-03-02,COLA,10,35.00",
        "NOPE,2026-03-02,COLA,1,1.00",
        "SH-001,2026-03-02,GHOST,1,1.00",
        "SH-001,2026-03-02,TEA,1,12.345",
        "SH-001,2026-02-30,TEA,1,1.00",
        f"SH-001,{tomorrow},TEA,1,1.00",
        "SH-001,2026-03-02,COLA,2,7.00",
        f"{west.code},2026-03-02,COLA,1,1.00",
        "SH-001,2026-03-05,TEA,1.5,-3"))
    assert r.status_code == 422
    text = r.text
    for expected in ("row 3, store_code: no store with code NOPE in your scope",
                     "row 4, sku: no product with SKU GHOST",
                     "row 5, amount: “12.345” has more than two decimals",
                     "row 6, date: not a date",
                     "row 7, date:", "is in the future",
                     "row 8, sku: store SH-001, 2026-03-02, COLA is also in row 2",
                     "row 9, store_code: no store with code W-9 in your scope",
                     "row 10, quantity: not a whole number: 1.5",
                     "row 10, amount:"):
        assert expected in text, expected
    assert count() == 0 and total(shop) == 0


def test_a_file_without_a_required_column_is_refused(client, org, shop):
    r = upload(login(client, org.manager), csv_file("SH-001,2026-03-02,COLA,10", header="store_code,date,sku,quantity"))
    assert r.status_code == 422 and "amount: required column is missing" in r.text
    assert count() == 0


def test_only_managers_and_admins_import(client, org, shop):
    for user in (org.rep, org.supervisor):
        assert upload(login(client, user), csv_file(*WEEK)).status_code == 403
        assert login(client, user).get("/sales/import").status_code == 403
    assert count() == 0
    assert login(client, org.admin).get("/sales/import").status_code == 200


def test_an_import_without_its_csrf_token_is_refused(client, org, shop):
    r = upload(login(client, org.manager), csv_file(*WEEK), csrf=False)
    assert r.status_code == 400 and count() == 0


def test_the_page_explains_the_columns_and_offers_a_template(client, org):
    login(client, org.manager)
    page = client.get("/sales/import")
    assert page.status_code == 200 and "store_code" in page.text and "counted twice" in page.text
    template = client.get("/sales/template.csv")
    assert template.status_code == 200
    assert template.data.decode("utf-8-sig").startswith("store_code,date,sku,quantity,amount")


def test_roi_tells_the_import_each_stores_group_key_as_its_triggers_spell_it(org, shop):
    """The import writes in ROI's group-key order (so concurrent imports never deadlock on the
    counters) without importing roi: ROI answers the `store_group_keys` provider."""
    from field import providers
    from field.roi.models import group_key
    from field.stores.models import Store
    spelled = db.session.execute(select(group_key()).where(Store.id == shop.id)).scalar_one()
    assert providers.ask("store_group_keys", [shop.id]) == {shop.id: spelled}
    assert spelled.endswith(f":{shop.tier}:{shop.channel}")
