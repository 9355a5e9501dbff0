"""One type each for time and money, and the domain error the app turns into 4xx."""
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def now() -> datetime:
    """The current moment, timezone-aware UTC: the only clock the app reads."""
    return datetime.now(timezone.utc)


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


class Conflict(DomainError):
    """The record moved on (an illegal state transition, a race lost)."""

    status = 409


# Money columns are 32-bit integers of minor units on PostgreSQL: cap amounts well inside them.
MAX_MONEY = Decimal("20000000.00")


def parse_money(text) -> int:
    """'12.50' → 1250 minor units. Refuses negatives, more than two decimals, non-numbers."""
    if isinstance(text, int):
        if text < 0:
            raise ValueError("negative")
        if text > MAX_MONEY:
            raise ValueError("too large")
        return text * 100
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite():
        raise ValueError("not a number")
    if value < 0:
        raise ValueError("negative")
    if value > MAX_MONEY:
        raise ValueError("too large")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("more than two decimals")
    return int(value * 100)


def money_decimal(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money(minor: int | None, symbol: str = "¥") -> str:
    """1234567 → '¥12,345.67'."""
    if minor is None:
        return ""
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{abs(money_decimal(minor)):,.2f}"
