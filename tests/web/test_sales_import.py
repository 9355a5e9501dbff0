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


# --- never counted twice with delivered orders -------------------------------------------------------

ORDER_HEADER = "store_code,date,sku,quantity,amount,订单号"


def delivered_order(org, store, quantities: dict[str, int], delivered: dict[str, int] | None = None, deliver=True):
    """An order of `store` to its dealer, confirmed, and (with `deliver`) delivered by the dealer's staff
    through the orders operations: its delivered lines are sales (source "order") dated today."""
    from field.orders import operations as order_ops
    from field.orders.models import Order, OrderLine, OrderStatus
    from field.products.models import Product
    from tests.factories import make_dealer_user, make_order_dealer
    dealer = make_order_dealer(store.region, name=f"Dealer of {store.code}")
    store.dealer_id = dealer.id
    staff = make_dealer_user(dealer)
    lines = []
    for n, (sku, quantity) in enumerate(quantities.items()):
        product = db.session.execute(select(Product).where(Product.sku == sku)).scalar_one()
        lines.append(OrderLine(line_no=n, sku=sku, product=product, quantity=quantity, unit_price=350))
    order = Order(dealer_id=dealer.id, store_id=store.id, rep_id=store.owner_rep_id, status=OrderStatus.CONFIRMED,
                  lines=lines, total=sum(line.amount for line in lines))
    db.session.add(order)
    db.session.commit()
    if deliver:
        from flask import current_app
        with current_app.test_request_context():
            order_ops.deliver(order, staff, {line.id: str((delivered or quantities)[line.sku]) for line in order.lines})
            db.session.commit()
    return order


def sources() -> dict[str, int]:
    return dict(db.session.execute(select(Sale.source, func.sum(Sale.quantity)).group_by(Sale.source)).all())


def test_a_row_naming_a_delivered_order_is_listed_not_imported_and_the_rest_goes_in(client, org, shop):
    order = delivered_order(org, shop, {"COLA": 10, "TEA": 4}, delivered={"COLA": 10, "TEA": 3})
    day = company_today().isoformat()
    login(client, org.manager)
    r = upload(client, csv_file(f"SH-001,{day},COLA,10,35.00,{order.id}", f"SH-001,{day},TEA,3,10.50,#{order.id}",
                                "SH-001,2026-03-02,COLA,5,17.50,", header=ORDER_HEADER))
    assert r.status_code == 200  # the page itself, listing what was left out
    html = r.get_data(as_text=True)
    assert "1 new, 0 replaced, 0 already there" in html and "2 rows were not imported" in html
    assert f"row 2: already counted from order {order.id}, delivered on {day}: not imported" in html
    assert f"row 3: already counted from order {order.id}" in html and "row 4" not in html
    assert sources() == {"order": 13, "import": 5}  # each delivered unit once; the other row imported
    assert total(shop) == 10 * 350 + 3 * 350 + 1_750


def test_a_row_like_a_delivery_is_skipped_unless_its_order_column_says_none(client, org, shop):
    delivered_order(org, shop, {"COLA": 10})
    day = company_today().isoformat()
    login(client, org.manager)
    r = upload(client, csv_file(f"SH-001,{day},COLA,10,40.00", f"SH-001,{day},TEA,10,40.00"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "row 2: the same store, day, product and quantity as the delivery of order" in html
    assert "write none in its order column" in html and "row 3" not in html
    assert sources() == {"order": 10, "import": 10}  # the tea was no delivery: imported
    r = upload(client, csv_file(f"SH-001,{day},COLA,10,40.00,none", header=ORDER_HEADER))
    assert r.status_code == 302  # said to be another sale: imported, nothing left out
    assert sources() == {"order": 10, "import": 20}
    r = upload(client, csv_file(f"SH-001,{day},COLA,11,44.00"))  # not the delivered quantity: another sale
    assert r.status_code == 302 and sources() == {"order": 10, "import": 21}


def test_an_order_not_yet_delivered_is_counted_by_its_delivery_not_the_import(client, org, shop):
    order = delivered_order(org, shop, {"COLA": 10}, deliver=False)
    login(client, org.manager)
    r = upload(client, csv_file(f"SH-001,2026-03-02,COLA,10,35.00,{order.id}", header=ORDER_HEADER))
    assert r.status_code == 200 and f"order {order.id} is confirmed: its sales are counted when the dealer marks it " \
                                      f"delivered" in r.get_data(as_text=True)
    assert count() == 0


def test_a_sale_imported_before_the_delivery_is_set_to_zero_when_the_delivery_is_named(client, org, shop):
    day = company_today().isoformat()
    login(client, org.manager)
    assert upload(client, csv_file(f"SH-001,{day},COLA,10,35.00")).status_code == 302
    order = delivered_order(org, shop, {"COLA": 10})
    assert sources() == {"order": 10, "import": 10}  # counted twice until the next import says so
    login(client, org.manager)
    r = upload(client, csv_file(f"SH-001,{day},COLA,10,35.00,{order.id}", header=ORDER_HEADER))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "0 new, 1 replaced" in html and "is set to 0" in html
    assert sources() == {"order": 10, "import": 0} and total(shop) == 3_500


def test_orders_out_of_scope_or_wrong_refuse_the_file_without_naming_them(client, org, shop):
    west = make_store(rep=org.west_rep, code="WE-001")
    theirs = delivered_order(org, west, {"COLA": 7})
    mine = delivered_order(org, shop, {"COLA": 10})
    other_shop = make_store(rep=org.rep, code="SH-002")
    day = company_today().isoformat()
    login(client, org.manager)
    r = upload(client, csv_file(f"SH-001,{day},COLA,7,24.50,{theirs.id}", f"SH-002,{day},COLA,10,35.00,{mine.id}",
                                f"SH-001,{day},TEA,1,5.00,{mine.id}", "SH-001,2026-03-02,COLA,1,3.50,99999",
                                "SH-001,2026-03-02,COLA,1,3.50,abc", header=ORDER_HEADER))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and count() - 2 == 0  # only the two deliveries' sales
    assert f"no order {theirs.id} in your scope" in html and "no order 99999 in your scope" in html  # alike
    assert f"order {mine.id} is another store" in html and f"order {mine.id} has no line for SKU TEA" in html
    assert "not an order number" in html and "WE-001" not in html and "delivered on" not in html
    # A row at their store is refused for the store: the delivery there is never mentioned.
    r = upload(client, csv_file(f"WE-001,{day},COLA,7,24.50"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "no store with code WE-001 in your scope" in html and "order" not in html.split(
        "import-errors")[1].split("</section>")[0]
    assert other_shop.id and sources() == {"order": 17}
    # The admin sees every order: theirs is the west store's delivery, skipped.
    login(client, org.admin)
    r = upload(client, csv_file(f"WE-001,{day},COLA,7,24.50,{theirs.id}", header=ORDER_HEADER))
    assert r.status_code == 200 and f"already counted from order {theirs.id}" in r.get_data(as_text=True)
    assert sources() == {"order": 17}


def test_the_import_with_order_rows_needs_the_csrf_token(client, org, shop):
    order = delivered_order(org, shop, {"COLA": 10})
    login(client, org.manager)
    r = upload(client, csv_file(f"SH-001,2026-03-02,COLA,10,35.00,{order.id}", header=ORDER_HEADER), csrf=False)
    assert r.status_code == 400 and sources() == {"order": 10}
