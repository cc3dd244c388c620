"""Chile's civil time: the one calendar every month, year and "today" of Vigía is counted in.

Complaints happen at local hours: a case at 22:00 on 31 May (UTC-4) belongs to May, not to
June as it would in UTC. Timestamps are stored and travel as UTC; every calendar grouping
(months, quarters, years), every naive input and every date shown to a person goes through
this module. Python values use `CHILE_TZ`; SQL expressions use the helpers below, which
render the zone as a literal (not a bind parameter) so that a GROUP BY sees the very same
expression as its SELECT.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

CHILE_TZ_NAME = "America/Santiago"
CHILE_TZ = ZoneInfo(CHILE_TZ_NAME)
_ZONE: ColumnClause[str] = literal_column(f"'{CHILE_TZ_NAME}'")


def as_chile(value: datetime) -> datetime:
    """A naive datetime read as Chile's local time; an aware one unchanged."""
    return value.replace(tzinfo=CHILE_TZ) if value.tzinfo is None else value


def chile_today(now: datetime | None = None) -> date:
    """Today's date in Chile (`now` for tests and for reproducible runs)."""
    return (now or datetime.now(UTC)).astimezone(CHILE_TZ).date()


def local_time(column: Any) -> ColumnElement[Any]:
    """SQL: a timestamptz as Chile's wall-clock time (timestamp without time zone)."""
    return func.timezone(_ZONE, column)


def local_month(column: Any) -> ColumnElement[str]:
    """SQL: 'YYYY-MM' of a timestamptz in Chile's calendar."""
    return func.to_char(local_time(column), literal_column("'YYYY-MM'"))


def local_quarter(column: Any) -> ColumnElement[str]:
    """SQL: 'YYYY-TQ' (e.g. 2025-T2) of a timestamptz in Chile's calendar."""
    return func.to_char(local_time(column), literal_column("'YYYY-\"T\"Q'"))


def local_year(column: Any) -> ColumnElement[Any]:
    """SQL: the year (a number) of a timestamptz in Chile's calendar."""
    return func.extract("year", local_time(column))


def local_month_start(column: Any) -> ColumnElement[datetime]:
    """SQL: the first instant (timestamptz) of the Chilean month holding a timestamptz."""
    return func.timezone(_ZONE, func.date_trunc(literal_column("'month'"), local_time(column)))
