"""The work pages in a browser: the municipal inbox (/bandeja), a unit's queue (/unidad) and the
projects (/proyectos), driven through Debian's chromium against `live_server`, each step
checked in the database, each page checked with axe-core.

The live server sees committed data only: the module's fixture commits keys and reports
through the API and deletes them (and the projects the tests create) afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.models import (
    ApiKey,
    InterventionProject,
    ReportPhoto,
    ReportStatus,
    ReportTransition,
    RiskFactorReport,
    Role,
)
from app.web import work_pages
from tests.browser import axe_violations, launch_chromium
from tests.factories.images import make_png
from tests.factories.risk import (
    FAR_IN_TOWN,
    LANCO_TOWN,
    NEAR_TOWN,
    make_point,
    make_report_body,
)

PAGES = tuple(work_pages.PAGES)
PROJECT_PREFIX = "Prueba web "
CONFLICT = "otra persona cambió este informe; recargue"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


# --- serving the pages ---------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_served_in_spanish_under_the_strict_policy(
    client: TestClient, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="es">' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text  # no inline script: the CSP would block it
    assert '<meta name="viewport"' in response.text


def test_nothing_on_the_work_pages_comes_from_another_host() -> None:
    remote = re.compile(r"""(src|href)\s*=\s*["'](https?:)?//|url\(\s*["']?(https?:)?//|@import""")
    files = sorted(work_pages.WORK_DIR.iterdir())
    assert {f.suffix for f in files} >= {".html", ".js", ".css"}
    for path in files:
        assert not remote.search(path.read_text(encoding="utf-8")), path.name
    for page in work_pages.PAGES.values():
        html = (work_pages.WORK_DIR / page).read_text(encoding="utf-8")
        assert "/static/trabajo/trabajo.css" in html
        assert re.search(r'<script type="module" src="/static/trabajo/\w+\.js">', html)


# --- headless Chromium ---------------------------------------------------------------------


@dataclass
class WorkData:
    admin: str
    unit: str
    police: str
    unit_name: str


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture(scope="module")
def work(engine: Engine, live_server: str) -> Iterator[WorkData]:
    """Committed keys (municipal security, the lighting unit, a police officer); the reports
    each test submits and the projects it creates are deleted at the end."""
    unit_name = "Alumbrado público"  # luminaria_apagada's default unit
    with Session(engine) as session:
        made = [
            api_keys.create_key(
                session,
                name="Seguridad municipal (prueba web)",
                role=Role.ADMIN,
                institution="municipalidad",
            ),
            api_keys.create_key(
                session,
                name="Cuadrilla de alumbrado (prueba web)",
                role=Role.UNIT,
                institution="municipalidad",
                unit=unit_name,
            ),
            api_keys.create_key(
                session, name="Carabinero (prueba web)", role=Role.POLICE, institution="carabineros"
            ),
        ]
        session.commit()
        key_ids = [key.id for key, _ in made]
    (_, admin), (_, unit), (_, police) = made
    try:
        yield WorkData(admin=admin, unit=unit, police=police, unit_name=unit_name)
    finally:
        with Session(engine) as session:
            session.execute(
                delete(RiskFactorReport).where(RiskFactorReport.reporter_key_id.in_(key_ids))
            )
            session.execute(
                delete(InterventionProject).where(
                    InterventionProject.name.startswith(PROJECT_PREFIX)
                )
            )
            session.execute(delete(ApiKey).where(ApiKey.id.in_(key_ids)))
            session.commit()


def _submit(
    live_server: str, work: WorkData, lon_lat: tuple[float, float] = LANCO_TOWN, **body: Any
) -> str:
    created = httpx.post(
        live_server + "/api/v1/risk-factors",
        json=make_report_body(geometry=make_point(*lon_lat), **body),
        headers={"Authorization": f"Bearer {work.police}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _route(live_server: str, work: WorkData, report_id: str) -> None:
    """Validate and route a report as municipal security would, through the API."""
    url = f"{live_server}/api/v1/risk-factors/{report_id}"
    auth = {"Authorization": f"Bearer {work.admin}"}
    for step in ("validado", "derivado"):
        etag = httpx.get(url, headers=auth).headers["etag"]
        moved = httpx.post(
            url + "/transitions", json={"to": step}, headers={**auth, "If-Match": etag}
        )
        assert moved.status_code == 200, moved.text


@pytest.fixture
def context(chromium: Any) -> Iterator[Any]:
    """A browser profile (its tabs share the key in sessionStorage only if opened from it);
    any inline script, style or foreign load the strict CSP blocked fails the test."""
    ctx = chromium.new_context(viewport=PHONE, locale="es-CL")
    ctx.set_default_timeout(20_000)
    console: list[str] = []
    errors: list[str] = []
    ctx.on("console", lambda message: console.append(message.text))
    ctx.on("weberror", lambda error: errors.append(str(error.error)))
    yield ctx
    ctx.close()
    blocked = [text for text in console if "Content Security Policy" in text]
    assert blocked == [], blocked
    assert errors == []  # no script error on any page


def _open(context: Any, url: str, key: str) -> Any:
    page = context.new_page()
    page.goto(url)
    page.evaluate("key => sessionStorage.setItem('vigia.clave', key)", key)
    page.reload()
    _ready(page)
    return page


def _ready(page: Any) -> None:
    # a selector, not wait_for_function with an expression: the page's CSP forbids eval
    page.wait_for_selector("body[data-estado='listo']", state="attached")


def _open_report(page: Any, report_id: str) -> Any:
    page.click(f"#informes button[data-id='{report_id}']")
    page.wait_for_selector(f"#detalle-contenido[data-id='{report_id}']")
    _ready(page)
    return page.locator("#detalle-contenido")


def _act(page: Any, summary: str, button: str) -> None:
    """Open the action's form (if closed) and submit it."""
    action = page.locator("details.accion", has=page.locator(f"summary:text-is('{summary}')"))
    if action.get_attribute("open") is None:
        action.locator("summary").click()
    action.get_by_role("button", name=button, exact=True).click()


def _wait_status(page: Any, status: str) -> None:
    page.wait_for_selector(f"#detalle-contenido[data-estado='{status}']")
    _ready(page)


def _report(engine: Engine, report_id: str) -> RiskFactorReport:
    with Session(engine) as session:
        report = session.get_one(RiskFactorReport, uuid.UUID(report_id))
        session.expunge(report)
        return report


def _steps(engine: Engine, report_id: str) -> list[tuple[str, str | None, str | None]]:
    with Session(engine) as session:
        rows = session.execute(
            select(ReportTransition.to_status, ReportTransition.actor_role, ReportTransition.note)
            .where(ReportTransition.report_id == uuid.UUID(report_id))
            .order_by(ReportTransition.at, ReportTransition.id)
        ).all()
    return [(s.value, role, note) for s, role, note in rows]


def _photos(engine: Engine, report_id: str) -> int:
    with Session(engine) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(ReportPhoto)
                .where(ReportPhoto.report_id == uuid.UUID(report_id))
            )
            or 0
        )


def _screenshot(page: Any, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 5_000
    keep = os.environ.get("VIGIA_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / name)


def _accessible(page: Any) -> None:
    assert axe_violations(page) == []


def test_the_inbox_validates_and_routes_and_the_unit_takes_and_resolves_with_a_photo(
    context: Any, live_server: str, work: WorkData, engine: Engine, tmp_path: Path
) -> None:
    rid = _submit(live_server, work)

    # municipal security, on a phone: validate, then route to the type's unit
    inbox = _open(context, live_server + "/bandeja", work.admin)
    detail = _open_report(inbox, rid)
    assert "Luminaria" in inbox.locator("#titulo-detalle").inner_text()
    assert inbox.locator(".mapa-informe .leaflet-interactive").count() >= 1  # the report drawn
    _accessible(inbox)
    _screenshot(inbox, tmp_path, "bandeja-movil.png")
    _act(inbox, "Validar", "Validar")
    _wait_status(inbox, "validado")
    assert _report(engine, rid).status == ReportStatus.VALIDADO
    unit_field = inbox.get_by_label("Unidad responsable")
    assert unit_field.input_value() == work.unit_name  # the type's default, offered
    _act(inbox, "Derivar a una unidad", "Derivar")
    _wait_status(inbox, "derivado")
    routed = _report(engine, rid)
    assert (routed.status, routed.responsible_unit) == (ReportStatus.DERIVADO, work.unit_name)
    assert "Derivado a " + work.unit_name in detail.locator("#mensaje-accion").inner_text()

    # the lighting crew: its queue has it; take it, then resolve it with a note and a photo
    queue = _open(context, live_server + "/unidad", work.unit)
    assert queue.locator(f"#informes button[data-id='{rid}']").count() == 1
    _open_report(queue, rid)
    _accessible(queue)
    _act(queue, "Tomar el informe", "Tomar (en gestión)")
    _wait_status(queue, "en_gestion")
    assert _report(engine, rid).status == ReportStatus.EN_GESTION
    queue.get_by_label("Qué se hizo").fill("Luminaria LED instalada y probada.")
    queue.get_by_label("Foto del trabajo terminado").set_input_files(
        {"name": "trabajo.png", "mimeType": "image/png", "buffer": make_png(size=(64, 48))}
    )
    _act(queue, "Resolver", "Marcar resuelto")
    _wait_status(queue, "resuelto")
    queue.wait_for_selector(".fotos img[src^='blob:']")
    assert _report(engine, rid).status == ReportStatus.RESUELTO
    assert _photos(engine, rid) == 1
    _screenshot(queue, tmp_path, "unidad-movil.png")

    # the database has every step, by whom, and the note
    assert _steps(engine, rid) == [
        ("reportado", "police", None),
        ("validado", "admin", None),
        ("derivado", "admin", None),
        ("en_gestion", "unit", None),
        ("resuelto", "unit", "Luminaria LED instalada y probada."),
    ]
    # and the inbox's timeline shows all of it, with the photo
    inbox.reload()
    _ready(inbox)
    inbox.wait_for_selector(f"#detalle-contenido[data-id='{rid}']")
    shown = inbox.locator(".linea-tiempo").inner_text()
    for seen in (
        "Reportado",
        "Validado",
        "Derivado a la unidad",
        "En gestión",
        "Resuelto",
        "Foto agregada",
        "Luminaria LED instalada y probada.",
        work.unit_name,
    ):
        assert seen in shown, seen
    assert inbox.locator(".linea-tiempo li").count() == 6

    # the light fails again: municipal security reopens it, back to the unit's queue
    inbox.get_by_label("Motivo").fill("Vecinos informan que volvió a apagarse.")
    _act(inbox, "Reabrir (vuelve a la unidad)", "Reabrir")
    _wait_status(inbox, "derivado")
    reopened = _report(engine, rid)
    assert (reopened.status, reopened.resolved_at) == (ReportStatus.DERIVADO, None)
    assert _steps(engine, rid)[-1] == (
        "derivado",
        "admin",
        "Vecinos informan que volvió a apagarse.",
    )
    assert "reabierto" in inbox.locator(".linea-tiempo li").last.inner_text()


def test_a_stale_tab_sees_the_conflict_and_changes_nothing(
    context: Any, live_server: str, work: WorkData, engine: Engine, tmp_path: Path
) -> None:
    rid = _submit(live_server, work)
    first = _open(context, live_server + f"/bandeja#{rid}", work.admin)
    second = _open(context, live_server + f"/bandeja#{rid}", work.admin)
    for tab in (first, second):
        tab.wait_for_selector(f"#detalle-contenido[data-id='{rid}'][data-estado='reportado']")

    _act(first, "Validar", "Validar")
    _wait_status(first, "validado")
    before = (_report(engine, rid).version, _steps(engine, rid))

    # the second tab still shows "reportado": discarding it now would overwrite that
    second.locator("details.accion", has=second.locator("summary:text-is('Descartar')")).locator(
        "summary"
    ).click()
    second.get_by_label("Motivo del descarte").fill("No corresponde.")
    second.get_by_role("button", name="Descartar", exact=True).click()
    message = second.locator("#mensaje-accion[role='alert']")
    message.wait_for()
    _ready(second)

    assert CONFLICT in message.inner_text().lower()
    assert message.is_visible()
    assert second.evaluate(  # in view, not left above the form that was used
        "() => { const r = document.getElementById('mensaje-accion').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    assert second.locator("#detalle-contenido").get_attribute("data-estado") == "reportado"
    assert (_report(engine, rid).version, _steps(engine, rid)) == before
    assert _report(engine, rid).status == ReportStatus.VALIDADO
    _screenshot(second, tmp_path, "bandeja-conflicto-movil.png")

    # reloading shows what the other person did, and the discard can be decided again
    second.get_by_role("button", name="Recargar el informe").click()
    _wait_status(second, "validado")
    second.locator("summary", has_text="Descartar").click()
    second.get_by_label("Motivo del descarte").fill("Luminaria privada, no municipal.")
    second.get_by_role("button", name="Descartar", exact=True).click()
    _wait_status(second, "descartado")
    assert _report(engine, rid).status == ReportStatus.DESCARTADO
    assert _steps(engine, rid)[-1] == ("descartado", "admin", "Luminaria privada, no municipal.")


def test_marking_a_duplicate_offers_the_nearby_open_report(
    context: Any, live_server: str, work: WorkData, engine: Engine
) -> None:
    kept = _submit(live_server, work, LANCO_TOWN)
    again = _submit(live_server, work, NEAR_TOWN)  # ~11 m away, same type
    inbox = _open(context, live_server + f"/bandeja#{again}", work.admin)
    inbox.wait_for_selector(f"#detalle-contenido[data-id='{again}']")

    inbox.locator("summary", has_text="Marcar duplicado").click()
    offered = inbox.locator(f".candidatos input[value='{kept}']")
    offered.wait_for()
    assert inbox.locator(f".candidatos input[value='{again}']").count() == 0  # not itself
    offered.check()
    inbox.get_by_role("button", name="Marcar duplicado", exact=True).click()
    _wait_status(inbox, "duplicado")

    report = _report(engine, again)
    assert (report.status, str(report.duplicate_of_id)) == (ReportStatus.DUPLICADO, kept)
    assert _report(engine, kept).status == ReportStatus.REPORTADO


def test_a_project_is_created_and_a_factor_linked(
    context: Any, live_server: str, work: WorkData, engine: Engine, tmp_path: Path
) -> None:
    rid = _submit(live_server, work)
    page = _open(context, live_server + "/proyectos", work.admin)
    page.set_viewport_size(DESKTOP)
    _accessible(page)
    name = PROJECT_PREFIX + uuid.uuid4().hex[:6]

    page.locator("#nuevo-proyecto summary").click()
    page.get_by_label("Nombre").fill(name)
    page.get_by_label("Tipología").select_option("IL")
    page.locator("#p-barrios input[value='B01001']").check()
    page.get_by_label("Presupuesto (pesos)").fill("12000000")
    page.get_by_role("button", name="Crear proyecto").click()
    page.wait_for_selector("#detalle-contenido[data-id]")
    _ready(page)

    with Session(engine) as session:
        project = session.scalars(
            select(InterventionProject).where(InterventionProject.name == name)
        ).one()
        project_id, budget = project.id, project.budget_clp
    assert page.locator("#detalle-contenido").get_attribute("data-id") == str(project_id)
    assert budget == 12_000_000

    version = _report(engine, rid).version
    page.get_by_label("Factor abierto").select_option(rid)
    page.get_by_role("button", name="Asociar al proyecto").click()
    page.wait_for_selector(f"#detalle-contenido tr[data-id='{rid}']")
    _ready(page)
    linked = _report(engine, rid)
    assert (linked.project_id, linked.version) == (project_id, version + 1)
    assert "Factor asociado" in page.locator("#mensaje-proyecto").inner_text()

    page.get_by_label("Cambiar el estado").select_option("terminado")
    page.get_by_role("button", name="Guardar estado").click()
    page.wait_for_selector("#mensaje-proyecto:has-text('Terminado')")
    _ready(page)
    with Session(engine) as session:
        assert session.get_one(InterventionProject, project_id).status.value == "terminado"

    # the evaluation, whatever it answers (numbers or a problem in words), is shown
    page.get_by_role("button", name="Ver la evaluación").click()
    page.wait_for_selector("#evaluacion > *")
    _ready(page)
    assert page.locator("#evaluacion").inner_text().strip()
    _accessible(page)
    _screenshot(page, tmp_path, "proyectos.png")


@pytest.mark.parametrize("path", PAGES)
def test_without_a_key_each_page_asks_for_one_and_is_accessible(
    context: Any, live_server: str, path: str
) -> None:
    page = context.new_page()
    page.goto(live_server + path)
    _ready(page)

    assert "Sin clave" in page.locator("#estado-acceso").inner_text()
    assert "clave" in page.locator("#resumen-lista").inner_text()
    assert page.locator("#detalle").is_hidden()
    _accessible(page)


def _age(engine: Engine, report_id: str, days: int) -> None:
    """Received `days` earlier than it was: overdue once past its type's expected days."""
    with Session(engine) as session:
        session.execute(
            update(RiskFactorReport)
            .where(RiskFactorReport.id == uuid.UUID(report_id))
            .values(received_at=RiskFactorReport.received_at - timedelta(days=days))
        )
        session.commit()


def _listed(page: Any) -> list[str]:
    ids = page.locator("#informes button.item").evaluate_all("bs => bs.map(b => b.dataset.id)")
    return list(ids)


def test_the_inbox_filters_by_type_overdue_and_barrio(
    context: Any, live_server: str, work: WorkData, engine: Engine
) -> None:
    light = _submit(live_server, work, LANCO_TOWN)  # barrio B01001
    dump = _submit(  # barrio B01002
        live_server, work, FAR_IN_TOWN, type="microbasural", attributes={"volumen": "grande"}
    )
    _age(engine, light, 90)
    page = _open(context, live_server + "/bandeja", work.admin)
    assert {light, dump} <= set(_listed(page))

    def apply() -> list[str]:
        page.get_by_role("button", name="Filtrar").click()
        _ready(page)
        return _listed(page)

    page.get_by_label("Tipo").select_option("microbasural")
    shown = apply()
    assert dump in shown
    assert light not in shown
    page.get_by_label("Tipo").select_option("")
    page.get_by_label("Solo vencidos").check()
    shown = apply()
    assert light in shown
    assert dump not in shown
    page.get_by_label("Solo vencidos").uncheck()
    page.get_by_label("Barrio").select_option("B01002")
    shown = apply()
    assert dump in shown
    assert light not in shown
    page.get_by_label("Estado").select_option("resuelto")
    assert dump not in apply()


def test_the_unit_queue_puts_overdue_reports_first(
    context: Any, live_server: str, work: WorkData, engine: Engine
) -> None:
    older, newer = _submit(live_server, work), _submit(live_server, work)
    for rid in (older, newer):
        _route(live_server, work, rid)
    _age(engine, older, 90)  # past luminaria_apagada's expected days

    queue = _open(context, live_server + "/unidad", work.unit)

    shown = _listed(queue)
    # the API lists the newest first; the queue shows the overdue one first
    assert shown.index(older) < shown.index(newer)
    first = queue.locator(f"#informes button[data-id='{older}']")
    assert "Vencido" in first.inner_text()
    assert "vencido" in queue.locator("#resumen-lista").inner_text()
