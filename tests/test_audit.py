"""The audit trail: what is recorded, who cannot change it, and that tampering is found."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.audit import cli as audit_cli
from app.audit import trail as audit
from app.cli import cli
from app.identity import access
from app.identity.caller import Caller
from app.models import AuditEvent, Role
from tests.factories.images import make_png
from tests.factories.keys import Keys, make_auth_headers, make_key
from tests.factories.risk import make_report, make_report_body
from tests.helpers import assert_matches_schema, assert_problem


def events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_write_is_recorded_with_who_and_the_request_id(client: TestClient, db: Session) -> None:
    keys = Keys(db)
    response = client.post(
        "/api/v1/risk-factors",
        json=make_report_body(),
        headers={**keys.h("police"), "X-Request-ID": "req-audit-1"},
    )
    assert response.status_code == 201, response.text
    # by request id: tests that commit (concurrency) leave submit events behind
    [event] = [e for e in events(db, "risk_factor.submit") if e.request_id == "req-audit-1"]
    assert event.object_id == response.json()["id"]
    assert (event.role, event.institution, event.outcome) == ("police", "carabineros", "ok")
    assert event.actor.startswith("carabineros/vga_")
    assert event.actor == response.json()["timeline"][0]["actor"]["name"]  # one label
    assert event.request_id == "req-audit-1"
    assert len(event.hash) == 64
    assert audit.verify(db).ok


def test_photo_download_is_a_sensitive_read(client: TestClient, db: Session) -> None:
    keys = Keys(db)
    report = make_report(client, keys)
    png = make_png()
    added = client.post(
        f"/api/v1/risk-factors/{report['id']}/photos",
        files={"file": ("f.png", png, "image/png")},
        headers=keys.h("police"),
    )
    assert added.status_code == 201, added.text
    assert client.get(added.json()["url"], headers=keys.h("planner")).status_code == 200
    [read] = events(db, "risk_factor.photo_read")
    assert read.role == "planner"


def test_denied_requests_are_recorded(client: TestClient, db: Session) -> None:
    planner = make_auth_headers(make_key(db, role=Role.PLANNER))
    assert_problem(client.get("/api/v1/audit", headers=planner), 403, "sin_permiso")
    assert_problem(client.get("/api/v1/audit", headers=make_auth_headers("vga_x_y")), 401)
    denied = list(db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denegado")))
    assert [(e.role, e.detail["status"]) for e in denied[-2:]] == [("planner", 403), (None, 401)]


def test_admins_read_the_trail(client: TestClient, db: Session, openapi: dict[str, Any]) -> None:
    admin = make_auth_headers(make_key(db, role=Role.ADMIN))
    response = client.get("/api/v1/audit", params={"action": "api_key.create"}, headers=admin)
    assert response.status_code == 200
    assert_matches_schema(openapi, "/api/v1/audit", "get", response)
    assert response.json()[0]["action"] == "api_key.create"
    verified = client.get("/api/v1/audit/verify", headers=admin)
    assert verified.json()["ok"] is True


def _fails(db: Session, sql: str) -> str:
    with pytest.raises(DBAPIError) as info, db.begin_nested():
        db.execute(text(sql))
    return str(info.value.orig)


def test_the_application_role_cannot_change_the_trail(db: Session) -> None:
    audit.record(db, "prueba", "prueba")
    db.execute(text("SET LOCAL ROLE vigia_app"))
    audit.record(db, "prueba.app", "prueba")  # through audit_append; SELECT is allowed
    assert "permission denied" in _fails(db, "UPDATE audit_event SET outcome = 'x'")
    assert "permission denied" in _fails(db, "DELETE FROM audit_event")
    assert "permission denied" in _fails(db, "TRUNCATE audit_event")
    assert "must be owner" in _fails(db, "ALTER TABLE audit_event DISABLE TRIGGER ALL")
    db.execute(text("RESET ROLE"))


def test_even_a_superuser_is_stopped_by_the_trigger(db: Session) -> None:
    audit.record(db, "prueba", "prueba")
    for sql in (
        "UPDATE audit_event SET outcome = 'x'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ):
        assert "solo agregar" in _fails(db, sql)


@contextmanager
def _tampered(db: Session) -> Iterator[int]:
    for i in range(3):
        audit.record(db, "prueba", "prueba", i)
    ids = db.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(3)).all()
    middle = ids[1]
    db.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update_delete"))
    db.execute(text("UPDATE audit_event SET object_id = 'otro' WHERE id = :id"), {"id": middle})
    db.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update_delete"))
    yield middle


def test_tampering_is_found_at_the_first_broken_link(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _tampered(db) as middle:
        result = audit.verify(db)
        assert result.first_broken_id == middle
        assert result.reason == "el contenido no coincide con su hash"

        @contextmanager
        def same_session() -> Iterator[Session]:
            yield db

        monkeypatch.setattr(audit_cli, "transaction", same_session)
        run = CliRunner().invoke(cli, ["audit", "verify"])
        assert run.exit_code == 1
        assert f"evento {middle}" in run.output


def test_verify_cli_on_an_intact_trail(database_url: str) -> None:
    from app.settings import get_database_settings

    get_database_settings.cache_clear()
    try:
        run = CliRunner(env={"VIGIA_DATABASE_URL": database_url}).invoke(cli, ["audit", "verify"])
    finally:
        get_database_settings.cache_clear()
    assert run.exit_code == 0, run.output
    assert "íntegra" in run.output


def test_concurrent_writers_chain_in_order(engine: Engine) -> None:
    caller = Caller(key_prefix="vga_concurrente")

    def write(n: int) -> None:
        with Session(engine) as session, session.begin():
            for i in range(5):
                audit.record(
                    session,
                    "prueba.concurrente",
                    "prueba",
                    f"{n}-{i}",
                    context=audit.AuditContext(caller=caller),
                )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    with Session(engine) as session:
        assert audit.verify(session).ok
        count = session.scalar(
            select(func.count()).where(AuditEvent.action == "prueba.concurrente")
        )
        assert (count or 0) >= 20


def test_rolled_back_write_leaves_no_event(client: TestClient, db: Session) -> None:
    keys = Keys(db)
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    bad = client.post(
        "/api/v1/risk-factors", json={"type": "luminaria_apagada"}, headers=keys.h("police")
    )
    assert_problem(bad, 422)
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before


def _synchronous_commit(session: Session) -> str:
    return str(session.execute(text("SHOW synchronous_commit")).scalar_one())


def test_an_audited_read_commits_without_waiting_for_the_flush_and_a_write_still_waits(
    engine: Engine,
) -> None:
    """A read's event is its transaction's only write: that commit skips the WAL-flush wait.
    A transaction that wrote before (or any plain write's event) keeps it; the event is
    committed, chained and visible either way."""
    caller = Caller(key_prefix="vga_lectura")
    with Session(engine) as session:
        audit.bind(session, caller)
        access.audit_read(session, access.SENSITIVE_COMPLAINTS, ["c-1", "c-2"], surface="prueba")
        assert _synchronous_commit(session) == "off"
        session.commit()
        assert _synchronous_commit(session) == "on"  # SET LOCAL: this transaction only
    with Session(engine) as session:
        audit.bind(session, caller)
        audit.record(session, "prueba.escritura", "prueba", "w-1")
        assert _synchronous_commit(session) == "on"
        access.audit_read(session, access.SENSITIVE_COMPLAINTS, ["c-3"], surface="prueba")
        assert _synchronous_commit(session) == "on"  # it wrote first: its write stays durable
        session.commit()
    with Session(engine) as session:
        reads = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.actor == caller.actor)
            .where(AuditEvent.action == "complaint.read_sensitive")
            .order_by(AuditEvent.id)
        ).all()
        assert [e.detail["count"] for e in reads] == [2, 1]
        assert audit.verify(session).ok
