"""Input types that take a value only as JSON (or a query string) spells it, never coerced.

Request bodies say `3`, not `"3"`, and `true`, not `"yes"`: numbers and booleans are pydantic's
strict types. Dates and instants are ISO 8601 text only: a bare number (`0`, `0.5`) is not
read as a Unix timestamp. And a date of a fact is plausible: not before EARLIEST, and not in
the future beyond the clock skew a device may have.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

# The earliest date Vigía takes for a fact (a complaint, an observation, a period): older
# data is a typo or an epoch default, not a case. Documented in docs/seguridad.md.
EARLIEST = date(2000, 1, 1)
LATEST_YEAR = 2100  # plans and projects may look ahead, not by centuries
# Clocks of police systems drift; a case "from the future" beyond this is a data error.
CLOCK_SKEW = timedelta(minutes=5)


def _text(value: Any, kind: str) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError(f"{kind}_type", "ISO 8601 text expected")
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, datetime):  # already parsed (a service building the model)
        return value
    text = _text(value, "datetime")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError("datetime_parsing", "ISO 8601 date-time expected") from None


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = _text(value, "date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError("date_parsing", "ISO 8601 date expected") from None


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_datetime)]
"""An instant written in ISO 8601 (`2025-06-01T21:30:00-04:00`); no offset is kept naive."""

IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date written in ISO 8601 (`2025-06-01`)."""


def _after_earliest(value: datetime) -> datetime:
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    if moment < datetime.combine(EARLIEST, datetime.min.time(), tzinfo=UTC):
        raise ValueError(f"la fecha es anterior a {EARLIEST.isoformat()}; revise el año")
    return value


def not_in_future(value: datetime, *, what: str = "la fecha") -> datetime:
    """`value` (aware) no later than now plus the clock skew."""
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError(f"{what} está en el futuro")
    return value


def _plausible_date(value: date) -> date:
    if value < EARLIEST:
        raise ValueError(f"la fecha es anterior a {EARLIEST.isoformat()}; revise el año")
    if value.year > LATEST_YEAR:
        raise ValueError(f"la fecha es posterior al año {LATEST_YEAR}; revise el año")
    return value


FactDatetime = Annotated[IsoDatetime, AfterValidator(_after_earliest)]
"""When something happened: ISO 8601, not before EARLIEST (the future check needs the zone)."""

PlausibleDate = Annotated[IsoDate, AfterValidator(_plausible_date)]
"""A date of a period or a plan: ISO 8601, between EARLIEST and the end of LATEST_YEAR."""
