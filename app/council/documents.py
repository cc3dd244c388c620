"""Files kept as evidence of the plan's records: a session's signed minutes, an activity's
attendance sheet or photo. Stored in the database (like photos and reports: one backup, no
orphan files), checked by their first bytes rather than by the name or type the client sends.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import InvalidInput, PayloadTooLarge

MAX_BYTES = 10 * 1024 * 1024
# magic bytes -> media type
KINDS = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


@dataclass(frozen=True)
class Document:
    name: str
    media_type: str
    sha256: str
    content: bytes


def check_document(content: bytes, filename: str | None, *, field: str = "file") -> Document:
    """A PDF, PNG or JPEG of at most 10 MB, or a Spanish 4xx saying what is wrong."""
    if len(content) > MAX_BYTES:
        raise PayloadTooLarge(
            f"El archivo supera el máximo de {MAX_BYTES // (1024 * 1024)} MB.",
            errors=[{"field": field, "location": "body", "reason": "demasiado grande"}],
        )
    media_type = next((kind for magic, kind in KINDS if content.startswith(magic)), None)
    if not content or media_type is None:
        raise InvalidInput(
            "El archivo debe ser un PDF, PNG o JPEG (acta escaneada, lista de asistencia o foto).",
            errors=[{"field": field, "location": "body", "reason": "tipo de archivo no aceptado"}],
        )
    name = (filename or "documento").replace("/", "_").replace("\\", "_")[:200]
    return Document(name, media_type, hashlib.sha256(content).hexdigest(), content)


def read_document(stream: IO[bytes], filename: str | None, *, field: str = "file") -> Document:
    """Read at most one byte past the limit, then check (a larger upload is a 413)."""
    return check_document(stream.read(MAX_BYTES + 1), filename, field=field)


def attach(
    session: Session, record: Any, prefix: str, document: Document, *, action: str, kind: str
) -> None:
    """Store `document` in the record's `<prefix>`, `<prefix>_name`, `_type` and `_sha256`
    columns (a session's minutes, an activity's evidence), replacing any earlier one, and
    audit it with its hash."""
    setattr(record, prefix, document.content)
    setattr(record, f"{prefix}_name", document.name)
    setattr(record, f"{prefix}_type", document.media_type)
    setattr(record, f"{prefix}_sha256", document.sha256)
    session.flush()
    audit.record(session, action, kind, record.id, detail={"sha256": document.sha256})
