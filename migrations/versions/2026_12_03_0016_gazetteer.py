"""Gazetteer and geocoding: street centrelines with house-number ranges, address points,
named places, street intersections, each load a version; how each complaint that arrived
as an address was placed; complaints without a location (NULL geom) for the review queue.

Enables pg_trgm (candidate search on name keys), unaccent and fuzzystrmatch (levenshtein
in the score).

Revision ID: 0016_gazetteer
Revises: 0015_open311_complete
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_gazetteer"
down_revision: str | Sequence[str] | None = "0015_open311_complete"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXTENSIONS = ("pg_trgm", "unaccent", "fuzzystrmatch")
# Optimal string alignment distance: Levenshtein where swapping two neighbouring letters
# ("Unino" for "Union") is one edit, not two. The matcher calls it only on each address
# key's few best names, so plpgsql's speed is enough.
OSA_FUNCTION = """
CREATE FUNCTION geocode_osa_distance(a text, b text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    la integer := length(a);
    lb integer := length(b);
    d integer[];
    w integer := lb + 1;
    cost integer;
    i integer;
    j integer;
BEGIN
    IF la = 0 THEN RETURN lb; END IF;
    IF lb = 0 THEN RETURN la; END IF;
    d := array_fill(0, ARRAY[(la + 1) * (lb + 1)]);
    FOR i IN 0..la LOOP d[i * w + 1] := i; END LOOP;
    FOR j IN 0..lb LOOP d[j + 1] := j; END LOOP;
    FOR i IN 1..la LOOP
        FOR j IN 1..lb LOOP
            cost := CASE WHEN substr(a, i, 1) = substr(b, j, 1) THEN 0 ELSE 1 END;
            d[i * w + j + 1] := least(d[(i - 1) * w + j + 1] + 1, d[i * w + j] + 1,
                                      d[(i - 1) * w + j] + cost);
            IF i > 1 AND j > 1 AND substr(a, i, 1) = substr(b, j - 1, 1)
               AND substr(a, i - 1, 1) = substr(b, j, 1) THEN
                d[i * w + j + 1] := least(d[i * w + j + 1], d[(i - 2) * w + j - 1] + 1);
            END IF;
        END LOOP;
    END LOOP;
    RETURN d[la * w + lb + 1];
END
$$
"""


def _geom(kind: str) -> sa.Column:
    return sa.Column(
        "geom",
        geoalchemy2.Geometry(geometry_type=kind, srid=4326, spatial_index=False),
        nullable=False,
    )


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.{'code' if target == 'comuna' else 'id'}"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    for name in EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
    op.execute(OSA_FUNCTION)
    op.create_table(
        "gazetteer_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("source_name", sa.String(100), nullable=False),
        sa.Column("source_format", sa.String(20), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("counts", postgresql.JSONB(), nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column(
            "loaded_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        _fk("gazetteer_version", "comuna_code", "comuna", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gazetteer_version")),
    )
    op.create_table(
        "gazetteer_street",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("street_type", sa.String(20), nullable=True),
        _fk("gazetteer_street", "version_id", "gazetteer_version"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gazetteer_street")),
    )
    op.create_index("ix_gazetteer_street_version_id", "gazetteer_street", ["version_id"])
    op.create_index(
        "ix_gazetteer_street_key_trgm",
        "gazetteer_street",
        ["key"],
        postgresql_using="gin",
        postgresql_ops={"key": "gin_trgm_ops"},
    )
    op.create_geospatial_table(
        "gazetteer_segment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        _geom("LINESTRING"),
        sa.Column("left_from", sa.Integer(), nullable=True),
        sa.Column("left_to", sa.Integer(), nullable=True),
        sa.Column("right_from", sa.Integer(), nullable=True),
        sa.Column("right_to", sa.Integer(), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=False),
        _fk("gazetteer_segment", "street_id", "gazetteer_street"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gazetteer_segment")),
    )
    op.create_index("ix_gazetteer_segment_street_id", "gazetteer_segment", ["street_id"])
    op.create_geospatial_index(
        "idx_gazetteer_segment_geom", "gazetteer_segment", ["geom"], postgresql_using="gist"
    )
    op.create_geospatial_table(
        "gazetteer_address",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("street_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        _geom("POINT"),
        _fk("gazetteer_address", "street_id", "gazetteer_street"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gazetteer_address")),
    )
    op.create_index("ix_gazetteer_address_street_id", "gazetteer_address", ["street_id"])
    op.create_geospatial_index(
        "idx_gazetteer_address_geom", "gazetteer_address", ["geom"], postgresql_using="gist"
    )
    op.create_geospatial_table(
        "gazetteer_place",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        _geom("GEOMETRY"),
        _fk("gazetteer_place", "version_id", "gazetteer_version"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gazetteer_place")),
    )
    op.create_index("ix_gazetteer_place_version_id", "gazetteer_place", ["version_id"])
    op.create_index(
        "ix_gazetteer_place_key_trgm",
        "gazetteer_place",
        ["key"],
        postgresql_using="gin",
        postgresql_ops={"key": "gin_trgm_ops"},
    )
    op.create_geospatial_index(
        "idx_gazetteer_place_geom", "gazetteer_place", ["geom"], postgresql_using="gist"
    )
    op.create_geospatial_table(
        "gazetteer_intersection",
        sa.Column("street_a", sa.Integer(), nullable=False),
        sa.Column("street_b", sa.Integer(), nullable=False),
        _geom("POINT"),
        _fk("gazetteer_intersection", "street_a", "gazetteer_street"),
        _fk("gazetteer_intersection", "street_b", "gazetteer_street"),
        sa.PrimaryKeyConstraint("street_a", "street_b", name=op.f("pk_gazetteer_intersection")),
    )
    status = postgresql.ENUM("placed", "unplaced", "manual", name="geocode_status")
    op.create_table(
        "complaint_geocode",
        sa.Column("complaint_id", sa.Uuid(), nullable=False),
        sa.Column("status", status, nullable=False),
        sa.Column("gazetteer_version_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("matched", sa.Text(), nullable=True),
        sa.Column("candidates", postgresql.JSONB(), nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column(
            "geocoded_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        _fk("complaint_geocode", "complaint_id", "complaint"),
        _fk("complaint_geocode", "gazetteer_version_id", "gazetteer_version", "RESTRICT"),
        sa.PrimaryKeyConstraint("complaint_id", name=op.f("pk_complaint_geocode")),
    )
    op.create_index("ix_complaint_geocode_status", "complaint_geocode", ["status"])
    op.create_index(
        "ix_complaint_geocode_gazetteer_version_id", "complaint_geocode", ["gazetteer_version_id"]
    )
    op.alter_column("complaint", "geom", nullable=True)
    op.alter_column("complaint", "location_precision", nullable=True)
    op.create_check_constraint(
        "located_with_precision", "complaint", "(geom IS NULL) = (location_precision IS NULL)"
    )


def downgrade() -> None:
    # complaints without a location cannot survive the NOT NULL of the earlier schema
    op.execute("DELETE FROM complaint WHERE geom IS NULL")
    op.drop_constraint(op.f("ck_complaint_located_with_precision"), "complaint", type_="check")
    op.alter_column("complaint", "location_precision", nullable=False)
    op.alter_column("complaint", "geom", nullable=False)
    op.drop_table("complaint_geocode")
    postgresql.ENUM(name="geocode_status").drop(op.get_bind(), checkfirst=True)
    op.drop_geospatial_table("gazetteer_intersection")
    op.drop_geospatial_table("gazetteer_place")
    op.drop_geospatial_table("gazetteer_address")
    op.drop_geospatial_table("gazetteer_segment")
    op.drop_table("gazetteer_street")
    op.drop_table("gazetteer_version")
    op.execute("DROP FUNCTION geocode_osa_distance(text, text)")
    # the extensions stay: other objects may use them
