"""API keys: roles, and the four ways a key can be wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import cli
from app.models import ApiKey, Role
from tests.factories.keys import make_auth_headers, make_key
from tests.helpers import assert_problem


def test_missing_key_on_a_protected_route_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert_problem(response, 401, "no_autenticado")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_wrong_key_is_401(client: TestClient) -> None:
    assert_problem(
        client.get("/api/v1/me", headers=make_auth_headers("vga_nada_nada")), 401, "clave_invalida"
    )


def test_malformed_authorization_header_is_401(client: TestClient, db: Session) -> None:
    secret = make_key(db)
    response = client.get("/api/v1/me", headers={"Authorization": secret})
    assert_problem(response, 401, "clave_invalida")


def test_expired_key_is_401(client: TestClient, db: Session) -> None:
    secret = make_key(db, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    assert_problem(
        client.get("/api/v1/me", headers=make_auth_headers(secret)), 401, "clave_expirada"
    )


def test_revoked_key_is_401(client: TestClient, db: Session) -> None:
    secret = make_key(db, revoked=True)
    assert_problem(
        client.get("/api/v1/me", headers=make_auth_headers(secret)), 401, "clave_revocada"
    )


def test_valid_key_identifies_its_holder(client: TestClient, db: Session) -> None:
    secret = make_key(db, role=Role.POLICE, institution="Carabineros")
    response = client.get("/api/v1/me", headers=make_auth_headers(secret))
    assert response.status_code == 200
    assert response.json() == {
        "role": "police",
        "institution": "carabineros",
        "unit": None,
        "key_name": "prueba police",
    }
    stored = db.scalars(select(ApiKey).order_by(ApiKey.id.desc())).first()
    assert stored is not None
    assert stored.last_used_at is not None
    assert secret not in (stored.key_hash, stored.prefix)


def test_roles_gate_admin_routes(client: TestClient, db: Session) -> None:
    planner = make_key(db, role=Role.PLANNER)
    admin = make_key(db, role=Role.ADMIN)
    assert_problem(
        client.get("/api/v1/api-keys", headers=make_auth_headers(planner)), 403, "sin_permiso"
    )
    response = client.get("/api/v1/api-keys", headers=make_auth_headers(admin))
    assert response.status_code == 200
    listed = response.json()
    assert {k["role"] for k in listed} >= {"planner", "admin"}
    assert all("key_hash" not in k and not k["prefix"].endswith("_") for k in listed)


def test_keys_are_stored_hashed(db: Session) -> None:
    secret = make_key(db)
    stored = db.scalars(select(ApiKey).order_by(ApiKey.id.desc())).first()
    assert stored is not None
    assert len(stored.key_hash) == 64
    assert secret not in stored.key_hash
    assert secret.startswith(stored.prefix + "_")


def test_cli_create_list_revoke(monkeypatch: object, database_url: str) -> None:
    runner = CliRunner(env={"VIGIA_DATABASE_URL": database_url, "COLUMNS": "200"})
    from app.settings import get_database_settings

    get_database_settings.cache_clear()
    try:
        created = runner.invoke(
            cli,
            [
                "apikey",
                "create",
                "--name",
                "Sgto. Pérez",
                "--role",
                "police",
                "--institution",
                "pdi",
            ],
        )
        assert created.exit_code == 0, created.output
        secret = created.stdout.strip().splitlines()[-1]
        prefix = "_".join(secret.split("_")[:2])  # the random part may contain "_"
        listed = runner.invoke(cli, ["apikey", "list"])
        assert prefix in listed.stdout
        assert "vigente" in listed.stdout
        revoked = runner.invoke(cli, ["apikey", "revoke", prefix])
        assert revoked.exit_code == 0
        assert "revocada" in revoked.output
        listed = runner.invoke(cli, ["apikey", "list"])
        assert prefix not in listed.stdout
        unknown = runner.invoke(cli, ["apikey", "revoke", "vga_noexiste"])
        assert unknown.exit_code == 1
        assert "No existe" in unknown.output
    finally:
        get_database_settings.cache_clear()
