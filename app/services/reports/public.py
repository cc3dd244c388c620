"""The public cuenta pública: the internal annual report through the privacy rules.

Barrio rows are rebuilt for the public (non-sensitive categories only, barrios under 1,000
residents merged into "otros", as /api/v1/public/stats does), then `public_version` applies
the small-cell and complementary suppression of app/privacy/suppression.py and drops the
staff-only section. The report has no map and no points, so no sensitive point can appear.
`public_data` is the report's numbers as data, for the privacy scanner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Comuna, ReportKind
from app.privacy.suppression import suppress
from app.services.public_stats import OTHERS, public_units
from app.services.reports import data
from app.services.reports.period import Period
from app.services.reports.progress import PeriodRow, Progress, build_progress, public_version


def public_barrio_rows(
    session: Session, comuna: str, period: Period, *, as_of: datetime
) -> list[PeriodRow]:
    place = session.get(Comuna, comuna)
    assert place is not None  # checked by generate.only_comuna
    units = public_units(session, place, "barrio")
    unit_of = {member: u.code for u in units for member in u.members}
    previous = Period(period.first.shift(-12), period.last.shift(-12))

    def totals(p: Period) -> dict[str, int]:
        counts = data.monthly_counts(
            session, comuna, p.first, p.last, as_of=as_of, by="barrio", include_sensitive=False
        )
        result: dict[str, int] = {}
        for (barrio, _), n in counts.items():
            unit = unit_of.get(barrio or "", OTHERS)
            result[unit] = result.get(unit, 0) + n
        return result

    now, before = totals(period), totals(previous)
    return [PeriodRow(u.code, u.name, now.get(u.code, 0), before.get(u.code, 0)) for u in units]


def build_public_progress(
    session: Session, kind: ReportKind, comuna: str, period: Period, *, as_of: datetime
) -> Progress:
    internal = build_progress(session, kind, comuna, period, as_of=as_of)
    barrios = public_barrio_rows(session, comuna, period, as_of=as_of)
    return public_version(internal, suppress, barrios=barrios)


def public_data(progress: Progress) -> dict[str, Any]:
    """The counts the report prints, keyed the way the privacy scanner reads them."""
    return {
        "comuna": progress.comuna,
        "audience": progress.audience,
        "families": [
            {"family": r.code, "name": r.name, "count": r.current, "previous_count": r.previous}
            for r in progress.families
        ],
        "total": progress.total.current,
        "previous_total": progress.total.previous,
        "barrios": [
            {"barrio": r.code, "name": r.name, "count": r.current, "previous_count": r.previous}
            for r in progress.barrios
        ],
        "responsible_units": [u.unit for u in progress.units],
    }
