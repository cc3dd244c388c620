"""The public cuenta pública: the internal annual report through the privacy rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.models import ReportKind
from app.privacy.check import scan
from app.privacy.public_report import build_public_progress, public_data
from app.privacy.runner import rules_from_db
from app.reports import render
from app.reports.period import year_period
from app.reports.progress import build_progress
from tests.test_privacy import complaints  # noqa: F401  (fixture)

YEAR = year_period(2025)


@pytest.mark.usefixtures("complaints")
def test_public_version_suppresses_and_passes_the_scanner(db: Session) -> None:
    public = build_public_progress(db, ReportKind.ANNUAL, "14103", YEAR, as_of=datetime.now(UTC))

    assert public.audience == "público"
    assert public.units == []
    body = public_data(public)
    counts = [r["count"] for r in body["barrios"]]
    assert "<5" not in counts  # the 3 in March and the 12 in April add up to 15 in the year
    assert 15 in counts
    sensitive = [r for r in body["families"] if r["count"] == "<10"]
    assert sensitive  # the 4 sexual offences of the fixture, at comuna level
    assert scan("cuenta pública", body, rules_from_db(db)) == []

    html = render.progress_html(public)
    assert "versión pública" in html
    assert "&lt;10" in html
    assert "Factores de riesgo por unidad responsable" not in html
    assert "no publicar" not in html


@pytest.mark.usefixtures("complaints")
def test_the_internal_numbers_labelled_public_fail_the_scanner(db: Session) -> None:
    internal = build_progress(db, ReportKind.ANNUAL, "14103", YEAR, as_of=datetime.now(UTC))
    leaky = public_data(replace(internal, audience="público"))

    rules = {v.rule for v in scan("cuenta pública", leaky, rules_from_db(db))}

    assert "conteo pequeño sin suprimir" in rules


@pytest.mark.usefixtures("complaints")
def test_barrio_rows_leave_sensitive_categories_out(db: Session) -> None:
    internal = build_progress(db, ReportKind.ANNUAL, "14103", YEAR, as_of=datetime.now(UTC))
    public = build_public_progress(db, ReportKind.ANNUAL, "14103", YEAR, as_of=datetime.now(UTC))
    internal_sum = sum(int(r.current) for r in internal.barrios)
    public_numbers = [r.current for r in public.barrios if isinstance(r.current, int)]
    assert internal_sum == 19  # 15 general + 4 sensitive
    assert sum(public_numbers) == 15


def test_cli_writes_the_public_version(database_url: str, tmp_path: Path) -> None:
    from app.settings import get_database_settings

    runner = CliRunner(env={"VIGIA_DATABASE_URL": database_url, "COLUMNS": "200"})
    get_database_settings.cache_clear()
    try:
        made = runner.invoke(
            cli,
            ["report", "annual", "--year", "2025", "--public", "--format", "html"]
            + ["-o", str(tmp_path)],
        )
    finally:
        get_database_settings.cache_clear()
    assert made.exit_code == 0, made.output
    html = (tmp_path / "cuenta-publica-14103-2025-publica.html").read_text(encoding="utf-8")
    assert "Cuenta pública anual" in html
    assert "versión pública" in html
