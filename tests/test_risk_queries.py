"""Listing with filters, statistics, photos, projects and the catalog."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import RiskFactorReport
from tests.factories.images import make_png
from tests.factories.keys import Keys
from tests.factories.risk import FAR_IN_TOWN, counts, make_point, make_report, move
from tests.helpers import assert_feature_collection, assert_matches_schema, assert_problem

PNG = make_png()
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


def _age(db: Session, report_id: str, days: int) -> None:
    """Pretend the report arrived `days` ago (received_at is the server's clock)."""
    db.execute(
        update(RiskFactorReport)
        .where(RiskFactorReport.id == report_id)
        .values(received_at=datetime.now(UTC) - timedelta(days=days))
    )
    db.commit()


def test_listing_filters_and_overdue(
    client: TestClient, keys: Keys, db: Session, openapi: dict[str, Any]
) -> None:
    old = make_report(client, keys)
    new = make_report(
        client, keys, type="microbasural", geometry=make_point(*FAR_IN_TOWN), attributes={}
    )
    _age(db, old["id"], 20)  # luminaria: 10 days expected
    h = keys.h("planner")
    everything = client.get("/api/v1/risk-factors", headers=h)
    assert everything.headers["content-type"] == "application/geo+json"
    assert_feature_collection(everything.json())
    assert_matches_schema(openapi, "/api/v1/risk-factors", "get", everything)

    def ids(**params: Any) -> set[str]:
        r = client.get("/api/v1/risk-factors", params=params, headers=h)
        assert r.status_code == 200, r.text
        return {f["id"] for f in r.json()["features"]}

    assert ids(overdue=True) == {old["id"]}
    assert new["id"] in ids(overdue=False)
    assert ids(type="microbasural") == {new["id"]}
    assert ids(status="validado") == set()
    lon, lat = FAR_IN_TOWN
    assert ids(bbox=f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}") == {new["id"]}
    assert {old["id"], new["id"]} <= ids(barrio=old["barrio"]["code"]) | ids(
        barrio=new["barrio"]["code"]
    )
    today = datetime.now(UTC).date()
    assert ids(received_from=str(today - timedelta(days=1))) == {new["id"]}
    assert ids(received_to=str(today - timedelta(days=15))) == {old["id"]}
    move(client, keys, old["id"], "validado")
    move(client, keys, old["id"], "derivado")
    assert ids(unit="Alumbrado público") == {old["id"]}
    body = assert_problem(
        client.get("/api/v1/risk-factors", params={"bbox": "1,2"}, headers=h), 422
    )
    assert body["errors"][0]["field"] == "bbox"
    # a unit lists only what was routed to it
    unit_view = client.get("/api/v1/risk-factors", headers=keys.h("unit")).json()
    assert {f["id"] for f in unit_view["features"]} == {old["id"]}


def test_stats_median_and_share_within_expected(
    client: TestClient, keys: Keys, db: Session, openapi: dict[str, Any]
) -> None:
    quick = make_report(client, keys)
    slow = make_report(client, keys, geometry=make_point(*FAR_IN_TOWN))
    pending = make_report(client, keys, type="microbasural", attributes={})
    _age(db, quick["id"], 4)
    _age(db, slow["id"], 14)
    for rid in (quick["id"], slow["id"]):
        for step in ("validado", "derivado", "en_gestion", "resuelto"):
            assert move(client, keys, rid, step).status_code == 200
    response = client.get("/api/v1/risk-factors/stats", headers=keys.h("planner"))
    assert response.status_code == 200
    assert_matches_schema(openapi, "/api/v1/risk-factors/stats", "get", response)
    stats = response.json()
    assert stats["overall"]["total"] == 3
    assert stats["overall"]["resolved"] == 2
    assert stats["overall"]["open"] == 1
    assert stats["overall"]["median_days_to_resolution"] == pytest.approx(9.0, abs=0.01)
    assert stats["overall"]["share_resolved_within_expected"] == 0.5  # 4 d ok, 14 d > 10 d
    by_type = {g["key"]: g for g in stats["by_type"]}
    assert by_type["luminaria_apagada"]["resolved"] == 2
    assert by_type["microbasural"]["open"] == 1
    by_status = {g["key"]: g["total"] for g in stats["by_status"]}
    assert by_status == {"reportado": 1, "resuelto": 2}
    assert {g["key"] for g in stats["by_unit"]} == {"Alumbrado público", None}
    assert sum(g["total"] for g in stats["by_barrio"]) == 3
    assert pending["id"]


def test_photos_size_type_and_access(client: TestClient, keys: Keys, db: Session) -> None:
    rid = make_report(client, keys)["id"]
    url = f"/api/v1/risk-factors/{rid}/photos"
    ok = client.post(
        url, files={"file": ("a.png", io.BytesIO(PNG), "image/jpeg")}, headers=keys.h("police")
    )
    assert ok.status_code == 201, ok.text
    photo = ok.json()
    assert photo["content_type"] == "image/png"  # the bytes decide, not the header
    got = client.get(photo["url"], headers=keys.h("planner"))
    assert Image.open(io.BytesIO(got.content)).size == Image.open(io.BytesIO(PNG)).size
    assert got.headers["content-type"] == "image/png"
    assert client.get(photo["url"]).status_code == 401
    assert client.get(photo["url"], headers=keys.h("pdi")).status_code == 404
    before = counts(db)
    fake = client.post(
        url,
        files={"file": ("x.jpg", io.BytesIO(b"<html>hola</html>"), "image/jpeg")},
        headers=keys.h("police"),
    )
    assert_problem(fake, 415)
    big = JPEG + b"\x00" * (8 * 1024 * 1024)
    assert_problem(
        client.post(
            url,
            files={"file": ("big.jpg", io.BytesIO(big), "image/jpeg")},
            headers=keys.h("police"),
        ),
        413,
    )
    assert counts(db) == before
    detail = client.get(f"/api/v1/risk-factors/{rid}", headers=keys.h("admin")).json()
    assert [p["id"] for p in detail["photos"]] == [photo["id"]]


def test_projects_close_the_loop(client: TestClient, keys: Keys) -> None:
    made = client.post(
        "/api/v1/projects",
        json={
            "comuna": "14103",
            "name": "Recambio de luminarias LED sector centro",
            "typology": "IL",
            "barrios": ["B01001", "B01002"],
            "start_date": "2026-12-01",
            "budget_clp": 45000000,
        },
        headers=keys.h("planner"),
    )
    assert made.status_code == 201, made.text
    project = made.json()
    assert project["barrios"] == ["B01001", "B01002"]
    rid = make_report(client, keys)["id"]
    for step in ("validado", "derivado"):
        move(client, keys, rid, step)
    linked = move(client, keys, rid, "en_gestion", role="unit", project_id=project["id"])
    assert linked.status_code == 200, linked.text
    assert linked.json()["project_id"] == project["id"]
    shown = client.get(f"/api/v1/projects/{project['id']}", headers=keys.h("unit")).json()
    assert [(f["id"], f["status"]) for f in shown["factors"]] == [(rid, "en_gestion")]
    assert shown["factors_by_status"] == {"en_gestion": 1}
    bad = client.post(
        "/api/v1/projects",
        json={"comuna": "14103", "name": "Proyecto", "typology": "AC", "barrios": ["ZZZ"]},
        headers=keys.h("planner"),
    )
    assert assert_problem(bad, 422)["errors"][0]["code"] == "ZZZ"
    assert_problem(client.post("/api/v1/projects", json={}, headers=keys.h("police")), 403)
    closed = client.patch(
        f"/api/v1/projects/{project['id']}", json={"status": "terminado"}, headers=keys.h("planner")
    )
    assert closed.json()["status"] == "terminado"


def test_catalog_is_admin_editable(client: TestClient, keys: Keys) -> None:
    new_type = {
        "code": "paradero_sin_luz",
        "label": "Paradero sin iluminación",
        "typology": "IL",
        "default_unit": "Alumbrado público",
        "expected_days": 15,
        "geometry_types": ["Point"],
        "attributes_schema": {"techado": {"type": "boolean", "label": "Tiene techo"}},
    }
    assert_problem(
        client.post("/api/v1/risk-factor-types", json=new_type, headers=keys.h("planner")), 403
    )
    made = client.post("/api/v1/risk-factor-types", json=new_type, headers=keys.h("admin"))
    assert made.status_code == 201, made.text
    assert_problem(
        client.post("/api/v1/risk-factor-types", json=new_type, headers=keys.h("admin")), 409
    )
    broken = {**new_type, "code": "otro_tipo", "attributes_schema": {"x": {"type": "fecha"}}}
    assert_problem(
        client.post("/api/v1/risk-factor-types", json=broken, headers=keys.h("admin")), 422
    )
    edited = client.patch(
        "/api/v1/risk-factor-types/paradero_sin_luz",
        json={"expected_days": 5},
        headers=keys.h("admin"),
    )
    assert edited.json()["expected_days"] == 5
    report = make_report(client, keys, type="paradero_sin_luz", attributes={"techado": True})
    assert datetime.fromisoformat(report["due_at"]) - datetime.fromisoformat(
        report["received_at"]
    ) == timedelta(days=5)
    client.patch(
        "/api/v1/risk-factor-types/paradero_sin_luz",
        json={"active": False},
        headers=keys.h("admin"),
    )
    assert_problem(
        client.post(
            "/api/v1/risk-factors",
            headers=keys.h("police"),
            json={
                "type": "paradero_sin_luz",
                "geometry": make_point(*FAR_IN_TOWN),
                "severity": 2,
                "observed_at": datetime.now(UTC).isoformat(),
            },
        ),
        422,
    )
