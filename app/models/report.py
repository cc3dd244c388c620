"""Generated reports (council bulletin, SPD progress report, annual report) and the plan
indicator values entered by hand (Plan Comunal, Ámbito I, Objetivo 2).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Enum,
    ForeignKey,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class ReportKind(enum.StrEnum):
    BULLETIN = "bulletin"  # boletín mensual del Consejo Comunal (interno)
    SPD = "spd"  # informe de avance a la Subsecretaría de Prevención del Delito
    ANNUAL = "annual"  # cuenta pública anual, versión interna


class ReportFormat(enum.StrEnum):
    HTML = "html"
    PDF = "pdf"


def _values(e: type[enum.StrEnum]) -> list[str]:
    return [m.value for m in e]


class GeneratedReport(Base):
    """One rendered file. Kept in the database (like photos): one backup, no orphan files.

    `data_as_of` is the cutoff on `received_at` used for the data: re-rendering with the same
    cutoff gives the same numbers; late-arriving records change a re-render without it.
    """

    __tablename__ = "generated_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(String(5), index=True)
    kind: Mapped[ReportKind] = mapped_column(
        Enum(ReportKind, name="report_kind", values_callable=_values)
    )
    period: Mapped[str] = mapped_column(String(7), comment="AAAA-MM o AAAA")
    format: Mapped[ReportFormat] = mapped_column(
        Enum(ReportFormat, name="report_format", values_callable=_values)
    )
    data_as_of: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class PlanIndicatorValue(Base):
    """A value entered by hand for an indicator Vigía cannot compute (e.g. council sessions)."""

    __tablename__ = "plan_indicator_value"
    __table_args__ = (UniqueConstraint("comuna_code", "indicator_code", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(String(5))
    indicator_code: Mapped[str] = mapped_column(String(40), comment="Código en el archivo del plan")
    period: Mapped[str] = mapped_column(String(7), comment="Año (AAAA)")
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    note: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ProjectEvaluation(Base):
    """A stored intervention evaluation (issue #18): cited like a ranking snapshot.

    `inputs` holds the count table and the parameters (enough to recompute the result with
    app/scoring/intervention_report.py), `input_fingerprint` their SHA-256, `result` the
    document the API returned, `method_version` the statistics' version.
    """

    __tablename__ = "project_evaluation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("intervention_project.id", ondelete="RESTRICT"), index=True
    )
    method_version: Mapped[str] = mapped_column(String(40))
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    data_as_of: Mapped[datetime]
    computed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    computed_by: Mapped[str] = mapped_column(String(200))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
