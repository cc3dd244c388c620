"""The audit trail: append-only (triggers reject UPDATE, DELETE, TRUNCATE) and hash-chained.

`id`, `at`, `prev_hash` and `hash` are set by the database trigger under a lock, so the
application cannot choose them; see migrations/versions/2026_11_25_0005_audit.py. The
application role writes only through the `audit_append` function and each event carries
the service's seal (migrations/versions/2026_12_01_0007_audit_anchors.py).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    request_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(250))
    role: Mapped[str | None] = mapped_column(String(20))
    institution: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    nonce: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    seal: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """A signed (count, head) of the chain; `line` is the signed text as printed."""

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime]
    event_count: Mapped[int] = mapped_column(BigInteger)
    head_id: Mapped[int | None] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    line: Mapped[str] = mapped_column(Text, unique=True)
