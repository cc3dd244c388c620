"""The gazetteer a comuna loads (street centrelines, address points, named places), and
how each complaint was geocoded against it.

Every load of a source is a `GazetteerVersion`; its features carry the version's id, and a
complaint's `ComplaintGeocode` row names the version that placed it, so a placement can be
explained after the gazetteer changes. Reloading identical content creates nothing. Name
keys (`key`) are computed by app/geocoding/parse.py `name_key`, the same rule that keys
the addresses, and carry trigram indexes (pg_trgm).
"""

import enum
import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Enum, Float, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import SRID, Base


class GazetteerVersion(Base):
    __tablename__ = "gazetteer_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    source_name: Mapped[str] = mapped_column(String(100))
    source_format: Mapped[str] = mapped_column(String(20))
    content_sha256: Mapped[str] = mapped_column(String(64))
    current: Mapped[bool] = mapped_column(default=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    loaded_by: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class GazetteerStreet(Base):
    __tablename__ = "gazetteer_street"
    __table_args__ = (
        Index("ix_gazetteer_street_key_trgm", "key", postgresql_using="gin",
              postgresql_ops={"key": "gin_trgm_ops"}),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("gazetteer_version.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    street_type: Mapped[str | None] = mapped_column(String(20))


class GazetteerSegment(Base):
    __tablename__ = "gazetteer_segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(
        ForeignKey("gazetteer_street.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[str] = mapped_column(String(200))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry(geometry_type="LINESTRING", srid=SRID, spatial_index=True)
    )
    left_from: Mapped[int | None] = mapped_column(Integer)
    left_to: Mapped[int | None] = mapped_column(Integer)
    right_from: Mapped[int | None] = mapped_column(Integer)
    right_to: Mapped[int | None] = mapped_column(Integer)
    length_m: Mapped[float] = mapped_column(Float)


class GazetteerAddress(Base):
    __tablename__ = "gazetteer_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(
        ForeignKey("gazetteer_street.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry(geometry_type="POINT", srid=SRID, spatial_index=True)
    )


class GazetteerPlace(Base):
    __tablename__ = "gazetteer_place"
    __table_args__ = (
        Index("ix_gazetteer_place_key_trgm", "key", postgresql_using="gin",
              postgresql_ops={"key": "gin_trgm_ops"}),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("gazetteer_version.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry(geometry_type="GEOMETRY", srid=SRID, spatial_index=True)
    )


class GazetteerIntersection(Base):
    """Where two named streets cross, computed at load (street_a < street_b)."""

    __tablename__ = "gazetteer_intersection"

    street_a: Mapped[int] = mapped_column(
        ForeignKey("gazetteer_street.id", ondelete="CASCADE"), primary_key=True
    )
    street_b: Mapped[int] = mapped_column(
        ForeignKey("gazetteer_street.id", ondelete="CASCADE"), primary_key=True
    )
    geom: Mapped[WKBElement] = mapped_column(
        Geometry(geometry_type="POINT", srid=SRID, spatial_index=False)
    )


class GeocodeStatus(enum.StrEnum):
    PLACED = "placed"  # by the geocoder, at or above the acceptance score
    UNPLACED = "unplaced"  # waiting in the review queue
    MANUAL = "manual"  # placed by an analyst from the queue


class ComplaintGeocode(Base):
    """How a complaint that arrived as an address was placed (or why it was not)."""

    __tablename__ = "complaint_geocode"

    complaint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[GeocodeStatus] = mapped_column(
        Enum(GeocodeStatus, name="geocode_status", values_callable=lambda e: [m.value for m in e]),
        index=True,
    )
    gazetteer_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("gazetteer_version.id", ondelete="RESTRICT"), index=True
    )
    score: Mapped[float | None] = mapped_column(Float)
    matched: Mapped[str | None] = mapped_column(Text)
    candidates: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    placed_by: Mapped[str] = mapped_column(String(200))
    geocoded_at: Mapped[datetime] = mapped_column(server_default=func.now())
