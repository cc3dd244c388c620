"""updated_at kept by the database: one BEFORE UPDATE trigger instead of five hand-written sets.

Every table with an `updated_at` column (app/models/base.py, TimestampMixin) gets the same
trigger, so an UPDATE from the ORM, from Core, from an `INSERT ... ON CONFLICT DO UPDATE` or
from a raw SQL statement moves it, and no service has to remember to. The value is `now()`,
the start of the transaction, like the column's server default. A row that is not updated
(an import or a territory reload that finds it identical) keeps its stamp. A new table with
the mixin needs its trigger in its own migration (tests/test_updated_at.py checks it).

Revision ID: 0009_updated_at
Revises: 0008_rate_limits
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_updated_at"
down_revision: str | Sequence[str] | None = "0008_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the tables with TimestampMixin at this revision (a frozen list: migrations do not import models)
TABLES = (
    "api_key",
    "barrio",
    "complaint",
    "comuna",
    "intervention_project",
    "micro_barrio",
    "risk_factor_report",
    "risk_factor_type",
    "webhook_subscription",
)


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER trg_{table}_updated_at ON {table}")
    op.execute("DROP FUNCTION set_updated_at()")
