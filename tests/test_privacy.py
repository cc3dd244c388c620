"""Public outputs: suppression that survives a recovery attempt, and the privacy scanner."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.complaints.ingest import import_complaints
from app.privacy.check import Rules, scan
from app.privacy.runner import check_all, rules_from_db
from app.privacy.suppression import COMPLEMENTARY, suppress
from tests.factories.complaints import complaint_count
from tests.factories.keys import Keys
from tests.factories.risk import FAR_IN_TOWN, LANCO_TOWN, make_report
from tests.helpers import assert_matches_schema, assert_problem

STATS = "/api/v1/public/stats"


def _recover(table: Any, rows: list[str], columns: list[str]) -> dict[tuple[str, str], int]:
    """The attack: any line with one unknown cell and a known total gives that cell away."""
    cells = dict(table.cells)
    recovered: dict[tuple[str, str], int] = {}
    progress = True
    while progress:
        progress = False
        lines = [([(r, c) for c in columns], table.row_totals[r]) for r in rows] + [
            ([(r, c) for r in rows], table.column_totals[c]) for c in columns
        ]
        for keys, total in lines:
            unknown = [k for k in keys if not isinstance(cells[k], int)]
            if isinstance(total, int) and len(unknown) == 1:
                value = total - sum(cells[k] for k in keys if isinstance(cells[k], int))
                cells[unknown[0]] = recovered[unknown[0]] = value
                progress = True
    return recovered


@pytest.mark.parametrize(
    "counts",
    [
        {("a", "1"): 3, ("a", "2"): 10, ("b", "1"): 8, ("b", "2"): 12},
        {("a", "1"): 1, ("a", "2"): 0, ("a", "3"): 9, ("b", "1"): 0, ("b", "2"): 2},
        {("a", "1"): 4, ("b", "2"): 4, ("c", "3"): 4},
        {("a", "1"): 2},
        {("a", "1"): 6, ("a", "2"): 7, ("b", "1"): 1, ("b", "2"): 30, ("c", "1"): 20},
    ],
)
def test_hidden_cells_cannot_be_recovered_from_totals(counts: dict[tuple[str, str], int]) -> None:
    rows = sorted({r for r, _ in counts} | {"a", "b", "c"})
    columns = sorted({c for _, c in counts} | {"1", "2", "3"})
    table = suppress(counts, rows, columns, 5)
    for key, n in counts.items():
        if 0 < n < 5:
            assert table.cells[key] == "<5"
    assert _recover(table, rows, columns) == {}
    for key in table.hidden:
        assert table.cells[key] in ("<5", COMPLEMENTARY)


def test_primary_suppression_alone_would_leak() -> None:
    counts = {("a", "1"): 3, ("a", "2"): 10, ("b", "1"): 8, ("b", "2"): 12}
    table = suppress(counts, ["a", "b"], ["1", "2"], 5)
    assert table.cells["a", "2"] == COMPLEMENTARY  # without it, 13 - 10 = 3
    assert table.row_totals["a"] == 13


def _complaint(ref: str, category: str, when: str, point: tuple[float, float]) -> dict[str, Any]:
    return {
        "external_ref": ref,
        "source": "carabineros",
        "category": category,
        "occurred_at": when,
        "lon": point[0],
        "lat": point[1],
        "precision": "exact",
        "address": "Pasaje Los Aromos 123, casa de la víctima",
    }


@pytest.fixture
def complaints(db: Session) -> None:
    rows = [_complaint(f"G-{i}", "556", "2025-03-10T12:00:00", LANCO_TOWN) for i in range(3)]
    rows += [_complaint(f"H-{i}", "556", "2025-04-10T12:00:00", LANCO_TOWN) for i in range(12)]
    rows += [_complaint(f"S-{i}", "251", "2025-05-10T12:00:00", FAR_IN_TOWN) for i in range(4)]
    import_complaints(db, rows, loaded_by="carabineros/prueba")
    db.commit()


@pytest.mark.usefixtures("complaints")
def test_public_stats_suppress_and_keep_sensitive_at_comuna_by_quarter(
    client: TestClient, db: Session, openapi: dict[str, Any]
) -> None:
    before = complaint_count(db)
    response = client.get(STATS, params={"year": 2025, "level": "barrio"})
    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, STATS, "get", response)
    body = response.json()
    assert all(u["population"] >= 1000 for u in body["units"])
    counts = [c["count"] for c in body["cells"]]
    assert "<5" in counts  # the 3 in March
    assert "suprimido" in counts  # the 12 in April: with the barrio total, it would give 3
    assert 15 in [t["count"] for t in body["unit_totals"]]
    assert not any(isinstance(c, int) and 0 < c < 5 for c in counts)
    assert body["sensitive_by_quarter"][1]["count"] == "<10"  # 4 in the second quarter
    text = response.text
    assert "Aromos" not in text
    assert "251" not in [c.get("category") for c in body["cells"]]
    assert scan(STATS, body, rules_from_db(db)) == []
    assert complaint_count(db) == before


def test_public_stats_reject_bad_parameters(client: TestClient) -> None:
    for params in ({"level": "micro_barrio"}, {"year": "1900"}, {"family": "'; DROP"}):
        assert_problem(client.get(STATS, params=params), 422)


def test_scanner_finds_every_kind_of_leak(db: Session) -> None:
    rules = Rules(
        sensitive_codes=frozenset({"251", "2"}),
        exact_points=frozenset({(-72.775, -39.452)}),
    )
    leaky = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-72.7751234567, -39.4521234]},
                "properties": {"category": "251", "barrio": "B01001", "count": 2},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-72.775, -39.452]},
                "properties": {
                    "description": "vecina de 14 años",
                    "officer_id": "CB-12345",
                    "count": 3,
                },
            },
        ],
    }
    found = {v.rule for v in scan("/api/v1/public/fuga", leaky, rules)}
    assert found == {
        "coordenada demasiado precisa",
        "punto de categoría sensible",
        "categoría sensible bajo el nivel comunal",
        "conteo pequeño sin suprimir",
        "punto exacto de una denuncia o factor",
        "texto libre",
        "identificador de funcionario o caso",
    }


@pytest.mark.usefixtures("complaints")
def test_every_public_endpoint_passes_the_check(client: TestClient, db: Session) -> None:
    keys = Keys(db)
    make_report(client, keys)
    report = check_all(client, rules_from_db(db))
    assert "/api/v1/public/stats?level=barrio" in report.checked
    assert "/api/v1/public/risk-factors" in report.checked
    assert "/open311/v2/requests.json" in report.checked  # the {fmt} routes, as JSON
    assert report.violations == [], [str(v) for v in report.violations]


def test_check_fails_on_a_leaky_endpoint(client: TestClient, app: Any, db: Session) -> None:
    @app.get("/api/v1/public/fuga")
    def leak() -> dict[str, Any]:
        return {"features": [{"type": "Feature", "officer_id": "CB-1", "count": 1}]}

    app.openapi_schema = None
    report = check_all(client, rules_from_db(db))
    assert {v.rule for v in report.violations} == {
        "identificador de funcionario o caso",
        "conteo pequeño sin suprimir",
    }


def test_privacy_check_cli(database_url: str) -> None:
    from app.settings import get_database_settings

    get_database_settings.cache_clear()
    try:
        run = CliRunner(env={"VIGIA_DATABASE_URL": database_url}).invoke(cli, ["privacy", "check"])
    finally:
        get_database_settings.cache_clear()
    assert run.exit_code == 0, run.output
    assert "Sin infracciones" in run.output


def test_scanner_flags_a_label_below_its_threshold_not_above() -> None:
    # "<5" on a sensitive family reveals 1..4 where 1..9 is due; "<10" on a mixed family's
    # report row (it counts a sensitive category too) hides more than "<5" would: fine.
    rules = Rules(sensitive_codes=frozenset({"2"}))
    rows = [{"family": "2", "count": "<5"}, {"family": "7", "count": "<10"}]

    found = scan("cuenta pública", rows, rules)

    assert [(v.path, v.rule) for v in found] == [("$[0].count", "umbral de supresión insuficiente")]
