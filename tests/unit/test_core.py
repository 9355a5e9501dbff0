"""Money is integer fen, times are aware UTC: the two types every other module leans on."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import StatementError

from field.core import UTCDateTime, format_money, money_decimal, money_problem, now, parse_money
from field.extensions import db
from field.stores.models import Store
from tests.factories import make_store

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("text, fen", [
    ("12.5", 1250), ("12.50", 1250), ("12", 1200), ("0", 0), ("0.01", 1), ("  8.80 ", 880),
    ("1,234.50", 123450), ("1234567.89", 123456789), (".5", 50), ("12.500", 1250), (3, 300),
    ("¥12", 1200), ("￥ 8.80", 880), ("¥1,234.50", 123450),
])
def test_parse_money_gives_minor_units(text, fen):
    assert parse_money(text) == fen
    assert isinstance(parse_money(text), int)


@pytest.mark.parametrize("text", [
    "12.345", "0.001", "-1", "-0.01", -5, "abc", "", " ", "NaN", "nan", "Infinity", "-Infinity", "inf",
    "12.3.4", "¥", "¥-1", "12¥3", None, "1e400", "1e30", "20000000.01", 10**9,
])
def test_parse_money_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_money(text)


def test_parse_money_never_goes_through_float():
    # 0.1 + 0.2 style errors would turn 19.99 into 1998 fen.
    assert parse_money("19.99") == 1999
    assert parse_money("0.29") == 29
    assert parse_money("1.15") == 115


@pytest.mark.parametrize("fen, shown", [
    (0, "¥0.00"), (1, "¥0.01"), (99, "¥0.99"), (1250, "¥12.50"), (1234567, "¥12,345.67"),
    (-1250, "-¥12.50"), (-1, "-¥0.01"), (-123456789, "-¥1,234,567.89"),
])
def test_money_formats_fen_as_yuan(fen, shown):
    assert format_money(fen) == shown


def test_money_other_symbol_and_none():
    assert format_money(500, symbol="$") == "$5.00"
    assert format_money(None) == ""


def test_money_and_parse_money_round_trip():
    for fen in (0, 7, 1999, 100000, 123456789):
        assert parse_money(format_money(fen).lstrip("¥")) == fen
        assert money_decimal(fen) * 100 == fen


def test_now_is_aware_utc():
    t = now()
    assert t.tzinfo is not None and t.utcoffset() == timedelta(0)


# --- UTCDateTime through the database -------------------------------------------------


def test_naive_datetime_is_refused_on_write():
    store = Store(code="NAIVE", name="Naive", created_at=datetime(2026, 5, 1, 9, 30))
    db.session.add(store)
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(Store).where(Store.code == "NAIVE")) is None


def test_local_time_is_stored_as_the_same_moment_and_read_back_utc():
    local = datetime(2026, 5, 1, 9, 30, tzinfo=SHANGHAI)  # 09:30 in Shanghai is 01:30 UTC
    store = make_store(created_at=local)
    store_id = store.id
    db.session.expire_all()
    back = db.session.get(Store, store_id).created_at
    assert back == local
    assert back.utcoffset() == timedelta(0)
    assert (back.hour, back.minute) == (1, 30)


def test_default_created_at_is_aware_after_a_round_trip():
    before = now()
    store = make_store()
    db.session.expire_all()
    created = db.session.get(Store, store.id).created_at
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= created <= now() + timedelta(seconds=5)


def test_microseconds_and_dates_far_from_now_survive():
    moment = datetime(1999, 12, 31, 23, 59, 59, 123456, tzinfo=timezone.utc)
    store = make_store(created_at=moment)
    db.session.expire_all()
    assert db.session.get(Store, store.id).created_at == moment


def test_a_column_written_directly_reads_back_aware():
    """Rows another tool wrote (no offset on SQLite) still come back as UTC."""
    table = Table("utc_probe", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    with db.engine.begin() as conn:
        table.create(conn)
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table), [{"id": 1, "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=SHANGHAI)}])
            raw = "2026-01-02 03:04:05" if db.engine.dialect.name == "sqlite" else "2026-01-02 03:04:05+00"
            conn.execute(text("INSERT INTO utc_probe (id, at) VALUES (2, :at)"), {"at": raw})
            rows = dict(conn.execute(select(table.c.id, table.c.at)).all())
        assert rows[1] == datetime(2026, 1, 1, 19, 4, 5, tzinfo=timezone.utc)
        assert rows[2] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        assert all(v.utcoffset() == timedelta(0) for v in rows.values())
    finally:
        with db.engine.begin() as conn:
            table.drop(conn)


@pytest.mark.parametrize("text, fen", [
    ("1234.5", 123450), ("1,234.50", 123450), ("¥1,234.50", 123450), ("1,234", 123400),
    ("12,345,678.90", 1234567890), ("999", 99900), ("¥ 1,000", 100000),
])
def test_parse_money_reads_commas_as_thousands_separators(text, fen):
    assert parse_money(text) == fen


@pytest.mark.parametrize("text, understood", [
    ("1,50", "Did you mean 150 or 1.50?"),
    (",5", "Did you mean 5 or .5?"),
    ("12,34,5", "Did you mean 12345?"),
    ("1,2345", "Did you mean 12345?"),
    ("1234,567", "Did you mean 1234567?"),
    ("1.2,3", "Did you mean 1.23?"),
    ("1,234,5678", "Did you mean 12345678?"),
    ("¥1,50", "Did you mean 150 or 1.50?"),
    (",", "as in 1,234.50."),
    ("1,,234", "Did you mean 1234?"),
])
def test_parse_money_refuses_a_misplaced_comma_saying_what_it_could_mean(app, text, understood):
    with pytest.raises(ValueError) as refused:
        parse_money(text)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        message = money_problem(refused.value)
    assert "comma" in message and message.endswith(understood)
    assert f"“{text.lstrip('¥')}”" in message


@pytest.mark.parametrize("text, understood", [
    ("12.345", "“12.345” has more than two decimals: amounts are in yuan and fen. Did you mean 12.34 or 12.35?"),
    ("1,234.567", "Did you mean 1,234.56 or 1,234.57?"),
    ("-5", "“-5” is negative"),
    ("abc", "“abc” is not an amount in yuan"),
    ("99,999,999", "“99,999,999” is too large: at most ¥20,000,000.00."),
])
def test_every_refused_amount_says_what_was_understood(app, text, understood):
    with pytest.raises(ValueError) as refused:
        parse_money(text)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert understood in money_problem(refused.value)


def test_the_money_message_reads_in_chinese_too(app):
    with pytest.raises(ValueError) as refused:
        parse_money("1,50")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert money_problem(refused.value) == "“1,50”：逗号只能用作千位分隔符，如 1,234.50。您是想输入 150 还是 1.50？"
