"""Police-reported urban risk factors, their lifecycle, projects and notification outbox.

Plan Comunal, Ámbito II Objetivo 1 (police detect conditions that facilitate crime and the
information reaches whoever can fix them) and Ámbito III Objetivo 7 (urban improvement
projects). Every row carries its comuna's CUT code.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import SRID, Base, TimestampMixin


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class Typology(enum.StrEnum):
    """SPD situational-prevention typologies (project kinds that resolve a factor)."""

    IL = "IL"  # iluminación
    REP = "REP"  # recuperación de espacios públicos
    AC = "AC"  # alarmas comunitarias
    EQUIP = "EQUIP"  # equipamiento
    CTV = "CTV"  # televigilancia


class ReportStatus(enum.StrEnum):
    REPORTADO = "reportado"
    VALIDADO = "validado"
    DERIVADO = "derivado"
    EN_GESTION = "en_gestion"
    RESUELTO = "resuelto"
    DESCARTADO = "descartado"
    DUPLICADO = "duplicado"


class ProjectStatus(enum.StrEnum):
    PLANIFICADO = "planificado"
    EN_EJECUCION = "en_ejecucion"
    TERMINADO = "terminado"
    CANCELADO = "cancelado"


class DeliveryStatus(enum.StrEnum):
    PENDIENTE = "pendiente"
    ENTREGADA = "entregada"
    AGOTADA = "agotada"  # gave up after max attempts; kept for inspection and manual retry


class RiskFactorType(TimestampMixin, Base):
    """Catalog entry. comuna_code NULL = national catalog; set = that comuna only."""

    __tablename__ = "risk_factor_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    comuna_code: Mapped[str | None] = mapped_column(String(5))
    label: Mapped[str] = mapped_column(String(200))
    typology: Mapped[Typology | None] = mapped_column(_enum(Typology, "typology"))
    default_unit: Mapped[str] = mapped_column(String(200))
    expected_days: Mapped[int]
    geometry_types: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    # {"poste_id": {"type": "string", "label": "...", "required": false, "max_length": 40}}
    attributes_schema: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default="{}"
    )
    # False for types that must not appear below comuna level in public (drug-related).
    public: Mapped[bool] = mapped_column(default=True, server_default="true")
    active: Mapped[bool] = mapped_column(default=True, server_default="true")


class RiskFactorReport(TimestampMixin, Base):
    __tablename__ = "risk_factor_report"
    __table_args__ = (
        CheckConstraint("severity BETWEEN 1 AND 5", name="severity_range"),
        CheckConstraint("char_length(address_string) <= 500", name="address_string_length"),
        Index("ix_risk_factor_report_comuna_code_status", "comuna_code", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    type_id: Mapped[int] = mapped_column(
        ForeignKey("risk_factor_type.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[ReportStatus] = mapped_column(
        _enum(ReportStatus, "report_status"), default=ReportStatus.REPORTADO
    )
    severity: Mapped[int] = mapped_column(SmallInteger)
    description: Mapped[str | None] = mapped_column(Text)
    # the address an Open311 client typed: free text, so staff only (never generalised out)
    address_string: Mapped[str | None] = mapped_column(
        Text, comment="Dirección escrita por quien informa (Open311); nunca pública"
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    geom: Mapped[WKBElement] = mapped_column(
        Geometry(geometry_type="GEOMETRY", srid=SRID, spatial_index=True)
    )
    observed_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    institution: Mapped[str] = mapped_column(String(100))
    reporting_unit: Mapped[str | None] = mapped_column(String(200))
    officer_id: Mapped[str | None] = mapped_column(String(60))
    reporter_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="SET NULL"), index=True
    )
    responsible_unit: Mapped[str | None] = mapped_column(String(200), index=True)
    barrio_id: Mapped[int | None] = mapped_column(
        ForeignKey("barrio.id", ondelete="RESTRICT"), index=True
    )
    micro_barrio_id: Mapped[int | None] = mapped_column(
        ForeignKey("micro_barrio.id", ondelete="RESTRICT")
    )
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("intervention_project.id", ondelete="SET NULL"), index=True
    )
    possible_duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(
            "risk_factor_report.id",
            ondelete="SET NULL",
            name="fk_risk_factor_report_possible_duplicate_of_id",
        )
    )
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("risk_factor_report.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class ReportTransition(Base):
    """One lifecycle step: who moved the report, when, from where to where, and why."""

    __tablename__ = "report_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(String(5))
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("risk_factor_report.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[ReportStatus | None] = mapped_column(_enum(ReportStatus, "report_status"))
    to_status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus, "report_status"))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id", ondelete="SET NULL"))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    actor_institution: Mapped[str | None] = mapped_column(String(100))
    actor_unit: Mapped[str | None] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    # e.g. {"responsible_unit": "...", "project_id": 3, "duplicate_of": "uuid"}
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class ReportPhoto(Base):
    """Photos live in the database: transactional with the report, one backup, no orphans."""

    __tablename__ = "report_photo"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    comuna_code: Mapped[str] = mapped_column(String(5))
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("risk_factor_report.id", ondelete="CASCADE"), index=True
    )
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


project_barrio = Table(
    "project_barrio",
    Base.metadata,
    Column(
        "project_id", ForeignKey("intervention_project.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("barrio_id", ForeignKey("barrio.id", ondelete="RESTRICT"), primary_key=True),
)


class InterventionProject(TimestampMixin, Base):
    """An urban improvement project (Ámbito III, Objetivo 7) that resolves risk factors."""

    __tablename__ = "intervention_project"

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(ForeignKey("comuna.code", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    typology: Mapped[Typology] = mapped_column(_enum(Typology, "typology"))
    status: Mapped[ProjectStatus] = mapped_column(
        _enum(ProjectStatus, "project_status"), default=ProjectStatus.PLANIFICADO
    )
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    budget_clp: Mapped[Decimal | None] = mapped_column(Numeric(14, 0))


class IdempotencyRecord(Base):
    """A field submission's key: the unique constraint makes concurrent retries collapse."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("key_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(String(5))
    key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("risk_factor_report.id", ondelete="CASCADE")
    )
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WebhookSubscription(TimestampMixin, Base):
    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    comuna_code: Mapped[str] = mapped_column(String(5))
    unit: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str] = mapped_column(String(500))
    # Needed in clear to sign each delivery (HMAC); shown once at creation.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="SET NULL")
    )


class WebhookDelivery(Base):
    """Outbox row: written in the same transaction as the change it announces."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    comuna_code: Mapped[str] = mapped_column(String(5))
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(40))
    report_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("risk_factor_report.id", ondelete="SET NULL")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDIENTE
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
