"""All ORM models, imported here so Alembic's autogenerate sees one metadata."""

from app.models.api_key import ApiKey, Role
from app.models.audit import AuditAnchor, AuditEvent
from app.models.base import Base
from app.models.category import CrimeCategory, CrimeFamily
from app.models.complaint import Complaint, ComplaintSource, LocationPrecision
from app.models.complaint_cell import ComplaintCell, ComplaintCellState
from app.models.ranking import (
    ExternalVariable,
    RankingSnapshot,
    RankingUnitResult,
    ScoringProfileRow,
)
from app.models.rate_limit import RateLimitWindow
from app.models.report import (
    GeneratedReport,
    PlanIndicatorValue,
    ReportFormat,
    ReportKind,
)
from app.models.risk_factor import (
    DeliveryStatus,
    IdempotencyRecord,
    InterventionProject,
    ProjectStatus,
    ReportPhoto,
    ReportStatus,
    ReportTransition,
    RiskFactorReport,
    RiskFactorType,
    Typology,
    WebhookDelivery,
    WebhookSubscription,
    project_barrio,
)
from app.models.territory import Barrio, Comuna, MicroBarrio

__all__ = [
    "ApiKey",
    "AuditAnchor",
    "AuditEvent",
    "Barrio",
    "Base",
    "Comuna",
    "Complaint",
    "ComplaintCell",
    "ComplaintCellState",
    "ComplaintSource",
    "CrimeCategory",
    "CrimeFamily",
    "DeliveryStatus",
    "ExternalVariable",
    "GeneratedReport",
    "IdempotencyRecord",
    "InterventionProject",
    "LocationPrecision",
    "MicroBarrio",
    "PlanIndicatorValue",
    "ProjectStatus",
    "RankingSnapshot",
    "RateLimitWindow",
    "RankingUnitResult",
    "ReportFormat",
    "ReportKind",
    "ReportPhoto",
    "ReportStatus",
    "ReportTransition",
    "RiskFactorReport",
    "RiskFactorType",
    "Role",
    "ScoringProfileRow",
    "Typology",
    "WebhookDelivery",
    "WebhookSubscription",
    "project_barrio",
]
