"""API shapes of the council registry: seats, sessions, agreements, follow-ups, indicators."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.api.params import CutCode
from app.models.council import AgreementStatus, SessionKind

Text200 = Field(min_length=1, max_length=200)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MemberUpdate(_In):
    representative: str = Field(
        min_length=1, max_length=200, description="Autoridad o funcionario que ocupa el asiento."
    )
    institution: str | None = Field(
        default=None, min_length=1, max_length=200, description="Por defecto, la del asiento."
    )
    comuna: CutCode | None = Field(default=None, description="Comuna (si hay varias cargadas).")


class SeatRead(BaseModel):
    seat: str = Field(description="Código del asiento (data/plan/council_seats.csv).")
    label: str
    institution: str
    representative: str | None = Field(description="Quién lo ocupa; null si no está designado.")


class AgreementCreate(_In):
    text: str = Field(min_length=3, max_length=2000, description="Qué se acordó.")
    responsible_institution: str = Field(min_length=1, max_length=200)
    due_on: date = Field(description="Plazo (AAAA-MM-DD).")


class SessionCreate(_In):
    comuna: CutCode | None = Field(default=None, description="Comuna (si hay varias cargadas).")
    held_on: date = Field(description="Fecha de la sesión (no futura).")
    kind: SessionKind = SessionKind.ORDINARIA
    present: list[str] = Field(
        default_factory=list, max_length=50, description="Asientos presentes (códigos)."
    )
    agreements: list[AgreementCreate] = Field(default_factory=list, max_length=50)


class FollowUpCreate(_In):
    note: str = Field(min_length=3, max_length=2000, description="Lo informado en la sesión.")
    status: AgreementStatus = Field(description="Estado en que queda el compromiso.")
    session_id: int | None = Field(
        default=None, ge=1, description="Sesión donde se revisó (opcional)."
    )
    completed_on: date | None = Field(
        default=None, description="Fecha de cumplimiento (solo con estado cumplido)."
    )


class FollowUpRead(BaseModel):
    session_id: int | None
    note: str
    status: AgreementStatus
    recorded_by: str


class AgreementRead(BaseModel):
    id: int
    session_id: int
    session_date: date
    text: str
    responsible_institution: str
    due_on: date
    status: AgreementStatus
    completed_on: date | None
    overdue: bool = Field(description="Abierto y con el plazo vencido (hora de Chile).")
    on_time: bool | None = Field(description="Cumplido dentro del plazo; null si no cumplido.")
    follow_ups: list[FollowUpRead]


class AttendanceRead(BaseModel):
    seat: str
    label: str
    institution: str
    present: bool


class MinutesRead(BaseModel):
    name: str
    media_type: str
    sha256: str


class SessionRead(BaseModel):
    id: int
    comuna: str
    held_on: date
    kind: SessionKind
    attendance: list[AttendanceRead]
    present_count: int
    seat_count: int
    quorum_needed: int
    quorum: bool = Field(description="Hubo quórum: mayoría absoluta de los asientos.")
    minutes: MinutesRead | None
    agreements: list[AgreementRead] = Field(description="Compromisos tomados en esta sesión.")


class AgendaRead(BaseModel):
    session_id: int
    held_on: date
    due: list[AgreementRead] = Field(
        description="Compromisos abiertos de sesiones anteriores, vencidos o que vencen antes "
        "de la próxima sesión (31 días)."
    )


class MonthCount(BaseModel):
    month: str = Field(description="AAAA-MM")
    sessions: int


class InstitutionAttendance(BaseModel):
    institution: str
    present: int
    possible: int
    share: float | None = Field(description="Porcentaje de asistencia.")


class CouncilIndicatorsRead(BaseModel):
    comuna: str
    period: str
    sessions: int
    ordinary: int
    extraordinary: int
    months: list[MonthCount]
    months_with_session: int
    months_elapsed: int
    attendance: list[InstitutionAttendance]
    agreements_due: int = Field(description="Compromisos con plazo en el período (no descartados).")
    agreements_on_time: int
    on_time_share: float | None
    overdue_now: int = Field(description="Compromisos abiertos con el plazo vencido hoy.")
