"""Spreadsheets in and out: CSV and XLSX read into checked rows, written back with the same columns.

A file is validated whole before anything is written: read() returns either every
row parsed or every error, each pointing at the row number the user sees in the
spreadsheet (the header is row 1) and the column. Chinese Excel saves CSV as GBK,
so a file that is not UTF-8 is read as GB18030 (a superset of GBK). Exports are
UTF-8 with a BOM, the only way Excel opens a UTF-8 CSV with its Chinese intact.

Importers (stores, products, sales) describe their columns with Column and the
parsers below; a parser takes the cell's text and returns the value or raises
ValueError with a message for the user. They stage their rows through stage_import() (all or
nothing, inside the request's one transaction) and answer an export with download()."""
from __future__ import annotations

import csv
import io
import math
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Iterator, Sequence

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.exc import IntegrityError

from field.core import Conflict, MoneyError, company_today, money_problem, parse_money
from field.extensions import db

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
MAX_CELL = 2_000
MAX_ERRORS = 500
# Excel runs a cell that starts with one of these as a formula; exports quote them.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column of a file: its header, whether it must be there and filled, how its text is read.

    An empty cell of an optional column gives `default` (the parser is not called).
    `aliases` are other headers accepted for it (say, the Chinese one)."""

    name: str
    parse: Callable[[str], Any] | None = None
    required: bool = False
    default: Any = None
    aliases: tuple[str, ...] = ()

    def value(self, text: str) -> Any:
        return self.parse(text) if self.parse is not None else text


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row <= 0:
            return self.message
        if self.column:
            return _("row %(row)s, %(column)s: %(message)s", row=self.row, column=self.column,
                     message=self.message)
        return _("row %(row)s: %(message)s", row=self.row, message=self.message)


@dataclass
class Row:
    """A parsed row: its number in the spreadsheet and {column name: value} for the columns the file has."""

    number: int
    values: dict[str, Any]

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str, default=None):
        return self.values.get(name, default)

    def __getitem__(self, name: str):
        return self.values[name]


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the spec's names present in the file

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))


@dataclass
class ImportResult:
    """What an import did — or every reason it did nothing."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    skipped: list[RowError] = field(default_factory=list)  # rows left out on purpose, with why (the file went in)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportForm(FlaskForm):
    """The upload of an import page."""
    file = FileField(_l("CSV or Excel file (.xlsx)"), validators=[FileRequired(_l("Choose a file."))],
                     render_kw={"accept": ".csv,.xlsx,text/csv,"
                                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})


def import_done(result: ImportResult) -> str:
    """What an import page flashes once a file went in."""
    return _("Import done: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.",
             created=result.created, updated=result.updated, unchanged=result.unchanged)


def checked(table: "Table") -> ImportResult | None:
    """The result that ends an import before anything is staged — the file unreadable or a row
    refused, errors in row order (file-wide ones last) — or None when every row passed."""
    if not table.errors:
        return None
    return ImportResult(errors=sorted(table.errors, key=lambda e: (e.row <= 0, e.row)))


class _Undo(Exception):
    """A staged import that found errors after its flush: undo its savepoint, keep the result."""


def stage_import(write: Callable[[], ImportResult], conflict: str) -> ImportResult:
    """Run `write` — which stages every row (and its audit line) and returns the result — in a
    savepoint: a result with errors is undone whole, and a unique key another import took
    meanwhile is a Conflict with `conflict` as its message. Nothing is committed here."""
    result = ImportResult()
    try:
        with db.session.begin_nested():
            result = write()
            db.session.flush()
            if not result.ok:
                raise _Undo
    except _Undo:
        pass
    except IntegrityError:
        raise Conflict(conflict) from None
    return result


class FileUnreadable(ValueError):
    """The bytes are not a CSV or XLSX this module can read; the message is for the user."""


