"""An audit trail an outsider can trust: sealed events, signed anchors, and the attacks
they answer (a forged insert as vigia_app, a cut tail, a rewritten chain, a forged anchor).
"""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.audit import anchor as audit_anchor
from app.audit import cli as audit_cli
from app.audit import keys as audit_keys
from app.audit import trail as audit
from app.cli import cli
from app.errors import Conflict, InvalidInput
from app.main import create_app
from app.models import AuditAnchor, AuditEvent, ReportFormat, ReportKind, Role
from app.reports.generate import generate
from app.settings import DatabaseSettings, get_audit_settings
from tests.factories.keys import make_auth_headers, make_key
from tests.helpers import assert_matches_schema


@dataclass(frozen=True)
class KeyFiles:
    event: Path
    anchor: Path
    journal: Path


def _configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name in (
        "EVENT_KEY_FILE",
        "EVENT_PUBLIC_KEYS",
        "ANCHOR_KEY_FILE",
        "ANCHOR_PUBLIC_KEYS",
        "ANCHOR_JOURNAL",
    ):
        monkeypatch.delenv(f"VIGIA_AUDIT_{name}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"VIGIA_AUDIT_{name.upper()}", value)
    get_audit_settings.cache_clear()


@pytest.fixture
def seal_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyFiles]:
    files = KeyFiles(tmp_path / "evento.pem", tmp_path / "ancla.pem", tmp_path / "anclas.txt")
    audit_keys.write_private_key(files.event)
    audit_keys.write_private_key(files.anchor)
    _configure(
        monkeypatch,
        event_key_file=str(files.event),
        anchor_key_file=str(files.anchor),
        anchor_journal=str(files.journal),
    )
    yield files
    get_audit_settings.cache_clear()


def _fails(db: Session, sql: str, params: dict[str, Any] | None = None) -> str:
    with pytest.raises(DBAPIError) as info, db.begin_nested():
        db.execute(text(sql), params or {})
    return str(info.value.orig)


def _last_ids(db: Session, n: int) -> list[int]:
    return list(db.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(n)))


@contextmanager
def _as_owner_without_triggers(db: Session) -> Iterator[None]:
    """What the database owner can do: switch the append-only triggers off."""
    db.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    db.execute(text("ALTER TABLE audit_anchor DISABLE TRIGGER USER"))
    yield
    db.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    db.execute(text("ALTER TABLE audit_anchor ENABLE TRIGGER USER"))


_RECHAIN = """
DO $$
DECLARE r record; prev char(64) := repeat('0', 64);
BEGIN
    FOR r IN SELECT id FROM audit_event ORDER BY id LOOP
        UPDATE audit_event SET prev_hash = prev WHERE id = r.id;
        UPDATE audit_event e SET hash = audit_event_digest(prev, e) WHERE id = r.id
            RETURNING hash INTO prev;
    END LOOP;
END $$
"""


# --- forged inserts ----------------------------------------------------------------------


def test_the_application_role_cannot_insert_into_the_trail(db: Session) -> None:
    db.execute(text("SET LOCAL ROLE vigia_app"))
    denied = _fails(
        db,
        "INSERT INTO audit_event (id, at, actor, action, object_type, outcome, prev_hash, hash)"
        " VALUES (0, now(), 'vga_admin', 'api_key.revoke', 'api_key', 'ok', '', '')",
    )
    assert "permission denied" in denied
    audit.record(db, "prueba.app", "prueba")  # the one way in: audit_append
    db.execute(text("RESET ROLE"))
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "prueba.app"))
    assert event.nonce is not None


def test_events_are_sealed_and_the_seal_survives_jsonb(db: Session, seal_keys: KeyFiles) -> None:
    # jsonb keeps numbers as numeric: 1.0, 1e16 and -0.0 come back as other Python values
    detail = {"b": 1.0, "a": 1e16, "c": [1, "x", None, True], "ñ": -0.0, "d": {"z": 0.1}}
    audit.record(db, "prueba.sello", "prueba", 7, detail=detail)
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "prueba.sello"))
    assert event.seal is not None
    assert len(event.seal) == 86
    result = audit.verify(db)
    assert result.ok, result
    assert result.sealed >= 1


