"""Reads one category's complaints (points and Chilean calendar days) and runs the Knox table.

The caller's row scope (app/identity/access.py) limits what is read, as for every surface
over complaints; the output is aggregated pair counts, never the points themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from geoalchemy2.functions import ST_X, ST_Y
from sqlalchemy import Date, cast, select
from sqlalchemy.orm import Session

from app.errors import FieldProblem, InvalidInput
from app.identity.access import complaint_scope
from app.identity.caller import Caller
from app.models import Complaint, CrimeCategory
from app.models.complaint import located
from app.near_repeat.schemas import NearRepeatCellRead, NearRepeatRead
from app.rankings.compute import default_period_end, period_for
from app.scoring import near_repeat as nr
from app.scoring.snapshot import Period
from app.territory.service import resolve_comuna
from app.timezone import local_time

MAX_PERMUTATIONS = 9_999


@dataclass(frozen=True)
class NearRepeatReport:
    comuna: str
    category: str
    category_name: str
    period: Period
    crs: str
    result: nr.NearRepeatResult


def _invalid(field: str, reason: str) -> InvalidInput:
    problem = FieldProblem(field=field, reason=reason, location="query")
    return InvalidInput(reason, errors=[problem])


def category_events(
    session: Session, caller: Caller | None, *, comuna: str, category: str, period: Period
) -> tuple[np.ndarray, np.ndarray, list[date]]:
    """lon, lat and Chilean calendar day of the complaints the caller may read."""
    from app.rankings.inputs import boundaries

    limits = boundaries(period)
    statement = select(
        ST_X(Complaint.geom), ST_Y(Complaint.geom), cast(local_time(Complaint.occurred_at), Date)
    ).where(
        Complaint.comuna_code == comuna,
        Complaint.category_code == category,
        Complaint.occurred_at >= limits["start"],
        Complaint.occurred_at < limits["end"],
        located(),
    )
    if caller is not None:
        statement = statement.where(complaint_scope(caller))
    rows = session.execute(statement).all()
    lon = np.array([r[0] for r in rows], dtype=float)
    lat = np.array([r[1] for r in rows], dtype=float)
    return lon, lat, [r[2] for r in rows]


def near_repeat_report(
    session: Session,
    *,
    category: str,
    comuna: str | None = None,
    months: int = 12,
    period_end: date | None = None,
    permutations: int = nr.DEFAULT_PERMUTATIONS,
    seed: int = 0,
    caller: Caller | None = None,
    crs: str = nr.DEFAULT_CRS,
    max_events: int = nr.MAX_EVENTS,
) -> NearRepeatReport:
    """The Knox table of one category's complaints in the `months` months up to
    `period_end` (default: the last complete month). `caller` None: the operator (CLI)."""
    if not 1 <= permutations <= MAX_PERMUTATIONS:
        raise _invalid("permutations", f"Use entre 1 y {MAX_PERMUTATIONS} permutaciones.")
    found = session.get(CrimeCategory, category)
    if found is None:
        raise _invalid("category", f"La categoría {category} no existe en el catálogo.")
    code = resolve_comuna(session, comuna).code
    period = period_for(period_end or default_period_end(), months)
    lon, lat, days = category_events(session, caller, comuna=code, category=category, period=period)
    if len(days) < nr.MIN_EVENTS:
        raise _invalid(
            "months",
            f"El período {period.start} a {period.end} tiene {len(days)} denuncias de la "
            f"categoría {category}; se necesitan al menos {nr.MIN_EVENTS}.",
        )
    if len(days) > max_events:
        raise _invalid(
            "months",
            f"El período tiene {len(days)} denuncias de la categoría {category}; el máximo "
            f"para la prueba de Knox aquí es {max_events}. Acorte el período"
            + (" o use `vigia near-repeat`." if max_events < nr.MAX_EVENTS else "."),
        )
    x, y = nr.project(lon, lat, crs)
    result = nr.knox_table(
        x, y, nr.calendar_days(days), permutations=permutations, seed=seed, max_events=max_events
    )
    return NearRepeatReport(code, category, found.name, period, crs, result)


def report_read(report: NearRepeatReport) -> NearRepeatRead:
    result = report.result
    return NearRepeatRead(
        comuna=report.comuna,
        category=report.category,
        category_name=report.category_name,
        period_start=report.period.start,
        period_end=report.period.end,
        events=result.events,
        pairs=result.pairs,
        permutations=result.permutations,
        seed=result.seed,
        alpha=result.alpha,
        crs=report.crs,
        distance_bands=list(result.distance_labels),
        time_bands=list(result.time_labels),
        cells=[
            NearRepeatCellRead(
                distance_band=result.distance_labels[c.distance_band],
                time_band=result.time_labels[c.time_band],
                observed=c.observed,
                expected=round(c.expected, 4),
                ratio=None if c.ratio is None else round(c.ratio, 4),
                p_value=c.p_value,
                significant=c.significant,
                reading=c.reading,
            )
            for c in result.cells()
        ],
    )
