"""API shapes of prevention activities. The same `ActivityCreate` validates a JSON body and
each row of an imported spreadsheet, so both follow one set of rules.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, create_model

from app.activities.catalog import ATTENDANCE_COLUMNS
from app.api.params import CutCode
from app.models.activity import ActivityStatus

# Every attendance column: a whole number >= 0 (a count, never a list of people).
_COUNTS = {
    name: (int, Field(default=0, ge=0, le=100_000, description=f"Asistentes {name}."))
    for name in ATTENDANCE_COLUMNS
}
AttendanceFields = create_model(  # type: ignore[call-overload]
    "AttendanceFields",
    __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
    **_COUNTS,
)


class ActivityCreate(AttendanceFields):
    """An activity; unknown fields are refused (there is no field for participants' names)."""

    ref: str | None = Field(
        default=None, min_length=1, max_length=60, description="Código del municipio (único)."
    )
    held_on: date = Field(description="Fecha (AAAA-MM-DD); una realizada no puede ser futura.")
    kind: str = Field(min_length=1, max_length=40, description="Tipo (GET /activities/kinds).")
    goal: str | None = Field(
        default=None, max_length=20, description="Meta del plan; por defecto, la del tipo."
    )
    status: ActivityStatus = ActivityStatus.REALIZADA
    place: str = Field(min_length=1, max_length=200, description="Establecimiento o lugar.")
    barrio: str | None = Field(default=None, max_length=40, description="Código del barrio.")
    target_group: str = Field(min_length=1, max_length=40, description="Grupo objetivo.")
    institution: str = Field(min_length=1, max_length=200, description="Institución responsable.")


class ActivityBody(ActivityCreate):
    comuna: CutCode | None = Field(default=None, description="Comuna (si hay varias cargadas).")


class ActivityKindRead(BaseModel):
    code: str
    label: str
    goal: str


class ActivityRead(BaseModel):
    id: int
    comuna: str
    ref: str | None
    held_on: date
    kind: str
    kind_label: str
    goal: str
    status: ActivityStatus
    place: str
    barrio: str | None
    target_group: str
    institution: str
    attendance: dict[str, int] = Field(description="Asistentes por columna sexo_tramo.")
    attendance_total: int
    evidence_sha256: str | None


class GoalActivities(BaseModel):
    goal: str
    planned: int = Field(description="Actividades programadas o realizadas en el período.")
    done: int
    done_share: float | None
    attendance: int
    attendance_minors: int = Field(description="Asistentes de 0 a 17 años.")


class ActivityIndicatorsRead(BaseModel):
    comuna: str
    period: str
    goals: list[GoalActivities]
    attendance_by_column: dict[str, int]
    critical_barrios: list[str] = Field(description="Barrios críticos del último ranking.")
    critical_reached: list[str] = Field(description="De ellos, los con actividad realizada.")
    critical_coverage: float | None
