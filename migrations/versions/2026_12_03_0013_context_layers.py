"""Context layers: the catalog of layer types (seeded from data/context_layer_types.csv) and
their features (points, lines, polygons in WGS 84, one GiST index).

Revision ID: 0013_context_layers
Revises: 0012_complaint_cells
Create Date: 2026-12-03
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_context_layers"
down_revision: str | Sequence[str] | None = "0012_complaint_cells"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPES_CSV = Path(__file__).resolve().parents[2] / "data" / "context_layer_types.csv"


def _catalog() -> list[dict[str, object]]:
    with TYPES_CSV.open(encoding="utf-8", newline="") as f:
        return [
            {
                "code": row["code"],
                "label": row["label"],
                "description": row["description"],
                "public": row["public"].strip().lower() == "true",
            }
            for row in csv.DictReader(f)
        ]


def upgrade() -> None:
    layer_type = op.create_table(
        "context_layer_type",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("public", sa.Boolean(), server_default="true", nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_context_layer_type")),
    )
    op.bulk_insert(layer_type, _catalog())
    op.create_geospatial_table(
        "context_feature",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("layer_type", sa.String(40), nullable=False),
        sa.Column("source_name", sa.String(100), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "properties", postgresql.JSONB(), server_default="{}", nullable=False
        ),
        sa.Column("synthetic", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "loaded_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_context_feature_comuna_code_comuna"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["layer_type"],
            ["context_layer_type.code"],
            name=op.f("fk_context_feature_layer_type_context_layer_type"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_feature")),
        sa.UniqueConstraint(
            "layer_type",
            "source_name",
            "source_id",
            name=op.f("uq_context_feature_layer_type_source_name_source_id"),
        ),
    )
    op.create_index("ix_context_feature_comuna_code", "context_feature", ["comuna_code"])
    op.create_geospatial_index(
        "idx_context_feature_geom", "context_feature", ["geom"], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_geospatial_table("context_feature")
    op.drop_table("context_layer_type")
