"""An evaluation whose treated area is a risk-terrain snapshot's cells (#17, item 6).

A project that worked the model's top cells (patrols, lighting, pruning where the terrain
says risk concentrates) is evaluated on those cells: the snapshot is cited by id, its top
5/10/20 % cells by rank (the order its scores gave when stored, ties by cell index, as
`RiskTerrain.top_cells`), or the cells the project's own area touches, make the treated
area; the ring, the comparison units and the statistics are the evaluation's usual ones
(app/reports/evaluation.py). The snapshot's id and fingerprints go into the inputs, so the
stored evaluation says which model chose its targets and can be recomputed.

Refused with a 422 naming `terrain_id` or `terrain_cells`: an unknown snapshot, one of
another comuna, one fitted on complaints from after the project ended (its cells would not
be targets fixed beforehand), and "proyecto" when no cell of the model touches the project.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import FieldProblem, InvalidInput
from app.models import InterventionProject, RiskTerrainCell, RiskTerrainSnapshot
from app.reports import evaluation_counts as where

if TYPE_CHECKING:
    from app.reports.evaluation import EvaluationRequest

AREA_SOURCE = "terreno"


class TerrainTargetError(InvalidInput):
    code = "terreno_no_aplicable"
    title = "Modelo de terreno de riesgo no aplicable"


def _cells_in_share(share: float, total: int) -> int:
    # app.scoring.pai imports pandas, which the bulletin command must not load
    from app.scoring.pai import cells_in_share  # noqa: PLC0415

    return cells_in_share(share, total)


def _refuse(field: str, reason: str) -> TerrainTargetError:
    return TerrainTargetError(
        f"No se puede evaluar sobre ese modelo de terreno de riesgo: {reason}.",
        errors=[FieldProblem(field=field, location="query", reason=reason)],
    )


def _snapshot(
    session: Session, project: InterventionProject, request: EvaluationRequest, event: datetime
) -> RiskTerrainSnapshot:
    snapshot = session.get(RiskTerrainSnapshot, request.terrain_id)
    if snapshot is None:
        raise _refuse("terrain_id", f"no existe el modelo {request.terrain_id}")
    if snapshot.comuna_code != project.comuna_code:
        raise _refuse(
            "terrain_id",
            f"el modelo es de la comuna {snapshot.comuna_code} y el proyecto de la "
            f"{project.comuna_code}",
        )
    if snapshot.period_end >= event.date():
        raise _refuse(
            "terrain_id",
            f"el modelo usa denuncias hasta el {snapshot.period_end:%d-%m-%Y}, no anteriores "
            "al término del proyecto: sus celdas no serían metas fijadas de antemano",
        )
    return snapshot


def terrain_targets(
    session: Session, project: InterventionProject, request: EvaluationRequest, event: datetime
) -> tuple[where.StudyArea | None, dict[str, Any]]:
    """The treated area (the chosen cells, with the usual ring) and what to store of it."""
    from app.reports.evaluation import DEFAULT_TERRAIN_CELLS, TERRAIN_CELLS  # noqa: PLC0415

    snapshot = _snapshot(session, project, request, event)
    which = request.terrain_cells or DEFAULT_TERRAIN_CELLS
    total = int(
        session.scalar(select(func.count()).where(RiskTerrainCell.snapshot_id == snapshot.id)) or 0
    )
    share = TERRAIN_CELLS[which]
    if share is not None:
        cells = where.terrain_area(
            session, snapshot.id, top=_cells_in_share(share, total), inside=None
        )
    else:
        own = where.project_area(session, project.id, request.radius_m)
        if own is None:
            return None, {}
        cells = where.terrain_area(session, snapshot.id, top=None, inside=own[0])
        if cells is None:
            raise _refuse("terrain_cells", "ninguna celda del modelo toca el área del proyecto")
    if cells is None:
        raise _refuse("terrain_id", "el modelo no tiene celdas")
    treated, count = cells
    stored = {
        "snapshot_id": str(snapshot.id),
        "cells": which,
        "cell_count": count,
        "cells_total": total,
        "cell_m": snapshot.cell_m,
        "period_start": snapshot.period_start.isoformat(),
        "period_end": snapshot.period_end.isoformat(),
        "method_version": snapshot.method_version,
        "input_fingerprint": snapshot.input_fingerprint,
        "result_fingerprint": snapshot.result_fingerprint,
    }
    return where.with_ring(session, treated, AREA_SOURCE, request.catchment_m), stored
