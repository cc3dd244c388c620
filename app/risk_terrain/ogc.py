"""The latest risk terrain of each comuna as an OGC API collection (items and MVT tiles).

Registered with the OGC registry like every layer (app/ogc/registry.py): the cells of the
comuna's most recent snapshot, with their relative-risk score, rank and Gi* hot-spot class.
Read from the stored snapshot, never recomputed.
"""

from __future__ import annotations

from sqlalchemy import Select, String, func, select

from app.models import Role
from app.models.risk_terrain import RiskTerrainCell, RiskTerrainSnapshot
from app.ogc.registry import Collection, Queryable, register

COLLECTION_ID = "terreno-de-riesgo"


def _latest_cells() -> Select:
    latest = (
        select(
            RiskTerrainSnapshot.id,
            RiskTerrainSnapshot.comuna_code,
            func.row_number()
            .over(
                partition_by=RiskTerrainSnapshot.comuna_code,
                order_by=(RiskTerrainSnapshot.computed_at.desc(), RiskTerrainSnapshot.id),
            )
            .label("n"),
        )
    ).subquery("latest")
    C = RiskTerrainCell
    return select(
        (C.snapshot_id.cast(String) + "-" + C.cell.cast(String)).label("id"),
        C.geom.label("geom"),
        latest.c.comuna_code.label("comuna"),
        C.cell.label("cell"),
        C.score.label("score"),
        C.rank.label("rank"),
        C.events.label("events"),
        C.hot_spot.label("hot_spot"),
        C.snapshot_id.cast(String).label("snapshot"),
    ).join(latest, (latest.c.id == C.snapshot_id) & (latest.c.n == 1))


register(
    Collection(
        id=COLLECTION_ID,
        title="Terreno de riesgo",
        description=(
            "Celdas del último modelo de terreno de riesgo de cada comuna: riesgo relativo "
            "(1 = ningún factor retenido actúa), lugar, denuncias del período y clase de punto "
            "caliente (Gi*, FDR). Ver docs/metodologia.md."
        ),
        source=_latest_cells,
        properties=(
            Queryable("comuna", "string", "Código CUT de la comuna"),
            Queryable("cell", "integer", "Número de la celda en la grilla del modelo"),
            Queryable("score", "number", "Riesgo relativo de la celda"),
            Queryable("rank", "integer", "Lugar (1 = mayor riesgo)"),
            Queryable("events", "integer", "Denuncias del período en la celda"),
            Queryable("hot_spot", "string", "caliente o no_significativo"),
            Queryable("snapshot", "string", "Id del modelo guardado (para citarlo)"),
        ),
        geometry_type="Polygon",
        roles=frozenset({Role.PLANNER, Role.POLICE, Role.UNIT}),
        keywords=("terreno de riesgo", "RTM", "priorización"),
        force_ccw=True,
    )
)
