"""Stored intervention evaluations (issue #18): cited like a ranking snapshot.

Revision ID: 0014_project_evaluations
Revises: 0013_context_layers
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_project_evaluations"
down_revision: str | Sequence[str] | None = "0013_context_layers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "project_evaluation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("method_version", sa.String(40), nullable=False),
        sa.Column("input_fingerprint", sa.String(64), nullable=False),
        sa.Column("data_as_of", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column(
            "computed_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("computed_by", sa.String(200), nullable=False),
        sa.Column("inputs", postgresql.JSONB(), nullable=False),
        sa.Column("result", postgresql.JSONB(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_project_evaluation_comuna_code_comuna"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["intervention_project.id"],
            name=op.f("fk_project_evaluation_project_id_intervention_project"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_evaluation")),
    )
    op.create_index(
        op.f("ix_project_evaluation_project_id"), "project_evaluation", ["project_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_project_evaluation_project_id"), table_name="project_evaluation")
    op.drop_table("project_evaluation")
