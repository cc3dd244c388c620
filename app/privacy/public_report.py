"""The public cuenta pública: the internal annual report through the privacy rules.

Its count tables are read from the published cells of the year and of the previous one
(`public_stats.published_year`), the same suppressed cells /api/v1/public/stats and
/estadisticas show: a family row is the comuna's statistics cell of that family plus its
sensitive categories, a barrio row the year's non-sensitive cell of that public unit
(barrios under 1,000 residents merged into "otros"). So the report can never show a number
the statistics hide, nor the other way round, and the audit of app/privacy/linked_tables.py
covers it. The staff-only section is dropped; the report has no map and no points.
`public_data` is the report's numbers as data, for the privacy scanner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Comuna, ReportKind
from app.privacy.linked_tables import ALL, general
from app.privacy.public_stats import published_year
from app.reports import data
from app.reports.period import Period
from app.reports.progress import PeriodRow, Progress, build_progress, public_version


def build_public_progress(
    session: Session, kind: ReportKind, comuna: str, period: Period, *, as_of: datetime
) -> Progress:
    place = session.get(Comuna, comuna)
    assert place is not None  # checked by territory.resolve_comuna
    year = period.first.year
    assert (period.first.month, period.last.month, period.last.year) == (1, 12, year)
    internal = build_progress(session, kind, comuna, period, as_of=as_of)
    now = published_year(session, place, year, as_of=as_of)
    before = published_year(session, place, year - 1, as_of=as_of)
    families = [
        PeriodRow(
            code,
            name,
            now.value(now.layout.report_row(code)),
            before.value(before.layout.report_row(code)),
        )
        for code, name in data.families(session)
    ]
    total = PeriodRow(
        None,
        "Total",
        now.value(now.layout.report_row(ALL)),
        before.value(before.layout.report_row(ALL)),
    )
    barrios = [
        PeriodRow(
            u.code,
            u.name,
            now.value(general(u.code, str(year), ALL)),
            before.value(general(u.code, str(year - 1), ALL)),
        )
        for u in now.units
    ]
    return public_version(internal, families=families, total=total, barrios=barrios)


def public_data(progress: Progress) -> dict[str, Any]:
    """The counts the report prints, keyed the way the privacy scanner reads them."""
    return {
        "comuna": progress.comuna,
        "year": progress.period.first.year,
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
