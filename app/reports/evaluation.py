"""Before/after evaluation of an intervention (a completed project or a resolved factor).

Complaints within `radius_m` of the intervention's factors are counted in two equal windows
around the event date (project end date, or the factor's resolution), and compared with the
same windows in comparison areas: the micro-barrios away from the intervention whose
pre-period counts are closest to the intervention area's. The headline number is a
difference-in-differences on the ratio scale, with an approximate 95% interval
(Poisson counts, log scale). Small numbers are the rule in a comuna like Lanco, so every
result carries a plain-language caveat.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput
from app.models import (
    Complaint,
    CrimeCategory,
    MicroBarrio,
    ProjectStatus,
    ReportStatus,
    ReportTransition,
    RiskFactorReport,
)
from app.risk_factors.placement import geography
from app.timezone import CHILE_TZ

R = RiskFactorReport
COMPARISON_UNITS = 3
MIN_WINDOW_DAYS = 14
SMALL_NUMBERS = 30


@dataclass(frozen=True)
class Evaluation:
    subject: str  # "proyecto" | "factor"
    subject_id: str
    name: str
    event_at: datetime
    radius_m: int
    window_days: int
    window_shortened: bool
    family: str | None
    treated_before: int
    treated_after: int
    comparison_units: list[str]
    comparison_before: int
    comparison_after: int
    expected_after: float | None
    relative_effect: float | None  # (ta/tb)/(ca/cb) - 1
    interval: tuple[float, float] | None
    summary: str
    caveat: str
    as_of: datetime

    @property
    def before_start(self) -> datetime:
        return self.event_at - timedelta(days=self.window_days)

    @property
    def after_end(self) -> datetime:
        return self.event_at + timedelta(days=self.window_days)


def _complaint_window(start: datetime, end: datetime, as_of: datetime) -> list[Any]:
    return [
        Complaint.occurred_at >= start,
        Complaint.occurred_at < end,
        Complaint.received_at <= as_of,
    ]


def _family(family: str | None) -> list[ColumnElement[bool]]:
    if family is None:
        return []
    return [
        exists().where(
            CrimeCategory.code == Complaint.category_code, CrimeCategory.family_code == family
        )
    ]


def _near(sites: Any, radius_m: int, geom: Any) -> ColumnElement[bool]:
    """Within radius_m (metres, on the spheroid) of any site; GiST index on geom::geography."""
    return exists().where(func.ST_DWithin(geography(geom), geography(sites.c.geom), radius_m))


def _pct(before: int, after: int) -> str:
    if before == 0:
        return "sin casos antes: no hay porcentaje"
    change = round((after - before) / before * 100)
    return f"{'+' if change > 0 else ('−' if change < 0 else '')}{abs(change)}\u00a0%"


def evaluate(
    session: Session,
    *,
    subject: str,
    subject_id: str,
    name: str,
    sites: Any,
    comuna: str,
    event_at: datetime,
    radius_m: int,
    window_days: int,
    family: str | None,
    as_of: datetime,
    until: datetime | None = None,
) -> Evaluation:
    """Counts and the comparison for one intervention; `sites` is a subquery with `geom`.

    `as_of` is the cutoff on when complaints reached Vigía; `until` (default `as_of`) ends
    the observation, e.g. a bulletin month's end.
    """
    elapsed = ((until or as_of) - event_at).days
    if elapsed < MIN_WINDOW_DAYS:
        raise Conflict(
            f"La intervención terminó hace {max(elapsed, 0)} días: se necesitan al menos "
            f"{MIN_WINDOW_DAYS} días después para comparar.",
            code="evaluacion_prematura",
        )
    window = min(window_days, elapsed)
    before = (event_at - timedelta(days=window), event_at)
    after = (event_at, event_at + timedelta(days=window))

    def treated(span: tuple[datetime, datetime]) -> int:
        stmt = select(func.count()).where(
            Complaint.comuna_code == comuna,
            *_complaint_window(*span, as_of),
            *_family(family),
            _near(sites, radius_m, Complaint.geom),
        )
        return session.scalar(stmt) or 0

    tb, ta = treated(before), treated(after)

    # Comparison candidates: micro-barrios of the comuna that do not touch the buffer.
    def per_unit(span: tuple[datetime, datetime]) -> dict[str, int]:
        joined = [
            Complaint.micro_barrio_id == MicroBarrio.id,
            *_complaint_window(*span, as_of),
            *_family(family),
        ]
        stmt = (
            select(MicroBarrio.code.label("code"), func.count(Complaint.id).label("n"))
            .outerjoin(Complaint, and_(*joined))
            .where(MicroBarrio.comuna_code == comuna, ~_near(sites, radius_m, MicroBarrio.geom))
            .group_by(MicroBarrio.code)
        )
        return {row.code: row.n for row in session.execute(stmt)}

    pre = per_unit(before)
    chosen = sorted(pre, key=lambda code: (abs(pre[code] - tb), code))[:COMPARISON_UNITS]
    post = per_unit(after) if chosen else {}
    cb = sum(pre[c] for c in chosen)
    ca = sum(post.get(c, 0) for c in chosen)

    expected = tb * ca / cb if cb else None
    effect = interval = None
    if min(tb, ta, cb, ca) > 0:
        ratio = (ta / tb) / (ca / cb)
        se = math.sqrt(1 / ta + 1 / tb + 1 / ca + 1 / cb)
        effect = ratio - 1
        interval = (
            math.exp(math.log(ratio) - 1.96 * se) - 1,
            math.exp(math.log(ratio) + 1.96 * se) - 1,
        )

    summary = (
        f"A {radius_m} m de la intervención hubo {tb} denuncias en los {window} días antes y "
        f"{ta} en los {window} días después ({_pct(tb, ta)}). "
    )
    if chosen:
        summary += (
            f"En las áreas de comparación ({', '.join(chosen)}: micro-barrios alejados con "
            f"niveles previos parecidos) se pasó de {cb} a {ca} ({_pct(cb, ca)})."
        )
    else:
        summary += "No hay micro-barrios alejados de la intervención para comparar."
    return Evaluation(
        subject=subject,
        subject_id=subject_id,
        name=name,
        event_at=event_at,
        radius_m=radius_m,
        window_days=window,
        window_shortened=window < window_days,
        family=family,
        treated_before=tb,
        treated_after=ta,
        comparison_units=chosen,
        comparison_before=cb,
        comparison_after=ca,
        expected_after=None if expected is None else round(expected, 1),
        relative_effect=None if effect is None else round(effect, 3),
        interval=None if interval is None else (round(interval[0], 3), round(interval[1], 3)),
        summary=summary,
        caveat=_caveat(tb + ta, interval),
        as_of=as_of,
    )


def _caveat(treated_total: int, interval: tuple[float, float] | None) -> str:
    parts = []
    if treated_total < SMALL_NUMBERS:
        parts.append(
            f"Son pocos casos ({treated_total} en el área intervenida): una diferencia de unas "
            "pocas denuncias puede deberse al azar."
        )
    if interval is None:
        parts.append("Con algún período en cero no se puede calcular un intervalo.")
    elif interval[0] < 0 < interval[1]:
        parts.append(
            "El intervalo aproximado incluye 'sin cambio': el resultado no es concluyente."
        )
    parts.append(
        "Esta comparación sugiere, no prueba: patrullajes, estacionalidad, cambios en la "
        "disposición a denunciar y denuncias que llegan tarde también influyen."
    )
    return " ".join(parts)


def _check_params(radius_m: int, window_days: int) -> None:
    problems = []
    if not 25 <= radius_m <= 2000:
        problems.append({"field": "radius_m", "location": "query", "reason": "entre 25 y 2000 m"})
    if not MIN_WINDOW_DAYS <= window_days <= 730:
        problems.append(
            {"field": "window_days", "location": "query", "reason": "entre 14 y 730 días"}
        )
    if problems:
        raise InvalidInput("Parámetros de evaluación fuera de rango.", errors=problems)  # type: ignore[arg-type]


def evaluate_project(
    session: Session,
    project_id: int,
    *,
    radius_m: int = 300,
    window_days: int = 180,
    family: str | None = None,
    as_of: datetime,
    until: datetime | None = None,
) -> Evaluation:
    """A completed project, located by the risk factors it resolves."""
    _check_params(radius_m, window_days)
    # imported here: the projects service brings FastAPI and its pydantic schemas, which a
    # bulletin with no finished project (and `vigia report bulletin`'s start) does without
    from app.risk_factors.projects.service import get_project  # noqa: PLC0415

    project = get_project(session, project_id)
    if project.status != ProjectStatus.TERMINADO or project.end_date is None:
        raise Conflict(
            "Solo se evalúan proyectos terminados y con fecha de término.",
            code="proyecto_no_terminado",
        )
    sites = select(R.geom).where(R.project_id == project.id).subquery("sites")
    if not session.scalar(select(func.count()).select_from(sites)):
        raise Conflict(
            "El proyecto no tiene factores de riesgo asociados: no hay lugar que evaluar.",
            code="proyecto_sin_factores",
        )
    # The day after the end date, in Chile: the first full day with the project in place.
    event = datetime.combine(project.end_date + timedelta(days=1), time.min, tzinfo=CHILE_TZ)
    return evaluate(
        session,
        subject="proyecto",
        subject_id=str(project.id),
        name=project.name,
        sites=sites,
        comuna=project.comuna_code,
        event_at=event,
        radius_m=radius_m,
        window_days=window_days,
        family=family,
        as_of=as_of,
        until=until,
    )


def evaluate_factor(
    session: Session,
    report_id: uuid.UUID,
    *,
    radius_m: int = 300,
    window_days: int = 180,
    family: str | None = None,
    as_of: datetime,
    until: datetime | None = None,
) -> Evaluation:
    """A resolved risk factor, from its first resolution."""
    _check_params(radius_m, window_days)
    row = session.execute(
        select(R.comuna_code, R.status, func.min(ReportTransition.at))
        .outerjoin(
            ReportTransition,
            (ReportTransition.report_id == R.id)
            & (ReportTransition.to_status == ReportStatus.RESUELTO),
        )
        .where(R.id == report_id)
        .group_by(R.id)
    ).first()
    if row is None or row[1] != ReportStatus.RESUELTO or row[2] is None:
        raise Conflict("Solo se evalúan factores resueltos.", code="factor_no_resuelto")
    sites = select(R.geom).where(R.id == report_id).subquery("sites")
    return evaluate(
        session,
        subject="factor",
        subject_id=str(report_id),
        name=f"Factor {report_id}",
        sites=sites,
        comuna=row[0],
        event_at=row[2],
        radius_m=radius_m,
        window_days=window_days,
        family=family,
        as_of=as_of,
        until=until,
    )
