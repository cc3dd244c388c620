"""The risk-terrain section of the bulletin: the stored model of the month, in words.

The latest risk-terrain snapshot whose period ends by the end of the month (computed by
then): its factor table, with a plain sentence per factor, and the cells where a retained
factor acts (or that are Gi* hot spots) for the map. Read from the snapshot, never fitted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import shapely
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models.risk_terrain import RiskTerrainCell, RiskTerrainSnapshot
from app.reports.period import Month

OPERATIONALISATION = {
    "proximidad": "a menos de {band} m de",
    "densidad": "donde se concentran (en un radio de {band} m)",
}


@dataclass(frozen=True)
class TerrainCell:
    geom: Any  # shapely polygon, lon/lat
    score: float
    hot: bool


@dataclass(frozen=True)
class TerrainSection:
    snapshot_id: uuid.UUID
    computed_at: datetime
    period_start: date
    period_end: date
    cells: int
    events: int
    family: str
    factors: list[dict[str, Any]]
    drawn: list[TerrainCell]

    def sentence(self, factor: dict[str, Any]) -> str:
        """'En las celdas a menos de 100 m de sitio eriazo, el riesgo es 3,1 veces ...'."""
        where = OPERATIONALISATION.get(factor["operationalisation"], "cerca de").format(
            band=f"{factor['band_m']:g}"
        )
        rr = f"{factor['rr']:.1f}".replace(".", ",")
        layer = factor["layer"].replace("_", " ")
        return (
            f"En las celdas {where} {layer}, el riesgo de delito por residente es {rr} veces "
            "el del resto de su micro-barrio."
        )


def terrain_for_month(
    session: Session, comuna: str, month: Month, *, as_of: datetime
) -> TerrainSection | None:
    snapshot = session.scalars(
        select(RiskTerrainSnapshot)
        .where(
            RiskTerrainSnapshot.comuna_code == comuna,
            RiskTerrainSnapshot.period_end <= month.end.date(),
            RiskTerrainSnapshot.computed_at <= as_of,
        )
        .order_by(RiskTerrainSnapshot.period_end.desc(), RiskTerrainSnapshot.computed_at.desc())
        .limit(1)
    ).first()
    if snapshot is None:
        return None
    C = RiskTerrainCell
    rows = session.execute(
        select(func.ST_AsBinary(C.geom), C.score, C.hot_spot).where(
            C.snapshot_id == snapshot.id, or_(C.score > 1, C.hot_spot == "caliente")
        )
    ).all()
    drawn = [
        TerrainCell(shapely.from_wkb(bytes(wkb)), float(score), hot == "caliente")
        for wkb, score, hot in rows
    ]
    return TerrainSection(
        snapshot_id=snapshot.id,
        computed_at=snapshot.computed_at,
        period_start=snapshot.period_start,
        period_end=snapshot.period_end,
        cells=int(snapshot.meta["cells"]),
        events=int(snapshot.meta["events"]),
        family=str(snapshot.meta["family"]),
        factors=list(snapshot.factors),
        drawn=drawn,
    )
