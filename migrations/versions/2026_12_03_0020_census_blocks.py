"""Census blocks (manzanas) of each comuna (issue #19): the map's light base when no basemap
is set. A territory table of its own, not a context layer, so the risk-terrain model never
takes blocks for a candidate risk factor.

Also an index on risk_factor_report.reporter_key_id, for "my reports" (`GET
/api/v1/risk-factors?mine=true`, the field form's recent list) and Open311's own requests.

Revision ID: 0020_census_blocks
Revises: 0019_risk_terrain
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020_census_blocks"
down_revision: str | Sequence[str] | None = "0019_risk_terrain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "census_block",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column(
            "source_id",
            sa.String(200),
            nullable=False,
            comment="Identificador de la manzana en su fuente (INE: manzana_id)",
        ),
        sa.Column("attributes", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_census_block_comuna_code_comuna"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_census_block")),
        sa.UniqueConstraint(
            "comuna_code", "source_id", name=op.f("uq_census_block_comuna_code_source_id")
        ),
    )
    op.create_geospatial_index(
        "idx_census_block_geom", "census_block", ["geom"], postgresql_using="gist"
    )
    op.execute(
        "CREATE TRIGGER trg_census_block_updated_at BEFORE UPDATE ON census_block "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.create_index(
        op.f("ix_risk_factor_report_reporter_key_id"),
        "risk_factor_report",
        ["reporter_key_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_risk_factor_report_reporter_key_id"), table_name="risk_factor_report"
    )
    op.drop_geospatial_table("census_block")
