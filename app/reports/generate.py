"""One entry point for the CLI and the API: build, render and store a report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from app.audit import anchor as audit_anchor
from app.audit import trail as audit
from app.models import GeneratedReport, ReportFormat, ReportKind
from app.reports import render, store
from app.reports.bulletin import Bulletin, build_bulletin
from app.reports.period import Period, parse_month, parse_year, year_period, year_to_date
from app.territory.service import resolve_comuna

if TYPE_CHECKING:
    from app.reports.progress import Progress

Step = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def generate(
    session: Session,
    *,
    kind: ReportKind,
    period: str,
    fmt: ReportFormat,
    created_by: str,
    comuna: str | None = None,
    as_of: datetime | None = None,
    step: Step = _quiet,
    location: str = "body",
) -> GeneratedReport:
    """`period` is AAAA-MM for a bulletin or an SPD progress report (year to date through
    that month), AAAA for the annual report. `as_of` (default now) is the data cutoff.
    """
    now = datetime.now(UTC)
    as_of = as_of or now
    code = resolve_comuna(session, comuna).code
    step("consultando datos")
    if kind == ReportKind.BULLETIN:
        month = parse_month(period, now=now, field="period", location=location)
        bulletin = build_bulletin(session, code, month, as_of=as_of)
        _print_anchor(session, bulletin, now)
        html = render.bulletin_html(bulletin, step)
        key = month.key
    elif kind == ReportKind.SPD:
        month = parse_month(period, now=now, field="period", location=location)
        progress = _build_progress(session, kind, code, year_to_date(month), as_of=as_of)
        html = render.progress_html(progress, step)
        key = month.key
    else:
        year = parse_year(period, now=now, field="period", location=location)
        progress = _build_progress(session, kind, code, year_period(year), as_of=as_of)
        html = render.progress_html(progress, step)
        key = str(year)
    content = render.html_to_pdf(html, step) if fmt == ReportFormat.PDF else html.encode()
    step("guardando")
    return store.save(
        session,
        comuna=code,
        kind=kind,
        period=key,
        fmt=fmt,
        content=content,
        as_of=as_of,
        created_by=created_by,
    )


def _build_progress(
    session: Session, kind: ReportKind, code: str, period: Period, *, as_of: datetime
) -> Progress:
    # imported here: the plan behind the SPD and annual reports (pydantic, YAML, the API's
    # code types, FastAPI with them) is not needed by `vigia report bulletin`
    from app.reports.progress import build_progress  # noqa: PLC0415

    return build_progress(session, kind, code, period, as_of=as_of)


def _print_anchor(session: Session, bulletin: Bulletin, now: datetime) -> None:
    """A new anchor when this process holds the anchor key, else the newest stored one."""
    made, bulletin.audit_problem = audit.anchor_if_configured(session)
    anchor = made or audit_anchor.latest(session, until=now)
    bulletin.audit_anchor = anchor.line if anchor else None


def public_annual(
    session: Session,
    *,
    year: str,
    fmt: ReportFormat,
    comuna: str | None = None,
    as_of: datetime | None = None,
    step: Step = _quiet,
    location: str = "body",
) -> tuple[str, bytes]:
    """The public cuenta pública (file name and content). Not stored: generated_report
    keeps staff versions; this one is derived from the same data and cutoff, and anyone
    with `as_of` can render it again.
    """
    now = datetime.now(UTC)
    as_of = as_of or now
    code = resolve_comuna(session, comuna).code
    step("consultando datos")
    period = year_period(parse_year(year, now=now, field="year", location=location))
    # the privacy layer (scipy's LP solver) is imported only for the public version
    from app.privacy.public_report import build_public_progress  # noqa: PLC0415

    progress = build_public_progress(session, ReportKind.ANNUAL, code, period, as_of=as_of)
    html = render.progress_html(progress, step)
    content = render.html_to_pdf(html, step) if fmt == ReportFormat.PDF else html.encode()
    return f"cuenta-publica-{code}-{period.first.year}-publica.{fmt.value}", content
