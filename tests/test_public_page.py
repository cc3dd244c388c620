"""The public statistics page `/estadisticas` and its CSV download."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.privacy import public_page
from app.privacy.check import scan
from app.privacy.runner import rules_from_db
from tests.factories.keys import Keys
from tests.factories.risk import make_report
from tests.helpers import assert_problem
from tests.test_privacy import complaints  # noqa: F401  (fixture)

PARAMS = {"year": "2025", "level": "barrio"}


class _Table(HTMLParser):
    """Rows of the table with id `tabla-denuncias`, header included, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", "tabla-denuncias") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _html_table(html: str) -> list[list[str]]:
    parser = _Table()
    parser.feed(html)
    return parser.rows


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.usefixtures("complaints")
def test_page_shows_the_suppressed_table_the_feed_and_a_chart(
    client: TestClient, db: Session
) -> None:
    make_report(client, Keys(db))

    response = client.get("/estadisticas", params=PARAMS)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for heading in (
        "Estadísticas públicas de seguridad",
        "Denuncias por barrio y mes",
        "Delitos sensibles (comuna completa, por trimestre)",
        "Factores de riesgo urbano informados",
        "Priorización de barrios",
    ):
        assert heading in html
    rows = _html_table(html)
    cells = [v for row in rows[1:] for v in row[2:]]
    assert "&lt;5" in html
    assert "<5" in cells
    assert "suprimido" in cells  # the 12 in April, complementary
    assert "3" not in cells
    assert "&lt;10</td>" in html  # sensitive, second quarter
    assert "<svg" in html
    assert "Descargar CSV" in html
    assert "Sin ranking publicado" in html
    assert "Aromos" not in html  # free text of the fixture's complaints


@pytest.mark.usefixtures("complaints")
def test_csv_is_exactly_the_table_on_the_page(client: TestClient) -> None:
    html = client.get("/estadisticas", params=PARAMS).text
    link = html.split('href="/estadisticas.csv?', 1)[1].split('"', 1)[0].replace("&amp;", "&")

    response = client.get(f"/estadisticas.csv?{link}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert _csv_rows(response.text) == _html_table(html)
    assert len(_html_table(html)) > 2


def test_bad_parameters_are_problems(client: TestClient) -> None:
    for params in ({"level": "micro_barrio"}, {"year": "1900"}, {"family": "x"}):
        assert_problem(client.get("/estadisticas", params=params), 422)
        assert_problem(client.get("/estadisticas.csv", params=params), 422)


@pytest.mark.usefixtures("complaints")
def test_page_data_and_csv_pass_the_privacy_scanner(client: TestClient, db: Session) -> None:
    make_report(client, Keys(db))
    rules = rules_from_db(db)
    data = public_page.page_data(db, comuna=None, level="barrio", year=2025, family=None)
    assert data["risk_factors"]
    assert scan("/estadisticas", data, rules) == []
    rows = _csv_rows(client.get("/estadisticas.csv", params=PARAMS).text)
    as_cells: list[dict[str, Any]] = [
        {"unit": row[0], "month": month, "count": int(v) if v.isdigit() else v}
        for row in rows[1:]
        for month, v in zip(rows[0][2:], row[2:], strict=True)
    ]
    assert scan("/estadisticas.csv", as_cells, rules) == []
    # the same scan catches the table before suppression
    leaky = [{**c, "count": 3} for c in as_cells[:1]]
    assert scan("/estadisticas.csv", leaky, rules) != []