def test_a_read_s_list_of_ids_is_sealed_and_verifies(db: Session, seal_keys: KeyFiles) -> None:
    # the ids of a read are canonicalised in one piece: the same bytes as item by item
    ids = [str(uuid.uuid4()) for _ in range(199)] + ['ñandú "comillas" \\ \u2028']
    audit.record(db, "prueba.lectura", "prueba", detail={"count": 200, "ids": ids, "z": [1]})
    message = audit_keys.event_message(["x"], '{"ids": ["a", "ñ"], "n": [1, "b"]}', "n")
    version = audit_keys.SEAL_VERSION
    assert message == f'["{version}","x",{{"ids":["a","ñ"],"n":[1,"b"]}},"n"]'.encode()
    result = audit.verify(db)
    assert result.ok, result
    assert result.sealed >= 1


def test_an_unsealed_event_builds_no_message_to_sign(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_args: object) -> bytes:
        raise AssertionError("built a message nobody signs")

    monkeypatch.setattr(audit_keys, "event_message", never)
    audit.record(db, "prueba.sin_sello", "prueba", detail={"ids": ["a"]})
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "prueba.sin_sello"))
    assert event.seal is None


def test_a_forged_event_written_as_vigia_app_is_found(db: Session, seal_keys: KeyFiles) -> None:
    audit.record(db, "prueba.antes", "prueba")
    db.execute(text("SET LOCAL ROLE vigia_app"))
    call = (
        "SELECT audit_append(NULL, 'vga_admin', 'admin', 'municipalidad', 'api_key.revoke',"
        " 'api_key', 'vga_x', 'ok', '{}'::jsonb, CAST(:nonce AS uuid), :seal)"
    )
    fake_seal = audit_keys.b64(b"\x01" * 64)
    db.execute(text(call), {"nonce": str(uuid.uuid4()), "seal": fake_seal})
    db.execute(text("RESET ROLE"))
    [forged] = _last_ids(db, 1)
    result = audit.verify(db)
    assert (result.ok, result.first_broken_id) == (False, forged)
    assert result.reason == "el sello no corresponde a una clave del servicio"


def test_an_unsealed_event_after_sealing_began_is_found(db: Session, seal_keys: KeyFiles) -> None:
    audit.record(db, "prueba.antes", "prueba")
    # even the owner's direct INSERT: the trigger chains it, but it has no seal
    db.execute(
        text(
            "INSERT INTO audit_event (id, at, actor, action, object_type, outcome, prev_hash,"
            " hash) VALUES (0, now(), 'cli:dba', 'prueba', 'prueba', 'ok', '', '')"
        )
    )
    [forged] = _last_ids(db, 1)
    result = audit.verify(db)
    assert (result.first_broken_id, result.reason) == (
        forged,
        "evento sin sello después de activar los sellos",
    )


def test_a_sealed_event_cannot_be_replayed(db: Session, seal_keys: KeyFiles) -> None:
    audit.record(db, "prueba.original", "prueba")
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "prueba.original"))
    db.execute(text("SET LOCAL ROLE vigia_app"))
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(
            text(
                "SELECT audit_append(:r, :a, :ro, :i, :ac, :t, :o, :out, CAST(:d AS jsonb),"
                " CAST(:n AS uuid), :s)"
            ),
            {
                "r": event.request_id,
                "a": event.actor,
                "ro": event.role,
                "i": event.institution,
                "ac": event.action,
                "t": event.object_type,
                "o": event.object_id,
                "out": event.outcome,
                "d": "{}",
                "n": event.nonce,
                "s": event.seal,
            },
        )
    db.execute(text("RESET ROLE"))


def test_a_changed_field_breaks_the_seal_even_with_the_chain_recomputed(
    db: Session, seal_keys: KeyFiles
) -> None:
    audit.record(db, "prueba.cambio", "prueba", "original")
    [event_id] = _last_ids(db, 1)
    with _as_owner_without_triggers(db):
        db.execute(text("UPDATE audit_event SET object_id = 'otro' WHERE id = :i"), {"i": event_id})
        db.execute(text(_RECHAIN))
    result = audit.verify(db)
    assert (result.first_broken_id, result.reason) == (
        event_id,
        "el sello no corresponde a una clave del servicio",
    )


# --- anchors -----------------------------------------------------------------------------