# --- reading -----------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise FileUnreadable(_("The file's text encoding is not UTF-8 or GBK. Save it as CSV UTF-8 "
                               "or as an Excel workbook (.xlsx).")) from None


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    # Excel writes tabs for "Unicode text" and semicolons where the comma is a decimal mark.
    delimiter = max([",", "\t", ";"], key=first.count) if first else ","
    if first.count(delimiter) == 0:
        delimiter = ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise FileUnreadable(_("The CSV file is malformed: %(error)s", error=str(exc))) from None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise FileUnreadable(_("The file could not be read as an Excel workbook (.xlsx).")) from None
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong size; read what is really there
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def raw_rows(data: bytes, filename: str = "") -> Iterator[list[str]]:
    """Every row of the file (the first sheet of a workbook) as a list of cell texts.

    The format is told by the bytes, not the name: a workbook is a zip file."""
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileUnreadable(_("Old Excel files (.xls) are not supported. Save the sheet as .xlsx or CSV."))
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise FileUnreadable(_("The file could not be read as an Excel workbook (.xlsx)."))
    return _csv_rows(data)


def _clean(text: str) -> str:
    text = text.strip().lstrip("\ufeff").strip()
    # An export quotes a would-be formula with an apostrophe; take it off again.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


def _header_key(text: str) -> str:
    return " ".join(_clean(text).lower().replace("_", " ").split())


