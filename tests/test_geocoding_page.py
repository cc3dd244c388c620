"""The review page /geocodificacion in Debian's chromium: a person picks a candidate for a
queued complaint and confirms; the complaint is placed. Against `live_server`, which sees
committed data only: the fixture commits a gazetteer, a key and a queued complaint and
removes them afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.identity import api_keys
from app.models import ApiKey, Complaint, Role
from app.models.gazetteer import ComplaintGeocode, GazetteerVersion
from tests.browser import chromium_browser
from tests.factories.gazetteer import load_town

REF = "PAGINA-GEO-"


@pytest.fixture(scope="module")
def queued(engine: Engine, live_server: str) -> Iterator[str]:
    with Session(engine) as session, tempfile.TemporaryDirectory() as tmp:
        versions = [r.version for r in load_town(session, Path(tmp))]
        key, secret = api_keys.create_key(
            session, name="Prueba cola", role=Role.POLICE, institution="carabineros"
        )
        report = import_complaints(
            session,
            [
                {
                    "external_ref": f"{REF}1",
                    "source": "carabineros",
                    "category": "556",
                    "occurred_at": "2025-05-03T10:00:00",
                    "address": "Pasaje Los Laureles 12",  # in two villas: queued
                }
            ],
            loaded_by="pruebas de la cola",
            geocode=True,
        )
        assert report.unplaced == 1
        session.commit()
        key_id = key.id
    try:
        yield secret
    finally:
        with Session(engine) as session:
            session.execute(delete(Complaint).where(Complaint.external_ref.startswith(REF)))
            session.execute(delete(GazetteerVersion).where(GazetteerVersion.id.in_(versions)))
            session.execute(delete(ApiKey).where(ApiKey.id == key_id))
            session.commit()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with chromium_browser() as browser:
        yield browser


@pytest.mark.parametrize("width", [1280, 390])
def test_pick_a_candidate_and_place_the_complaint(
    chromium: Any, live_server: str, queued: str, engine: Engine, width: int
) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="es-CL")
    page = context.new_page()
    page.set_default_timeout(20_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(live_server + "/geocodificacion")
    page.fill("#clave", queued)
    page.click("#form-clave button[type=submit]")
    page.locator("#cola li button", has_text="Pasaje Los Laureles 12").click()
    candidates = page.locator("#candidatos li button")
    assert candidates.count() >= 2
    assert "Pasaje Los Laureles 12" in candidates.first.inner_text()
    if width == 390:  # the phone: a person can also click the map; here, the second villa
        candidates.nth(1).click()
    else:
        candidates.first.click()
    assert page.locator("#confirmar").is_enabled()
    page.click("#confirmar")
    page.wait_for_function(
        "() => document.getElementById('estado').textContent.startsWith('Ubicada')"
    )
    context.close()
    assert [t for t in console if "Content Security Policy" in t] == []
    with Session(engine) as session:
        complaint = session.scalars(
            select(Complaint).where(Complaint.external_ref == f"{REF}1")
        ).one()
        assert complaint.geom is not None
        assert complaint.micro_barrio_id is not None
        record = session.get(ComplaintGeocode, complaint.id)
        assert record is not None
        assert record.status == "manual"
        # back in the queue for the next width
        complaint.geom = None
        complaint.location_precision = None
        complaint.barrio_id = complaint.micro_barrio_id = None
        record.status = "unplaced"  # type: ignore[assignment]
        session.commit()
