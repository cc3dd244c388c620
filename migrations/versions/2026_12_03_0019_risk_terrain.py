"""Risk-terrain snapshots (issue #17): the model's inputs, factors and metadata, and its
grid cells (score, rank, hot-spot class) with a GiST index for the OGC collection and tiles.

Revision ID: 0019_risk_terrain
Revises: 0018_council_activities
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019_risk_terrain"
down_revision: str | Sequence[str] | None = "0018_council_activities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_terrain_snapshot",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False, comment="Primer día incluido"),
        sa.Column("period_end", sa.Date(), nullable=False, comment="Último día incluido"),
        sa.Column("categories", postgresql.JSONB(), nullable=False),
        sa.Column("cell_m", sa.Float(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("method_version", sa.Integer(), nullable=False),
        sa.Column("input_fingerprint", sa.String(64), nullable=False),
        sa.Column("result_fingerprint", sa.String(64), nullable=False),
        sa.Column("computed_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("computed_by", sa.String(200), nullable=False),
        sa.Column("inputs", postgresql.JSONB(), nullable=False),
        sa.Column("factors", postgresql.JSONB(), nullable=False),
        sa.Column("metadata", postgresql.JSONB(), nullable=False),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_risk_terrain_snapshot_period_order")
        ),
        sa.CheckConstraint("cell_m > 0", name=op.f("ck_risk_terrain_snapshot_cell_positive")),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_risk_terrain_snapshot_comuna_code_comuna"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_terrain_snapshot")),
    )
    op.create_index(
        "ix_risk_terrain_snapshot_latest",
        "risk_terrain_snapshot",
        ["comuna_code", sa.text("computed_at DESC")],
    )
    op.create_geospatial_table(
        "risk_terrain_cell",
        sa.Column("snapshot_id", sa.Uuid(), nullable=False),
        sa.Column("cell", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("hot_spot", sa.String(20), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.Geometry(geometry_type="POLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["risk_terrain_snapshot.id"],
            name=op.f("fk_risk_terrain_cell_snapshot_id_risk_terrain_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "cell", name=op.f("pk_risk_terrain_cell")),
    )
    op.create_geospatial_index(
        "idx_risk_terrain_cell_geom", "risk_terrain_cell", ["geom"], postgresql_using="gist"
    )


def downgrade() -> None:
    op.drop_geospatial_table("risk_terrain_cell")
    op.drop_index("ix_risk_terrain_snapshot_latest", table_name="risk_terrain_snapshot")
    op.drop_table("risk_terrain_snapshot")
