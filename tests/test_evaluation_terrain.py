"""An evaluation whose targets are a risk-terrain snapshot's cells (#17, item 6), over the API.

The snapshot is made by hand (cells of 50 m at known places, ranked by hand) so each count
has an independent answer: the treated area is the union of the chosen cells, the ring and
the comparison follow the evaluation's usual rule. Bad input is a 422 naming the field and
stores nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models import Comuna, ProjectEvaluation, RiskTerrainSnapshot, Role
from tests.factories.keys import make_auth_headers, make_key
from tests.helpers import assert_matches_schema, assert_problem
from tests.test_project_evaluation import (
    EVENT,
    NEAR,
    RING_BINS,
    TREATED_BINS,
    _place,
    planted_project,
)

URL = "/api/v1/projects/{}/evaluation"
QUERY = "?window_days=90"
FAR = (-72.7790, -39.4420)  # Lanco town, > 1 km from the project: ranked 2nd to 4th
CELLS = 40  # top_5: 2 cells (ranks 1-2), top_10: 4, top_20: 8


@pytest.fixture
def lit(db: Session) -> int:
    """The IL project of tests/test_project_evaluation.py with its planted series."""
    return planted_project(db)


def _snapshot(
    db: Session,
    *,
    comuna: str = "14103",
    period_end: date = date(2024, 12, 31),
    at_rank: dict[int, tuple[float, float]],
) -> uuid.UUID:
    """A snapshot of `CELLS` cells of 50 m: the ones in `at_rank` centred on those points,
    the rest stacked far to the south-west (no complaint falls there)."""
    snapshot = RiskTerrainSnapshot(
        comuna_code=comuna,
        period_start=period_end - timedelta(days=364),
        period_end=period_end,
        categories=["dmcs"],
        cell_m=50.0,
        seed=1,
        method_version=1,
        input_fingerprint="a" * 64,
        result_fingerprint="b" * 64,
        computed_at=datetime.now(UTC),
        computed_by="pruebas",
        inputs={},
        factors=[],
        meta={},
    )
    db.add(snapshot)
    db.flush()
    for rank in range(1, CELLS + 1):
        lon, lat = at_rank.get(rank, (-72.90 + rank * 0.001, -39.60))
        db.execute(
            text(
                "INSERT INTO risk_terrain_cell (snapshot_id, cell, events, score, rank, "
                "hot_spot, geom) SELECT :id, :cell, 0, :score, :rank, 'no_significativo', "
                "ST_Transform(ST_Expand(ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), 4326), "
                "32718), 25), 4326)"
            ),
            {"id": snapshot.id, "cell": rank - 1, "score": 10.0 - rank / 10, "rank": rank}
            | {"x": lon, "y": lat},
        )
    return snapshot.id


def _get(client: TestClient, db: Session, url: str) -> dict:
    response = client.get(url, headers=make_auth_headers(make_key(db, role=Role.PLANNER)))
    assert response.status_code == 200, response.text
    return response.json()


def test_top_cells_are_the_treated_area_and_the_snapshot_is_cited(
    client: TestClient,
    db: Session,
    lit: int,
    openapi: dict,
) -> None:
    far = [(FAR[0] + 0.008 * k, FAR[1]) for k in range(3)]  # ~690 m apart
    snapshot = _snapshot(db, at_rank={1: NEAR, 2: far[0], 3: far[1], 4: far[2]})
    # ranks 2-4: one night complaint each in the window before, two after
    for point in far:
        _place(db, point, [0, 0, 0, 0, 1, 0, 1, 1, 0])
    db.flush()
    base = URL.format(lit) + QUERY + f"&catchment_m=300&terrain_id={snapshot}"
    response = client.get(
        base + "&terrain_cells=top_5", headers=make_auth_headers(make_key(db, role=Role.POLICE))
    )
    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, "/api/v1/projects/{project_id}/evaluation", "get", response)
    top5 = response.json()
    # top_5 of 40 cells: ranks 1 and 2; the cell on NEAR holds exactly the treated series
    expected = [a + b for a, b in zip(TREATED_BINS, [0, 0, 0, 0, 1, 0, 1, 1, 0], strict=True)]
    assert top5["inputs"]["counts"]["tratada"] == expected
    assert top5["area_source"] == "terreno"
    assert top5["terrain"]["snapshot_id"] == str(snapshot)
    assert (top5["terrain"]["cells"], top5["terrain"]["cell_count"]) == ("top_5", 2)
    assert top5["terrain"]["cells_total"] == CELLS
    assert top5["inputs"]["terrain"]["result_fingerprint"] == "b" * 64
    assert top5["summary"].startswith("En las 2 celdas de 50 m del modelo de terreno de riesgo")
    # the ring: 300 m around the cells; RING (150 m north of the NEAR cell) falls in it
    assert top5["inputs"]["counts"]["anillo"] == RING_BINS
    top10 = _get(client, db, base + "&terrain_cells=top_10")
    extra = [3 * v for v in [0, 0, 0, 0, 1, 0, 1, 1, 0]]
    assert top10["inputs"]["counts"]["tratada"] == [
        a + b for a, b in zip(TREATED_BINS, extra, strict=True)
    ]
    assert top10["input_fingerprint"] != top5["input_fingerprint"]
    # the independent count: night IL complaints inside the top-4 cells, 90-day windows
    direct = db.scalar(
        text(
            "SELECT count(*) FROM complaint c WHERE EXISTS (SELECT 1 FROM risk_terrain_cell t "
            "WHERE t.snapshot_id = :id AND t.rank <= 4 AND ST_Intersects(t.geom, c.geom)) "
            "AND c.occurred_at >= :start AND c.occurred_at < :end AND c.category_code <> '651' "
            "AND extract(hour FROM c.occurred_at AT TIME ZONE 'America/Santiago') >= 20"
        ),
        {"id": snapshot, "start": EVENT - timedelta(days=90), "end": EVENT + timedelta(days=90)},
    )
    assert top10["treated_before"] + top10["treated_after"] == direct


def test_project_cells_and_a_stored_evaluation(
    client: TestClient,
    db: Session,
    lit: int,
) -> None:
    # rank 40 (the lowest) on NEAR: "proyecto" takes it, top_20 (8 cells) does not
    snapshot = _snapshot(db, at_rank={40: NEAR})
    base = URL.format(lit) + QUERY + f"&radius_m=100&terrain_id={snapshot}"
    own = _get(client, db, base + "&terrain_cells=proyecto")
    assert own["terrain"]["cell_count"] == 1
    assert own["inputs"]["counts"]["tratada"] == TREATED_BINS
    planner = make_auth_headers(make_key(db, role=Role.PLANNER))
    query = QUERY + f"&radius_m=100&terrain_id={snapshot}&terrain_cells=proyecto"
    created = client.post(f"/api/v1/projects/{lit}/evaluations{query}", headers=planner)
    assert created.status_code == 201, created.text
    stored = created.json()
    assert stored["input_fingerprint"] == own["input_fingerprint"]
    row = db.get(ProjectEvaluation, uuid.UUID(stored["id"]))
    assert row is not None
    assert row.inputs["terrain"]["snapshot_id"] == str(snapshot)
    read = client.get(f"/api/v1/projects/{lit}/evaluations/{stored['id']}", headers=planner)
    assert read.json()["terrain"] == stored["terrain"] == own["terrain"]


@pytest.mark.parametrize("store", [False, True])
def test_bad_terrain_input_is_a_422_naming_the_field_and_stores_nothing(
    client: TestClient,
    db: Session,
    lit: int,
    store: bool,
) -> None:
    square = "MULTIPOLYGON(((-71 -33,-70.9 -33,-70.9 -32.9,-71 -32.9,-71 -33)))"
    db.add(Comuna(code="13101", name="Otra", population=10, geom=f"SRID=4326;{square}"))
    db.flush()
    mine = _snapshot(db, at_rank={1: NEAR})
    other = _snapshot(db, comuna="13101", at_rank={1: NEAR})
    late = _snapshot(db, period_end=EVENT.date(), at_rank={1: NEAR})  # fitted on the day after
    far = _snapshot(db, at_rank={})  # no cell near the project
    headers = make_auth_headers(make_key(db, role=Role.PLANNER))
    path = f"/api/v1/projects/{lit}/evaluations" if store else URL.format(lit)
    send = client.post if store else client.get
    cases = [
        (f"terrain_id={uuid.uuid4()}", "terrain_id", "no existe"),
        (f"terrain_id={other}", "terrain_id", "comuna 13101"),
        (f"terrain_id={late}", "terrain_id", "no anteriores"),
        (f"terrain_id={far}&terrain_cells=proyecto", "terrain_cells", "ninguna celda"),
        (f"terrain_id={mine}&terrain_cells=top_50", "terrain_cells", "top_5"),
        ("terrain_cells=top_5", "terrain_cells", "solo junto a terrain_id"),
        ("terrain_id=no-es-un-uuid", "terrain_id", ""),
    ]
    for query, field, reason in cases:
        body = assert_problem(send(f"{path}{QUERY}&{query}", headers=headers), 422)
        assert [e["field"] for e in body["errors"]] == [field], query
        assert reason in body["errors"][0]["reason"], (query, body)
    # an empty period: no complaint in the chosen cells (far from every one) before
    empty = assert_problem(send(f"{path}{QUERY}&terrain_id={far}", headers=headers), 422)
    assert empty["code"] == "evaluacion_sin_datos_suficientes"
    assert db.scalar(select(func.count()).select_from(ProjectEvaluation)) == 0


def test_cli_evaluates_on_the_terrain_cells_and_stores(
    db: Session, lit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections.abc import Iterator  # noqa: PLC0415
    from contextlib import contextmanager  # noqa: PLC0415

    from typer.testing import CliRunner  # noqa: PLC0415

    from app.cli import cli  # noqa: PLC0415
    from app.reports import cli as report_cli  # noqa: PLC0415

    @contextmanager
    def same_session(**_: object) -> Iterator[Session]:
        yield db

    monkeypatch.setattr(report_cli, "transaction", same_session)
    snapshot = _snapshot(db, at_rank={1: NEAR})
    runner = CliRunner(env={"COLUMNS": "200"})
    args = ["report", "evaluate", str(lit), "--window-days", "90", "--terrain-id", str(snapshot)]
    shown = runner.invoke(cli, [*args, "--terrain-cells", "top_5"])
    assert shown.exit_code == 0, shown.output
    assert "Área: 2 celdas (top_5)" in shown.output
    assert "En las 2 celdas de 50 m" in shown.output
    assert db.scalar(select(func.count()).select_from(ProjectEvaluation)) == 0
    stored = runner.invoke(cli, [*args, "--store"])
    assert stored.exit_code == 0, stored.output
    row = db.scalars(select(ProjectEvaluation)).one()
    assert row.inputs["terrain"]["cells"] == "top_10"
    assert f"id: {row.id}" in stored.output
    bad = runner.invoke(cli, ["report", "evaluate", str(lit), "--terrain-id", str(uuid.uuid4())])
    assert bad.exit_code == 1
    assert db.scalar(select(func.count()).select_from(ProjectEvaluation)) == 1
