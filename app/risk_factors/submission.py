"""Submitting a field report: strict checks, idempotent retries, possible duplicates."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
)
from app.identity.caller import Caller
from app.models import (
    IdempotencyRecord,
    ReportStatus,
    ReportTransition,
    RiskFactorReport,
    RiskFactorType,
)
from app.models.base import SRID
from app.risk_factors import catalog
from app.risk_factors.field_reports import actor_columns, check_attributes, read_report
from app.risk_factors.lifecycle import OPEN_STATUSES
from app.risk_factors.placement import geography, place
from app.risk_factors.schemas import (
    DuplicateCandidate,
    RiskFactorCreate,
)
from app.settings import RiskFactorSettings, get_territory_settings

R = RiskFactorReport
T = RiskFactorType


@dataclass(frozen=True)
class Submission:
    """A submitted report as its JSON body; `replayed` when a retry found the original."""

    body: dict[str, Any]
    replayed: bool

    @property
    def report_id(self) -> str:
        return str(self.body["id"])


def request_hash(data: RiskFactorCreate) -> str:
    # stdlib json: attribute values may be integers beyond orjson's 64 bits
    canonical = json.dumps(
        data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _replay(record: IdempotencyRecord, digest: str) -> Submission:
    if record.request_hash != digest:
        raise InvalidInput(
            "Esta clave de idempotencia ya se usó con otro contenido; use una clave nueva para "
            "un informe distinto.",
            errors=[
                {
                    "field": "Idempotency-Key",
                    "location": "header",
                    "reason": "ya usada con un cuerpo distinto",
                }
            ],
            code="clave_idempotencia_reutilizada",
        )
    if record.response_body is None:
        raise Conflict("El envío original con esta clave aún se está procesando; reintente.")
    return Submission(record.response_body, replayed=True)


def _find_record(session: Session, key_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.key_id == key_id, IdempotencyRecord.idempotency_key == key
        )
    )


def _check_observed_at(observed_at: datetime, now: datetime, skew_s: int) -> None:
    if observed_at > now + timedelta(seconds=skew_s):
        raise InvalidInput(
            "La hora de observación está en el futuro; revise el reloj del dispositivo.",
            errors=[
                {
                    "field": "observed_at",
                    "location": "body",
                    "reason": f"posterior a la hora del servidor en más de {skew_s} s",
                }
            ],
        )


def possible_duplicates(
    session: Session,
    *,
    type_id: int,
    comuna: str,
    geom: Any,
    radius_m: float,
    exclude: uuid.UUID | None = None,
) -> list[DuplicateCandidate]:
    distance = func.ST_Distance(geography(R.geom), geography(geom))
    stmt = (
        select(R.id, R.status, distance)
        .where(
            R.comuna_code == comuna,
            R.type_id == type_id,
            R.status.in_(OPEN_STATUSES),
            func.ST_DWithin(geography(R.geom), geography(geom), radius_m),
        )
        .order_by(distance, R.received_at)
        .limit(10)
    )
    if exclude is not None:
        stmt = stmt.where(R.id != exclude)
    return [
        DuplicateCandidate(id=i, status=s, distance_m=round(float(d), 1))
        for i, s, d in session.execute(stmt)
    ]


def submit(
    session: Session,
    caller: Caller,
    data: RiskFactorCreate,
    *,
    idempotency_key: str | None,
    settings: RiskFactorSettings,
    now: datetime | None = None,
) -> Submission:
    """Validate everything, then write the report once, however often the device retries.

    The key is claimed with INSERT ... ON CONFLICT DO NOTHING on a unique constraint, so a
    concurrent retry waits for the first transaction and then replays its response.
    """
    now = now or datetime.now(UTC)
    # Not with an OIDC token: retries are recognised per API key (idempotency_record.key_id)
    # and "who may edit it" is the submitting key (reporter_key_id); a token has neither.
    if caller.key_id is None or caller.institution is None:
        raise Forbidden(
            "Los informes de terreno se envían con una clave de Vigía (no con un token OIDC): "
            "la clave es la que reconoce los reintentos y la que puede corregir el informe."
        )
    key = idempotency_key or (f"id:{data.id}" if data.id else None)
    digest = request_hash(data)
    if key is not None and (record := _find_record(session, caller.key_id, key)):
        return _replay(record, digest)

    rtype = catalog.type_for_submission(session, data.type)
    _check_observed_at(data.observed_at, now, settings.clock_skew_s)
    check_attributes(rtype, data.attributes)
    placement = place(
        session,
        data.geometry,
        allowed_types=rtype.geometry_types,
        max_vertices=settings.max_vertices,
        tolerance_m=get_territory_settings().comuna_tolerance_m,
    )
    if rtype.comuna_code not in (None, placement.comuna_code):
        raise InvalidInput(
            f"El tipo {rtype.code!r} es propio de la comuna {rtype.comuna_code}.",
            errors=[{"field": "type", "location": "body", "reason": "no disponible aquí"}],
        )
    report_id = data.id or uuid.uuid4()
    if key is not None:
        claimed = session.scalar(
            insert(IdempotencyRecord)
            .values(
                comuna_code=placement.comuna_code,
                key_id=caller.key_id,
                idempotency_key=key,
                request_hash=digest,
            )
            .on_conflict_do_nothing(constraint="uq_idempotency_record_key_id_idempotency_key")
            .returning(IdempotencyRecord.id)
        )
        if claimed is None:  # a concurrent retry won and has committed
            record = _find_record(session, caller.key_id, key)
            assert record is not None
            return _replay(record, digest)
    if data.id is not None and session.get(R, data.id) is not None:
        raise InvalidInput(
            "Ya existe un informe con ese id; genere un UUID nuevo.",
            errors=[{"field": "id", "location": "body", "reason": "id ya usado"}],
            code="id_ya_usado",
        )

    geom = func.ST_GeomFromWKB(literal(placement.wkb), SRID)
    duplicates = possible_duplicates(
        session,
        type_id=rtype.id,
        comuna=placement.comuna_code,
        geom=geom,
        radius_m=settings.duplicate_radius_m,
    )
    report = R(
        id=report_id,
        comuna_code=placement.comuna_code,
        type_id=rtype.id,
        status=ReportStatus.REPORTADO,
        severity=data.severity,
        description=data.description,
        attributes=data.attributes,
        geom=WKBElement(placement.wkb, srid=SRID),
        observed_at=data.observed_at,
        received_at=now,
        institution=caller.institution,
        reporting_unit=data.reporting_unit,
        officer_id=data.officer_id,
        reporter_key_id=caller.key_id,
        barrio_id=placement.barrio_id,
        micro_barrio_id=placement.micro_barrio_id,
        possible_duplicate_of_id=duplicates[0].id if duplicates else None,
    )
    session.add(report)
    session.flush()  # no ORM relationships: the report must exist before its history
    session.add(
        ReportTransition(
            comuna_code=placement.comuna_code,
            report_id=report_id,
            from_status=None,
            to_status=ReportStatus.REPORTADO,
            at=now,
            **actor_columns(caller),
            note=None,
            details={"possible_duplicates": [str(d.id) for d in duplicates]} if duplicates else {},
        )
    )
    session.flush()
    body = read_report(session, report_id, caller, now=now, duplicates=duplicates).model_dump(
        mode="json"
    )
    if key is not None:
        session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.key_id == caller.key_id,
                IdempotencyRecord.idempotency_key == key,
            )
            .values(report_id=report_id, response_body=body)
        )
    audit.record(session, "risk_factor.submit", "risk_factor", report_id)
    return Submission(body, replayed=False)
