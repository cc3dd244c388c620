"""Council registry (members by seat, sessions with attendance and minutes, agreements and
their follow-ups) and prevention activities with attendance as counts by sex and age band
(issue #21). The updated_at trigger of 0009 goes on every new table with the mixin.

Revision ID: 0018_council_activities
Revises: 0016_gazetteer
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018_council_activities"
down_revision: str | Sequence[str] | None = "0016_gazetteer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# tables with TimestampMixin created here (frozen: migrations do not import models)
TIMESTAMPED = ("council_member", "council_session", "council_agreement", "prevention_activity")
ENUMS = (
    "council_session_kind",
    "council_agreement_status",
    "activity_status",
    "attendance_sex",
    "attendance_age_band",
)


def upgrade() -> None:
    op.create_table(
        "council_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comuna_code", sa.String(length=5), nullable=False),
        sa.Column(
            "seat",
            sa.String(length=40),
            nullable=False,
            comment="Código del asiento (council_seats.csv)",
        ),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column(
            "representative",
            sa.String(length=200),
            nullable=False,
            comment="Autoridad o funcionario",
        ),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_council_member_comuna_code_comuna"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_member")),
        sa.UniqueConstraint("comuna_code", "seat", name=op.f("uq_council_member_comuna_code_seat")),
    )
    op.create_table(
        "council_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comuna_code", sa.String(length=5), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("ordinaria", "extraordinaria", name="council_session_kind"),
            nullable=False,
        ),
        sa.Column("recorded_by", sa.String(length=250), nullable=False),
        sa.Column("minutes_name", sa.String(length=200), nullable=True),
        sa.Column("minutes_type", sa.String(length=100), nullable=True),
        sa.Column("minutes_sha256", sa.String(length=64), nullable=True),
        sa.Column("minutes", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_council_session_comuna_code_comuna"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_session")),
    )
    op.create_index(
        op.f("ix_council_session_comuna_code"), "council_session", ["comuna_code"], unique=False
    )
    op.create_table(
        "council_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comuna_code", sa.String(length=5), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("responsible_institution", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pendiente", "en_curso", "cumplido", "descartado", name="council_agreement_status"
            ),
            nullable=False,
        ),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_council_agreement_comuna_code_comuna"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_session.id"],
            name=op.f("fk_council_agreement_session_id_council_session"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_agreement")),
    )
    op.create_index(
        op.f("ix_council_agreement_comuna_code"), "council_agreement", ["comuna_code"], unique=False
    )
    op.create_index(
        op.f("ix_council_agreement_session_id"), "council_agreement", ["session_id"], unique=False
    )
    op.create_table(
        "council_attendance",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("seat", sa.String(length=40), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_session.id"],
            name=op.f("fk_council_attendance_session_id_council_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "seat", name=op.f("pk_council_attendance")),
    )
    op.create_table(
        "prevention_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comuna_code", sa.String(length=5), nullable=False),
        sa.Column("ref", sa.String(length=60), nullable=True, comment="Código del municipio"),
        sa.Column(
            "kind", sa.String(length=40), nullable=False, comment="data/plan/activity_kinds.csv"
        ),
        sa.Column("goal_code", sa.String(length=20), nullable=False, comment="Meta del plan"),
        sa.Column(
            "status",
            sa.Enum("programada", "realizada", "suspendida", name="activity_status"),
            nullable=False,
        ),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column(
            "place", sa.String(length=200), nullable=False, comment="Establecimiento, sede o lugar"
        ),
        sa.Column("barrio_id", sa.Integer(), nullable=True),
        sa.Column("target_group", sa.String(length=40), nullable=False),
        sa.Column("responsible_institution", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=250), nullable=False),
        sa.Column("evidence_name", sa.String(length=200), nullable=True),
        sa.Column("evidence_type", sa.String(length=100), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("evidence", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["barrio_id"],
            ["barrio.id"],
            name=op.f("fk_prevention_activity_barrio_id_barrio"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["comuna_code"],
            ["comuna.code"],
            name=op.f("fk_prevention_activity_comuna_code_comuna"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prevention_activity")),
        sa.UniqueConstraint(
            "comuna_code", "ref", name=op.f("uq_prevention_activity_comuna_code_ref")
        ),
    )
    op.create_index(
        op.f("ix_prevention_activity_barrio_id"), "prevention_activity", ["barrio_id"], unique=False
    )
    op.create_index(
        op.f("ix_prevention_activity_comuna_code"),
        "prevention_activity",
        ["comuna_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_prevention_activity_goal_code"), "prevention_activity", ["goal_code"], unique=False
    )
    op.create_table(
        "activity_attendance",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("sex", sa.Enum("mujeres", "hombres", name="attendance_sex"), nullable=False),
        sa.Column(
            "age_band",
            sa.Enum("0_13", "14_17", "18_29", "30_59", "60_mas", name="attendance_age_band"),
            nullable=False,
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_activity_attendance_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["prevention_activity.id"],
            name=op.f("fk_activity_attendance_activity_id_prevention_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "activity_id", "sex", "age_band", name=op.f("pk_activity_attendance")
        ),
    )
    op.create_table(
        "council_agreement_followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pendiente", "en_curso", "cumplido", "descartado", name="council_agreement_status"
            ),
            nullable=False,
        ),
        sa.Column(
            "recorded_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("recorded_by", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["council_agreement.id"],
            name=op.f("fk_council_agreement_followup_agreement_id_council_agreement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_session.id"],
            name=op.f("fk_council_agreement_followup_session_id_council_session"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_agreement_followup")),
    )
    op.create_index(
        op.f("ix_council_agreement_followup_agreement_id"),
        "council_agreement_followup",
        ["agreement_id"],
        unique=False,
    )
    for table in TIMESTAMPED:
        op.execute(
            f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_council_agreement_followup_agreement_id"), table_name="council_agreement_followup"
    )
    op.drop_table("council_agreement_followup")
    op.drop_table("activity_attendance")
    op.drop_index(op.f("ix_prevention_activity_goal_code"), table_name="prevention_activity")
    op.drop_index(op.f("ix_prevention_activity_comuna_code"), table_name="prevention_activity")
    op.drop_index(op.f("ix_prevention_activity_barrio_id"), table_name="prevention_activity")
    op.drop_table("prevention_activity")
    op.drop_table("council_attendance")
    op.drop_index(op.f("ix_council_agreement_session_id"), table_name="council_agreement")
    op.drop_index(op.f("ix_council_agreement_comuna_code"), table_name="council_agreement")
    op.drop_table("council_agreement")
    op.drop_index(op.f("ix_council_session_comuna_code"), table_name="council_session")
    op.drop_table("council_session")
    op.drop_table("council_member")
    for name in ENUMS:
        op.execute(f"DROP TYPE {name}")
