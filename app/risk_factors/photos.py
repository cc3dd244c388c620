"""Report photos: the bytes decide the type, never the client's header; only re-encoded
pixels are stored (app/risk_factors/images.py)."""

from __future__ import annotations

import hashlib
import uuid
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
)
from app.identity.caller import Caller
from app.models import ReportPhoto, Role
from app.risk_factors.field_reports import load_visible
from app.risk_factors.images import reencode
from app.settings import RiskFactorSettings

_CHUNK = 64 * 1024


def read_limited(stream: BinaryIO, limit: int) -> bytes:
    """Read at most `limit` bytes; one byte more means the upload is too large."""
    parts: list[bytes] = []
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"La foto supera el máximo de {limit // (1024 * 1024)} MB.",
                errors=[
                    {"field": "file", "location": "file", "reason": "archivo demasiado grande"}
                ],
            )
        parts.append(chunk)
    return b"".join(parts)


def add_photo(
    session: Session,
    report_id: uuid.UUID,
    caller: Caller,
    stream: BinaryIO,
    *,
    settings: RiskFactorSettings,
) -> ReportPhoto:
    # the unit sees only what is routed to it, and photographs the work it did
    report = load_visible(session, report_id, caller)
    if caller.role not in (Role.ADMIN, Role.POLICE, Role.UNIT):
        raise Forbidden(
            "Solo la policía que informa, la unidad responsable o un administrador agrega fotos."
        )
    data = read_limited(stream, settings.photo_max_bytes)
    if not data:
        raise InvalidInput(
            "El archivo está vacío.",
            errors=[{"field": "file", "location": "file", "reason": "archivo vacío"}],
        )
    count = session.scalar(
        select(func.count()).select_from(ReportPhoto).where(ReportPhoto.report_id == report.id)
    )
    if (count or 0) >= settings.photos_per_report:
        raise Conflict(
            f"El informe ya tiene el máximo de {settings.photos_per_report} fotos.",
            code="demasiadas_fotos",
        )
    # only the re-encoded pixels are stored: no EXIF (GPS, camera), no trailing payload
    content_type, data = reencode(data, max_pixels=settings.photo_max_pixels)
    photo = ReportPhoto(
        comuna_code=report.comuna_code,
        report_id=report.id,
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_key_id=caller.key_id,
    )
    session.add(photo)
    session.flush()
    audit.record(
        session,
        "risk_factor.photo_add",
        "report_photo",
        photo.id,
        detail={"report": str(report_id)},
    )
    return photo


def get_photo(
    session: Session, report_id: uuid.UUID, photo_id: uuid.UUID, caller: Caller
) -> tuple[str, bytes]:
    load_visible(session, report_id, caller)
    row = session.execute(
        select(ReportPhoto.content_type, ReportPhoto.data).where(
            ReportPhoto.id == photo_id, ReportPhoto.report_id == report_id
        )
    ).first()
    if row is None:
        raise NotFound(f"No existe la foto {photo_id}.", code="foto_no_encontrada")
    # photos can show people, plates and homes: every download is a sensitive read
    audit.record(
        session,
        "risk_factor.photo_read",
        "report_photo",
        photo_id,
        detail={"report": str(report_id)},
    )
    return row[0], row[1]
