"""Synthetic police-reported risk factors, so a demo shows the whole lifecycle.

The plan (where, which type, when received, how it moved) comes from `app.demo.factors`,
the same one the complaints were placed around. Here each planned report goes through the
same services as real ones (validation, placement, duplicate flags, timeline), backdated,
and through its transitions at their planned times. The keys that "submit" them are
created for the occasion and revoked at once, so they can never be used to log in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo.factors import PlannedFactor
from app.identity import api_keys
from app.identity.caller import Caller
from app.models import ReportStatus, RiskFactorReport, RiskFactorType, Role
from app.risk_factors import field_reports as reports
from app.risk_factors import transitions
from app.risk_factors.schemas import RiskFactorCreate, TransitionCreate
from app.risk_factors.submission import submit as submit_field_report
from app.settings import RiskFactorSettings


@dataclass
class DemoRiskReport:
    submitted: int = 0
    transitions: int = 0


def _demo_callers(session: Session) -> tuple[Caller, Caller]:
    callers = []
    for role, institution, name in (
        (Role.POLICE, "carabineros", "Datos de demostración (Carabineros)"),
        (Role.ADMIN, "municipalidad", "Datos de demostración (municipio)"),
    ):
        key, _ = api_keys.create_key(session, name=name, role=role, institution=institution)
        api_keys.revoke_key(session, key.prefix)
        callers.append(
            Caller(
                role=role,
                institution=institution,
                key_id=key.id,
                key_name=key.name,
                key_prefix=key.prefix,
            )
        )
    return callers[0], callers[1]


def demo_reports_exist(session: Session, comuna: str) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(RiskFactorReport)
            .where(
                RiskFactorReport.comuna_code == comuna,
                RiskFactorReport.officer_id.like("DEMO-%"),
            )
        )
    )


def submit_plan(session: Session, plan: list[PlannedFactor], *, seed: int) -> DemoRiskReport:
    """Submit the planned reports and replay their transitions at the planned times."""
    police, admin = _demo_callers(session)
    settings = RiskFactorSettings()
    result = DemoRiskReport()
    for factor in plan:
        data = RiskFactorCreate(
            type=factor.type,
            geometry=factor.geometry,
            severity=factor.severity,
            description=factor.note,
            observed_at=factor.observed_at,
            reporting_unit=factor.reporting_unit,
            officer_id=factor.officer_id,
        )
        submission = submit_field_report(
            session, police, data, idempotency_key=f"demo:{seed}:{factor.serial}",
            settings=settings, now=factor.received_at,
        )  # fmt: skip
        if submission.replayed:
            continue
        result.submitted += 1
        report_id = submission.body["id"]
        for status, at in factor.steps:
            report = session.get_one(RiskFactorReport, report_id)
            transitions.transition(
                session,
                report.id,
                admin,
                TransitionCreate(to=ReportStatus(status), note="Generado para demostración."),
                if_match=reports.etag(report.version),
                now=at,
            )
            result.transitions += 1
    session.flush()
    return result


def catalog_days(session: Session) -> dict[str, int]:
    """The catalog's deadline per type (they time the planned resolutions)."""
    rows = session.execute(select(RiskFactorType.code, RiskFactorType.expected_days))
    return {code: int(days) for code, days in rows}
