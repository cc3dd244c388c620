"""Ranking method 2 (issue #16): version 2 of the two default scoring profiles.

Same weights as version 1; `method: 2` makes them run the sound variables, signal tests and
uncertainty of docs/metodologia.md ("Método 2"), and `smoothing` chooses the prior of the
empirical-Bayes rates (the comuna, at both levels; see docs/metodologia.md). Version 1
stays: the rankings computed with it keep pointing at it and still recompute and verify.
The definitions are written out here (not imported) because a migration must not change when
the code does; tests/test_rankings.py checks they are those of `DEFAULT_PROFILES`.

Revision ID: 0011_ranking_method_2
Revises: 0010_api_key_notify
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_ranking_method_2"
down_revision: str | Sequence[str] | None = "0010_api_key_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WEIGHTS = {
    "dmcs_rate": 30.0,
    "dmcs_trend": 10.0,
    "drug_consumption_rate": 5.0,
    "drug_trafficking_rate": 15.0,
    "hotspot": 10.0,
    "risk_factor_load": 20.0,
    "violent_share": 10.0,
}
_RISK_FACTOR_WEIGHTS = {
    "espacio_publico_deteriorado": 0.6,
    "follaje_obstruye": 0.6,
    "inmueble_abandonado": 0.8,
    "luminaria_apagada": 1.0,
    "microbasural": 0.4,
    "punto_ciego": 1.0,
    "punto_consumo_via_publica": 1.0,
    "sin_alarma_comunitaria": 0.5,
    "sitio_eriazo": 0.8,
    "tramo_sin_iluminacion": 1.0,
}


def _definition(weights: dict[str, float], smoothing: str) -> dict:
    return {
        "weights": dict(sorted(weights.items())),
        "normalisation": "min_max",
        "classifier": "fisher_jenks",
        "inverted": [],
        "risk_factor_weights": dict(sorted(_RISK_FACTOR_WEIGHTS.items())),
        "method": 2,
        "smoothing": smoothing,
    }


def upgrade() -> None:
    profile = sa.table(
        "scoring_profile",
        sa.column("name", sa.String),
        sa.column("version", sa.Integer),
        sa.column("definition", postgresql.JSONB),
        sa.column("description", sa.Text),
        sa.column("created_by", sa.String),
    )
    op.bulk_insert(
        profile,
        [
            {
                "name": "vigia-micro-barrio",
                "version": 2,
                "definition": _definition(_WEIGHTS, "global"),
                "description": (
                    "Perfil por defecto para micro-barrios, método 2 (ver docs/metodologia.md)"
                ),
                "created_by": "migración 0011_ranking_method_2",
            },
            {
                "name": "vigia-barrio",
                "version": 2,
                "definition": _definition({**_WEIGHTS, "hotspot": 0.0}, "global"),
                "description": (
                    "Perfil por defecto para barrios, método 2: el de micro-barrios sin Gi*"
                ),
                "created_by": "migración 0011_ranking_method_2",
            },
        ],
    )


def downgrade() -> None:
    # the table is append-only for the service; a downgrade is the one place that removes rows
    # (it fails, as it should, while a stored ranking still points at a version-2 profile)
    op.execute("ALTER TABLE scoring_profile DISABLE TRIGGER scoring_profile_append_only")
    op.execute(
        "DELETE FROM scoring_profile WHERE version = 2 "
        "AND name IN ('vigia-micro-barrio', 'vigia-barrio') "
        "AND created_by = 'migración 0011_ranking_method_2'"
    )
    op.execute("ALTER TABLE scoring_profile ENABLE TRIGGER scoring_profile_append_only")
