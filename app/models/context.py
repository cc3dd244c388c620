"""Context layers: places that attract or enable crime (botillerías, paraderos, colegios...).

Risk Terrain Modeling needs them beside the police-reported risk factors. The catalog of
layer types is seeded from `data/context_layer_types.csv` (the one place that lists them);
`public` says whether a caller without a key may read a type (bus stops yes, abandoned
buildings reported by the police no). Features are loaded by `vigia context load`,
idempotent by (type, source name, source id).
"""

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import SRID, Base


class ContextLayerType(Base):
    __tablename__ = "context_layer_type"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    public: Mapped[bool] = mapped_column(default=True, server_default="true")


class ContextFeature(Base):
    __tablename__ = "context_feature"
    __table_args__ = (UniqueConstraint("layer_type", "source_name", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(
        ForeignKey("comuna.code", ondelete="RESTRICT"), index=True
    )
    layer_type: Mapped[str] = mapped_column(
        ForeignKey("context_layer_type.code", ondelete="RESTRICT")
    )
    source_name: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(200))
    # Points, lines or polygons (any of the six RFC 7946 types), WGS 84.
    geom: Mapped[WKBElement] = mapped_column(
        Geometry(geometry_type="GEOMETRY", srid=SRID, spatial_index=True)
    )
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    synthetic: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Set on insert and on every load that changes the row (an unchanged row keeps its own).
    loaded_at: Mapped[datetime] = mapped_column(server_default=func.now())
