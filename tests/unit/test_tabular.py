"""Reading spreadsheets as users save them (UTF-8 with or without BOM, GBK, XLSX) and the errors they see."""
import io
from decimal import Decimal

import openpyxl
import pytest

from field import tabular
from field.tabular import Column

pytestmark = pytest.mark.usefixtures("request_ctx")


COLUMNS = [
    Column("code", tabular.text(10), required=True, aliases=("编码",)),
    Column("name", tabular.text(50), required=True),
    Column("qty", tabular.integer(0, 100), default=0),
    Column("price", tabular.amount, default=0),
    Column("margin", tabular.decimal(2, Decimal(0), Decimal(100))),
    Column("tier", tabular.choice("ABCD"), default="C"),
    Column("active", tabular.boolean, default=True),
]


def xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_utf8_csv_with_bom_and_chinese():
    data = "code,name,qty\r\nS1,上海便利店,3\r\n".encode("utf-8-sig")
    table = tabular.read(data, COLUMNS)
    assert table.ok
    assert table.rows[0].values == {"code": "S1", "name": "上海便利店", "qty": 3}
    assert table.rows[0].number == 2
    assert table.columns == ["code", "name", "qty"]


def test_utf8_csv_without_bom():
    table = tabular.read("code,name\nS1,静安店\n".encode("utf-8"), COLUMNS)
    assert table.ok and table.rows[0]["name"] == "静安店"


def test_gbk_csv_as_chinese_excel_saves_it():
    data = "编码,name\r\nS1,徐汇区漕溪北路店\r\n".encode("gbk")
    table = tabular.read(data, COLUMNS)
    assert table.ok
    assert table.rows[0].values == {"code": "S1", "name": "徐汇区漕溪北路店"}


def test_xlsx_first_sheet_numbers_and_text():
    data = xlsx([["code", "name", "qty", "price", "margin", "active"],
                 ["00123", "店一", 5, 3.5, 12.25, True],
                 [None, None, None, None, None, None],
                 ["S2", "店二", 7.0, "12", None, "否"]])
    table = tabular.read(data, COLUMNS, filename="stores.xlsx")
    assert table.ok, [str(e) for e in table.errors]
    first, second = table.rows
    assert first.values == {"code": "00123", "name": "店一", "qty": 5, "price": 350,
                            "margin": Decimal("12.25"), "active": True}
    assert second.number == 4  # the blank row 3 is skipped but still counted
    assert second.values["qty"] == 7 and second.values["price"] == 1200 and second.values["active"] is False
    assert second.values["margin"] is None


def test_every_bad_cell_is_reported_with_its_spreadsheet_row():
    data = ("code,name,qty,price,tier\n"
            "S1,ok,1,1.00,A\n"
            "S2,,200,1.234,E\n"
            "S3,ok,x,-1,B\n").encode()
    table = tabular.read(data, COLUMNS)
    assert not table.ok
    assert [r.number for r in table.rows] == [2]  # kept for the importer's own checks
    messages = [str(e) for e in table.errors]
    assert "row 3, name: required" in messages
    assert "row 3, qty: must be between 0 and 100" in messages
    assert any(m.startswith("row 3, price: “1.234” has more than two decimals") for m in messages)
    assert "row 3, tier: must be one of A, B, C, D" in messages
    assert any(m.startswith("row 4, qty: not a whole number") for m in messages)
    assert any(m.startswith("row 4, price:") for m in messages)
    assert not any(m.startswith("row 2") for m in messages)


def test_missing_required_and_unknown_headers():
    table = tabular.read(b"code,nmae\nS1,x\n", COLUMNS)
    messages = [str(e) for e in table.errors]
    assert any(m.startswith("row 1, nmae: unknown column") for m in messages)
    assert "row 1, name: required column is missing" in messages


def test_repeated_header_is_an_error():
    table = tabular.read(b"code,name,Code\nS1,x,S2\n", COLUMNS)
    assert [str(e) for e in table.errors] == ["row 1, Code: this column appears twice"]


@pytest.mark.parametrize("data", [b"", b"   \r\n", "\ufeff".encode("utf-8")])
def test_empty_file(data):
    table = tabular.read(data, COLUMNS)
    assert [str(e) for e in table.errors] == ["row 1: The file is empty."]


def test_header_without_rows():
    table = tabular.read(b"code,name\n\n", COLUMNS)
    assert [str(e) for e in table.errors] == ["row 2: The file has a header but no rows."]


def test_row_and_size_caps():
    data = ("code,name\n" + "".join(f"S{i},n\n" for i in range(6))).encode()
    table = tabular.read(data, COLUMNS, max_rows=5)
    assert not table.ok and "more than 5 rows" in str(table.errors[-1])
    assert str(table.errors[-1]).startswith("row 7:")
    table = tabular.read(data, COLUMNS, max_bytes=10)
    assert not table.ok and "larger than" in str(table.errors[0])


def test_old_xls_and_broken_xlsx_are_refused_clearly():
    assert "xls" in str(tabular.read(b"\xd0\xcf\x11\xe0" + b"\0" * 100, COLUMNS).errors[0])
    table = tabular.read(b"PK\x03\x04 not really a zip", COLUMNS, filename="x.xlsx")
    assert "Excel workbook" in str(table.errors[0])


def test_semicolon_csv():
    table = tabular.read(b"code;name\nS1;x\n", COLUMNS)
    assert table.ok and table.rows[0].values == {"code": "S1", "name": "x"}


def test_csv_export_opens_in_excel_and_reads_back():
    data = tabular.write_csv(["code", "name", "price"], [["S1", "上海店", Decimal("3.50")], ["S2", "=cmd()", 2]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"'=cmd()" in data  # Excel would run it as a formula
    table = tabular.read(data, COLUMNS)
    assert table.ok
    assert [r.values for r in table.rows] == [{"code": "S1", "name": "上海店", "price": 350},
                                             {"code": "S2", "name": "=cmd()", "price": 200}]


def test_xlsx_export_reads_back():
    data = tabular.write_xlsx(["code", "name", "margin", "active"],
                              [["007", "+danger", Decimal("30.00"), True], ["S2", "店", Decimal("12.5"), False]])
    table = tabular.read(data, COLUMNS)
    assert table.ok, [str(e) for e in table.errors]
    assert [r.values for r in table.rows] == [
        {"code": "007", "name": "+danger", "margin": Decimal("30.00"), "active": True},
        {"code": "S2", "name": "店", "margin": Decimal("12.50"), "active": False}]
