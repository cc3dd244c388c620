"""The Consejo Comunal de Seguridad Pública (Plan, Ámbito I): its members by seat, its
sessions with attendance and minutes, and the agreements (compromisos) each session makes
and later sessions follow up, as Carabineros' STOP sessions do.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin


def _values(e: type[enum.StrEnum]) -> list[str]:
    return [m.value for m in e]


class SessionKind(enum.StrEnum):
    ORDINARIA = "ordinaria"
    EXTRAORDINARIA = "extraordinaria"


class AgreementStatus(enum.StrEnum):
    PENDIENTE = "pendiente"
    EN_CURSO = "en_curso"
    CUMPLIDO = "cumplido"
    DESCARTADO = "descartado"  # the council dropped it (recorded in a follow-up)


class CouncilMember(TimestampMixin, Base):
    """Who holds a seat (data/plan/council_seats.csv) now: one row per comuna and seat."""

    __tablename__ = "council_member"
    __table_args__ = (UniqueConstraint("comuna_code", "seat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    seat: Mapped[str] = mapped_column(String(40), comment="Código del asiento (council_seats.csv)")
    institution: Mapped[str] = mapped_column(String(200))
    representative: Mapped[str] = mapped_column(String(200), comment="Autoridad o funcionario")


class CouncilSession(TimestampMixin, Base):
    __tablename__ = "council_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(
        ForeignKey("comuna.code", ondelete="RESTRICT"), index=True
    )
    held_on: Mapped[date]
    kind: Mapped[SessionKind] = mapped_column(
        Enum(SessionKind, name="council_session_kind", values_callable=_values)
    )
    recorded_by: Mapped[str] = mapped_column(String(250))
    minutes_name: Mapped[str | None] = mapped_column(String(200))
    minutes_type: Mapped[str | None] = mapped_column(String(100))
    minutes_sha256: Mapped[str | None] = mapped_column(String(64))
    minutes: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class SessionAttendance(Base):
    """One row per seat of the council at the session's date: present or absent."""

    __tablename__ = "council_attendance"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("council_session.id", ondelete="CASCADE"), primary_key=True
    )
    seat: Mapped[str] = mapped_column(String(40), primary_key=True)
    institution: Mapped[str] = mapped_column(String(200))
    present: Mapped[bool] = mapped_column(Boolean)


class Agreement(TimestampMixin, Base):
    """A compromiso: what was agreed, who answers for it, by when, and where it stands."""

    __tablename__ = "council_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(
        ForeignKey("comuna.code", ondelete="RESTRICT"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("council_session.id", ondelete="RESTRICT"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    responsible_institution: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date]
    status: Mapped[AgreementStatus] = mapped_column(
        Enum(AgreementStatus, name="council_agreement_status", values_callable=_values),
        default=AgreementStatus.PENDIENTE,
    )
    completed_on: Mapped[date | None]


class AgreementFollowUp(Base):
    """What a later session said about an agreement (and the status it left it in)."""

    __tablename__ = "council_agreement_followup"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("council_agreement.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("council_session.id", ondelete="RESTRICT")
    )
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[AgreementStatus] = mapped_column(
        Enum(AgreementStatus, name="council_agreement_status", values_callable=_values)
    )
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())
    recorded_by: Mapped[str] = mapped_column(String(250))
