"""Plan indicators changed by issue #21: georeferencing counts rural complaints with a good
point, drug trafficking is the ranking's definition, and the traffic light of the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.categories import groups
from app.complaints.ingest import import_complaints
from app.reports.indicators import dmcs_georeferenced
from app.reports.period import year_period
from app.reports.plan import IndicatorResult, PlanGoal, PlanIndicator, PlanObjective
from app.scoring import inputs as ranking_inputs

TOWN = (-72.775, -39.452)  # a micro-barrio of Lanco town
RURAL = (-72.5695, -39.5254)  # the rural remainder (BRUR): a barrio without micro-barrios


def _row(ref: str, category: str, point: tuple[float, float], precision: str) -> dict[str, Any]:
    return {
        "external_ref": ref,
        "source": "carabineros",
        "category": category,
        "occurred_at": "2025-05-10T10:00:00",
        "lon": point[0],
        "lat": point[1],
        "precision": precision,
    }


def test_the_plan_and_the_ranking_share_one_drug_trafficking_definition() -> None:
    assert ranking_inputs.DRUG_TRAFFICKING_CODES is groups.DRUG_TRAFFICKING_CODES
    assert groups.DRUG_TRAFFICKING_CODES == ("40101", "40102", "40103")


def test_georeferencing_counts_rural_points_and_the_rankings_drug_codes(db: Session) -> None:
    # 151 is DMCS; 40103 (elaboración) is trafficking for the ranking; 40104 and 70201 are not
    rows = [
        _row("G1", "151", TOWN, "exact"),  # placed
        _row("G2", "151", RURAL, "exact"),  # placed: rural, no micro-barrio (was not counted)
        _row("G3", "40103", RURAL, "block"),  # placed, counted as trafficking
        _row("G4", "151", TOWN, "approximate"),  # not placed
        _row("G5", "40104", TOWN, "approximate"),  # not in the indicator at all
        _row("G6", "70201", TOWN, "approximate"),  # not in the indicator at all
    ]
    import_complaints(db, rows, loaded_by="pruebas")
    as_of = datetime.now(UTC)  # complaints are received now
    # 3 placed of 4 counted -> 75.0 (before #21: 1 of 3 -> 33.3, 40103 ignored, rural capped)
    assert dmcs_georeferenced(db, "14103", year_period(2025), as_of) == 75.0


def _result(
    value: float | None, target: float, unit: str, elapsed: float, direction: str = "at_least"
) -> IndicatorResult:
    item = PlanIndicator(
        code="I.1.M1.a",
        indicator="x",
        unit=unit,
        target=target,
        direction=direction,  # type: ignore[arg-type]
        means_of_verification="y",
    )
    goal = PlanGoal(code="I.1.M1", goal="g", indicators=[item])
    objective = PlanObjective(
        code="I.1", ambito="Ámbito I: Institucionalidad", objective="o", goals=[goal]
    )
    return IndicatorResult(objective, goal, item, value, "calculado", None, elapsed)


def test_the_traffic_light() -> None:
    assert _result(None, 12, "número", 0.5).light == "gris"
    assert _result(12, 12, "número", 0.5).light == "verde"
    assert _result(6, 12, "número", 0.5).light == "amarillo"  # half the year, half the target
    assert _result(5, 12, "número", 0.5).light == "rojo"
    assert _result(85, 90, "porcentaje", 0.5).light == "amarillo"  # within 10 points
    assert _result(79, 90, "porcentaje", 0.5).light == "rojo"
    assert _result(6, 5, "número", 1.0, "at_most").light == "amarillo"
    assert _result(7, 5, "número", 1.0, "at_most").light == "rojo"


def test_the_dashboard_lists_every_meta_with_a_light(client: TestClient, keys: Any) -> None:
    response = client.get("/api/v1/plan/dashboard?year=2025", headers=keys.h("planner"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["goals"] == 29
    assert len({r["goal"] for r in body["rows"]}) == 29
    assert {r["light"] for r in body["rows"]} <= {"verde", "amarillo", "rojo", "gris"}
    sessions = next(r for r in body["rows"] if r["code"] == "I.1.M1.a")
    assert (sessions["value"], sessions["source"], sessions["light"]) == (0.0, "calculado", "rojo")
    manual = next(r for r in body["rows"] if r["code"] == "III.4.M1.a")
    assert manual["source"] == "sin dato"
    assert manual["manual_reason"]
    assert client.get("/api/v1/plan/dashboard?year=2025", headers=keys.h("unit")).status_code == 403
