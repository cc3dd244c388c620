"""Complaints (denuncias): one georeferenced case reported by an institution."""

import enum
import uuid
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import SRID, Base, TimestampMixin


class LocationPrecision(enum.StrEnum):
    EXACT = "exact"
    STREET = "street"
    BLOCK = "block"
    APPROXIMATE = "approximate"


class ComplaintSource(enum.StrEnum):
    CARABINEROS = "carabineros"
    PDI = "pdi"
    FISCALIA = "fiscalia"
    MUNICIPAL = "municipal"
    DEMO = "demo"  # synthetic data, never mixed up with real cases


def _values(e: type[enum.StrEnum]) -> list[str]:
    return [m.value for m in e]


class Complaint(TimestampMixin, Base):
    __tablename__ = "complaint"
    __table_args__ = (
        UniqueConstraint("source", "external_ref"),
        # keyset pagination walks (occurred_at, id) backwards
        Index("ix_complaint_occurred_at", "occurred_at", "id"),
        CheckConstraint(
            "(geom IS NULL) = (location_precision IS NULL)", name="located_with_precision"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    category_code: Mapped[str] = mapped_column(
        ForeignKey("crime_category.code", ondelete="RESTRICT"), index=True
    )
    taxonomy_version: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # NULL for a complaint that arrived as an address the geocoder could not place (it waits
    # in the review queue, app/geocoding): counted in totals, never in spatial statistics.
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry(geometry_type="POINT", srid=SRID, spatial_index=True)
    )
    location_precision: Mapped[LocationPrecision | None] = mapped_column(
        Enum(LocationPrecision, name="location_precision", values_callable=_values)
    )
    address: Mapped[str | None] = mapped_column(Text)
    source: Mapped[ComplaintSource] = mapped_column(
        Enum(ComplaintSource, name="complaint_source", values_callable=_values)
    )
    external_ref: Mapped[str] = mapped_column(String(100), comment="N° de caso de la institución")
    barrio_id: Mapped[int | None] = mapped_column(
        ForeignKey("barrio.id", ondelete="SET NULL"), index=True
    )
    micro_barrio_id: Mapped[int | None] = mapped_column(
        ForeignKey("micro_barrio.id", ondelete="SET NULL"), index=True
    )
    loaded_by: Mapped[str] = mapped_column(String(200))


def located() -> ColumnElement[bool]:
    """The one filter of every spatial use of complaints (maps, tiles, OGC features, point
    statistics): only complaints with a point. Those still in the geocoding review queue
    have none; they count in totals and in the georeferencing indicator only."""
    return Complaint.geom.is_not(None)
