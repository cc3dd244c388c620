"""Calendar periods of the reports: months and years in Chile's time zone (America/Santiago)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from app.errors import InvalidInput
from app.timezone import CHILE_TZ

MONTH_NAMES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @property
    def start(self) -> datetime:
        """First instant of the month in Chile (a case at 22:00 on 31 May, UTC-4, is May's)."""
        return datetime(self.year, self.month, 1, tzinfo=CHILE_TZ)

    @property
    def end(self) -> datetime:
        """First instant of the next month (exclusive bound)."""
        return self.shift(1).start

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.month - 1]} de {self.year}"

    @property
    def short_label(self) -> str:
        return f"{MONTH_NAMES[self.month - 1][:3]} {self.year % 100:02d}"


@dataclass(frozen=True)
class Period:
    """A span of whole months, [first, last]."""

    first: Month
    last: Month

    @property
    def start(self) -> datetime:
        return self.first.start

    @property
    def end(self) -> datetime:
        return self.last.end

    @property
    def key(self) -> str:
        if self.first.month == 1 and self.last.month == 12 and self.first.year == self.last.year:
            return f"{self.first.year:04d}"
        return self.last.key

    @property
    def label(self) -> str:
        if self.first == self.last:
            return self.first.label
        if self.first.year == self.last.year and self.first.month == 1 and self.last.month == 12:
            return f"año {self.first.year}"
        return f"{self.first.label} a {self.last.label}"


def year_period(year: int) -> Period:
    return Period(Month(year, 1), Month(year, 12))


def year_to_date(month: Month) -> Period:
    return Period(Month(month.year, 1), month)


def _bad(field: str, reason: str, location: str) -> InvalidInput:
    return InvalidInput(
        f"El período no es válido: {reason}.",
        errors=[{"field": field, "location": location, "reason": reason}],
        code="periodo_invalido",
    )


def parse_month(
    text: str, *, now: datetime, field: str = "month", location: str = "query"
) -> Month:
    """`AAAA-MM`; a month that has not started yet is rejected (nothing to report)."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise _bad(field, f"se espera AAAA-MM (p. ej. 2025-06), no '{text}'", location)
    month = Month(int(match.group(1)), int(match.group(2)))
    if month.year < 2000 or month.start > now:
        raise _bad(field, f"{month.key} es un mes futuro o anterior a 2000", location)
    return month


def parse_year(text: str, *, now: datetime, field: str = "year", location: str = "query") -> int:
    match = _YEAR.match(text.strip())
    if not match:
        raise _bad(field, f"se espera AAAA (p. ej. 2025), no '{text}'", location)
    year = int(match.group(1))
    if year < 2000 or Month(year, 1).start > now:
        raise _bad(field, f"{year} es un año futuro o anterior a 2000", location)
    return year
