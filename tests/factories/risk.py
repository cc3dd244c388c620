"""Risk-factor reports through the API: request bodies, geometries, and the constants they use."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Base
from tests.factories.keys import Keys

LANCO_TOWN = (-72.775, -39.452)
# ~11 m east of LANCO_TOWN (1e-4 degrees of longitude at 39.45 S is about 8.6 m)
NEAR_TOWN = (-72.77487, -39.452)
FAR_IN_TOWN = (-72.770, -39.455)
SANTIAGO = (-70.65, -33.45)


def make_point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def make_square(lon: float, lat: float, d: float = 0.0005) -> dict[str, Any]:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def make_report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "luminaria_apagada",
        "geometry": make_point(*LANCO_TOWN),
        "severity": 3,
        "description": "Luminaria apagada frente al paradero, vecinos informan robos.",
        "observed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "reporting_unit": "Cuadrante 1 Lanco",
        "officer_id": "CB-12345",
        "attributes": {"luminarias_afectadas": 2, "poste_id": "P-778"},
    }
    body.update(overrides)
    return body


def submit(
    client: TestClient, keys: Keys, *, key: str | None = None, role: str = "police", **body: Any
) -> Any:
    headers = keys.h(role)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/risk-factors", json=make_report_body(**body), headers=headers)


def make_report(client: TestClient, keys: Keys, **body: Any) -> dict[str, Any]:
    response = submit(client, keys, key=str(uuid.uuid4()), **body)
    assert response.status_code == 201, response.text
    return response.json()


def move(
    client: TestClient,
    keys: Keys,
    report_id: str,
    to: str,
    *,
    role: str = "admin",
    etag: str | None = None,
    **extra: Any,
) -> Any:
    if etag is None:
        etag = client.get(f"/api/v1/risk-factors/{report_id}", headers=keys.h("admin")).headers[
            "etag"
        ]
    return client.post(
        f"/api/v1/risk-factors/{report_id}/transitions",
        json={"to": to, **extra},
        headers=keys.h(role, **{"If-Match": etag}),
    )


def counts(db: Session) -> dict[str, int]:
    """Row counts of every risk-factor table: to assert nothing was written."""
    names = [
        "risk_factor_report",
        "report_transition",
        "report_photo",
        "idempotency_record",
        "webhook_delivery",
        "intervention_project",
        "risk_factor_type",
    ]
    return {
        name: db.scalar(select(func.count()).select_from(Base.metadata.tables[name])) or 0
        for name in names
    }
