"""Report API (roles, generation, listing, download), project evaluation and the CLI."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.models import GeneratedReport, PlanIndicatorValue, ProjectStatus, Role
from app.timezone import CHILE_TZ
from tests.factories.keys import make_auth_headers, make_key
from tests.factories.tables import make_complaint, make_factor, make_project, make_resolved_history
from tests.helpers import assert_matches_schema, assert_problem

P = (-72.766572, -39.455301)  # in micro-barrio B01002-03
NEAR = (P[0], P[1] + 0.00045)  # ~50 m north
FAR = (P[0], P[1] + 0.0018)  # ~200 m north
MALALHUE = {
    "B03001-01": (-72.511981, -39.542169),
    "B03001-02": (-72.511441, -39.538433),
    "B03001-03": (-72.508205, -39.539719),
}


def chile(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00").replace(tzinfo=CHILE_TZ)


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


# --- before/after evaluation ---------------------------------------------------------------


@pytest.fixture
def finished_project(db: Session) -> int:
    project = make_project(
        db,
        name="Luminarias B01002",
        status=ProjectStatus.TERMINADO,
        start=date(2025, 1, 10),
        end=date(2025, 3, 31),
    )
    make_factor(
        db,
        type_code="luminaria_apagada",
        lon=P[0],
        lat=P[1],
        received_at=chile("2025-01-05"),
        history=make_resolved_history(
            chile("2025-01-05"), chile("2025-01-06"), chile("2025-03-31")
        ),
        project_id=project.id,
    )
    # windows of 60 days around 1 April 2025: [31 Jan, 1 Apr) and [1 Apr, 31 May)
    for day in ("2025-02-10", "2025-02-20", "2025-03-05", "2025-03-25"):
        make_complaint(db, occurred_at=chile(day), lon=NEAR[0], lat=NEAR[1])
    make_complaint(db, occurred_at=chile("2025-04-20"), lon=NEAR[0], lat=NEAR[1])
    make_complaint(db, occurred_at=chile("2025-04-21"), lon=FAR[0], lat=FAR[1])  # beyond 100 m
    make_complaint(db, occurred_at=chile("2025-01-10"), lon=NEAR[0], lat=NEAR[1])  # before window
    counts = {"B03001-01": (4, 2), "B03001-02": (3, 3), "B03001-03": (5, 0)}
    for code, (before, after) in counts.items():
        lon, lat = MALALHUE[code]
        for i in range(before):
            make_complaint(
                db, occurred_at=chile("2025-03-01") + timedelta(days=i), lon=lon, lat=lat
            )
        for i in range(after):
            make_complaint(
                db, occurred_at=chile("2025-04-10") + timedelta(days=i), lon=lon, lat=lat
            )
    db.flush()
    return project.id


def test_evaluation_counts_by_distance_and_comparison(
    client: TestClient, db: Session, finished_project: int, openapi: dict
) -> None:
    planner = make_key(db, role=Role.PLANNER)
    url = f"/api/v1/projects/{finished_project}/evaluation?radius_m=100&window_days=60"
    response = client.get(url, headers=make_auth_headers(planner))
    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, "/api/v1/projects/{project_id}/evaluation", "get", response)
    e = response.json()
    assert (e["treated_before"], e["treated_after"]) == (4, 1)
    # closest pre-period counts to 4: B03001-01 (4), then B03001-02 and -03 (3 and 5)
    assert e["comparison_units"] == ["B03001-01", "B03001-02", "B03001-03"]
    assert (e["comparison_before"], e["comparison_after"]) == (12, 5)
    assert e["expected_after"] == pytest.approx(round(4 * 5 / 12, 1))
    assert e["relative_effect"] == pytest.approx(round((1 / 4) / (5 / 12) - 1, 3))
    se = math.sqrt(1 / 1 + 1 / 4 + 1 / 12 + 1 / 5)
    low = math.exp(math.log(0.6) - 1.96 * se) - 1
    assert e["interval"][0] == pytest.approx(round(low, 3))
    assert "pocos casos (5" in e["caveat"]
    assert "no es concluyente" in e["caveat"]
    assert e["window_days"] == 60
    assert not e["window_shortened"]


def test_evaluation_refuses_what_cannot_be_evaluated(
    client: TestClient, db: Session, finished_project: int
) -> None:
    planner = make_key(db, role=Role.PLANNER)
    running = make_project(
        db, name="En curso", status=ProjectStatus.EN_EJECUCION, start=date(2025, 1, 1), end=None
    )
    db.flush()
    h = make_auth_headers(planner)
    url = "/api/v1/projects/{}/evaluation"
    assert_problem(client.get(url.format(running.id), headers=h), 409, "proyecto_no_terminado")
    problem = assert_problem(
        client.get(url.format(finished_project) + "?radius_m=5", headers=h), 422
    )
    assert problem["errors"][0]["field"] == "radius_m"
    assert_problem(client.get(url.format(999999), headers=h), 404)
    assert_problem(client.get(url.format(finished_project)), 401)


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
