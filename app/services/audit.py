"""Writing and checking the audit trail.

`record` inserts in the caller's transaction, so an audited write and its audit event
commit or roll back together. Who is acting comes from the session (`bind`, done once per
request by the caller dependency, or by the CLI), so services do not pass it around.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal_column, select, text
from sqlalchemy.orm import Session

from app.models import AuditEvent
from app.services.api_keys import PUBLIC, Caller

_INFO_KEY = "vigia.audit"


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
) -> None:
    """Append one event (id, time and hashes are set by the database trigger)."""
    ctx = context or session.info.get(_INFO_KEY) or AuditContext(caller=PUBLIC)
    caller = ctx.caller
    session.execute(
        insert(AuditEvent).values(
            # placeholders: the BEFORE INSERT trigger overwrites all four
            id=literal_column("0"),
            at=func.now(),
            prev_hash="",
            hash="",
            request_id=ctx.request_id,
            actor=(ctx.actor or caller.actor)[:250],
            role=caller.role.value if caller.role else None,
            institution=caller.institution,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id)[:200],
            outcome=outcome,
            detail=detail or {},
        )
    )


@dataclass(frozen=True)
class Verification:
    checked: int
    first_broken_id: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


_CHAIN = text(
    """
    SELECT id, hash, prev_hash,
           audit_event_digest(prev_hash, e) AS expected,
           lag(hash) OVER (ORDER BY id) AS previous
    FROM audit_event e ORDER BY id
    """
)


def verify(session: Session) -> Verification:
    """Recompute every hash in id order; report the first link that does not hold."""
    checked = 0
    for row in session.execute(_CHAIN).yield_per(5000):
        checked += 1
        previous = row.previous or "0" * 64
        if row.prev_hash != previous:
            return Verification(checked, row.id, "prev_hash no coincide con la fila anterior")
        if row.hash != row.expected:
            return Verification(checked, row.id, "el contenido no coincide con su hash")
    return Verification(checked, None, None)


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
