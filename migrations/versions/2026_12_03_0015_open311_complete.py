"""Open311 complete: the address a client gives (`address_string`), kept for staff only.

Revision ID: 0015_open311_complete
Revises: 0014_project_evaluations
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_open311_complete"
down_revision: str | Sequence[str] | None = "0014_project_evaluations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "risk_factor_report",
        sa.Column(
            "address_string",
            sa.Text(),
            nullable=True,
            comment="Dirección escrita por quien informa (Open311); nunca pública",
        ),
    )
    op.create_check_constraint(
        op.f("ck_risk_factor_report_address_string_length"),
        "risk_factor_report",
        "char_length(address_string) <= 500",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_risk_factor_report_address_string_length"), "risk_factor_report", type_="check"
    )
    op.drop_column("risk_factor_report", "address_string")
