"""Assertions shared by the tests: problem+json shape, RFC 7946, the published schema."""

from __future__ import annotations

from typing import Any

import httpx
from jsonschema import Draft202012Validator
from shapely.geometry import shape
from shapely.geometry.polygon import orient

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    return body


def _check_position(pos: list[float]) -> None:
    assert len(pos) == 2, f"RFC 7946 2-D position expected, got {pos}"
    lon, lat = pos
    assert -180 <= lon <= 180, pos
    assert -90 <= lat <= 90, pos


def _walk(coords: Any) -> None:
    if coords and isinstance(coords[0], int | float):
        _check_position(coords)
    else:
        for c in coords:
            _walk(c)


def assert_rfc7946_geometry(geometry: dict[str, Any]) -> None:
    assert "crs" not in geometry
    _walk(geometry["coordinates"])
    geom = shape(geometry)
    assert geom.is_valid
    if geometry["type"] in ("Polygon", "MultiPolygon"):
        polygons = geom.geoms if geometry["type"] == "MultiPolygon" else [geom]
        for polygon in polygons:
            # exterior rings counter-clockwise (RFC 7946 section 3.1.6)
            assert orient(polygon, 1.0).exterior.coords[:] == polygon.exterior.coords[:]


def assert_feature_collection(body: dict[str, Any]) -> None:
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert "id" in feature
        assert "properties" in feature
        assert_rfc7946_geometry(feature["geometry"])


def assert_matches_schema(
    openapi: dict[str, Any], path: str, method: str, response: httpx.Response
) -> None:
    """The body validates against the response schema published in /openapi.json."""
    operation = openapi["paths"][path][method.lower()]
    declared = operation["responses"][str(response.status_code)]
    media = response.headers["content-type"].split(";")[0]
    content = declared["content"]
    schema = (content.get(media) or content.get("application/json") or {}).get("schema")
    assert schema, f"no schema published for {method} {path} {response.status_code} {media}"
    validator = Draft202012Validator({**schema, "components": openapi["components"]})
    errors = sorted(validator.iter_errors(response.json()), key=str)
    assert not errors, errors[:3]
