"""The executive secretary's pages in Debian's chromium (Playwright): record a council session
with two agreements, import an activity spreadsheet, see the plan's dashboard; the SPD report
generated afterwards shows them (pypdf), and a page of it is rendered to PNG for the docs.

The live server only sees committed data: the fixture commits an admin key, and everything
the test creates is deleted afterwards.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import ApiKey, AuditEvent, GeneratedReport, Role
from app.models.activity import PreventionActivity
from app.models.council import Agreement, AgreementFollowUp, CouncilSession
from app.timezone import chile_today
from app.web.plan_pages import PAGES
from tests.browser import launch_chromium
from tests.factories.activities import activity_row, xlsx_bytes

FIRST = "Reponer luminarias del pasaje Los Aromos"
SECOND = "Ronda preventiva nocturna en la plaza de Malalhue"
PLACE = "Escuela Rural Los Castaños (prueba navegador)"


def test_the_pages_are_served_with_their_own_files(client: TestClient) -> None:
    for path, name in PAGES.items():
        response = client.get(path)
        assert response.status_code == 200
        assert '<html lang="es">' in response.text
        assert f"/static/{name.replace('.html', '.js')}" in response.text
        assert "/static/plan-comun.js" in response.text
        assert "<script>" not in response.text  # no inline script: the CSP stays strict
    assert "vigia.clave" in client.get("/static/plan-comun.js").text  # the map's key


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture(scope="module")
def secretary(engine: Engine, live_server: str) -> Iterator[str]:
    """A committed admin key (the executive secretary); afterwards, everything removed."""
    with Session(engine) as session:
        key, secret = api_keys.create_key(
            session,
            name="Secretaría ejecutiva (prueba)",
            role=Role.ADMIN,
            institution="municipalidad",
        )
        session.commit()
        key_id = key.id
    yield secret
    with Session(engine) as session:
        session.execute(delete(AgreementFollowUp))
        session.execute(delete(Agreement))
        session.execute(delete(CouncilSession))
        session.execute(delete(PreventionActivity))
        session.execute(delete(GeneratedReport))
        session.execute(delete(ApiKey).where(ApiKey.id == key_id))
        session.commit()
    assert AuditEvent  # the audit trail is append-only: its events stay


def _keep(source: Path, name: str) -> None:
    keep = os.environ.get("VIGIA_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(source, Path(keep) / name)


def _new_page(chromium: Any, width: int) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="es-CL")
    page = context.new_page()
    page.set_default_timeout(20_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    return context, page, console


def _enter(page: Any, secret: str) -> None:
    page.fill("#clave", secret)
    page.click("#form-clave button[type=submit]")
    page.wait_for_selector("#estado-acceso.ok")


def test_secretary_records_a_session_imports_activities_and_the_spd_report_shows_them(
    chromium: Any, live_server: str, secretary: str, tmp_path: Path
) -> None:
    today = chile_today()
    context, page, console = _new_page(chromium, 1280)
    page.goto(live_server + "/consejo")
    _enter(page, secretary)
    page.wait_for_selector("#asientos input")
    page.select_option("#asiento", "senda")
    page.fill("#representante", "Coordinadora SENDA Previene Lanco")
    page.click("#form-integrante button[type=submit]")
    page.wait_for_selector("#resultado-integrante.ok")
    page.wait_for_selector("text=SENDA (Coordinadora SENDA Previene Lanco)")
    seats = page.locator("#asientos input")
    assert seats.count() == 14
    for i in range(9):
        seats.nth(i).check()
    assert "hay quórum" in page.inner_text("#quorum")
    for text, who, days in ((FIRST, "Alumbrado público", 30), (SECOND, "Carabineros", 45)):
        page.click("#agregar-compromiso")
        row = page.locator("#compromisos .compromiso").last
        row.locator('[name="texto"]').fill(text)
        row.locator('[name="responsable"]').fill(who)
        row.locator('[name="plazo"]').fill((today + timedelta(days=days)).isoformat())
    page.click("#guardar-sesion")
    page.wait_for_selector("#resultado-sesion.ok")
    assert "2 compromiso(s)" in page.inner_text("#resultado-sesion")
    page.wait_for_selector(f"text={FIRST}")
    minutes = tmp_path / "acta.pdf"
    minutes.write_bytes(b"%PDF-1.4\n% acta firmada\n")
    page.set_input_files("#tabla-sesiones input[type=file]", str(minutes))
    page.wait_for_selector("text=acta.pdf (guardada)")
    page.click("#tabla-sesiones button")  # the session's agenda: nothing earlier is open
    page.wait_for_selector("#tabla-sesion li")
    assert "Sin compromisos anteriores" in page.inner_text("#tabla-sesion")
    shot = tmp_path / "consejo.png"
    page.screenshot(path=str(shot), full_page=True)
    _keep(shot, "consejo.png")

    sheet = tmp_path / "actividades.xlsx"
    sheet.write_bytes(
        xlsx_bytes(
            [
                activity_row(ref="NAV-1", held_on=today.isoformat(), place=PLACE),
                activity_row(
                    ref="NAV-2",
                    held_on=today.isoformat(),
                    kind="taller_jefas_hogar",
                    place="Sede Villa Esperanza",
                    barrio="B01001",
                    target_group="jefas_hogar",
                    mujeres_0_13=0,
                    hombres_0_13=0,
                    mujeres_30_59=18,
                ),
            ]
        )
    )
    page.goto(live_server + "/actividades")
    page.wait_for_selector("#importar:not([hidden])")
    page.set_input_files("#planilla", str(sheet))
    page.click("#importar-boton")
    page.wait_for_selector("#resultado-importar.ok")
    assert "2 actividad(es) importada(s)" in page.inner_text("#resultado-importar")
    page.wait_for_selector(f"text={PLACE}")
    page.set_input_files("#tabla-actividades input[type=file] >> nth=0", str(minutes))
    page.wait_for_selector("#resultado-evidencia.ok")

    page.goto(live_server + "/plan")
    page.wait_for_selector("#tabla-plan tr")
    assert page.locator("#tabla-plan tr.objetivo").count() == 13
    shot = tmp_path / "plan.png"
    page.screenshot(path=str(shot), full_page=True)
    _keep(shot, "plan.png")
    context.close()
    assert [t for t in console if "Content Security Policy" in t] == []

    headers = {"Authorization": f"Bearer {secretary}"}
    made = httpx.post(
        live_server + "/api/v1/reports",
        json={"kind": "spd", "month": f"{today.year:04d}-{today.month:02d}", "format": "pdf"},
        headers=headers,
        timeout=300,
    )
    assert made.status_code == 201, made.text
    pdf = httpx.get(live_server + made.json()["download"], headers=headers, timeout=60).content
    pages = PdfReader(io.BytesIO(pdf)).pages
    texts = [" ".join((p.extract_text() or "").split()) for p in pages]
    council_page = next(
        i for i, t in enumerate(texts) if "Consejo Comunal de Seguridad Pública" in t and FIRST in t
    )
    joined = " ".join(texts)
    for expected in (FIRST, SECOND, "9 de 14", PLACE, "Sede Villa Esperanza"):
        assert expected in joined, expected
    _render_page(pdf, council_page, tmp_path / "informe-spd-consejo.png")


def _render_page(pdf: bytes, index: int, target: Path) -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    document[index].render(scale=1.6).to_pil().save(target)
    document.close()
    _keep(target, target.name)


@pytest.mark.parametrize("path", ["/consejo", "/plan"])
def test_the_pages_fit_a_phone(
    chromium: Any, live_server: str, secretary: str, tmp_path: Path, path: str
) -> None:
    context, page, console = _new_page(chromium, 390)
    page.goto(live_server + path)
    _enter(page, secretary)
    page.wait_for_selector("table tbody tr, #asientos input")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390 + 1, width  # no sideways scrolling of the page itself
    shot = tmp_path / f"{path.strip('/')}-390.png"
    page.screenshot(path=str(shot), full_page=True)
    _keep(shot, shot.name)
    context.close()
    assert [t for t in console if "Content Security Policy" in t] == []
