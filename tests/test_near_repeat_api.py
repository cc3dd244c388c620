"""`GET /api/v1/near-repeat` and `vigia near-repeat`: the Knox table over a comuna's stored
complaints equals the pure table over the same demo world, for planners and admins only;
bad input is a 422 naming the field and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.complaints.ingest import import_complaints
from app.demo import complaints as demo_data
from app.demo.near_repeat_recovery import RECOVERY_SPEC, category_events
from app.demo.sources import sources_from_files
from app.demo.world import DemoWorld, simulate
from app.near_repeat import routes as near_repeat_routes
from app.scoring import near_repeat as nr
from tests.conftest import LANCO_FILE, REPO
from tests.factories.keys import Keys
from tests.helpers import assert_matches_schema, assert_problem

URL = "/api/v1/near-repeat"
END = date(2024, 12, 1)
QUERY = {"category": "551", "months": 24, "end": "2024-12-31", "permutations": 199, "seed": 4}


@pytest.fixture(scope="module")
def world() -> DemoWorld:
    sources = sources_from_files(LANCO_FILE, REPO / "data")
    return simulate(sources, seed=1, end=END, years=2, spec=RECOVERY_SPEC)


@pytest.fixture
def stored(db: Session, world: DemoWorld) -> None:
    rows = [c.as_row() for c in demo_data.complaint_rows(world) if c.category == "551"]
    import_complaints(db, rows, loaded_by="pruebas")
    db.flush()


@pytest.mark.usefixtures("stored")
def test_table_over_stored_complaints_equals_the_pure_table(
    client: TestClient, keys: Keys, world: DemoWorld, openapi: dict[str, Any]
) -> None:
    response = client.get(URL, params=QUERY, headers=keys.h("planner"))
    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, URL, "get", response)
    body = response.json()
    x, y, days = category_events(world, "551", end=END, months=24)
    pure = nr.knox_table(x, y, days, permutations=199, seed=4)
    assert body["events"] == pure.events == len(x)
    assert [c["observed"] for c in body["cells"]] == pure.observed.ravel().tolist()
    assert body["distance_bands"][0] == "0 a 100 m"
    assert body["time_bands"][-1] == "más de 28 días"
    first = body["cells"][0]
    assert first["significant"] is True
    assert first["reading"].startswith("en los 7 días siguientes, a menos de 100 m, el riesgo")
    assert body["period_start"] == "2023-01-01"
    assert body["period_end"] == "2025-01-01"
    # the admin sees the same table; the same seed gives the same p-values
    again = client.get(URL, params=QUERY, headers=keys.h("admin")).json()
    assert [c["p_value"] for c in again["cells"]] == [c["p_value"] for c in body["cells"]]


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(("role", "status"), [("police", 403), ("unit", 403), (None, 401)])
def test_only_planners_and_admins(
    client: TestClient, keys: Keys, role: str | None, status: int
) -> None:
    headers = keys.h(role) if role else {}
    assert_problem(client.get(URL, params=QUERY, headers=headers), status)


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "99999"}, "category"),
        ({"end": "2020-12-31"}, "months"),  # an empty period
        ({"comuna": "13101"}, "comuna"),
        ({"permutations": 0}, "permutations"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: TestClient, keys: Keys, overrides: dict[str, Any], field: str
) -> None:
    response = client.get(URL, params={**QUERY, **overrides}, headers=keys.h("planner"))
    body = assert_problem(response, 422)
    assert field in [e["field"].split(".")[-1] for e in body["errors"]], body


@pytest.mark.usefixtures("stored")
def test_too_many_events_is_refused(
    client: TestClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(near_repeat_routes, "API_MAX_EVENTS", 10)
    body = assert_problem(client.get(URL, params=QUERY, headers=keys.h("planner")), 422)
    assert body["errors"][0]["field"] == "months"
    assert "máximo" in body["errors"][0]["reason"]


@contextmanager
def _same_session(db: Session) -> Iterator[Session]:
    yield db


@pytest.mark.usefixtures("stored")
def test_cli_prints_the_table_and_the_readings(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import cli
    from app.near_repeat import cli as near_repeat_cli

    monkeypatch.setattr(near_repeat_cli, "transaction", lambda **_: _same_session(db))
    arguments = ["near-repeat", "--category", "551", "--months", "24", "--end", "2024-12-31"]
    run = CliRunner(env={"COLUMNS": "250"}).invoke(cli, [*arguments, "--permutations", "99"])
    assert run.exit_code == 0, run.output
    assert "Repetición cercana: 551 Robo en lugar habitado" in run.output
    assert "En los 7 días siguientes, a menos de 100 m, el riesgo es" in run.output
    assert "*" in run.output  # the planted cell is marked significant
    unknown = CliRunner().invoke(cli, ["near-repeat", "--category", "99999"])
    assert unknown.exit_code == 1
