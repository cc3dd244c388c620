"""Reports: generated files (bulletin, SPD progress, annual) and hand-entered plan indicators.

Revision ID: 0006_reports
Revises: 0005_audit
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_reports"
down_revision: str | Sequence[str] | None = "0005_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    report_kind = postgresql.ENUM("bulletin", "spd", "annual", name="report_kind")
    report_format = postgresql.ENUM("html", "pdf", name="report_format")
    op.create_table(
        "generated_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("kind", report_kind, nullable=False),
        sa.Column("period", sa.String(7), nullable=False, comment="AAAA-MM o AAAA"),
        sa.Column("format", report_format, nullable=False),
        sa.Column("data_as_of", TS, nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_generated_report"),
    )
    op.create_index("ix_generated_report_comuna_code", "generated_report", ["comuna_code"])

    op.create_table(
        "plan_indicator_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("indicator_code", sa.String(40), nullable=False, comment="Código en el archivo del plan"),
        sa.Column("period", sa.String(7), nullable=False, comment="Año (AAAA)"),
        sa.Column("value", sa.Numeric(14, 4), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("entered_by", sa.String(200), nullable=False),
        sa.Column("entered_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_indicator_value"),
        sa.UniqueConstraint("comuna_code", "indicator_code", "period", name="uq_plan_indicator_value_comuna_code_indicator_code_period"),
    )


def downgrade() -> None:
    op.drop_table("plan_indicator_value")
    op.drop_index("ix_generated_report_comuna_code", table_name="generated_report")
    op.drop_table("generated_report")
    op.execute("DROP TYPE IF EXISTS report_format")
    op.execute("DROP TYPE IF EXISTS report_kind")
