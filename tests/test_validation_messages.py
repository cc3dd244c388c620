"""The same pydantic error reads the same in Spanish however the data came in: the JSON
API, a complaints file (per-row errors) or Open311 (app/api/validation_messages.py)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.api.validation_messages import spanish_reason
from tests.factories.complaints import GOOD_ROW, make_complaint_json, make_csv_body
from tests.factories.keys import Keys
from tests.factories.risk import LANCO_TOWN, make_report_body
from tests.helpers import assert_problem

COMPLAINTS = "/api/v1/complaints"
IMPORT = "/api/v1/complaints/import"
OPEN311 = "/open311/v2/requests.json"


@pytest.fixture
def keys(db: Session) -> Keys:
    return Keys(db)


def api_reason(response: Any, field: str) -> str:
    body = assert_problem(response, 422)
    [reason] = [e["reason"] for e in body["errors"] if e["field"] == field]
    return str(reason)


def import_reason(client: TestClient, keys: Keys, body: bytes, media: str, field: str) -> str:
    headers = keys.h("police", **{"Content-Type": media})
    return api_reason(client.post(IMPORT, content=body, headers=headers), field)


def geojson_body(fields: dict[str, object]) -> bytes:
    """One complaint as a GeoJSON file: lon/lat become the geometry."""
    properties = {k: v for k, v in fields.items() if k not in ("lon", "lat")}
    geometry = {"type": "Point", "coordinates": [fields["lon"], fields["lat"]]}
    feature = {"type": "Feature", "geometry": geometry, "properties": properties}
    return orjson.dumps({"type": "FeatureCollection", "features": [feature]})


def test_a_too_short_string_reads_the_same_in_the_api_and_in_a_file(
    client: TestClient, keys: Keys
) -> None:
    body = make_complaint_json("")
    api = api_reason(client.post(COMPLAINTS, json=body, headers=keys.h("police")), "external_ref")
    geo = import_reason(client, keys, geojson_body(body), "application/geo+json", "external_ref")
    # 'debe tener al menos 1 caracteres' (API) and 'no puede estar vacío' (file) once
    assert api == geo == "no puede estar vacío"
    assert spanish_reason({"type": "string_too_short", "ctx": {"min_length": 3}}) == (
        "debe tener al menos 3 caracteres"
    )


def test_a_missing_field_reads_the_same_in_the_api_and_in_both_file_formats(
    client: TestClient, keys: Keys
) -> None:
    without = {k: v for k, v in make_complaint_json("V-1").items() if k != "category"}
    api = api_reason(client.post(COMPLAINTS, json=without, headers=keys.h("police")), "category")
    geo = import_reason(client, keys, geojson_body(without), "application/geo+json", "category")
    cells = GOOD_ROW.split(",")
    cells[2] = ""  # an empty cell is a missing value
    csv = import_reason(client, keys, make_csv_body(",".join(cells)), "text/csv", "category")
    assert api == geo == csv == "campo obligatorio"


def test_a_too_long_string_reads_the_same_in_the_api_and_in_open311(
    client: TestClient, keys: Keys
) -> None:
    long_text = "x" * 2001
    api = api_reason(
        client.post(
            "/api/v1/risk-factors",
            json=make_report_body(description=long_text),
            headers=keys.h("police", **{"Idempotency-Key": str(uuid.uuid4())}),
        ),
        "description",
    )
    assert api == "debe tener como máximo 2000 caracteres"
    lon, lat = LANCO_TOWN
    form = {
        "api_key": keys.police,
        "service_code": "luminaria_apagada",
        "lat": str(lat),
        "long": str(lon),
        "description": long_text,
    }
    refused = client.post(OPEN311, data=form)
    assert refused.status_code == 400  # GeoReport v2 answers bad input with 400
    assert f"description: {api}" in refused.json()[0]["description"]


def test_open311_parameters_are_explained_in_the_same_words(client: TestClient) -> None:
    refused = client.get(OPEN311, params={"status": "pendiente"})
    assert refused.status_code == 400
    reason = spanish_reason({"type": "string_pattern_mismatch", "ctx": {"pattern": "^open$"}})
    assert f"status: {reason}" in refused.json()[0]["description"]
