"""The public ranking summary: classes by barrio, nothing a count could be backed out of."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import Role
from app.privacy.check import scan
from app.privacy.runner import check_all, rules_from_db
from tests.factories.keys import make_auth_headers, make_key
from tests.helpers import assert_matches_schema, assert_problem
from tests.test_rankings import CASES, make_complaints

URL = "/api/v1/public/rankings"
FORBIDDEN = {"score", "raw", "normalised", "contributions", "top_variables", "diagnostics"}


def _compute_barrio_ranking(client: TestClient, db: Session) -> dict[str, Any]:
    make_complaints(db, CASES, prefix="P")
    planner = make_auth_headers(make_key(db, role=Role.PLANNER))
    body = {"level": "barrio", "comuna": "14103", "period_end": "2026-06-30", "months": 12}
    response = client.post("/api/v1/rankings", json=body, headers=planner)
    assert response.status_code == 201, response.text
    return response.json()


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_summary_has_classes_and_citation_and_nothing_else(
    client: TestClient, db: Session, openapi: dict[str, Any]
) -> None:
    internal = _compute_barrio_ranking(client, db)
    # one barrio below 1,000 residents: withheld, and the rest re-ranked without a gap
    small = internal["units"][1]["code"]
    db.execute(
        text("UPDATE ranking_unit_result SET population = 800 WHERE unit_code = :c"), {"c": small}
    )
    db.commit()

    response = client.get(URL, params={"level": "barrio"})

    assert response.status_code == 200, response.text
    assert_matches_schema(openapi, URL, "get", response)
    body = response.json()
    assert body["snapshot_id"] == internal["id"]
    assert body["period"] == internal["period"]
    assert body["profile"] == {"name": "vigia-barrio", "version": 2}
    assert body["withheld"] == 1
    assert [u["rank"] for u in body["units"]] == list(range(1, len(internal["units"])))
    assert small not in [u["code"] for u in body["units"]]
    expected = [(u["code"], u["class"]) for u in internal["units"] if u["code"] != small]
    assert [(u["code"], u["class"]) for u in body["units"]] == expected
    assert all(set(u) == {"code", "name", "class", "rank", "stable"} for u in body["units"])
    assert all(isinstance(u["stable"], bool) for u in body["units"])
    assert not _keys(body) & FORBIDDEN
    assert "." not in "".join(str(u["rank"]) for u in body["units"])
    assert scan(URL, body, rules_from_db(db)) == []
    # and `vigia privacy check` reaches it (found in the OpenAPI document)
    report = check_all(client, rules_from_db(db))
    assert "/api/v1/public/rankings?level=barrio" in report.checked
    assert report.violations == [], [str(v) for v in report.violations]


def test_no_ranking_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get(URL), 404, "sin_ranking_publicado")
    assert "Sin ranking publicado" in body["detail"]


def test_micro_barrio_is_refused_with_the_reason(client: TestClient) -> None:
    body = assert_problem(client.get(URL, params={"level": "micro_barrio"}), 422)
    assert body["code"] == "nivel_no_publico"
    assert "1.000 habitantes" in body["detail"]
    assert_problem(client.get(URL, params={"level": "comuna"}), 422)


def test_statistics_page_shows_the_public_classes(client: TestClient, db: Session) -> None:
    internal = _compute_barrio_ranking(client, db)

    html = client.get("/estadisticas", params={"year": "2026"}).text

    assert internal["id"] in html
    assert internal["units"][0]["name"] in html
    assert internal["units"][0]["class"] in html
    assert str(internal["units"][0]["score"]) not in html


def test_statistics_page_marks_unstable_places_and_says_why(
    client: TestClient, db: Session
) -> None:
    internal = _compute_barrio_ranking(client, db)
    shaky, firm = internal["units"][0]["code"], internal["units"][1]["code"]
    for code, stable in ((shaky, False), (firm, True)):
        db.execute(
            text(
                "UPDATE ranking_unit_result SET diagnostics = jsonb_set(diagnostics, "
                "'{class_stable}', to_jsonb(CAST(:stable AS boolean))) WHERE unit_code = :c"
            ),
            {"c": code, "stable": stable},
        )
    db.commit()

    html = client.get("/estadisticas", params={"year": "2026"}).text

    rows = {
        code: row for row in html.split("<tr") for code in (shaky, firm) if f">{code} · " in row
    }
    assert "lugar inestable" in rows[shaky]
    assert 'class="inestable"' in rows[shaky]
    assert "lugar inestable" not in rows[firm]
    assert "* Lugar inestable: el ranking se volvió a calcular" in html
    assert "al menos 80 de cada 100 veces" in html
