"""Before/after evaluation of a finished intervention project (issue #18).

The design (app/reports/evaluation_counts.py): the treated area around the project's risk
factors (or its barrios), a catchment ring around it, and every micro-barrio with both cut
out as a candidate comparison. Two windows of `window_days` around the day after the end
date, each cut into `bins_per_period` equal bins. The relevant crimes come from the
project's typology (app/reports/evaluation_crimes.py). The statistics and the words are
pure (app/scoring/intervention*.py). Windows shorter than `MIN_WINDOW_DAYS`, windows that
end after the cut-off and too few complaints are refused with a 4xx, never shortened.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, FieldProblem, InvalidInput
from app.models import CrimeCategory, InterventionProject, ProjectStatus
from app.reports import evaluation_counts as where
from app.reports.evaluation_crimes import select_crimes
from app.reports.evaluation_terrain import terrain_targets
from app.timezone import CHILE_TZ

if TYPE_CHECKING:
    from app.reports.schemas import EvaluationRead

MIN_WINDOW_DAYS = 90  # three monthly bins a side at least: a trend, and seasons not halved
MAX_WINDOW_DAYS = 730
DEFAULT_WINDOW_DAYS = 365  # a whole year a side: seasons balanced, and Lanco's small counts
BIN_DAYS = 30
MAX_BINS = 6
# a snapshot's cells as the treated area: its top 5/10/20 % by risk score, or the cells the
# project's own area (radius around its factors, or its barrios) touches
TERRAIN_CELLS = {"top_5": 0.05, "top_10": 0.10, "top_20": 0.20, "proyecto": None}
DEFAULT_TERRAIN_CELLS = "top_10"


@dataclass(frozen=True)
class EvaluationRequest:
    radius_m: int = 300
    catchment_m: int = 300
    window_days: int = DEFAULT_WINDOW_DAYS
    categories: tuple[str, ...] | None = None
    hours: str | None = None
    terrain_id: uuid.UUID | None = None  # a risk-terrain snapshot: its cells are the targets
    terrain_cells: str | None = None  # TERRAIN_CELLS; default top_10 with a snapshot

    def check(self) -> None:
        problems: list[FieldProblem] = []
        if self.terrain_cells is not None and self.terrain_cells not in TERRAIN_CELLS:
            problems.append(_query("terrain_cells", f"use {', '.join(TERRAIN_CELLS)}"))
        elif self.terrain_cells is not None and self.terrain_id is None:
            problems.append(_query("terrain_cells", "solo junto a terrain_id"))
        if not 25 <= self.radius_m <= 2000:
            problems.append(_query("radius_m", "entre 25 y 2000 m"))
        if not 50 <= self.catchment_m <= 2000:
            problems.append(_query("catchment_m", "entre 50 y 2000 m"))
        if not MIN_WINDOW_DAYS <= self.window_days <= MAX_WINDOW_DAYS:
            problems.append(
                _query(
                    "window_days",
                    f"entre {MIN_WINDOW_DAYS} y {MAX_WINDOW_DAYS} días: con menos, unas pocas "
                    "denuncias deciden el resultado",
                )
            )
        if problems:
            raise InvalidInput("Parámetros de evaluación fuera de rango.", errors=problems)

    @property
    def bins(self) -> int:
        return max(2, min(MAX_BINS, self.window_days // BIN_DAYS))


def _query(field: str, reason: str) -> FieldProblem:
    return FieldProblem(field=field, location="query", reason=reason)


def event_start(end_date: date) -> datetime:
    """The day after the end date, in Chile: the first full day with the project in place."""
    return datetime.combine(end_date + timedelta(days=1), time.min, tzinfo=CHILE_TZ)


def _finished(session: Session, project_id: int) -> InterventionProject:
    # imported here: the projects service brings FastAPI and its pydantic schemas, which a
    # bulletin with no finished project (and `vigia report bulletin`'s start) does without
    from app.risk_factors.projects.service import get_project  # noqa: PLC0415

    project = get_project(session, project_id)
    if project.status != ProjectStatus.TERMINADO or project.end_date is None:
        raise Conflict(
            "Solo se evalúan proyectos terminados y con fecha de término.",
            code="proyecto_no_terminado",
        )
    return project


def _check_elapsed(event: datetime, window_days: int, until: datetime) -> None:
    """The window after must be over by the cut-off: refused, never shortened."""
    after_end = event + timedelta(days=window_days)
    if after_end <= until:
        return
    elapsed = (until - event).days
    if elapsed < 0:
        reason = f"el proyecto termina el {(event - timedelta(days=1)):%d-%m-%Y}, en el futuro"
    else:
        reason = (
            f"la ventana posterior terminaría el {after_end:%d-%m-%Y}, después del corte; "
            f"hoy caben {elapsed} días (mínimo {MIN_WINDOW_DAYS})"
        )
    raise InvalidInput(
        "El período posterior a la intervención aún no transcurre entero: "
        f"{reason}. Se rechaza en vez de acortar la ventana.",
        errors=[_query("window_days", reason)],
        code="evaluacion_prematura",
    )


def evaluate_project(
    session: Session,
    project_id: int,
    request: EvaluationRequest | None = None,
    *,
    as_of: datetime,
    until: datetime | None = None,
) -> EvaluationRead:
    """A finished project against its comparison units; `until` (default `as_of`) ends the
    observation (a bulletin's month end), `as_of` is the cut-off on when complaints arrived."""
    # imported here: the statistics bring pandas, scipy and statsmodels, which a bulletin
    # with no finished project (and `vigia report bulletin`'s start) does without
    from app.reports.schemas import EvaluationRead  # noqa: PLC0415  (FastAPI, via params)
    from app.scoring.intervention_design import AreaCounts, evaluate_counts  # noqa: PLC0415
    from app.scoring.intervention_report import evaluation_document  # noqa: PLC0415

    request = request or EvaluationRequest()
    request.check()
    project = _finished(session, project_id)
    event = event_start(project.end_date)  # type: ignore[arg-type]
    _check_elapsed(event, request.window_days, until or as_of)
    known = set(session.scalars(select(CrimeCategory.code)))
    crimes = select_crimes(
        project.typology.value,
        list(request.categories) if request.categories else None,
        request.hours,
        known,
    )
    terrain: dict[str, Any] | None = None
    if request.terrain_id is not None:
        area, terrain = terrain_targets(session, project, request, event)
    else:
        area = where.study_area(session, project.id, request.radius_m, request.catchment_m)
    if area is None:
        raise Conflict(
            "El proyecto no tiene factores de riesgo ni barrios asociados: no hay lugar que "
            "evaluar. Asocie los factores que resuelve o los barrios donde se hizo.",
            code="proyecto_sin_ubicacion",
        )
    settlements = where.candidate_settlements(session, project.comuna_code, area)
    k = request.bins
    bin_seconds = request.window_days * 86400 / k
    # k matching bins (the window before the window before: only to choose the comparison),
    # then k before and k after the intervention
    counts = where.count_bins(
        session,
        comuna=project.comuna_code,
        area=area,
        start=event - timedelta(days=2 * request.window_days),
        bin_seconds=bin_seconds,
        bins=3 * k,
        crimes=crimes,
        as_of=as_of,
        units=sorted(settlements),
    )
    table = AreaCounts(k, counts.treated, counts.ring, counts.units, settlements, matching_bins=k)
    inputs = {
        "project_id": project.id,
        "typology": project.typology.value,
        "event_at": event.isoformat(),
        "radius_m": request.radius_m,
        "catchment_m": request.catchment_m,
        "window_days": request.window_days,
        "bins_per_period": k,
        "matching_bins": k,
        "area_source": area.source,
        "categories": list(crimes.codes),
        "categories_source": crimes.source,
        "hours": crimes.hours_label,
        "ring_units": area.ring_units,
        "counts": {
            where.TREATED: counts.treated.tolist(),
            where.RING: counts.ring.tolist(),
            **{code: series.tolist() for code, series in counts.units.items()},
        },
        "same_settlement": settlements,
    }
    if terrain is not None:
        inputs["terrain"] = terrain
    result = evaluate_counts(table)
    document = evaluation_document(result, inputs, ring_label=_ring_label(area, request))
    return EvaluationRead.model_validate(
        {
            **document,
            "subject": "proyecto",
            "subject_id": str(project.id),
            "name": project.name,
            "event_at": event,
            "as_of": as_of,
            "input_fingerprint": fingerprint(inputs),
        }
    )


def _ring_label(area: where.StudyArea, request: EvaluationRequest) -> str:
    label = f"el entorno (anillo de {request.catchment_m} m"
    if area.ring_units:
        shown = ", ".join(area.ring_units[:3])
        more = f" y {len(area.ring_units) - 3} más" if len(area.ring_units) > 3 else ""
        label += f" en {shown}{more}"
    return label + ")"


def fingerprint(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS)).hexdigest()
