"""Writing and checking the audit trail.

`record` inserts in the caller's transaction, so an audited write and its audit event
commit or roll back together. Who is acting comes from the session (`bind`, done once per
request by the caller dependency, or by the CLI), so services do not pass it around.
"""

from __future__ import annotations

import getpass
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audit import anchor as audit_anchor
from app.audit import keys as audit_keys
from app.db import driver_execute
from app.errors import Conflict
from app.identity.caller import PUBLIC, Caller
from app.models.audit import AuditEvent
from app.settings import get_audit_settings

_INFO_KEY = "vigia.audit"
_log = logging.getLogger("vigia.audit")


class Outcome:
    OK = "ok"
    DENIED = "denegado"


@dataclass(frozen=True)
class AuditContext:
    caller: Caller
    request_id: str | None = None
    actor: str | None = None  # overrides caller.actor (CLI: cli:<user>)


def bind(session: Session, caller: Caller, *, request_id: str | None = None) -> None:
    session.info[_INFO_KEY] = AuditContext(caller=caller, request_id=request_id)


def bind_cli(session: Session) -> None:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "desconocido"
    session.info[_INFO_KEY] = AuditContext(caller=PUBLIC, actor=f"cli:{user}")


def record(
    session: Session,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    outcome: str = Outcome.OK,
    detail: dict[str, Any] | None = None,
    context: AuditContext | None = None,
    read_only: bool = False,
) -> None:
    """Append one event through `audit_append`, sealed with the service's key if it holds
    one (id, time and hashes are set by the database trigger).

    `read_only`: the event is the only write of a reading transaction (an audited read), so
    that transaction commits without waiting for the WAL flush (see `_APPEND_READ`).
    """
    ctx = context or session.info.get(_INFO_KEY) or AuditContext(caller=PUBLIC)
    caller = ctx.caller
    fields = (
        ctx.request_id,
        (ctx.actor or caller.actor)[:250],
        caller.role.value if caller.role else None,
        caller.institution,
        action,
        object_type,
        None if object_id is None else str(object_id)[:200],
        outcome,
    )
    detail_json = json.dumps(detail or {})
    nonce = str(uuid.uuid4())
    keys = _event_keys()
    # the canonical message is built only to be signed (~0.5 ms for a read's 200 ids)
    seal = keys.sign(audit_keys.event_message(fields, detail_json, nonce)) if keys.signer else None
    values = dict(zip(_FIELD_NAMES, fields, strict=True)) | {
        "detail": detail_json,
        "nonce": nonce,
        "seal": seal,
    }
    if read_only:  # a page's or a tile's event: on the driver, as the read itself
        driver_execute(session.connection(), _APPEND_READ, values).close()
    else:  # a write's: through the session (its pending changes flush first, if it flushes)
        session.execute(_APPEND, values)


_FIELD_NAMES = (
    "request_id",
    "actor",
    "role",
    "institution",
    "action",
    "object_type",
    "object_id",
    "outcome",
)
_APPEND_ARGS = (
    "audit_append(:request_id, :actor, :role, :institution, :action, :object_type,"
    " :object_id, :outcome, CAST(:detail AS jsonb), CAST(:nonce AS uuid), :seal)"
)
_APPEND = text("SELECT " + _APPEND_ARGS)
# An audited read's event is its transaction's only write. Its commit does not wait for the
# WAL flush (`synchronous_commit = off` for this transaction only; 2.5-3 ms of a 5-15 ms
# tile): the event is committed, chained and visible at once, and survives any crash of the
# service; only a crash of PostgreSQL itself within `wal_writer_delay` x 3 (0.6 s) can lose
# it. An anchor never covers a lost event: the anchor's own commit is synchronous, and waiting
# for its WAL flush waits for every earlier commit's (docs/seguridad.md). A transaction that
# already wrote something keeps its setting: its write must stay durable. Same statement, so
# no extra round trip.
_APPEND_READ = text(
    "SELECT set_config('synchronous_commit', CASE WHEN pg_current_xact_id_if_assigned() IS NULL"
    " THEN 'off' ELSE current_setting('synchronous_commit') END, true), " + _APPEND_ARGS
)


def _event_keys() -> audit_keys.KeyRing:
    return audit_keys.event_keys(get_audit_settings())


def check_keys() -> None:
    """Fail at startup, not at the first audited request, on an unreadable key; say so
    when events will go unsealed (then only the hash chain protects them).
    """
    settings = get_audit_settings()
    if audit_keys.event_keys(settings).signer is None:
        _log.warning(
            "VIGIA_AUDIT_EVENT_KEY_FILE sin definir: los eventos de la bitácora van sin sello"
        )
    audit_keys.anchor_keys(settings)


