"""Rankings: versioned scoring profiles (seeded), reproducible snapshots with their per-unit
results, and external variables per unit loaded from CSV.

Revision ID: 0004_rankings
Revises: 0003_risk_factors
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_rankings"
down_revision: str | Sequence[str] | None = "0003_risk_factors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = postgresql.TIMESTAMP(timezone=True)

# The default profiles of app/scoring/profiles.py, frozen here as they were at this revision
# (a migration never imports application code). tests/test_rankings_profiles.py checks that
# they have the fingerprints of DEFAULT_PROFILES.
_WEIGHTS = {
    "dmcs_rate": 30.0,
    "violent_share": 10.0,
    "drug_trafficking_rate": 15.0,
    "drug_consumption_rate": 5.0,
    "risk_factor_load": 20.0,
    "dmcs_trend": 10.0,
    "hotspot": 10.0,
}
_RISK_FACTOR_WEIGHTS = {
    "luminaria_apagada": 1.0,
    "tramo_sin_iluminacion": 1.0,
    "punto_ciego": 1.0,
    "punto_consumo_via_publica": 1.0,
    "sitio_eriazo": 0.8,
    "inmueble_abandonado": 0.8,
    "follaje_obstruye": 0.6,
    "espacio_publico_deteriorado": 0.6,
    "sin_alarma_comunitaria": 0.5,
    "microbasural": 0.4,
}


def _definition(weights: dict[str, float]) -> dict:
    return {
        "weights": dict(sorted(weights.items())),
        "normalisation": "min_max",
        "classifier": "fisher_jenks",
        "inverted": [],
        "risk_factor_weights": dict(sorted(_RISK_FACTOR_WEIGHTS.items())),
    }


SEED_PROFILES = [
    dict(
        name="vigia-micro-barrio",
        version=1,
        definition=_definition(_WEIGHTS),
        description="Perfil por defecto para micro-barrios (ver docs/metodologia.md)",
        created_by="migración 0004_rankings",
    ),
    dict(
        name="vigia-barrio",
        version=1,
        definition=_definition({**_WEIGHTS, "hotspot": 0.0}),
        description="Perfil por defecto para barrios: el de micro-barrios sin Gi*",
        created_by="migración 0004_rankings",
    ),
]


def upgrade() -> None:
    profile = op.create_table(
        "scoring_profile",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", postgresql.JSONB(), nullable=False, comment="Pesos, normalización, clasificador, invertidas y pesos por tipo de factor"),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scoring_profile"),
        sa.UniqueConstraint("name", "version", name="uq_scoring_profile_name"),
        sa.CheckConstraint("version >= 1", name="ck_scoring_profile_version_positive"),
        comment="Solo se agregan filas: un cambio de pesos es una versión nueva",
    )
    op.bulk_insert(profile, SEED_PROFILES)
    # Append-only, enforced by the database: a cited ranking must keep its weights.
    op.execute("""
        CREATE FUNCTION scoring_profile_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'scoring_profile es de solo inserción: cree una versión nueva';
        END $$;
    """)
    op.execute("""
        CREATE TRIGGER scoring_profile_append_only BEFORE UPDATE OR DELETE ON scoring_profile
        FOR EACH ROW EXECUTE FUNCTION scoring_profile_append_only();
    """)

    op.create_table(
        "ranking_snapshot",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("profile_name", sa.String(64), nullable=False),
        sa.Column("profile_version", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False, comment="Primer día incluido"),
        sa.Column("period_end", sa.Date(), nullable=False, comment="Último día incluido"),
        sa.Column("input_fingerprint", sa.String(64), nullable=False),
        sa.Column("result_fingerprint", sa.String(64), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.Column("computed_by", sa.String(200), nullable=False),
        sa.Column("inputs", postgresql.JSONB(), nullable=False, comment="Tabla de entrada y vecindades: basta para recalcular"),
        sa.Column("metadata", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ranking_snapshot"),
        sa.CheckConstraint("level IN ('barrio', 'micro_barrio')", name="ck_ranking_snapshot_level_known"),
        sa.CheckConstraint("period_end >= period_start", name="ck_ranking_snapshot_period_order"),
        sa.ForeignKeyConstraint(["comuna_code"], ["comuna.code"], name="fk_ranking_snapshot_comuna_code_comuna", ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["profile_name", "profile_version"], ["scoring_profile.name", "scoring_profile.version"], name="fk_ranking_snapshot_profile_name_scoring_profile", ondelete="RESTRICT"),
    )
    op.create_index("ix_ranking_snapshot_latest", "ranking_snapshot", ["comuna_code", "level", sa.text("computed_at DESC")])

    op.create_table(
        "ranking_unit_result",
        sa.Column("snapshot_id", sa.Uuid(), nullable=False),
        sa.Column("unit_code", sa.String(40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True, comment="id del barrio o micro-barrio al calcular"),
        sa.Column("unit_name", sa.String(200), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("class", sa.String(20), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_estimated", sa.Boolean(), nullable=False),
        sa.Column("raw", postgresql.JSONB(), nullable=False),
        sa.Column("normalised", postgresql.JSONB(), nullable=False),
        sa.Column("contributions", postgresql.JSONB(), nullable=False),
        sa.Column("top_variables", postgresql.JSONB(), nullable=False),
        sa.Column("diagnostics", postgresql.JSONB(), nullable=False, comment="Tasa bruta, contracción bayesiana, Gi*"),
        sa.PrimaryKeyConstraint("snapshot_id", "unit_code", name="pk_ranking_unit_result"),
        sa.ForeignKeyConstraint(["snapshot_id"], ["ranking_snapshot.id"], name="fk_ranking_unit_result_snapshot_id_ranking_snapshot", ondelete="CASCADE"),
    )
    op.create_index("ix_ranking_unit_result_snapshot_id_rank", "ranking_unit_result", ["snapshot_id", "rank"])

    op.create_table(
        "external_variable",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("unit_code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(60), nullable=False, comment="Sin prefijo: ivs se pondera como ext_ivs"),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("loaded_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_external_variable"),
        sa.UniqueConstraint("comuna_code", "level", "unit_code", "name", name="uq_external_variable_comuna_code"),
        sa.CheckConstraint("level IN ('barrio', 'micro_barrio')", name="ck_external_variable_level_known"),
        sa.ForeignKeyConstraint(["comuna_code"], ["comuna.code"], name="fk_external_variable_comuna_code_comuna", ondelete="RESTRICT"),
    )

    # The ranking's aggregation reads one unit's complaints of two periods: with occurred_at
    # (and the category) in the index it never touches the other years of that unit.
    op.create_index("ix_complaint_micro_barrio_id_occurred_at", "complaint", ["micro_barrio_id", "occurred_at"], postgresql_include=["category_code"])
    op.create_index("ix_complaint_barrio_id_occurred_at", "complaint", ["barrio_id", "occurred_at"], postgresql_include=["category_code"])


def downgrade() -> None:
    op.drop_index("ix_complaint_barrio_id_occurred_at", table_name="complaint")
    op.drop_index("ix_complaint_micro_barrio_id_occurred_at", table_name="complaint")
    op.drop_table("external_variable")
    op.drop_table("ranking_unit_result")
    op.drop_table("ranking_snapshot")
    op.execute("DROP TRIGGER IF EXISTS scoring_profile_append_only ON scoring_profile")
    op.drop_table("scoring_profile")
    op.execute("DROP FUNCTION IF EXISTS scoring_profile_append_only()")
