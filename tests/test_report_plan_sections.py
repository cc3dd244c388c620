"""The SPD progress report and the cuenta pública take Ámbito I and III from the council and
activity records (issue #21): the PDF shows them, the public version keeps the figures and
loses the text, places and barrios, and passes the privacy scanner, which the internal
version would not."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.models import ReportFormat, ReportKind
from app.privacy.check import scan
from app.privacy.public_report import build_public_progress, public_data
from app.privacy.runner import rules_from_db, scan_reports
from app.reports import render
from app.reports.generate import generate
from app.reports.period import year_period
from app.reports.progress import build_progress
from tests.factories.activities import activity_row

AS_OF = datetime(2025, 12, 31, 12, tzinfo=UTC)
AGREEMENT = "Reponer luminarias en calle Baquedano"


def _records(client: TestClient, keys: Any) -> None:
    body = {
        "held_on": "2025-05-12",
        "present": [
            "presidente",
            "secretario_ejecutivo",
            "carabineros",
            "pdi",
            "fiscalia",
            "senda",
            "sename",
            "gendarmeria",
            "cosoc_1",
        ],
        "agreements": [
            {
                "text": AGREEMENT,
                "responsible_institution": "Alumbrado público",
                "due_on": "2025-06-30",
            },
            {
                "text": "Patrullaje preventivo en la plaza",
                "responsible_institution": "Carabineros",
                "due_on": "2025-07-31",
            },
        ],
    }
    assert (
        client.post("/api/v1/council/sessions", json=body, headers=keys.h("admin")).status_code
        == 201
    )
    for row in (
        activity_row(ref="R1"),
        activity_row(
            ref="R2",
            kind="taller_jefas_hogar",
            place="Sede Los Castaños",
            barrio="B01001",
            target_group="jefas_hogar",
            mujeres_0_13=0,
            hombres_0_13=0,
            mujeres_30_59=3,
        ),
    ):
        assert (
            client.post("/api/v1/activities", json=row, headers=keys.h("admin")).status_code == 201
        )


def test_the_spd_pdf_shows_the_session_agreements_and_activities(
    client: TestClient, keys: Any, db: Session
) -> None:
    _records(client, keys)
    stored = generate(
        db,
        kind=ReportKind.SPD,
        period="2025-12",
        fmt=ReportFormat.PDF,
        created_by="pruebas",
        as_of=AS_OF,
    )
    text = " ".join(
        (page.extract_text() or "") for page in PdfReader(io.BytesIO(stored.content)).pages
    )
    flat = " ".join(text.split())
    assert "Consejo Comunal de Seguridad Pública" in flat
    assert "12-05-2025" in flat
    assert "9 de 14" in flat
    assert AGREEMENT in flat
    assert "Patrullaje preventivo en la plaza" in flat
    assert "Actividades de prevención" in flat
    assert "Escuela Rural Malalhue" in flat
    assert "III.2.M3" in flat


def test_the_public_cuenta_publica_keeps_figures_drops_text_and_passes_the_scanner(
    client: TestClient, keys: Any, db: Session
) -> None:
    _records(client, keys)
    internal = build_progress(db, ReportKind.ANNUAL, "14103", year_period(2025), as_of=AS_OF)
    public = build_public_progress(db, ReportKind.ANNUAL, "14103", year_period(2025), as_of=AS_OF)
    rules = rules_from_db(db)

    assert public.council is not None
    assert public.activities is not None
    assert len(public.council.sessions) == 1
    assert public.council.agreements == []
    assert public.activities.activities == []
    taller = next(g for g in public.activities.goals if g.code == "III.2.M3")
    assert taller.attendance == "<5"  # 3 women: a small count, suppressed
    assert next(g for g in public.activities.goals if g.code == "III.1.M1").attendance == 24

    assert scan("cuenta pública", public_data(public), rules) == []
    leaks = {v.rule for v in scan("cuenta pública interna", public_data(internal), rules)}
    assert "texto libre" in leaks  # the scanner would catch the agreements and the places
    assert "conteo pequeño sin suprimir" in leaks

    html = render.progress_html(public)
    assert AGREEMENT not in html
    assert "Escuela Rural Malalhue" not in html
    assert "&lt;5" in html
    assert scan_reports(db, rules, [2025]).violations == []