def read(data: bytes, columns: Sequence[Column], filename: str = "", max_rows: int = MAX_ROWS,
         max_bytes: int = MAX_BYTES) -> Table:
    """Read and check a whole CSV or XLSX file against `columns`.

    Blank rows are skipped (their numbers still count). Unknown, repeated and
    missing required headers, unreadable cells and too many rows are all errors.
    The rows whose cells all read well are kept even when others failed, so an
    importer can check them further and report every error at once; `ok` tells
    whether the file may be imported."""
    table = Table()
    if len(data) > max_bytes:
        table.error(0, "", _("The file is larger than %(mb)s MB. Split it into smaller files.",
                             mb=max_bytes // (1024 * 1024)))
        return table
    if not data.strip():
        table.error(1, "", _("The file is empty."))
        return table
    by_key = {}
    for col in columns:
        for name in (col.name, *col.aliases):
            by_key[_header_key(name)] = col
    try:
        rows = raw_rows(data, filename)
        header_number, header, count = 0, None, 0
        for number, cells in enumerate(rows, start=1):
            if header is None:
                if any(_clean(c) for c in cells):
                    header_number, header = number, cells
                    positions = _read_header(table, header_number, header, columns, by_key)
                    if positions is None:
                        return table
                continue
            texts = [_clean(c) for c in cells]
            if not any(texts):
                continue
            count += 1
            if count > max_rows:
                table.error(number, "", _("The file has more than %(max)s rows. Split it into smaller files.",
                                          max=max_rows))
                break
            _read_row(table, number, texts, positions)
            if len(table.errors) >= MAX_ERRORS:
                table.error(0, "", _("Stopped after %(max)s errors; correct these and try again.",
                                     max=MAX_ERRORS))
                break
    except FileUnreadable as exc:
        table.errors = [RowError(0, "", str(exc))]
        table.rows = []
        return table
    if header is None:
        table.error(1, "", _("The file is empty."))
    elif not table.rows and not table.errors:
        table.error(header_number + 1, "", _("The file has a header but no rows."))
    return table


def _read_header(table: Table, number: int, header: list[str], columns: Sequence[Column],
                 by_key: dict[str, Column]) -> list[tuple[int, Column]] | None:
    positions: list[tuple[int, Column]] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(header):
        text = _clean(cell)
        if not text:
            continue
        col = by_key.get(_header_key(text))
        if col is None:
            table.error(number, text, _("unknown column (expected: %(names)s)",
                                        names=", ".join(c.name for c in columns)))
        elif col.name in seen:
            table.error(number, text, _("this column appears twice"))
        else:
            seen[col.name] = index
            positions.append((index, col))
    for col in columns:
        if col.required and col.name not in seen:
            table.error(number, col.name, _("required column is missing"))
    if table.errors:
        return None
    table.columns = [col.name for _, col in positions]
    return positions


def _read_row(table: Table, number: int, texts: list[str], positions: list[tuple[int, Column]]) -> None:
    values: dict[str, Any] = {}
    ok = True
    for index, col in positions:
        text = texts[index] if index < len(texts) else ""
        if not text:
            if col.required:
                table.error(number, col.name, _("required"))
                ok = False
            else:
                values[col.name] = col.default
            continue
        if len(text) > MAX_CELL:
            table.error(number, col.name, _("too long"))
            ok = False
            continue
        try:
            values[col.name] = col.value(text)
        except ValueError as exc:
            table.error(number, col.name, str(exc) or _("not valid"))
            ok = False
    if ok:
        table.rows.append(Row(number, values))


# --- parsers: each takes the cell's text (never empty) and returns a value or raises ValueError --

def text(max_length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(_("longer than %(max)s characters", max=max_length))
        return value
    return parse


def _within(value, minimum, maximum):
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(_("must be between %(min)s and %(max)s", min=minimum, max=maximum))
    return value


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise ValueError(_("not a whole number: %(value)s", value=value)) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(_("not a whole number: %(value)s", value=value))
        return _within(int(number), minimum, maximum)
    return parse


def number(minimum: float | None = None, maximum: float | None = None) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            result = float(value.replace(",", ""))
        except ValueError:
            raise ValueError(_("not a number: %(value)s", value=value)) from None
        if not math.isfinite(result):
            raise ValueError(_("not a number: %(value)s", value=value))
        return _within(result, minimum, maximum)
    return parse


def decimal(places: int = 2, minimum: Decimal | None = None, maximum: Decimal | None = None
            ) -> Callable[[str], Decimal]:
    step = Decimal(1).scaleb(-places)

    def parse(value: str) -> Decimal:
        try:
            result = Decimal(value.replace(",", "").rstrip("%").strip())
        except InvalidOperation:
            raise ValueError(_("not a number: %(value)s", value=value)) from None
        if not result.is_finite():
            raise ValueError(_("not a number: %(value)s", value=value))
        if result != result.quantize(step):
            raise ValueError(_("at most %(places)s decimals", places=places))
        if (minimum is not None and result < minimum) or (maximum is not None and result > maximum):
            raise ValueError(_("must be between %(min)s and %(max)s", min=minimum, max=maximum))
        return result.quantize(step)
    return parse


def amount(value: str) -> int:
    """A cell of yuan with at most two decimals → minor units (the message names the cell's text)."""
    try:
        return parse_money(value)
    except MoneyError as exc:
        raise ValueError(money_problem(exc)) from None


def choice(options: Iterable[str]) -> Callable[[str], str]:
    """One of `options`, compared without case; returns the option as spelled in `options`."""
    options = list(options)
    by_key = {o.lower(): o for o in options}

    def parse(value: str) -> str:
        found = by_key.get(value.lower())
        if found is None:
            raise ValueError(_("must be one of %(options)s", options=", ".join(options)))
        return found
    return parse


TRUE = {"true", "yes", "y", "1", "是", "对", "√", "active", "启用"}
FALSE = {"false", "no", "n", "0", "否", "不", "×", "inactive", "停用"}


def boolean(value: str) -> bool:
    key = value.strip().lower()
    if key in TRUE:
        return True
    if key in FALSE:
        return False
    raise ValueError(_("must be yes or no"))


# --- writing -------------------------------------------------------------------------------

def _export_value(value):
    """Numbers stay numbers; text that Excel would run as a formula is quoted with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_export_value(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str = "Sheet1") -> bytes:
    import openpyxl
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_export_value(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write(fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str = "Sheet1") -> bytes:
    """The rows as an XLSX workbook (fmt "xlsx") or a CSV file (anything else)."""
    if fmt == "xlsx":
        return write_xlsx(headers, rows, sheet_title=sheet_title)
    return write_csv(headers, rows)


def download(body: bytes, fmt: str, name: str) -> tuple[bytes, int, dict[str, str]]:
    """A view's answer for an exported file: `name-<today>.<fmt>`, as an attachment."""
    filename = f"{name}-{company_today().isoformat()}.{fmt}"
    return body, 200, {"Content-Type": XLSX_MIMETYPE if fmt == "xlsx" else CSV_MIMETYPE,
                       "Content-Disposition": f'attachment; filename="{filename}"'}
