"""Complaints: crime-category catalog (seeded from data/categories.csv) and complaint.

Revision ID: 0002_complaints
Revises: 0001_foundation
Create Date: 2026-11-25
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import alembic_helpers  # noqa: F401  (registers the geospatial operations)
from sqlalchemy.dialects import postgresql

revision: str = "0002_complaints"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES_CSV = Path(__file__).resolve().parents[2] / "data" / "categories.csv"


def _catalog() -> tuple[list[dict], list[dict]]:
    with CATEGORIES_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    families = {r["family_code"]: r["family_name"] for r in rows}
    categories = [
        {
            "code": r["code"],
            "name": r["name"],
            "family_code": r["family_code"],
            "taxonomy_version": r["taxonomy_version"],
            "dmcs": r["dmcs"] == "true",
            "sensitive": r["sensitive"] == "true",
            "violent": r["violent"] == "true",
            "drug_kind": r["drug_kind"] or None,
            "cead_series": r["cead_series"] or None,
        }
        for r in rows
    ]
    return [{"code": k, "name": v} for k, v in families.items()], categories


def upgrade() -> None:
    family = op.create_table(
        "crime_family",
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_crime_family"),
    )
    category = op.create_table(
        "crime_category",
        sa.Column("code", sa.String(10), nullable=False, comment="5 dígitos = subgrupo CEAD; 3 = código Vigía"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("family_code", sa.String(10), nullable=False),
        sa.Column("taxonomy_version", sa.String(20), nullable=False),
        sa.Column("dmcs", sa.Boolean(), nullable=False, comment="En el conjunto DMCS heredado (hasta 2023)"),
        sa.Column("sensitive", sa.Boolean(), nullable=False, comment="Nunca se publica bajo el nivel comunal"),
        sa.Column("violent", sa.Boolean(), nullable=False),
        sa.Column("drug_kind", sa.String(20), nullable=True),
        sa.Column("cead_series", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_crime_category"),
        sa.ForeignKeyConstraint(["family_code"], ["crime_family.code"], name="fk_crime_category_family_code_crime_family", ondelete="RESTRICT"),
    )
    op.create_index("ix_crime_category_family_code", "crime_category", ["family_code"])
    families, categories = _catalog()
    op.bulk_insert(family, families)
    op.bulk_insert(category, categories)

    precision = postgresql.ENUM("exact", "street", "block", "approximate", name="location_precision")
    source = postgresql.ENUM("carabineros", "pdi", "fiscalia", "municipal", "demo", name="complaint_source")
    op.create_geospatial_table(
        "complaint",
        sa.Column("id", sa.Uuid(), server_default=sa.func.gen_random_uuid(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("category_code", sa.String(10), nullable=False),
        sa.Column("taxonomy_version", sa.String(20), nullable=False),
        sa.Column("occurred_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("received_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("geom", geoalchemy2.Geometry(geometry_type="POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("location_precision", precision, nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("source", source, nullable=False),
        sa.Column("external_ref", sa.String(100), nullable=False, comment="N° de caso de la institución"),
        sa.Column("barrio_id", sa.Integer(), nullable=True),
        sa.Column("micro_barrio_id", sa.Integer(), nullable=True),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaint"),
        sa.ForeignKeyConstraint(["comuna_code"], ["comuna.code"], name="fk_complaint_comuna_code_comuna", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["category_code"], ["crime_category.code"], name="fk_complaint_category_code_crime_category", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["barrio_id"], ["barrio.id"], name="fk_complaint_barrio_id_barrio", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["micro_barrio_id"], ["micro_barrio.id"], name="fk_complaint_micro_barrio_id_micro_barrio", ondelete="SET NULL"),
        sa.UniqueConstraint("source", "external_ref", name="uq_complaint_source_external_ref"),
    )
    op.create_index("ix_complaint_occurred_at", "complaint", ["occurred_at", "id"])
    op.create_index("ix_complaint_category_code", "complaint", ["category_code"])
    op.create_index("ix_complaint_barrio_id", "complaint", ["barrio_id"])
    op.create_index("ix_complaint_micro_barrio_id", "complaint", ["micro_barrio_id"])
    op.create_geospatial_index("idx_complaint_geom", "complaint", ["geom"], postgresql_using="gist")
    # Distances in metres (ST_DWithin on geography) stay index-backed through this one.
    op.execute("CREATE INDEX ix_complaint_geog ON complaint USING gist ((geom::geography))")


def downgrade() -> None:
    op.drop_geospatial_table("complaint")
    op.execute("DROP TYPE IF EXISTS complaint_source")
    op.execute("DROP TYPE IF EXISTS location_precision")
    op.drop_table("crime_category")
    op.drop_table("crime_family")
