"""`vigia privacy check`: call every keyless GET endpoint of the OpenAPI document and scan
it (`check_all`), then run the interval audit over every published table (`audit_all`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Float, Integer, Numeric, cast, func, select, union_all
from sqlalchemy.orm import Session

from app.models import (
    Barrio,
    Complaint,
    Comuna,
    CrimeCategory,
    MicroBarrio,
    ReportKind,
    RiskFactorReport,
)
from app.models.complaint import located
from app.privacy.check import Rules, Violation, scan
from app.privacy.linked_audit import AuditResult, Finding, Published, audit, csv_as_stats
from app.privacy.thresholds import PUBLIC_DECIMALS
from app.timezone import local_year

# Parameters the scan fills in to reach each variant of an endpoint.
EXAMPLE_VALUES: dict[str, list[str]] = {"level": ["comuna", "barrio"]}
# API definitions (/openapi.json, the OGC one at /ogc/api) describe, they publish no data
SKIPPED_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/ogc/api", "/health", "/static")


class Client(Protocol):
    def get(self, url: str, *, params: dict[str, str] | None = ...) -> Any: ...


@dataclass(frozen=True)
class Report:
    checked: list[str]
    violations: list[Violation]


def rules_from_db(session: Session, *, max_decimals: int = PUBLIC_DECIMALS) -> Rules:
    categories = session.execute(
        select(CrimeCategory.code, CrimeCategory.family_code).where(CrimeCategory.sensitive)
    ).all()
    all_sensitive = (
        select(CrimeCategory.family_code)
        .group_by(CrimeCategory.family_code)
        .having(func.bool_and(CrimeCategory.sensitive))
    )
    codes = frozenset(c for c, _ in categories) | frozenset(session.scalars(all_sensitive))
    points = union_all(
        select(func.ST_X(Complaint.geom).label("x"), func.ST_Y(Complaint.geom).label("y")).where(
            located()
        ),
        select(
            func.ST_X(func.ST_PointOnSurface(RiskFactorReport.geom)),
            func.ST_Y(func.ST_PointOnSurface(RiskFactorReport.geom)),
        ),
    ).subquery()
    rounded = select(
        func.round(cast(points.c.x, Numeric), max_decimals).cast(Float),
        func.round(cast(points.c.y, Numeric), max_decimals).cast(Float),
    )
    exact = frozenset((float(x), float(y)) for x, y in session.execute(rounded))
    names = frozenset(session.scalars(select(Barrio.name).union(select(MicroBarrio.name))))
    return Rules(
        max_decimals=max_decimals, sensitive_codes=codes, exact_points=exact, unit_names=names
    )


def public_requests(openapi: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """GET operations without path parameters, once per example value of enum parameters."""
    found: list[tuple[str, dict[str, str]]] = []
    for declared, operations in openapi.get("paths", {}).items():
        path = declared.replace(".{fmt}", ".json")  # Open311's format: its JSON is scanned
        get = operations.get("get")
        if get is None or "{" in path or path.startswith(SKIPPED_PREFIXES):
            continue
        variants: list[dict[str, str]] = [{}]
        for param in get.get("parameters", []):
            values = EXAMPLE_VALUES.get(param["name"])
            if values and param.get("in") == "query":
                variants = [{**v, param["name"]: value} for v in variants for value in values]
        found.extend((path, v) for v in variants)
    return found


def check_all(client: Client, rules: Rules) -> Report:
    openapi = client.get("/openapi.json").json()
    checked: list[str] = []
    violations: list[Violation] = []
    for path, params in public_requests(openapi):
        response = client.get(path, params=params or None)
        if response.status_code in (401, 403) or response.status_code >= 400:
            continue  # not public, or nothing to show without parameters
        content_type = response.headers.get("content-type", "")
        if "json" not in content_type:
            continue
        label = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        checked.append(label)
        violations.extend(scan(label, response.json(), rules))
    return Report(checked, violations)


STATS_PATH = "/api/v1/public/stats"
CSV_PATH = "/estadisticas.csv"


def published_years(session: Session) -> list[int]:
    """Years (Chile's calendar) with at least one complaint: the ones worth auditing."""
    year = cast(local_year(Complaint.occurred_at), Integer)
    return [int(y) for y in session.scalars(select(year).distinct().order_by(year))]


def audit_all(client: Client, session: Session, years: list[int]) -> AuditResult:
    """The interval audit over the live outputs: for each comuna and year, the statistics at
    both levels for all families and each family, the page's CSV and the cuenta pública
    (built from the database, as `vigia report annual --public` writes it).
    """
    from app.privacy import public_stats
    from app.privacy.public_report import build_public_progress, public_data
    from app.reports.period import year_period

    families, _ = public_stats.catalog_families(session)
    audited = 0
    findings: list[Finding] = []
    for place in session.scalars(select(Comuna).order_by(Comuna.code)):
        seen = Published()
        layouts = {
            y: public_stats.published_year(session, place, y).layout
            for y in sorted({*years, *(y - 1 for y in years)})
        }
        for year in years:
            for level in ("comuna", "barrio"):
                for family in (None, *families):
                    params = {"year": str(year), "level": level, "comuna": place.code}
                    if family is not None:
                        params["family"] = family
                    response = client.get(STATS_PATH, params=params)
                    if response.status_code == 200:
                        seen.add_stats(response.json(), f"{STATS_PATH}?{_query(params)}")
                params = {"year": str(year), "level": level, "comuna": place.code}
                response = client.get(CSV_PATH, params=params)
                if response.status_code == 200:
                    body = csv_as_stats(response.text, level=level, year=year, family=None)
                    seen.add_stats(body, f"{CSV_PATH}?{_query(params)}")
            report = build_public_progress(
                session, ReportKind.ANNUAL, place.code, year_period(year), as_of=datetime.now(UTC)
            )
            where = f"cuenta pública {place.code} {year}"
            seen.add_report(public_data(report), layouts[year], layouts[year - 1], where)
        result = audit(seen, layouts.values())
        audited += result.audited
        findings += result.findings
    return AuditResult(audited, findings)


def scan_reports(session: Session, rules: Rules, years: list[int]) -> Report:
    """The scanner over the public cuenta pública of each comuna and year, as
    `vigia report annual --public` builds it (its council and activity sections included)."""
    from app.privacy.public_report import build_public_progress, public_data
    from app.reports.period import year_period

    checked: list[str] = []
    violations: list[Violation] = []
    for place in session.scalars(select(Comuna).order_by(Comuna.code)):
        for year in years:
            report = build_public_progress(
                session, ReportKind.ANNUAL, place.code, year_period(year), as_of=datetime.now(UTC)
            )
            where = f"cuenta pública {place.code} {year}"
            checked.append(where)
            violations.extend(scan(where, public_data(report), rules))
    return Report(checked, violations)


def _query(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())
