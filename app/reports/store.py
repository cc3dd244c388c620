"""Generated report files: stored with their SHA-256 and data cutoff, listed, fetched."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from app.errors import NotFound
from app.models import GeneratedReport, ReportFormat, ReportKind

MEDIA_TYPES = {ReportFormat.HTML: "text/html; charset=utf-8", ReportFormat.PDF: "application/pdf"}


def save(
    session: Session,
    *,
    comuna: str,
    kind: ReportKind,
    period: str,
    fmt: ReportFormat,
    content: bytes,
    as_of: datetime,
    created_by: str,
) -> GeneratedReport:
    report = GeneratedReport(
        comuna_code=comuna,
        kind=kind,
        period=period,
        format=fmt,
        data_as_of=as_of,
        created_by=created_by,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(report)
    session.flush()
    return report


def list_reports(
    session: Session, *, comuna: str | None = None, kind: ReportKind | None = None, limit: int = 100
) -> list[GeneratedReport]:
    stmt = select(GeneratedReport).order_by(
        GeneratedReport.created_at.desc(), GeneratedReport.id.desc()
    )
    if comuna:
        stmt = stmt.where(GeneratedReport.comuna_code == comuna)
    if kind:
        stmt = stmt.where(GeneratedReport.kind == kind)
    return list(session.scalars(stmt.limit(limit)))


def get_report(session: Session, report_id: int, *, with_content: bool = False) -> GeneratedReport:
    options = [undefer(GeneratedReport.content)] if with_content else []
    report = session.get(GeneratedReport, report_id, options=options)
    if report is None:
        raise NotFound(f"No existe el informe {report_id}.", code="informe_no_encontrado")
    return report


def filename(report: GeneratedReport) -> str:
    names = {
        ReportKind.BULLETIN: "boletin",
        ReportKind.SPD: "avance-spd",
        ReportKind.ANNUAL: "cuenta-publica",
    }
    return f"{names[report.kind]}-{report.comuna_code}-{report.period}.{report.format.value}"
