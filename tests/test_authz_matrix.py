"""Every endpoint x role x ownership: who gets in, who is refused, who is told nothing exists.

The routes come from the application's OpenAPI document, so a new route without a row in
MATRIX fails `test_every_route_is_in_the_matrix` with the line to add.

Columns (ROLES): public (no key), police (carabineros, owns the fixtures' report), pdi
(police of another institution), unit (the report is routed to it), other_unit, planner,
admin. Cells:
    A  allowed: not 401/403/404, never 5xx (a 409/412/422/428 is allowed-but-rejected)
    a  allowed, and 404 is fine too (the route names an object the fixtures do not create)
    U  401 (no credentials)    D  403 (role may not)    H  404 (exists, but not for this caller)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.main import create_app
from app.models import Role
from app.settings import DatabaseSettings
from tests.factories.activities import activity_row, csv_bytes
from tests.factories.complaints import GOOD_ROW, make_complaint_json, make_csv_body
from tests.factories.images import make_png
from tests.factories.keys import make_auth_headers, make_key
from tests.factories.risk import make_report, make_report_body, move

ROLES = ("public", "police", "pdi", "unit", "other_unit", "planner", "admin")
PNG = make_png()
COMPLAINT = make_complaint_json("MATRIZ-1")


@dataclass
class Ctx:
    report: str
    photo: str
    project: int
    webhook: int
    council_session: int
    agreement: int
    activity: int


Request = Callable[[Ctx], dict[str, Any]]


def get(url: str) -> Request:
    return lambda c: {"method": "GET", "url": url.format(c=c)}


def send(method: str, url: str, **kwargs: Any) -> Request:
    return lambda c: {"method": method, "url": url.format(c=c), **kwargs}


ALL = "A A A A A A A"
KEYED = "U A A A A A A"
ADMIN = "U D D D D D A"
READ_PLAN = "U D D D D A A"  # the plan's records: planners and admins read
RF = "/api/v1/risk-factors/{c.report}"
WH = "/api/v1/webhooks/{c.webhook}"
MATRIX: dict[str, tuple[str, Request]] = {
    "GET /health": (ALL, get("/health")),
    "GET /api/v1/me": (KEYED, get("/api/v1/me")),
    "GET /api/v1/api-keys": (ADMIN, get("/api/v1/api-keys")),
    "GET /api/v1/barrios": (ALL, get("/api/v1/barrios")),
    "GET /api/v1/barrios/{code}": (ALL, get("/api/v1/barrios/B01001")),
    "GET /api/v1/micro-barrios": (ALL, get("/api/v1/micro-barrios")),
    "GET /api/v1/locate": (ALL, get("/api/v1/locate?lon=-72.775&lat=-39.452")),
    "GET /api/v1/categories": (ALL, get("/api/v1/categories")),
    "GET /api/v1/context-layers": (ALL, get("/api/v1/context-layers")),
    # a type the catalog keeps from the public: 404 without a key, as if it did not exist
    "GET /api/v1/context-layers/{type}/features": (
        "H A A A A A A",
        get("/api/v1/context-layers/inmueble_abandonado/features"),
    ),
    "GET /api/v1/complaints": ("U A A D D A A", get("/api/v1/complaints")),
    "POST /api/v1/complaints": (
        "U A D D D D A",
        send("POST", "/api/v1/complaints", json=COMPLAINT),
    ),
    "GET /api/v1/complaints/stats": ("U A A D D A A", get("/api/v1/complaints/stats")),
    "POST /api/v1/complaints/import": (
        # pdi may import, but not carabineros' rows: 422 with the rows (allowed-but-rejected)
        "U A A D D D A",
        send(
            "POST",
            "/api/v1/complaints/import",
            content=make_csv_body(GOOD_ROW),
            headers={"Content-Type": "text/csv"},
        ),
    ),
    # geocoding: no gazetteer in the fixtures, so keyed callers get a 422 (allowed)
    "GET /api/v1/geocode": (KEYED, get("/api/v1/geocode?q=Baquedano%20345")),
    "GET /api/v1/reverse": (KEYED, get("/api/v1/reverse?lon=-72.775&lat=-39.452")),
    "GET /api/v1/gazetteer/streets": (KEYED, get("/api/v1/gazetteer/streets")),
    "POST /api/v1/gazetteer": (
        ADMIN,
        send("POST", "/api/v1/gazetteer?comuna=14103&format=geojson", content=b"{}"),
    ),
    # the review queue shows addresses: police (their institution's) and admins only
    "GET /api/v1/complaints/unplaced": ("U A A D D D A", get("/api/v1/complaints/unplaced")),
    "POST /api/v1/complaints/{complaint_id}/placement": (
        "U a a D D D a",
        send(
            "POST",
            f"/api/v1/complaints/{uuid.UUID(int=7)}/placement",
            json={"lon": -72.775, "lat": -39.452, "precision": "exact"},
        ),
    ),
    "GET /api/v1/risk-factor-types": (ALL, get("/api/v1/risk-factor-types")),
    "POST /api/v1/risk-factor-types": (
        ADMIN,
        send(
            "POST",
            "/api/v1/risk-factor-types",
            json={
                "code": "matriz_tipo",
                "label": "Tipo de prueba",
                "default_unit": "Aseo y ornato",
                "expected_days": 5,
                "geometry_types": ["Point"],
            },
        ),
    ),
    "PATCH /api/v1/risk-factor-types/{code}": (
        ADMIN,
        send("PATCH", "/api/v1/risk-factor-types/microbasural", json={"expected_days": 9}),
    ),
    "POST /api/v1/risk-factors": (
        "U A A D D D A",
        send("POST", "/api/v1/risk-factors", json=make_report_body()),
    ),
    "GET /api/v1/risk-factors": (KEYED, get("/api/v1/risk-factors")),
    "GET /api/v1/risk-factors/stats": (KEYED, get("/api/v1/risk-factors/stats")),
    "GET /api/v1/risk-factors/{report_id}": ("U A H A H A A", get(RF)),
    "PATCH /api/v1/risk-factors/{report_id}": (
        "U A H D H D A",
        send("PATCH", RF, json={"severity": 4}),
    ),
    "POST /api/v1/risk-factors/{report_id}/transitions": (
        "U D D A H D A",
        send("POST", RF + "/transitions", json={"to": "en_gestion"}),
    ),
    "POST /api/v1/risk-factors/{report_id}/photos": (
        "U A H A H D A",
        send("POST", RF + "/photos", files={"file": ("f.png", PNG, "image/png")}),
    ),
    "GET /api/v1/risk-factors/{report_id}/photos/{photo_id}": (
        "U A H A H A A",
        get(RF + "/photos/{c.photo}"),
    ),
    "GET /api/v1/public/risk-factors": (ALL, get("/api/v1/public/risk-factors")),
    "POST /api/v1/projects": (
        "U D D D D A A",
        send(
            "POST",
            "/api/v1/projects",
            json={"comuna": "14103", "name": "Luminarias", "typology": "IL"},
        ),
    ),
    "GET /api/v1/projects": (KEYED, get("/api/v1/projects")),
    "GET /api/v1/projects/{project_id}": (KEYED, get("/api/v1/projects/{c.project}")),
    "PATCH /api/v1/projects/{project_id}": (
        "U D D D D A A",
        send("PATCH", "/api/v1/projects/{c.project}", json={"name": "Luminarias 2"}),
    ),
    "GET /api/v1/webhooks": ("U D D A A D A", get("/api/v1/webhooks")),
    "POST /api/v1/webhooks": (
        "U D D A A D A",
        send("POST", "/api/v1/webhooks", json={"comuna": "14103", "url": "https://u.example/h"}),
    ),
    "DELETE /api/v1/webhooks/{subscription_id}": ("U D D A H D A", send("DELETE", WH)),
    "GET /api/v1/webhooks/{subscription_id}/deliveries": (
        "U D D A H D A",
        get(WH + "/deliveries"),
    ),
    "POST /api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/retry": (
        "U D D a H D a",
        send("POST", WH + f"/deliveries/{uuid.uuid4()}/retry"),
    ),
    "GET /api/v1/audit": (ADMIN, get("/api/v1/audit")),
    "GET /api/v1/audit/verify": (ADMIN, get("/api/v1/audit/verify")),
    "GET /api/v1/public/stats": (ALL, get("/api/v1/public/stats?year=2025")),
    # public; the fixtures compute no ranking, so "sin ranking publicado" (404) is fine
    "GET /api/v1/public/rankings": ("a a a a a a a", get("/api/v1/public/rankings")),
    "GET /ogc": (ALL, get("/ogc")),
    "GET /ogc/conformance": (ALL, get("/ogc/conformance")),
    "GET /ogc/collections": (ALL, get("/ogc/collections")),
    "GET /ogc/collections/{collection_id}": (ALL, get("/ogc/collections/barrios")),
    "GET /ogc/collections/{collection_id}/queryables": (
        ALL,
        get("/ogc/collections/barrios/queryables"),
    ),
    "GET /ogc/collections/{collection_id}/items": (ALL, get("/ogc/collections/barrios/items")),
    "GET /ogc/collections/{collection_id}/items/{feature_id}": (
        "a a a a a a a",
        get("/ogc/collections/barrios/items/B01001"),
    ),
    "GET /ogc/tileMatrixSets": (ALL, get("/ogc/tileMatrixSets")),
    "GET /ogc/tileMatrixSets/WebMercatorQuad": (ALL, get("/ogc/tileMatrixSets/WebMercatorQuad")),
    "GET /ogc/collections/{collection_id}/tiles": (ALL, get("/ogc/collections/barrios/tiles")),
    "GET /ogc/collections/{collection_id}/tiles/WebMercatorQuad": (
        ALL,
        get("/ogc/collections/barrios/tiles/WebMercatorQuad"),
    ),
    "GET /ogc/collections/{collection_id}/tiles/WebMercatorQuad/{z}/{x}/{y}": (
        ALL,
        get("/ogc/collections/barrios/tiles/WebMercatorQuad/12/1267/2543"),
    ),
    "GET /api/v1/map-config": (ALL, get("/api/v1/map-config")),
    "GET /api/v1/field-config": (ALL, get("/api/v1/field-config")),
    "GET /api/v1/projects/{project_id}/evaluation": (
        KEYED,
        get("/api/v1/projects/{c.project}/evaluation"),
    ),
    "POST /api/v1/projects/{project_id}/evaluations": (
        "U D D D D A A",  # the fixtures' project is not finished: a 409 for those allowed
        send("POST", "/api/v1/projects/{c.project}/evaluations"),
    ),
    "GET /api/v1/projects/{project_id}/evaluations/{evaluation_id}": (
        "U a a a a a a",
        get(f"/api/v1/projects/{{c.project}}/evaluations/{uuid.UUID(int=7)}"),
    ),
    "POST /api/v1/rankings": (
        "U D D D D A A",
        send("POST", "/api/v1/rankings", json={"level": "barrio"}),
    ),
    "POST /api/v1/risk-terrain": (
        "U D D D D A A",  # allowed callers get 201 or a 422 (no complaints in the period)
        send("POST", "/api/v1/risk-terrain", json={"months": 1}),
    ),
    "GET /api/v1/risk-terrain/{snapshot_id}": (
        "U a a a a a a",
        get("/api/v1/risk-terrain/00000000-0000-0000-0000-000000000000"),
    ),
    "GET /api/v1/near-repeat": (
        "U D D D D A A",  # no complaints of the category: a 422 for those allowed
        get("/api/v1/near-repeat?category=551&permutations=9"),
    ),
    "GET /api/v1/rankings/profiles": (KEYED, get("/api/v1/rankings/profiles")),
    "POST /api/v1/rankings/profiles": (ADMIN, send("POST", "/api/v1/rankings/profiles", json={})),
    "GET /api/v1/rankings/latest": ("U a a a a a a", get("/api/v1/rankings/latest?level=barrio")),
    "GET /api/v1/rankings/{snapshot_id}": (
        "U a a a a a a",
        get("/api/v1/rankings/00000000-0000-0000-0000-000000000000"),
    ),
    "POST /api/v1/rankings/{snapshot_id}/recompute": (
        "U a a a a a a",
        send("POST", "/api/v1/rankings/00000000-0000-0000-0000-000000000000/recompute"),
    ),
    "GET /api/v1/reports": ("U D D D D A A", get("/api/v1/reports")),
    "POST /api/v1/reports": ("U D D D D A A", send("POST", "/api/v1/reports", json={})),
    "GET /api/v1/reports/{report_id}": ("U D D D D a a", get("/api/v1/reports/999999")),
    # Plan (issue #21): the executive secretary writes with an admin key; planners read.
    "GET /api/v1/plan/dashboard": (READ_PLAN, get("/api/v1/plan/dashboard?year=2025")),
    "GET /api/v1/council/seats": (READ_PLAN, get("/api/v1/council/seats")),
    "PUT /api/v1/council/seats/{seat}": (
        ADMIN,
        send("PUT", "/api/v1/council/seats/senda", json={"representative": "Coordinadora"}),
    ),
    "POST /api/v1/council/sessions": (
        ADMIN,
        send("POST", "/api/v1/council/sessions", json={"held_on": "2025-05-05"}),
    ),
    "GET /api/v1/council/sessions": (READ_PLAN, get("/api/v1/council/sessions")),
    "GET /api/v1/council/sessions/{session_id}": (
        READ_PLAN,
        get("/api/v1/council/sessions/{c.council_session}"),
    ),
    "GET /api/v1/council/sessions/{session_id}/agenda": (
        READ_PLAN,
        get("/api/v1/council/sessions/{c.council_session}/agenda"),
    ),
    "PUT /api/v1/council/sessions/{session_id}/minutes": (
        ADMIN,
        send(
            "PUT",
            "/api/v1/council/sessions/{c.council_session}/minutes",
            files={"file": ("acta.pdf", b"%PDF-1.4\n", "application/pdf")},
        ),
    ),
    # no minutes stored by the fixtures: 404 for those allowed
    "GET /api/v1/council/sessions/{session_id}/minutes": (
        "U D D D D a a",
        get("/api/v1/council/sessions/{c.council_session}/minutes"),
    ),
    "POST /api/v1/council/sessions/{session_id}/agreements": (
        ADMIN,
        send(
            "POST",
            "/api/v1/council/sessions/{c.council_session}/agreements",
            json={"text": "Poda", "responsible_institution": "DOM", "due_on": "2025-06-30"},
        ),
    ),
    "GET /api/v1/council/agreements": (READ_PLAN, get("/api/v1/council/agreements")),
    "POST /api/v1/council/agreements/{agreement_id}/follow-ups": (
        ADMIN,
        send(
            "POST",
            "/api/v1/council/agreements/{c.agreement}/follow-ups",
            json={"note": "En curso", "status": "en_curso"},
        ),
    ),
    "GET /api/v1/council/indicators": (READ_PLAN, get("/api/v1/council/indicators?year=2025")),
    "GET /api/v1/activities/kinds": (READ_PLAN, get("/api/v1/activities/kinds")),
    "POST /api/v1/activities": (
        ADMIN,
        send("POST", "/api/v1/activities", json=activity_row(ref=None)),
    ),
    "GET /api/v1/activities": (READ_PLAN, get("/api/v1/activities")),
    "POST /api/v1/activities/import": (
        ADMIN,
        send(
            "POST",
            "/api/v1/activities/import",
            files={"file": ("a.csv", csv_bytes([activity_row(ref=None)]), "text/csv")},
        ),
    ),
    "GET /api/v1/activities/indicators": (
        READ_PLAN,
        get("/api/v1/activities/indicators?year=2025"),
    ),
    "GET /api/v1/activities/{activity_id}": (READ_PLAN, get("/api/v1/activities/{c.activity}")),
    "PUT /api/v1/activities/{activity_id}/evidence": (
        ADMIN,
        send(
            "PUT",
            "/api/v1/activities/{c.activity}/evidence",
            files={"file": ("lista.pdf", b"%PDF-1.4\n", "application/pdf")},
        ),
    ),
    "GET /api/v1/activities/{activity_id}/evidence": (
        "U D D D D a a",
        get("/api/v1/activities/{c.activity}/evidence"),
    ),
    "GET /ogc/api": (ALL, get("/ogc/api")),
    "GET /open311/v2/discovery.{fmt}": (ALL, get("/open311/v2/discovery.xml")),
    "GET /open311/v2/services.{fmt}": (ALL, get("/open311/v2/services.xml")),
    "GET /open311/v2/services/{service_code}.{fmt}": (
        ALL,
        get("/open311/v2/services/luminaria_apagada.json"),
    ),
    "GET /open311/v2/requests.{fmt}": (ALL, get("/open311/v2/requests.xml")),
    # GeoReport v2 answers a missing or invalid api_key with 403, not 401
    "POST /open311/v2/requests.{fmt}": (
        "D A A D D D A",
        send(
            "POST",
            "/open311/v2/requests.json",
            data={
                "service_code": "microbasural",
                "lat": "-39.452",
                "long": "-72.775",
                "attribute[severidad]": "2",
            },
        ),
    ),
    # public, generalised: a report is visible to everyone, without its exact location
    "GET /open311/v2/requests/{request_id}.{fmt}": (
        ALL,
        get("/open311/v2/requests/{c.report}.json"),
    ),
}


def _routes() -> list[str]:
    app = create_app(DatabaseSettings())
    spec = app.openapi()
    return [f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops]


def test_every_route_is_in_the_matrix() -> None:
    routes = _routes()
    missing = [route for route in routes if route not in MATRIX]
    stale = [route for route in MATRIX if route not in routes]
    hint = "\n".join(
        f'    "{route}": ("U D D D D D A", get("...")),  # columns: {" ".join(ROLES)}'
        for route in missing
    )
    assert not missing, f"Rutas sin fila en MATRIX (tests/test_authz_matrix.py); agregue:\n{hint}"
    assert not stale, f"Filas de MATRIX sin ruta: {stale}"


@pytest.fixture
def setup(client: TestClient, db: Session) -> tuple[dict[str, dict[str, str]], Ctx]:
    secrets = {
        "police": make_key(db, role=Role.POLICE, institution="carabineros"),
        "pdi": make_key(db, role=Role.POLICE, institution="pdi"),
        "unit": make_key(db, role=Role.UNIT, unit="Alumbrado público"),
        "other_unit": make_key(db, role=Role.UNIT, unit="Aseo y ornato"),
        "planner": make_key(db, role=Role.PLANNER),
        "admin": make_key(db, role=Role.ADMIN),
    }
    headers = {"public": {}, **{role: make_auth_headers(s) for role, s in secrets.items()}}

    class _Keys:
        police, admin = secrets["police"], secrets["admin"]

        def h(self, role: str, **extra: str) -> dict[str, str]:
            return {**headers[role], **extra}

    keys: Any = _Keys()
    report = make_report(client, keys)
    for target in ("validado", "derivado"):
        assert move(client, keys, report["id"], target).status_code == 200
    photo = client.post(
        f"/api/v1/risk-factors/{report['id']}/photos",
        files={"file": ("f.png", PNG, "image/png")},
        headers=headers["police"],
    )
    project = client.post(
        "/api/v1/projects",
        json={"comuna": "14103", "name": "Plaza", "typology": "REP"},
        headers=headers["admin"],
    )
    webhook = client.post(
        "/api/v1/webhooks",
        json={"comuna": "14103", "url": "https://alumbrado.example/h"},
        headers=headers["unit"],
    )
    council = client.post(
        "/api/v1/council/sessions",
        json={
            "held_on": "2025-04-07",
            "agreements": [
                {"text": "Poda", "responsible_institution": "DOM", "due_on": "2025-05-30"}
            ],
        },
        headers=headers["admin"],
    ).json()
    activity = client.post(
        "/api/v1/activities", json=activity_row(ref="MATRIZ-1"), headers=headers["admin"]
    ).json()
    db.commit()
    ctx = Ctx(
        report=report["id"],
        photo=photo.json()["id"],
        project=project.json()["id"],
        webhook=webhook.json()["id"],
        council_session=council["id"],
        agreement=council["agreements"][0]["id"],
        activity=activity["id"],
    )
    return headers, ctx


def _ok(expected: str, status: int) -> bool:
    if status >= 500:
        return False
    return {
        "A": status not in (401, 403, 404),
        "a": status not in (401, 403),
        "U": status == 401,
        "D": status == 403,
        "H": status == 404,
    }[expected]


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_matrix(
    route: str, client: TestClient, setup: tuple[dict[str, dict[str, str]], Ctx]
) -> None:
    headers, ctx = setup
    expected, build = MATRIX[route]
    wrong = []
    for role, cell in zip(ROLES, expected.split(), strict=True):
        request = build(ctx)
        request["headers"] = {**request.get("headers", {}), **headers[role]}
        response = client.request(**request)
        if not _ok(cell, response.status_code):
            wrong.append(f"{role}: se esperaba {cell}, llegó {response.status_code}")
    assert not wrong, f"{route}: " + "; ".join(wrong)
