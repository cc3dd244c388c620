"""Risk-terrain snapshots (issue #17): a model of which kinds of place raise the risk of
crime around them, fitted on a grid over the comuna's settled area, stored so it can be
cited and recomputed (its inputs, method version and seed), like a ranking snapshot."""

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import SRID, Base


class RiskTerrainSnapshot(Base):
    __tablename__ = "risk_terrain_snapshot"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("cell_m > 0", name="cell_positive"),
        Index("ix_risk_terrain_snapshot_latest", "comuna_code", text("computed_at DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    period_start: Mapped[date] = mapped_column(comment="Primer día incluido")
    period_end: Mapped[date] = mapped_column(comment="Último día incluido")
    categories: Mapped[list[str]] = mapped_column(JSONB)
    cell_m: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    method_version: Mapped[int] = mapped_column(Integer)
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    result_fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    computed_by: Mapped[str] = mapped_column(String(200))
    # grid, counts, residents, strata and layer points: enough to recompute the model
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # the retained layers
    # "metadata" is reserved on declarative classes
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB)


class RiskTerrainCell(Base):
    __tablename__ = "risk_terrain_cell"

    snapshot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("risk_terrain_snapshot.id", ondelete="CASCADE"), primary_key=True
    )
    cell: Mapped[int] = mapped_column(Integer, primary_key=True)  # index in the grid's order
    events: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)  # relative risk, 1 where no factor acts
    rank: Mapped[int] = mapped_column(Integer)  # 1 = the highest score
    hot_spot: Mapped[str] = mapped_column(String(20))  # caliente / no_significativo
    geom: Mapped[WKBElement] = mapped_column(
        Geometry(geometry_type="POLYGON", srid=SRID, spatial_index=True)
    )