def _events(db: Session, n: int) -> None:
    for i in range(n):
        audit.record(db, "prueba.cola", "prueba", i)


def test_deleting_the_tail_is_found_by_the_anchor(db: Session, seal_keys: KeyFiles) -> None:
    _events(db, 3)
    anchor = audit.anchor(db)
    intact = audit.verify(db)
    assert intact.ok
    assert intact.anchors == 1
    assert anchor.count == intact.checked
    assert anchor.head_id == _last_ids(db, 1)[0]
    with _as_owner_without_triggers(db):
        db.execute(text("DELETE FROM audit_event WHERE id = ANY(:ids)"), {"ids": _last_ids(db, 2)})
    cut = audit.verify(db)
    assert not cut.ok
    assert cut.first_broken_id is None
    assert cut.reason is not None
    assert cut.reason.startswith("faltan eventos al final")
    assert f"cubre {anchor.count} eventos" in cut.reason


def test_a_rewritten_chain_is_found_by_the_anchor(db: Session, seal_keys: KeyFiles) -> None:
    _events(db, 3)
    audit.anchor(db)
    head = audit.verify(db).checked
    _events(db, 1)  # rows after the anchor: the cut must be before it to be caught
    middle = _last_ids(db, 4)[2]
    with _as_owner_without_triggers(db):
        db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": middle})
        db.execute(text(_RECHAIN))
    result = audit.verify(db)
    assert not result.ok
    assert result.reason is not None
    assert f"el evento n.º {head} no es el del ancla" in result.reason


def test_a_forged_anchor_is_found(db: Session, seal_keys: KeyFiles, tmp_path: Path) -> None:
    other = audit_keys.write_private_key(tmp_path / "otra.pem")
    assert other is not None
    forger = audit_keys._ring(tmp_path / "otra.pem", "", "x")
    _events(db, 1)
    audit_anchor.create(db, forger)
    result = audit.verify(db)
    assert not result.ok
    assert result.reason is not None
    assert "no tiene una firma válida" in result.reason


def test_a_printed_anchor_finds_what_the_owner_hid(db: Session, seal_keys: KeyFiles) -> None:
    """The owner deletes the tail and the stored anchor: the database alone cannot tell,
    the line printed in the bulletin can.
    """
    _events(db, 3)
    printed = audit.anchor(db).line
    with _as_owner_without_triggers(db):
        db.execute(text("DELETE FROM audit_event WHERE id = ANY(:ids)"), {"ids": _last_ids(db, 2)})
        db.execute(text("DELETE FROM audit_anchor"))
    assert audit.verify(db).ok  # the limit of what the database alone can show
    copied_from_the_pdf = printed.replace(" hash=", "\nhash=").replace(" firma=", "\nfirma=")
    result = audit.verify(db, [copied_from_the_pdf])
    assert not result.ok
    assert result.reason is not None
    assert result.reason.startswith("faltan eventos al final")


def test_a_trail_that_does_not_verify_is_not_anchored(db: Session, seal_keys: KeyFiles) -> None:
    _events(db, 2)
    with _as_owner_without_triggers(db):
        db.execute(
            text("UPDATE audit_event SET actor = 'x' WHERE id = :i"), {"i": _last_ids(db, 1)[0]}
        )
    with pytest.raises(Conflict):
        audit.anchor(db)