@dataclass(frozen=True)
class Verification:
    checked: int
    first_broken_id: int | None
    reason: str | None
    sealed: int = 0  # events whose seal was checked and holds
    anchors: int = 0  # anchors whose signature and prefix hold
    notes: tuple[str, ...] = ()  # what could not be checked, and why

    @property
    def ok(self) -> bool:
        return self.reason is None


_CHAIN = text(
    """
    SELECT id, hash, prev_hash, request_id, actor, role, institution, action, object_type,
           object_id, outcome, detail::text AS detail, nonce::text AS nonce, seal,
           audit_event_digest(prev_hash, e) AS expected,
           lag(hash) OVER (ORDER BY id) AS previous
    FROM audit_event e ORDER BY id
    """
)


class _SealCheck:
    """Seals are checked once the trail has its first sealed event: from there on an
    event without a valid seal was not written by the service.
    """

    def __init__(self, keys: audit_keys.KeyRing) -> None:
        self.keys = keys
        self.started = False
        self.sealed = 0

    def problem(self, row: Any) -> str | None:
        if not self.keys.verifiers:
            return None
        if row.seal is None:
            return "evento sin sello después de activar los sellos" if self.started else None
        self.started = True
        fields = [getattr(row, name) for name in _FIELD_NAMES]
        message = audit_keys.event_message(fields, row.detail, row.nonce or "")
        if not self.keys.verifies(message, row.seal):
            return "el sello no corresponde a una clave del servicio"
        self.sealed += 1
        return None


def verify(session: Session, extra_anchors: Sequence[str] = ()) -> Verification:
    """Recompute every hash in id order, check every seal, and check that every anchor
    (stored, or printed and passed in `extra_anchors`) is still a prefix of the chain;
    report the first thing that does not hold.
    """
    settings = get_audit_settings()
    seals = _SealCheck(audit_keys.event_keys(settings))
    anchors = audit_anchor.Expectations(session, audit_keys.anchor_keys(settings), extra_anchors)
    if anchors.problem is not None:
        return Verification(0, None, anchors.problem)
    checked = 0
    for row in session.execute(_CHAIN).yield_per(5000):
        checked += 1
        previous = row.previous or "0" * 64
        reason = None
        if row.prev_hash != previous:
            reason = "prev_hash no coincide con la fila anterior"
        elif row.hash != row.expected:
            reason = "el contenido no coincide con su hash"
        else:
            reason = seals.problem(row) or anchors.at(checked, row.id, row.hash)
        if reason is not None:
            return Verification(checked, row.id, reason, seals.sealed)
    reason = anchors.beyond(checked)
    notes = []
    if not seals.keys.verifiers:
        notes.append("sellos sin verificar: falta VIGIA_AUDIT_EVENT_PUBLIC_KEYS")
    notes.extend(anchors.notes)
    return Verification(checked, None, reason, seals.sealed, anchors.checked, tuple(notes))


def anchor(session: Session, printed: Sequence[str] = ()) -> audit_anchor.Anchor:
    """Verify the whole trail (against `printed` anchors too) and sign its head. A trail
    that does not verify is not anchored: signing it would make a cut or rewrite look
    legitimate. No audit event is written: the anchoring host need not hold the event key
    (an unsealed event would read as a forgery), and `audit_anchor` is its own record.
    """
    keys = audit_keys.anchor_keys(get_audit_settings())
    audit_anchor.require_signer(keys)
    result = verify(session, printed)
    if not result.ok:
        where = f" (evento {result.first_broken_id})" if result.first_broken_id else ""
        raise Conflict(f"No se ancla una bitácora que no verifica: {result.reason}{where}.")
    return audit_anchor.create(session, keys)


def anchor_if_configured(session: Session) -> tuple[audit_anchor.Anchor | None, str | None]:
    """For scheduled jobs (the bulletin): a new anchor when this process holds the anchor
    key, else none; a trail that does not verify gives its reason instead of an anchor.
    """
    if audit_keys.anchor_keys(get_audit_settings()).signer is None:
        return None, None
    try:
        return anchor(session), None
    except Conflict as exc:
        return None, exc.detail


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None


def list_events(session: Session, flt: AuditFilter, *, limit: int) -> list[AuditEvent]:
    """Newest first; `before_id` pages backwards."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    for column, value in (
        (AuditEvent.action, flt.action),
        (AuditEvent.actor, flt.actor),
        (AuditEvent.object_type, flt.object_type),
        (AuditEvent.object_id, flt.object_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if flt.since is not None:
        stmt = stmt.where(AuditEvent.at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEvent.at < flt.until)
    if flt.before_id is not None:
        stmt = stmt.where(AuditEvent.id < flt.before_id)
    return list(session.scalars(stmt))
