"""Report API (roles, generation, listing, download), project evaluation and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.models import GeneratedReport, PlanIndicatorValue, Role
from tests.factories.keys import make_auth_headers, make_key
from tests.helpers import assert_matches_schema, assert_problem

# --- roles and generation ------------------------------------------------------------------


def test_report_routes_need_a_planner_or_admin(client: TestClient, db: Session) -> None:
    police = make_key(db, role=Role.POLICE, institution="carabineros")
    body = {"kind": "bulletin", "month": "2025-06", "format": "html"}
    assert_problem(client.get("/api/v1/reports"), 401, "no_autenticado")
    assert_problem(client.post("/api/v1/reports", json=body), 401)
    assert_problem(
        client.get("/api/v1/reports", headers=make_auth_headers(police)), 403, "sin_permiso"
    )
    assert_problem(
        client.post("/api/v1/reports", json=body, headers=make_auth_headers(police)),
        403,
        "sin_permiso",
    )
    assert_problem(client.get("/api/v1/reports/1", headers=make_auth_headers(police)), 403)


def test_planner_generates_lists_and_downloads(
    client: TestClient, db: Session, openapi: dict
) -> None:
    planner = make_key(db, role=Role.PLANNER)
    created = client.post(
        "/api/v1/reports",
        json={"kind": "bulletin", "month": "2025-06", "format": "html"},
        headers=make_auth_headers(planner),
    )
    assert created.status_code == 201, created.text
    assert_matches_schema(openapi, "/api/v1/reports", "post", created)
    report = created.json()
    assert (report["kind"], report["period"], report["format"]) == ("bulletin", "2025-06", "html")
    assert created.headers["location"] == report["download"]

    listed = client.get("/api/v1/reports", headers=make_auth_headers(planner))
    assert_matches_schema(openapi, "/api/v1/reports", "get", listed)
    assert [r["id"] for r in listed.json()] == [report["id"]]

    download = client.get(report["download"], headers=make_auth_headers(planner))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/html")
    assert download.headers["etag"] == f'"{report["sha256"]}"'
    assert "Boletín del Consejo Comunal" in download.text
    assert "boletin-14103-2025-06.html" in download.headers["content-disposition"]
    assert_problem(client.get("/api/v1/reports/999999", headers=make_auth_headers(planner)), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "bulletin", "month": "2025-13"}, "period"),
        ({"kind": "bulletin", "month": "2099-01"}, "period"),
        ({"kind": "spd"}, "month"),
        ({"kind": "annual", "month": "2025-06"}, "year"),
        ({"kind": "informe"}, "kind"),
    ],
)
def test_bad_report_requests_name_the_field(
    client: TestClient, db: Session, body: dict, field: str
) -> None:
    planner = make_key(db, role=Role.PLANNER)
    response = client.post("/api/v1/reports", json=body, headers=make_auth_headers(planner))
    problem = assert_problem(response, 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert db.query(GeneratedReport).count() == 0


# (the project evaluation's API tests are in tests/test_project_evaluation.py)


# --- command line --------------------------------------------------------------------------


def test_cli_generates_lists_and_takes_hand_values(database_url: str, tmp_path: Path) -> None:
    from app.settings import get_database_settings

    runner = CliRunner(env={"VIGIA_DATABASE_URL": database_url, "COLUMNS": "200"})
    get_database_settings.cache_clear()
    try:
        made = runner.invoke(
            cli, ["report", "annual", "--year", "2025", "--format", "html", "-o", str(tmp_path)]
        )
        assert made.exit_code == 0, made.output
        written = tmp_path / "cuenta-publica-14103-2025.html"
        assert "Cuenta pública anual" in written.read_text(encoding="utf-8")
        listed = runner.invoke(cli, ["report", "list"])
        assert listed.exit_code == 0, listed.output
        assert "annual" in listed.stdout
        assert "2025" in listed.stdout

        entered = runner.invoke(
            cli,
            ["report", "set-indicator", "I.1.M3.a", "--year", "2025", "--value", "11"]
            + ["--by", "Secretaría Municipal"],
        )
        assert entered.exit_code == 0, entered.output
        computed = runner.invoke(
            cli,
            ["report", "set-indicator", "II.1.M2.b", "--year", "2025", "--value", "50"]
            + ["--by", "x"],
        )
        assert computed.exit_code == 1
        assert "se calcula" in computed.output
        bad = runner.invoke(cli, ["report", "bulletin", "--month", "2025-6"])
        assert bad.exit_code == 1
        assert "AAAA-MM" in bad.output
    finally:
        get_database_settings.cache_clear()
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(delete(GeneratedReport))
            conn.execute(delete(PlanIndicatorValue))
            assert conn.scalar(text("SELECT count(*) FROM generated_report")) == 0
        engine.dispose()