def test_anchoring_needs_the_anchor_key(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(monkeypatch)
    try:
        with pytest.raises(Exception, match="VIGIA_AUDIT_ANCHOR_KEY_FILE"):
            audit.anchor(db)
        assert audit.anchor_if_configured(db) == (None, None)
    finally:
        get_audit_settings.cache_clear()


def test_verify_with_public_keys_only(
    db: Session, seal_keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outside auditor holds no private key: the public ones verify seals and anchors."""
    _events(db, 2)
    audit.anchor(db)
    event_public = audit_keys.public_text(audit_keys.load_private_key(seal_keys.event).public_key())
    anchor_public = audit_keys.public_text(
        audit_keys.load_private_key(seal_keys.anchor).public_key()
    )
    _configure(monkeypatch, event_public_keys=event_public, anchor_public_keys=anchor_public)
    result = audit.verify(db)
    assert result.ok
    assert result.anchors == 1
    assert result.sealed >= 2
    assert result.notes == ()
    _configure(monkeypatch)  # no keys at all: the chain still verifies, with notes
    unkeyed = audit.verify(db)
    assert unkeyed.ok
    assert unkeyed.sealed == 0
    assert len(unkeyed.notes) == 2


# --- the CLI, the API and the bulletin ---------------------------------------------------


@pytest.fixture
def same_session(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    @contextmanager
    def transaction() -> Iterator[Session]:
        yield db

    monkeypatch.setattr(audit_cli, "transaction", transaction)


def test_cli_keygen_anchor_and_verify(
    db: Session, seal_keys: KeyFiles, same_session: None, tmp_path: Path
) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["audit", "keygen", str(tmp_path / "nueva.pem"), "--kind", "ancla"])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE((tmp_path / "nueva.pem").stat().st_mode) == 0o600
    assert runner.invoke(cli, ["audit", "keygen", str(tmp_path / "nueva.pem")]).exit_code == 1

    _events(db, 2)
    anchored = runner.invoke(cli, ["audit", "anchor"])
    assert anchored.exit_code == 0, anchored.output
    line = anchored.stdout.strip().splitlines()[-1]
    assert line.startswith("vigia-ancla-1 ")
    assert seal_keys.journal.read_text() == line + "\n"  # a copy outside the database

    verified = runner.invoke(cli, ["audit", "verify", "--anchor", line])
    assert verified.exit_code == 0, verified.output
    assert "1 anclas coinciden" in verified.stdout  # printed, stored, journal: one anchor

    with _as_owner_without_triggers(db):
        db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": _last_ids(db, 1)[0]})
        db.execute(text("DELETE FROM audit_anchor"))
    cut = runner.invoke(cli, ["audit", "verify"])  # the journal still has the line
    assert cut.exit_code == 1
    assert "faltan eventos al final" in cut.stdout


def test_api_verify_reports_seals_and_anchors(
    client: TestClient, db: Session, seal_keys: KeyFiles, openapi: dict[str, Any]
) -> None:
    admin = make_auth_headers(make_key(db, role=Role.ADMIN))
    audit.anchor(db)
    response = client.get("/api/v1/audit/verify", headers=admin)
    assert response.status_code == 200
    assert_matches_schema(openapi, "/api/v1/audit/verify", "get", response)
    body = response.json()
    assert body["ok"] is True
    assert body["anchors"] == 1
    assert body["sealed"] >= 1


def test_the_bulletin_prints_a_fresh_anchor(db: Session, seal_keys: KeyFiles) -> None:
    _events(db, 1)
    report = generate(
        db, kind=ReportKind.BULLETIN, period="2025-06", fmt=ReportFormat.HTML, created_by="t"
    )
    html = report.content.decode()
    line = db.scalar(select(AuditAnchor.line).order_by(AuditAnchor.id.desc()))
    assert line is not None
    assert line in html
    assert audit.verify(db, [line]).ok


def test_an_unreadable_event_key_stops_the_start(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_key = tmp_path / "clave.pem"
    not_a_key.write_text("no es una clave\n")
    _configure(monkeypatch, event_key_file=str(not_a_key))
    try:
        with (
            pytest.raises(InvalidInput, match="clave privada"),
            TestClient(create_app(DatabaseSettings(database_url=database_url))),
        ):
            pass
    finally:
        get_audit_settings.cache_clear()


def test_a_printed_line_that_is_not_an_anchor_is_refused(db: Session) -> None:
    with pytest.raises(InvalidInput, match="no es una línea de ancla"):
        audit.verify(db, ["vigia-ancla-1 fecha=hoy eventos=3"])


def test_an_anchoring_host_without_the_event_key(
    db: Session, seal_keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recommended split: the anchor key on its own host, which cannot seal events, so
    anchoring must not write an (unsealed, hence forged-looking) event.
    """
    _events(db, 2)
    event_public = audit_keys.public_text(audit_keys.load_private_key(seal_keys.event).public_key())
    _configure(monkeypatch, anchor_key_file=str(seal_keys.anchor), event_public_keys=event_public)
    audit.anchor(db)
    result = audit.verify(db)
    assert result.ok, result
    assert result.anchors == 1
