"""The territory a comuna is divided into: comuna > barrio > micro-barrio.

Every row carries its comuna's CUT code, the natural shard key should the national tier
ever need a distributed PostgreSQL.
"""

from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import SRID, Base, TimestampMixin

MULTIPOLYGON = Geometry(geometry_type="MULTIPOLYGON", srid=SRID, spatial_index=True)


class Comuna(TimestampMixin, Base):
    __tablename__ = "comuna"

    code: Mapped[str] = mapped_column(String(5), primary_key=True, comment="Código CUT")
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    region_code: Mapped[str | None] = mapped_column(String(2))
    province: Mapped[str | None] = mapped_column(String(100))
    population: Mapped[int | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    geom: Mapped[WKBElement] = mapped_column(MULTIPOLYGON)


class Barrio(TimestampMixin, Base):
    __tablename__ = "barrio"
    __table_args__ = (UniqueConstraint("comuna_code", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    population: Mapped[int | None]
    population_estimated: Mapped[bool] = mapped_column(default=False, server_default="false")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    geom: Mapped[WKBElement] = mapped_column(MULTIPOLYGON)


class MicroBarrio(TimestampMixin, Base):
    __tablename__ = "micro_barrio"
    __table_args__ = (UniqueConstraint("comuna_code", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    barrio_id: Mapped[int] = mapped_column(ForeignKey("barrio.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    population: Mapped[int | None]
    population_estimated: Mapped[bool] = mapped_column(default=False, server_default="false")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    geom: Mapped[WKBElement] = mapped_column(MULTIPOLYGON)


class CensusBlock(TimestampMixin, Base):
    """A census block (manzana) of a comuna: public census geometry, drawn as the map's
    light base when no basemap is set. Territory, not context: it is never a candidate
    risk factor of the risk-terrain model (that reads `context_feature` only)."""

    __tablename__ = "census_block"
    __table_args__ = (UniqueConstraint("comuna_code", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    source_id: Mapped[str] = mapped_column(
        String(200), comment="Identificador de la manzana en su fuente (INE: manzana_id)"
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    geom: Mapped[WKBElement] = mapped_column(MULTIPOLYGON)
