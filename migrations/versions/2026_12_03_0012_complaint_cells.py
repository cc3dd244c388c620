"""Precomputed low-zoom cells of the complaint tiles, and the triggers that mark them stale.

`complaint_cell` holds, per comuna, zoom, tile, cell and institution, how many complaints
(and how many of a sensitive category) the aggregated tiles count there; app/ogc/cells.py
builds and reads it. `complaint_cell_state` says whether a comuna's cells are current.

The triggers are statement-level with transition tables, so an import of a million rows
costs one DISTINCT over them, not a million calls. They mark stale, never update counts:
the counting formula lives in one place (app/ogc/grid.py), and a tile counts live while its
comuna is stale. An UPDATE marks only comunas whose complaints moved, changed comuna,
institution or category. The mark is an upsert of the state row, which waits for a rebuild
holding it (see `cells.refresh`), so a rebuild never ends `fresh` over rows it did not see.

Revision ID: 0012_complaint_cells
Revises: 0011_ranking_method_2
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_complaint_cells"
down_revision: str | Sequence[str] | None = "0011_ranking_method_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARK = """
    INSERT INTO complaint_cell_state (comuna_code, fresh, cell_px, below_zoom)
    SELECT DISTINCT comuna_code, false, 0, 0 FROM {rows} ORDER BY comuna_code
    ON CONFLICT (comuna_code) DO UPDATE SET fresh = false
"""


def upgrade() -> None:
    source = postgresql.ENUM(name="complaint_source", create_type=False)
    op.create_table(
        "complaint_cell",
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("z", sa.SmallInteger(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("cx", sa.SmallInteger(), nullable=False),
        sa.Column("cy", sa.SmallInteger(), nullable=False),
        sa.Column("source", source, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("n_sensitive", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_complaint_cell_comuna_code_comuna"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "comuna_code", "z", "x", "y", "cx", "cy", "source", name=op.f("pk_complaint_cell")
        ),
    )
    # a tile reads (z, x, y) across the comunas it may count
    op.create_index("ix_complaint_cell_tile", "complaint_cell", ["z", "x", "y"])
    op.create_table(
        "complaint_cell_state",
        sa.Column("comuna_code", sa.String(5), nullable=False),
        sa.Column("fresh", sa.Boolean(), nullable=False),
        sa.Column("cell_px", sa.Integer(), nullable=False),
        sa.Column("below_zoom", sa.Integer(), nullable=False),
        sa.Column(
            "refreshed_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_complaint_cell_state_comuna_code_comuna"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comuna_code", name=op.f("pk_complaint_cell_state")),
    )
    op.execute(
        f"""
        CREATE FUNCTION complaint_cells_stale() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME <> 'complaint' OR TG_OP = 'TRUNCATE' THEN  -- every comuna
                UPDATE complaint_cell_state SET fresh = false;
            ELSIF TG_OP = 'INSERT' THEN
                {_MARK.format(rows="new_rows")};
            ELSIF TG_OP = 'DELETE' THEN
                {_MARK.format(rows="old_rows")};
            ELSE
                {
            _MARK.format(
                rows='''(
                    SELECT unnest(ARRAY[o.comuna_code, n.comuna_code]) AS comuna_code
                      FROM old_rows o JOIN new_rows n USING (id)
                     WHERE (o.comuna_code, o.source, o.category_code, o.geom::bytea)
                           IS DISTINCT FROM
                           (n.comuna_code, n.source, n.category_code, n.geom::bytea)
                ) AS moved'''
            )
        };
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    for event, refs in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER trg_complaint_cells_{event.lower()} AFTER {event} ON complaint "
            f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION complaint_cells_stale()"
        )
    op.execute(
        "CREATE TRIGGER trg_complaint_cells_truncate AFTER TRUNCATE ON complaint "
        "FOR EACH STATEMENT EXECUTE FUNCTION complaint_cells_stale()"
    )
    op.execute(
        "CREATE TRIGGER trg_complaint_cells_sensitive AFTER UPDATE ON crime_category "
        "FOR EACH ROW WHEN (OLD.sensitive IS DISTINCT FROM NEW.sensitive) "
        "EXECUTE FUNCTION complaint_cells_stale()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER trg_complaint_cells_sensitive ON crime_category")
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER trg_complaint_cells_{event} ON complaint")
    op.execute("DROP FUNCTION complaint_cells_stale()")
    op.drop_table("complaint_cell_state")
    op.drop_index("ix_complaint_cell_tile", table_name="complaint_cell")
    op.drop_table("complaint_cell")
