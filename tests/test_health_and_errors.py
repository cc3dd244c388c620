"""Health, and the problem+json contract when things go wrong."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.api.deps import SessionDep
from app.main import create_app
from app.settings import DatabaseSettings
from tests.helpers import assert_matches_schema, assert_problem

DOWN = DatabaseSettings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nadie")


def test_health_reports_postgis_and_migrations(client: TestClient, openapi: dict[str, Any]) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] is True
    assert body["postgis_version"].startswith("3.")
    assert body["migrations_at_head"] is True
    assert body["revision"] == body["expected_revision"]
    assert_matches_schema(openapi, "/health", "get", response)


def test_health_is_503_when_the_database_is_down() -> None:
    with TestClient(create_app(DOWN), raise_server_exceptions=False) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] is False
    assert "no se puede conectar" in body["detail"]


def test_data_routes_answer_503_problem_when_the_database_is_down() -> None:
    with TestClient(create_app(DOWN), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/barrios")
    body = assert_problem(response, 503, "servicio_no_disponible")
    assert response.headers["retry-after"]
    assert "psycopg" not in response.text
    assert "SELECT" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nada"), 404, "no_encontrado")
    assert_problem(client.delete("/api/v1/barrios"), 405, "metodo_no_permitido")


def test_problem_carries_the_request_id(client: TestClient) -> None:
    response = client.get("/api/v1/barrios/NOPE", headers={"X-Request-ID": "abc-123"})
    body = assert_problem(response, 404)
    assert body["request_id"] == "abc-123"
    assert body["type"] == "urn:vigia:problema:barrio_no_encontrado"
    assert body["title"]
    assert body["detail"]


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"listBarrios", "getBarrio", "listMicroBarrios", "locatePoint", "health"} <= ids


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    sane = client.get("/ogc/conformance", headers={"X-Request-ID": "campo-7"})
    assert sane.status_code == 200
    assert sane.headers["x-request-id"] == "campo-7"
    made = client.get("/ogc/conformance", headers={"X-Request-ID": "x" * 65})
    assert len(made.headers["x-request-id"]) == 32
    assert made.headers["x-request-id"] != "x" * 65
    assert len(client.get("/ogc/conformance").headers["x-request-id"]) == 32


def test_a_query_cut_by_the_statement_timeout_is_a_clear_503(database_url: str) -> None:
    app = create_app(DatabaseSettings(database_url=database_url, statement_timeout_ms=100))

    @app.get("/_prueba/lenta")
    def slow(session: SessionDep) -> dict[str, str]:
        session.execute(text("SELECT pg_sleep(1)"))
        return {}

    with TestClient(app, raise_server_exceptions=False) as client:
        body = assert_problem(client.get("/_prueba/lenta"), 503, "consulta_demasiado_larga")
    assert "VIGIA_STATEMENT_TIMEOUT_MS" in body["detail"]
    assert "no está disponible" not in body["detail"]
