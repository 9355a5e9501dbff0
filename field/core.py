"""One home each for time, money and state moves, and the domain error the app turns into 4xx.

Time: now() is the only clock (set_clock() winds it, for the demo and tests); user_zone() and
local_today() are a person's calendar, company_today() the company's. Money: parse_money() reads
what a person typed, format_money() shows minor units. move_state() is the guarded UPDATE that
lets one of two racing transitions win."""
import re
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation, ROUND_DOWN, ROUND_HALF_UP, ROUND_UP
from typing import Callable
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import DateTime, update
from sqlalchemy.orm import attributes
from sqlalchemy.types import TypeDecorator

from field.extensions import db

_clock: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current moment, timezone-aware UTC: the only clock the app reads."""
    return _clock() if _clock is not None else datetime.now(timezone.utc)


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Make now() read `clock` (None: the real one). The demo seeds a past; tests pin a moment."""
    global _clock
    _clock = clock


def company_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def user_zone(user=None) -> ZoneInfo:
    """The user's time zone, or the company's when there is no user or they chose none."""
    chosen = getattr(user, "timezone", None) if user is not None else None
    return ZoneInfo(chosen) if chosen else company_zone()


def local_today(user=None, at: datetime | None = None) -> date:
    """The day it is (or was at `at`) on the user's calendar."""
    return (at or now()).astimezone(user_zone(user)).date()


def company_day(moment: datetime) -> date:
    """The company calendar's day of a moment: activity periods and check periods are company dates."""
    return moment.astimezone(company_zone()).date()


def company_today() -> date:
    """Today on the company's calendar, whoever looks."""
    return company_day(now())


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, so naive values coming back are UTC by construction."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class DomainError(Exception):
    """A rule refused the request; the message is for the user (already translated)."""

    status = 422

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class FieldError(DomainError):
    """A rule refused one field's value; the view shows the message beside that field."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message, status)
        self.field = field


class Conflict(DomainError):
    """The record moved on (an illegal state transition, a race lost)."""

    status = 409


MAX_ID = 2**31 - 1  # beyond any id we hand out, and beyond what SQLite can bind

# Money columns are 32-bit integers of minor units on PostgreSQL: cap amounts well inside them.
MAX_MONEY = Decimal("20000000.00")


CURRENCY_SIGNS = ("¥", "￥")


THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d*)?$")
"""Where commas may stand in an amount: between groups of three digits of the whole part."""


class MoneyError(ValueError):
    """An amount parse_money could not read. `reason` says why ("negative", "too large", "more than
    two decimals", "not a number", "misplaced comma"); `shown` is the text as read (currency sign
    off); `readings` what it could have meant. str() is the reason, for callers that match on it;
    money_problem() is the sentence a person reads."""

    def __init__(self, reason: str, shown: str = "", readings: tuple[str, ...] = ()):
        super().__init__(reason)
        self.reason, self.shown, self.readings = reason, shown, readings


def _comma_readings(shown: str) -> tuple[str, ...]:
    """What an amount with a comma out of place could have meant."""
    whole = shown.replace(",", "")
    readings = [whole] if any(ch.isdigit() for ch in whole) else []
    if shown.count(",") == 1 and "." not in shown and re.search(r",\d{1,2}$", shown):
        readings.append(shown.replace(",", "."))  # a decimal comma: "1,50"
    return tuple(readings)


def parse_money(text) -> int:
    """'1234.5', '1,234.50' or '¥1,234.50' → minor units. Refuses negatives, more than two
    decimals, non-numbers and commas anywhere but between groups of three digits ("1,50" is
    neither 150 nor 1.50: money_problem() says what it could have been)."""
    if isinstance(text, int):
        if text < 0:
            raise MoneyError("negative", str(text))
        if text > MAX_MONEY:
            raise MoneyError("too large", str(text))
        return text * 100
    cleaned = str(text).strip()
    if cleaned.startswith(CURRENCY_SIGNS):
        cleaned = cleaned[1:].strip()
    if "," in cleaned and not THOUSANDS.match(cleaned):
        raise MoneyError("misplaced comma", cleaned, _comma_readings(cleaned))
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise MoneyError("not a number", cleaned) from None
    if not value.is_finite():
        raise MoneyError("not a number", cleaned)
    if value < 0:
        raise MoneyError("negative", cleaned)
    if value > MAX_MONEY:
        raise MoneyError("too large", cleaned)
    if value != value.quantize(Decimal("0.01")):
        down = value.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        up = value.quantize(Decimal("0.01"), rounding=ROUND_UP)
        raise MoneyError("more than two decimals", cleaned, (f"{down:,}", f"{up:,}"))
    return int(value * 100)


def money_problem(exc: MoneyError) -> str:
    """The sentence that tells a person what was understood of the amount they typed, and why it was
    refused, in their language: "“1,50”: commas only separate thousands, as in 1,234.50. Did you
    mean 150 or 1.50?"."""
    shown = exc.shown[:40]
    if exc.reason == "misplaced comma":
        if len(exc.readings) == 2:
            return _("“%(shown)s”: commas only separate thousands, as in 1,234.50. Did you mean %(one)s or "
                     "%(other)s?", shown=shown, one=exc.readings[0], other=exc.readings[1])
        if exc.readings:
            return _("“%(shown)s”: commas only separate thousands, as in 1,234.50. Did you mean %(one)s?",
                     shown=shown, one=exc.readings[0])
        return _("“%(shown)s”: commas only separate thousands, as in 1,234.50.", shown=shown)
    if exc.reason == "more than two decimals":
        return _("“%(shown)s” has more than two decimals: amounts are in yuan and fen. Did you mean "
                 "%(one)s or %(other)s?", shown=shown, one=exc.readings[0], other=exc.readings[1])
    if exc.reason == "negative":
        return _("“%(shown)s” is negative: an amount cannot be negative.", shown=shown)
    if exc.reason == "too large":
        return _("“%(shown)s” is too large: at most %(most)s.", shown=shown, most=format_money(int(MAX_MONEY * 100)))
    return _("“%(shown)s” is not an amount in yuan; write it like 1,280.50.", shown=shown)


def money_decimal(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_money(minor: int | None, symbol: str = "¥") -> str:
    """1234567 → '¥12,345.67'."""
    if minor is None:
        return ""
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{abs(money_decimal(minor)):,.2f}"


def move_state(obj, frm, to, conflict: str, **values) -> None:
    """Move `obj` from state `frm` to `to` (with `values`) in one guarded UPDATE that names the state
    we saw: of two moves at the same moment one wins, the other raises Conflict(`conflict`)."""
    model = type(obj)
    values = {**values, "status": to}
    changed = db.session.execute(
        update(model).where(model.id == obj.id, model.status == frm).values(**values)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise Conflict(conflict)
    for key, value in values.items():
        attributes.set_committed_value(obj, key, value)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
