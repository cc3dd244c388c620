"""Prevention activities (Plan, Ámbito III): talks, workshops, campaigns, sports, the
constitution of juntas de vecinos. Attendance is kept only as counts by sex and age band:
there is no column where a participant's name could go (many participants are children).
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin


def _values(e: type[enum.StrEnum]) -> list[str]:
    return [m.value for m in e]


class ActivityStatus(enum.StrEnum):
    PROGRAMADA = "programada"
    REALIZADA = "realizada"
    SUSPENDIDA = "suspendida"


class Sex(enum.StrEnum):
    MUJERES = "mujeres"
    HOMBRES = "hombres"


class AgeBand(enum.StrEnum):
    """Bands that separate children (0-13), adolescents (14-17) and adults."""

    NINOS = "0_13"
    ADOLESCENTES = "14_17"
    JOVENES = "18_29"
    ADULTOS = "30_59"
    MAYORES = "60_mas"


class PreventionActivity(TimestampMixin, Base):
    __tablename__ = "prevention_activity"
    __table_args__ = (UniqueConstraint("comuna_code", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(
        ForeignKey("comuna.code", ondelete="RESTRICT"), index=True
    )
    ref: Mapped[str | None] = mapped_column(String(60), comment="Código del municipio")
    kind: Mapped[str] = mapped_column(String(40), comment="data/plan/activity_kinds.csv")
    goal_code: Mapped[str] = mapped_column(String(20), index=True, comment="Meta del plan")
    status: Mapped[ActivityStatus] = mapped_column(
        Enum(ActivityStatus, name="activity_status", values_callable=_values)
    )
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(200), comment="Establecimiento, sede o lugar")
    barrio_id: Mapped[int | None] = mapped_column(
        ForeignKey("barrio.id", ondelete="SET NULL"), index=True
    )
    target_group: Mapped[str] = mapped_column(String(40))
    responsible_institution: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(250))
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_type: Mapped[str | None] = mapped_column(String(100))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class ActivityAttendance(Base):
    """How many people of one sex and age band attended: a count, never a list."""

    __tablename__ = "activity_attendance"
    __table_args__ = (CheckConstraint("count >= 0", name="count_not_negative"),)

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("prevention_activity.id", ondelete="CASCADE"), primary_key=True
    )
    sex: Mapped[Sex] = mapped_column(
        Enum(Sex, name="attendance_sex", values_callable=_values), primary_key=True
    )
    age_band: Mapped[AgeBand] = mapped_column(
        Enum(AgeBand, name="attendance_age_band", values_callable=_values), primary_key=True
    )
    count: Mapped[int] = mapped_column(Integer)
