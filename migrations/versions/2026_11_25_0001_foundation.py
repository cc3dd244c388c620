"""Foundation: PostGIS, territory (comuna, barrio, micro-barrio) and API keys.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import alembic_helpers  # noqa: F401  (registers the geospatial operations)
from sqlalchemy.dialects import postgresql

revision: str = "0001_foundation"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _multipolygon() -> geoalchemy2.Geometry:
    return geoalchemy2.Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _spatial_indexes(table: str) -> None:
    op.create_geospatial_index(f"idx_{table}_geom", table, ["geom"], postgresql_using="gist")
    # Distances in metres (ST_DWithin on geography) stay index-backed through this one.
    op.execute(
        f"CREATE INDEX ix_{table}_geog ON {table} USING gist ((geom::geography))"
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_geospatial_table(
        "comuna",
        sa.Column("code", sa.String(5), nullable=False, comment="Código CUT"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("region_code", sa.String(2), nullable=True),
        sa.Column("province", sa.String(100), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("attributes", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("geom", _multipolygon(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("code", name="pk_comuna"),
    )
    _spatial_indexes("comuna")

    op.create_geospatial_table(
        "barrio",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_estimated", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("attributes", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("geom", _multipolygon(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_barrio"),
        sa.ForeignKeyConstraint(["comuna_code"], ["comuna.code"], name="fk_barrio_comuna_code_comuna", ondelete="RESTRICT"),
        sa.UniqueConstraint("comuna_code", "code", name="uq_barrio_comuna_code_code"),
    )
    _spatial_indexes("barrio")

    op.create_geospatial_table(
        "micro_barrio",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("barrio_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_estimated", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("attributes", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("geom", _multipolygon(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_micro_barrio"),
        sa.ForeignKeyConstraint(["comuna_code"], ["comuna.code"], name="fk_micro_barrio_comuna_code_comuna", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["barrio_id"], ["barrio.id"], name="fk_micro_barrio_barrio_id_barrio", ondelete="RESTRICT"),
        sa.UniqueConstraint("comuna_code", "code", name="uq_micro_barrio_comuna_code_code"),
    )
    op.create_index("ix_micro_barrio_barrio_id", "micro_barrio", ["barrio_id"])
    _spatial_indexes("micro_barrio")

    role = postgresql.ENUM("police", "unit", "planner", "admin", name="role")
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, comment="SHA-256 hex"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", role, nullable=False),
        sa.Column("institution", sa.String(100), nullable=False),
        sa.Column("unit", sa.String(200), nullable=True),
        sa.Column("comuna_code", sa.String(5), nullable=True),
        sa.Column("expires_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("revoked_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("last_used_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_api_key"),
        sa.UniqueConstraint("prefix", name="uq_api_key_prefix"),
        sa.UniqueConstraint("key_hash", name="uq_api_key_key_hash"),
    )


def downgrade() -> None:
    op.drop_table("api_key")
    op.execute("DROP TYPE IF EXISTS role")
    op.drop_geospatial_table("micro_barrio")
    op.drop_geospatial_table("barrio")
    op.drop_geospatial_table("comuna")
