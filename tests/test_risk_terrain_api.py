"""`POST/GET /api/v1/risk-terrain` and `vigia risk-terrain compute` over a stored demo world:
the PostGIS features equal an independent brute-force query and the pure features, the
model equals statsmodels fitted directly on the same design, a snapshot recomputes from
its stored inputs alone; bad input is a 422 naming the field and writes nothing."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.demo import complaints as demo_data
from app.demo import risk_factors as demo_risk
from app.demo.rtm_recovery import RECOVERY_SPEC
from app.demo.sources import sources_from_files
from app.demo.world import DemoWorld, simulate
from app.models import RiskTerrainCell, RiskTerrainSnapshot
from app.risk_terrain import store
from app.risk_terrain.features import load_points, sql_features
from app.risk_terrain.grid import build_grid
from app.scoring.risk_terrain import DEFAULT_BANDS_M, rtm_features
from app.settings import get_risk_terrain_settings
from tests.conftest import LANCO_FILE, REPO
from tests.factories.keys import Keys
from tests.helpers import assert_matches_schema, assert_problem

URL = "/api/v1/risk-terrain"
END = date(2024, 12, 1)
BODY = {"period_end": "2024-12-31", "months": 12, "seed": 3}
FACTORS = ["luminaria_apagada", "sitio_eriazo", "microbasural"]


@pytest.fixture(scope="module")
def world() -> DemoWorld:
    sources = sources_from_files(LANCO_FILE, REPO / "data")
    return simulate(sources, seed=1, end=END, years=1, spec=RECOVERY_SPEC)


@pytest.fixture
def stored(db: Session, world: DemoWorld) -> None:
    dmcs = world.sources.dmcs_codes
    rows = [c.as_row() for c in demo_data.complaint_rows(world) if c.category in dmcs]
    import_complaints(db, rows, loaded_by="pruebas")
    demo_risk.submit_plan(db, world.factors, seed=1)
    db.flush()


def _snapshots(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(RiskTerrainSnapshot)) or 0)


@pytest.mark.usefixtures("stored")
def test_features_equal_a_brute_force_query_and_the_pure_features(db: Session) -> None:
    grid = build_grid(db, comuna="14103", cell_m=50.0, max_cells=50_000)
    end = pd.Timestamp("2025-01-01", tz="America/Santiago").to_pydatetime()
    points = load_points(db, comuna="14103", factor_layers=FACTORS, context_layers=[], end=end)
    got = sql_features(db, grid, FACTORS, DEFAULT_BANDS_M)
    assert got.to_numpy().sum() > 0
    # independent: every cell x every point, no index, no k-nearest scan
    pairs = db.execute(
        text(
            "SELECT c.cell, p.layer, ST_Distance(ST_Centroid(c.box), p.g) "
            "FROM rtm_cell c CROSS JOIN rtm_point p"
        )
    ).all()
    distance = pd.DataFrame(pairs, columns=["cell", "layer", "d"])
    for layer in FACTORS:
        mine = distance[distance["layer"] == layer]
        for band in DEFAULT_BANDS_M:
            near = np.zeros(grid.size, dtype=np.int8)
            near[mine.loc[mine["d"] <= band, "cell"].to_numpy()] = 1
            assert (got[f"{layer}:proximidad:{band:g}m"].to_numpy() == near).all()
            inside = mine[mine["d"] < band]
            kernel = 3 / (math.pi * band**2) * (1 - inside["d"] ** 2 / band**2) ** 2
            density = np.bincount(inside["cell"], weights=kernel, minlength=grid.size)
            flag = density > density.mean() + density.std()
            assert (got[f"{layer}:densidad:{band:g}m"].to_numpy() == flag).all(), (layer, band)
    pure = rtm_features(grid.centres, points, DEFAULT_BANDS_M)
    pd.testing.assert_frame_equal(got, pure[got.columns], check_dtype=False)


@pytest.mark.usefixtures("stored")
def test_compute_equals_statsmodels_and_recomputes(
    client: TestClient, keys: Keys, db: Session, openapi: dict[str, Any]
) -> None:
    response = client.post(URL, json={**BODY, "layers": FACTORS}, headers=keys.h("planner"))
    assert response.status_code == 201, response.text
    assert_matches_schema(openapi, URL, "post", response)
    body = response.json()
    assert body["model"]["cells"] > 1000
    assert body["model"]["events"] > 100
    assert {f["layer"] for f in body["factors"]} >= {"sitio_eriazo"}
    snapshot = db.get(RiskTerrainSnapshot, body["id"])
    assert snapshot is not None
    inputs = snapshot.inputs
    # statsmodels directly: the kept features, one dummy per stratum but the first, offset
    cell_m = inputs["cell_m"]
    centres = (np.column_stack((inputs["i"], inputs["j"])) + 0.5) * cell_m
    layers = {k: np.asarray(v["points"]).reshape(-1, 2) for k, v in inputs["layers"].items()}
    features = rtm_features(centres, layers, inputs["bands_m"])
    residents = np.asarray(inputs["residents"])
    lived = residents > 0
    kept = [f["feature"] for f in body["factors"]]
    strata = pd.get_dummies(pd.Series(inputs["strata"])[lived], dtype=float).iloc[:, 1:]
    design = pd.concat(
        [features.loc[lived, kept].astype(float), strata, pd.Series(1.0, index=strata.index)],
        axis=1,
    )
    y = np.asarray(inputs["counts"])[lived]
    assert body["model"]["family"] == "poisson"
    # converged tighter than statsmodels' default (deviance change 1e-8), as the model's
    # profiled Newton fit is: a small p moves in its sixth digit with the last IRLS step
    direct = sm.GLM(
        y, design.to_numpy(), family=sm.families.Poisson(), offset=np.log(residents[lived])
    ).fit(tol=1e-13)
    ci = direct.conf_int()
    for k, factor in enumerate(body["factors"]):
        assert factor["beta"] == pytest.approx(direct.params[k], rel=1e-6)
        assert factor["ci_low"] == pytest.approx(math.exp(ci[k, 0]), rel=1e-6)
        assert factor["ci_high"] == pytest.approx(math.exp(ci[k, 1]), rel=1e-6)
        assert factor["p_value"] == pytest.approx(direct.pvalues[k], rel=1e-6, abs=1e-300)
    # the stored inputs alone give the same model
    again = store.recompute(snapshot)
    assert list(again.table["feature"]) == kept
    np.testing.assert_allclose(again.table["rr"], [f["rr"] for f in body["factors"]])
    # the same request gives the same fingerprints; the cells are stored with their ranks
    second = client.post(URL, json={**BODY, "layers": FACTORS}, headers=keys.h("planner"))
    assert second.json()["input_fingerprint"] == body["input_fingerprint"]
    assert second.json()["result_fingerprint"] == body["result_fingerprint"]
    cells = db.scalars(select(RiskTerrainCell).where(RiskTerrainCell.snapshot_id == body["id"]))
    ranked = sorted(cells, key=lambda c: c.rank)
    assert len(ranked) == body["model"]["cells"]
    assert ranked[0].score == max(c.score for c in ranked) == body["top_cells"][0]["score"]
    read = client.get(f"{URL}/{body['id']}", headers=keys.h("police"))
    assert read.status_code == 200
    assert read.json()["factors"] == body["factors"]
    table = client.get(f"{URL}/{body['id']}", params={"format": "csv"}, headers=keys.h("unit"))
    assert table.headers["content-type"].startswith("text/csv")
    lines = table.text.strip().split("\n")
    assert lines[0].startswith("layer,source,feature")
    assert len(lines) == len(body["factors"]) + 1


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"layers": ["no_existe"]}, "layers"),
        ({"categories": ["999999"]}, "categories"),
        ({"period_end": "2005-12-31"}, "period_end"),
        ({"cell_m": 5}, "cell_m"),
        ({"bands_m": [100, 100]}, "bands_m"),
        ({"months": 0}, "months"),
        ({"validation_months": 24}, "validation_months"),  # would end in the future
        ({"strata": "manzana"}, "strata"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_input_is_a_422_and_writes_nothing(
    client: TestClient, keys: Keys, db: Session, change: dict[str, Any], field: str
) -> None:
    response = client.post(URL, json={**BODY, **change}, headers=keys.h("planner"))
    body = assert_problem(response, 422)
    assert any(field in str(e.get("field", e.get("loc", ""))) for e in body["errors"]), body
    assert _snapshots(db) == 0


@pytest.mark.usefixtures("stored")
def test_a_grid_over_the_cap_is_refused(
    client: TestClient, keys: Keys, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIA_RTM_MAX_CELLS", "500")
    get_risk_terrain_settings.cache_clear()
    try:
        response = client.post(URL, json=BODY, headers=keys.h("planner"))
    finally:
        get_risk_terrain_settings.cache_clear()
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "cell_m"
    assert "500" in body["errors"][0]["reason"]
    assert _snapshots(db) == 0


def test_unknown_snapshot_is_404(client: TestClient, keys: Keys) -> None:
    response = client.get(f"{URL}/00000000-0000-0000-0000-000000000000", headers=keys.h("planner"))
    assert_problem(response, 404, "terreno_de_riesgo_no_encontrado")


def test_roles(client: TestClient, keys: Keys) -> None:
    assert client.post(URL, json=BODY).status_code == 401
    assert client.post(URL, json=BODY, headers=keys.h("police")).status_code == 403
    assert client.post(URL, json=BODY, headers=keys.h("unit")).status_code == 403


@pytest.mark.usefixtures("stored")
def test_latest_terrain_is_an_ogc_collection_with_tiles(client: TestClient, keys: Keys) -> None:
    import mapbox_vector_tile

    first = client.post(URL, json={**BODY, "layers": FACTORS}, headers=keys.h("planner"))
    latest = client.post(URL, json={**BODY, "layers": FACTORS[:2]}, headers=keys.h("planner"))
    assert first.status_code == latest.status_code == 201
    base = "/ogc/collections/terreno-de-riesgo"
    assert client.get(f"{base}/items").status_code == 401
    items = client.get(f"{base}/items", params={"filter": "rank <= 3"}, headers=keys.h("planner"))
    assert items.status_code == 200, items.text
    features = items.json()["features"]
    assert len(features) == 3
    assert {f["properties"]["snapshot"] for f in features} == {latest.json()["id"]}
    assert features[0]["geometry"]["type"] == "Polygon"
    filtered = client.get(
        f"{base}/items", params={"filter": "hot_spot = 'caliente'"}, headers=keys.h("police")
    )
    assert filtered.status_code == 200
    tile = client.get(f"{base}/tiles/WebMercatorQuad/14/4879/10148", headers=keys.h("planner"))
    assert tile.status_code == 200, tile.text
    layer = mapbox_vector_tile.decode(tile.content)["terreno-de-riesgo"]
    assert layer["features"]
    assert {"score", "rank", "hot_spot"} <= set(layer["features"][0]["properties"])


@pytest.mark.usefixtures("stored")
def test_bulletin_shows_the_factor_table_and_the_terrain_map(
    client: TestClient, keys: Keys, db: Session
) -> None:
    from datetime import UTC, datetime

    from app.reports.bulletin import build_bulletin
    from app.reports.period import Month
    from app.reports.render import bulletin_html

    before = build_bulletin(db, "14103", Month(2025, 1), as_of=datetime.now(UTC))
    assert before.terrain is None
    body = client.post(URL, json={**BODY, "layers": FACTORS}, headers=keys.h("planner")).json()
    bulletin = build_bulletin(db, "14103", Month(2025, 1), as_of=datetime.now(UTC))
    assert bulletin.terrain is not None
    assert str(bulletin.terrain.snapshot_id) == body["id"]
    assert bulletin.terrain.factors == body["factors"]
    assert len(bulletin.terrain.drawn) > 0
    html = bulletin_html(bulletin)
    assert "Terreno de riesgo: qué lugares elevan el riesgo" in html
    first = body["factors"][0]
    assert f"{first['rr']:.2f}".replace(".", ",") in html
    assert "Mapa del terreno de riesgo" in html
    # a month before the model's period ends does not show it
    earlier = build_bulletin(db, "14103", Month(2024, 11), as_of=datetime.now(UTC))
    assert earlier.terrain is None


@pytest.mark.usefixtures("stored")
def test_a_profile_takes_its_factor_weights_from_a_cited_model(
    client: TestClient, keys: Keys
) -> None:
    body = client.post(URL, json={**BODY, "layers": FACTORS}, headers=keys.h("planner")).json()
    profiles = "/api/v1/rankings/profiles"
    weights = {"dmcs_rate": 1, "risk_factor_load": 1}
    made = client.post(
        profiles,
        json={"name": "con-terreno", "weights": weights, "risk_factor_weights_from": body["id"]},
        headers=keys.h("admin"),
    )
    assert made.status_code == 201, made.text
    expected = {f["layer"]: round(f["rr"], 4) for f in body["factors"]}
    assert made.json()["risk_factor_weights"] == expected
    assert body["id"] in made.json()["description"]
    for extra, _field in (
        ({"risk_factor_weights_from": "00000000-0000-0000-0000-000000000000"}, "from"),
        ({"risk_factor_weights_from": body["id"], "risk_factor_weights": {"a": 1.0}}, "from"),
    ):
        refused = client.post(
            profiles, json={"name": "otro", "weights": weights, **extra}, headers=keys.h("admin")
        )
        problem = assert_problem(refused, 422)
        assert problem["errors"][0]["field"] == "risk_factor_weights_from"
    names = [p["name"] for p in client.get(profiles, headers=keys.h("admin")).json()]
    assert "otro" not in names


@pytest.mark.usefixtures("stored")
def test_cli_computes_stores_and_prints_the_factors(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections.abc import Iterator
    from contextlib import contextmanager

    from typer.testing import CliRunner

    from app.cli import cli
    from app.risk_terrain import cli as risk_terrain_cli

    @contextmanager
    def same_session(**_: Any) -> Iterator[Session]:
        yield db

    monkeypatch.setattr(risk_terrain_cli, "transaction", same_session)
    arguments = ["risk-terrain", "compute", "--end", "2024-12-31", "--seed", "3"]
    run = CliRunner(env={"COLUMNS": "200"}).invoke(cli, [*arguments, "--layers", ",".join(FACTORS)])
    assert run.exit_code == 0, run.output
    assert "sitio_eriazo" in run.output
    assert "id: " in run.output
    assert "huella de entradas: " in run.output
    assert _snapshots(db) == 1
    unknown = CliRunner().invoke(cli, [*arguments, "--layers", "no_existe"])
    assert unknown.exit_code == 1
    assert _snapshots(db) == 1
