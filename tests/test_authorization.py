"""Who sees what: institution scope on complaints, planner redaction, OIDC bearer tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.api.deps import oidc_settings
from app.complaints.ingest import import_complaints
from app.models import AuditEvent, Complaint, RiskFactorReport, Role
from app.settings import OidcSettings
from tests.factories.complaints import OK_CSV, complaint_count
from tests.factories.keys import Keys, make_auth_headers, make_key
from tests.factories.risk import counts, make_report, make_report_body
from tests.helpers import assert_problem

LIST = "/api/v1/complaints"
STATS = "/api/v1/complaints/stats"
ONE = {
    "external_ref": "AUTH-1",
    "source": "pdi",
    "category": "556",
    "occurred_at": "2025-06-01T21:30:00-04:00",
    "lon": -72.775,
    "lat": -39.452,
    "precision": "exact",
}


@pytest.fixture
def loaded(db: Session) -> None:
    import_complaints(db, OK_CSV, loaded_by="cli:prueba")
    db.commit()


def _refs(client: TestClient, headers: dict[str, str]) -> list[Any]:
    response = client.get(LIST, headers=headers)
    assert response.status_code == 200, response.text
    return sorted(
        (f["properties"]["source"], f["properties"]["external_ref"])
        for f in response.json()["features"]
    )


@pytest.mark.usefixtures("loaded")
def test_police_see_only_their_institution(client: TestClient, db: Session) -> None:
    pdi = make_auth_headers(make_key(db, role=Role.POLICE, institution="pdi"))
    carabineros = make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros"))
    assert {s for s, _ in _refs(client, pdi)} == {"pdi"}
    assert {s for s, _ in _refs(client, carabineros)} == {"carabineros"}
    total = client.get(STATS, headers=pdi).json()["total"]
    assert total == len(_refs(client, pdi))


@pytest.mark.usefixtures("loaded")
def test_planner_sees_exact_points_without_identifiers(client: TestClient, db: Session) -> None:
    planner = make_auth_headers(make_key(db, role=Role.PLANNER))
    body = client.get(LIST, headers=planner).json()
    assert body["features"]
    for feature in body["features"]:
        assert feature["properties"]["external_ref"] is None
        assert feature["properties"]["address"] is None
        assert len(feature["geometry"]["coordinates"]) == 2


@pytest.mark.usefixtures("loaded")
def test_police_cannot_load_or_overwrite_another_institutions_complaint(
    client: TestClient, db: Session
) -> None:
    carabineros = make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros"))
    before = complaint_count(db)
    body = assert_problem(
        client.post(LIST, json={**ONE, "external_ref": "PDI-1"}, headers=carabineros),
        403,
        "sin_permiso",
    )
    assert body["errors"][0]["field"] == "source"
    assert complaint_count(db) == before


# --- OIDC ------------------------------------------------------------------------------------

ISSUER = "https://idp.lanco.example"
AUDIENCE = "vigia"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def oidc(app: Any, rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> Iterator[OidcSettings]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    public.update(kid="k1", use="sig", alg="RS256")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [public]}))
    settings = OidcSettings(issuer=ISSUER, audience=AUDIENCE, jwks_file=str(jwks))
    app.dependency_overrides[oidc_settings] = lambda: settings
    yield settings
    app.dependency_overrides.pop(oidc_settings, None)


def token(key: Any, **overrides: Any) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "funcionario-17",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "vigia_role": "police",
        "vigia_institution": "PDI",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.mark.usefixtures("oidc", "loaded")
def test_valid_token_is_a_caller_with_the_claimed_scope(
    client: TestClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    headers = make_auth_headers(token(rsa_key))
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "police"
    assert me.json()["institution"] == "pdi"
    assert {s for s, _ in _refs(client, headers)} == {"pdi"}


@pytest.mark.usefixtures("oidc")
@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": datetime.now(UTC) - timedelta(hours=1)}, "token_expirado"),
        ({"aud": "otra-app"}, "token_invalido"),
        ({"iss": "https://otro.example"}, "token_invalido"),
        ({"sub": None}, "token_invalido"),
        ({"vigia_role": "superuser"}, "token_sin_rol"),
        ({"vigia_institution": None}, "token_sin_rol"),
    ],
)
def test_bad_tokens_are_401(
    client: TestClient, rsa_key: rsa.RSAPrivateKey, overrides: dict[str, Any], code: str
) -> None:
    response = client.get("/api/v1/me", headers=make_auth_headers(token(rsa_key, **overrides)))
    assert_problem(response, 401, code)


@pytest.mark.usefixtures("oidc")
def test_token_signed_by_another_key_is_401(client: TestClient) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_problem(
        client.get("/api/v1/me", headers=make_auth_headers(token(stranger))), 401, "token_invalido"
    )
    assert_problem(
        client.get("/api/v1/me", headers=make_auth_headers("a.b.c")), 401, "token_invalido"
    )


def test_without_oidc_settings_a_jwt_is_just_a_wrong_key(
    client: TestClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert_problem(
        client.get("/api/v1/me", headers=make_auth_headers(token(rsa_key))), 401, "clave_invalida"
    )


@pytest.mark.usefixtures("oidc")
def test_oidc_police_loading_a_complaint_is_named_by_its_token_subject(
    client: TestClient, db: Session, rsa_key: rsa.RSAPrivateKey
) -> None:
    """A token has no key: the complaint and its audit event name the token's subject."""
    headers = {**make_auth_headers(token(rsa_key)), "X-Request-ID": "req-oidc-carga"}
    response = client.post(LIST, json=ONE, headers=headers)
    assert response.status_code == 201, response.text
    stored = db.scalar(select(Complaint.loaded_by).where(Complaint.external_ref == "AUTH-1"))
    assert stored == "pdi/oidc:funcionario-17"
    actors = db.scalars(
        select(AuditEvent.actor).where(AuditEvent.request_id == "req-oidc-carga")
    ).all()
    assert actors
    assert set(actors) == {"pdi/oidc:funcionario-17"}


@pytest.mark.usefixtures("oidc")
def test_oidc_police_may_not_submit_risk_factors_or_edit_keyless_ones(
    client: TestClient, db: Session, rsa_key: rsa.RSAPrivateKey
) -> None:
    """Idempotency and "the submitter may edit" hang on the API key, which a token lacks."""
    headers = make_auth_headers(token(rsa_key, vigia_institution="carabineros"))
    before = counts(db)
    refused = client.post("/api/v1/risk-factors", json=make_report_body(), headers=headers)
    assert_problem(refused, 403, "sin_permiso")
    assert counts(db) == before
    # a report whose submitting key is gone (SET NULL) is nobody's: a token cannot edit it
    report = make_report(client, Keys(db))
    db.execute(
        update(RiskFactorReport)
        .where(RiskFactorReport.id == report["id"])
        .values(reporter_key_id=None)
    )
    patch = client.patch(
        f"/api/v1/risk-factors/{report['id']}",
        json={"severity": 1},
        headers={**headers, "If-Match": f'"v{report["version"]}"'},
    )
    assert_problem(patch, 403, "sin_permiso")
