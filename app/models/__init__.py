"""All ORM models: `from app.models import X` loads every one, so Alembic's autogenerate
(and anything else reading `Base.metadata`) sees one complete metadata.

Loaded on first use (PEP 562), not when the package is imported: a command that needs one
model imports its module (`app.models.api_key`) and skips the rest, whose geometry columns
pull in GeoAlchemy2, shapely and numpy (~0.3 s that `vigia apikey list` used to pay). The
models declare no relationships, so a subset of them maps and queries on its own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.models.activity import (
        ActivityAttendance,
        ActivityStatus,
        AgeBand,
        PreventionActivity,
        Sex,
    )
    from app.models.api_key import ApiKey, Role
    from app.models.audit import AuditAnchor, AuditEvent
    from app.models.base import Base
    from app.models.category import CrimeCategory, CrimeFamily
    from app.models.complaint import Complaint, ComplaintSource, LocationPrecision
    from app.models.complaint_cell import ComplaintCell, ComplaintCellState
    from app.models.context import ContextFeature, ContextLayerType
    from app.models.council import (
        Agreement,
        AgreementFollowUp,
        AgreementStatus,
        CouncilMember,
        CouncilSession,
        SessionAttendance,
        SessionKind,
    )
    from app.models.gazetteer import (
        ComplaintGeocode,
        GazetteerAddress,
        GazetteerIntersection,
        GazetteerPlace,
        GazetteerSegment,
        GazetteerStreet,
        GazetteerVersion,
        GeocodeStatus,
    )
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
        ProjectEvaluation,
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
    from app.models.risk_terrain import RiskTerrainCell, RiskTerrainSnapshot
    from app.models.territory import Barrio, CensusBlock, Comuna, MicroBarrio

__all__ = [
    "ActivityAttendance",
    "ActivityStatus",
    "AgeBand",
    "Agreement",
    "AgreementFollowUp",
    "AgreementStatus",
    "ApiKey",
    "AuditAnchor",
    "AuditEvent",
    "Barrio",
    "Base",
    "CensusBlock",
    "Complaint",
    "ComplaintCell",
    "ComplaintCellState",
    "ComplaintGeocode",
    "ComplaintSource",
    "Comuna",
    "ContextFeature",
    "ContextLayerType",
    "CouncilMember",
    "CouncilSession",
    "CrimeCategory",
    "CrimeFamily",
    "DeliveryStatus",
    "ExternalVariable",
    "GazetteerAddress",
    "GazetteerIntersection",
    "GazetteerPlace",
    "GazetteerSegment",
    "GazetteerStreet",
    "GazetteerVersion",
    "GeocodeStatus",
    "GeneratedReport",
    "IdempotencyRecord",
    "InterventionProject",
    "LocationPrecision",
    "MicroBarrio",
    "PlanIndicatorValue",
    "ProjectEvaluation",
    "PreventionActivity",
    "ProjectStatus",
    "RankingSnapshot",
    "RankingUnitResult",
    "RateLimitWindow",
    "ReportFormat",
    "ReportKind",
    "ReportPhoto",
    "ReportStatus",
    "ReportTransition",
    "RiskFactorReport",
    "RiskFactorType",
    "RiskTerrainCell",
    "RiskTerrainSnapshot",
    "Role",
    "ScoringProfileRow",
    "SessionAttendance",
    "SessionKind",
    "Sex",
    "Typology",
    "WebhookDelivery",
    "WebhookSubscription",
    "project_barrio",
]


_MODULES = (
    "activity",
    "api_key",
    "audit",
    "base",
    "category",
    "complaint",
    "complaint_cell",
    "context",
    "gazetteer",
    "council",
    "ranking",
    "rate_limit",
    "report",
    "risk_factor",
    "risk_terrain",
    "territory",
)


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for module_name in _MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        globals().update({n: v for n, v in vars(module).items() if n in __all__})
    return globals()[name]
