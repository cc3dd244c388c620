"""What only the submitting key gets: its own requests in full, and its repeated forms
recognised.

Every other reader (the public, other keys) sees the generalised view of
`service.requests`: micro-barrio point, month precision, no free text. The key that filed a
request is the one reader who already knows all of it, so it reads back exactly what it sent:
the point, the description, the address it typed and the times to the second.

A form sent again unchanged by the same key within `open311_resubmit_window_s` (a phone
that lost the answer, an officer who pressed twice) returns the first request's
`service_request_id` instead of filing a second one. The rule rides on the field
submission's idempotency records: the form's content, hashed, is the idempotency key,
suffixed with the window it was first sent in.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Numeric, func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import IdempotencyRecord, RiskFactorReport, RiskFactorType
from app.risk_factors.open311 import service
from app.risk_factors.open311.service import iso, open_or_closed, status_notes

R = RiskFactorReport
T = RiskFactorType
EXACT_DECIMALS = 7  # ~1 cm: what the device sent, not a generalisation
NOT_IDENTITY = frozenset({"api_key"})  # form fields that do not make two forms different


def full_requests(
    session: Session, key_id: int, ids: list[uuid.UUID] | None = None
) -> dict[str, dict[str, Any]]:
    """The key's own requests (all, or those of `ids`) in full, by service_request_id."""
    point = func.ST_PointOnSurface(R.geom)
    stmt = (
        select(
            R.id,
            R.status,
            R.responsible_unit,
            R.description,
            R.address_string,
            R.received_at,
            R.updated_at,
            T.code,
            T.label,
            T.default_unit,
            func.round(func.ST_Y(point).cast(Numeric), EXACT_DECIMALS),
            func.round(func.ST_X(point).cast(Numeric), EXACT_DECIMALS),
        )
        .join(T, T.id == R.type_id)
        .where(R.reporter_key_id == key_id)
    )
    if ids is not None:
        stmt = stmt.where(R.id.in_(ids))
    found: dict[str, dict[str, Any]] = {}
    for row in session.execute(stmt):
        rid, status, unit, description, address, received, updated = row[:7]
        code, label, default_unit, lat, lon = row[7:]
        found[str(rid)] = {
            "service_request_id": str(rid),
            "status": open_or_closed(status),
            "status_notes": status_notes(status, unit),
            "service_name": label,
            "service_code": code,
            "description": description,
            "agency_responsible": unit or default_unit,
            "service_notice": None,
            "requested_datetime": iso(received),
            "updated_datetime": iso(updated),
            "expected_datetime": None,
            "address": address,
            "address_id": None,
            "zipcode": None,
            "lat": float(lat),
            "long": float(lon),
            "media_url": None,
        }
    return found


def visible_requests(session: Session, key_id: int | None, **filters: Any) -> list[dict[str, Any]]:
    """`service.requests`, with the reader's own requests in full instead of generalised."""
    public = service.requests(session, **filters)
    if key_id is None or not public:
        return public
    ids = [uuid.UUID(r["service_request_id"]) for r in public]
    own = full_requests(session, key_id, ids)
    return [own.get(r["service_request_id"], r) for r in public]


def visible_request(session: Session, key_id: int | None, request_id: str) -> list[dict[str, Any]]:
    """One request: in full for the key that filed it (even before it is public), else the
    generalised view (404 if the public may not see it)."""
    if key_id is not None:
        try:
            rid = uuid.UUID(request_id)
        except ValueError as exc:
            raise NotFound(f"No existe la solicitud {request_id!r}.") from exc
        own = full_requests(session, key_id, [rid])
        if own:
            return list(own.values())
    return service.request(session, request_id)


def form_digest(form: dict[str, str]) -> str:
    """The form's content, whatever the order of its fields and the spaces around values."""
    content = sorted((k, v.strip()) for k, v in form.items() if k not in NOT_IDENTITY)
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def resubmission_key(digest: str, now: datetime, window_s: int, *, previous: bool = False) -> str:
    bucket = int(now.timestamp()) // window_s - (1 if previous else 0)
    return f"open311:{digest[:40]}:{bucket}"


def earlier_submission(
    session: Session, key_id: int, form: dict[str, str], now: datetime, window_s: int
) -> tuple[str | None, str]:
    """(the id of the same form sent by the key within the window, or None; the idempotency
    key this form files under)."""
    digest = form_digest(form)
    current = resubmission_key(digest, now, window_s)
    for candidate in (current, resubmission_key(digest, now, window_s, previous=True)):
        record = session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.key_id == key_id,
                IdempotencyRecord.idempotency_key == candidate,
                IdempotencyRecord.report_id.is_not(None),
            )
        )
        if record is not None and now - _aware(record.created_at, now) <= timedelta(
            seconds=window_s
        ):
            return str(record.report_id), current
    return None, current


def _aware(value: datetime, like: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=like.tzinfo)
