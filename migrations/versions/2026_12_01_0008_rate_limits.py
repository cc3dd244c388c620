"""Rate-limit windows in PostgreSQL, shared by every worker and kept across restarts.

Revision ID: 0008_rate_limits
Revises: 0007_audit_anchors
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_rate_limits"
down_revision: str | Sequence[str] | None = "0007_audit_anchors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_window",
        sa.Column("bucket", sa.String(40), nullable=False),
        sa.Column("client", sa.String(255), nullable=False),
        sa.Column("hits", postgresql.ARRAY(postgresql.TIMESTAMP(timezone=True)), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "client", name=op.f("pk_rate_limit_window")),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("rate_limit_window")
