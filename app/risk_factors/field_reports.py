"""Field submission (strict, idempotent) and reading one report with its timeline."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from geoalchemy2 import WKBElement
from sqlalchemy import ColumnElement, Text, and_, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from app.audit import trail as audit
from app.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from app.geojson import geometry_json
from app.identity.access import risk_factor_scope
from app.identity.caller import Caller
from app.models import (
    Barrio,
    IdempotencyRecord,
    MicroBarrio,
    ReportPhoto,
    ReportStatus,
    ReportTransition,
    RiskFactorReport,
    RiskFactorType,
    Role,
)
from app.models.base import SRID
from app.risk_factors import catalog
from app.risk_factors.attributes import validate_attributes
from app.risk_factors.lifecycle import OPEN_STATUSES
from app.risk_factors.placement import geography, place
from app.risk_factors.schemas import (
    Actor,
    DuplicateCandidate,
    PhotoRead,
    RiskFactorCreate,
    RiskFactorRead,
    RiskFactorUpdate,
    TransitionRead,
    TypeRef,
    UnitRef,
)
from app.settings import RiskFactorSettings, get_territory_settings

R = RiskFactorReport
T = RiskFactorType

# --- visibility, deadlines, ETags ----------------------------------------------------------


def visible_to(caller: Caller) -> ColumnElement[bool]:
    """Which reports a caller may see (the rule lives in `app.identity.access`)."""
    return risk_factor_scope(caller)


def due_at() -> ColumnElement[datetime]:
    return R.received_at + func.make_interval(0, 0, 0, T.expected_days)


def overdue(now: datetime | ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(R.status.in_(OPEN_STATUSES), due_at() < now)


def etag(version: int) -> str:
    return f'"v{version}"'


def if_match_passes(if_match: str, current: str) -> bool:
    """RFC 9110 13.1.1: `*` matches any current representation (the resource exists); else a
    listed entity-tag must equal `current` by strong comparison, so a weak `W/"v3"` never does.
    """
    tags = [t.strip() for t in if_match.split(",")]
    if tags == ["*"]:
        return True
    return current in tags  # `current` is strong; a weak tag keeps its W/ and cannot equal it


def check_if_match(if_match: str | None, version: int) -> None:
    """428 without If-Match, 412 when the tag is not the current one (called on a report that
    exists, so `*` passes)."""
    if not if_match:
        raise PreconditionRequired(
            "Para modificar un informe envíe la cabecera If-Match con el ETag que leyó "
            "(evita pisar cambios de otra persona)."
        )
    if not if_match_passes(if_match, etag(version)):
        raise PreconditionFailed(
            f"El informe cambió desde que se leyó (versión actual {etag(version)}); "
            "vuelva a leerlo y reintente.",
            current_etag=etag(version),
        )


# --- reading -----------------------------------------------------------------------------


def load_visible(
    session: Session, report_id: uuid.UUID, caller: Caller, *, for_update: bool = False
) -> RiskFactorReport:
    stmt = select(R).where(R.id == report_id, visible_to(caller))
    if for_update:
        stmt = stmt.with_for_update(of=R)
    report = session.scalar(stmt)
    if report is None:
        raise _not_found(report_id)
    return report


def _not_found(report_id: uuid.UUID) -> NotFound:
    # the same answer whether it does not exist or is not the caller's to see
    return NotFound(f"No existe el informe {report_id}.", code="informe_no_encontrado")


def read_report(
    session: Session,
    report_id: uuid.UUID,
    caller: Caller,
    *,
    now: datetime | None = None,
    duplicates: list[DuplicateCandidate] | None = None,
) -> RiskFactorRead:
    """The report with its photos and timeline, if the caller may see it (else 404)."""
    now = now or datetime.now(UTC)
    Micro = aliased(MicroBarrio)
    row = session.execute(
        select(
            R,
            T.code,
            T.label,
            T.typology,
            T.default_unit,
            Barrio.code,
            Barrio.name,
            Micro.code,
            Micro.name,
            cast(geometry_json(R.geom), Text),
            due_at(),
            overdue(now),
        )
        .join(T, T.id == R.type_id)
        .outerjoin(Barrio, Barrio.id == R.barrio_id)
        .outerjoin(Micro, Micro.id == R.micro_barrio_id)
        .where(R.id == report_id, visible_to(caller))
    ).one_or_none()
    if row is None:
        raise _not_found(report_id)
    (report, tcode, tlabel, typology, default_unit, bcode, bname, mcode, mname) = row[:9]
    geometry_text, due, is_overdue = row[9:]
    photos = session.execute(
        select(ReportPhoto.id, ReportPhoto.content_type, ReportPhoto.size_bytes)
        .add_columns(ReportPhoto.created_at)
        .where(ReportPhoto.report_id == report_id)
        .order_by(ReportPhoto.created_at, ReportPhoto.id)
    ).all()
    steps = session.scalars(
        select(ReportTransition)
        .where(ReportTransition.report_id == report_id)
        .order_by(ReportTransition.at, ReportTransition.id)
    ).all()
    return RiskFactorRead(
        id=report.id,
        comuna=report.comuna_code,
        type=TypeRef(code=tcode, label=tlabel, typology=typology),
        status=report.status,
        severity=report.severity,
        description=report.description,
        attributes=report.attributes,
        geometry=orjson.loads(geometry_text),
        observed_at=report.observed_at,
        received_at=report.received_at,
        institution=report.institution,
        reporting_unit=report.reporting_unit,
        officer_id=report.officer_id,
        responsible_unit=report.responsible_unit,
        suggested_unit=default_unit,
        barrio=UnitRef(code=bcode, name=bname) if bcode else None,
        micro_barrio=UnitRef(code=mcode, name=mname) if mcode else None,
        project_id=report.project_id,
        duplicate_of=report.duplicate_of_id,
        possible_duplicate_of=report.possible_duplicate_of_id,
        possible_duplicates=duplicates or [],
        due_at=due,
        overdue=is_overdue,
        resolved_at=report.resolved_at,
        version=report.version,
        photos=[
            PhotoRead(
                id=p.id,
                report_id=report_id,
                content_type=p.content_type,
                size_bytes=p.size_bytes,
                created_at=p.created_at,
            )
            for p in photos
        ],
        timeline=[
            TransitionRead(
                from_status=s.from_status,
                to_status=s.to_status,
                at=s.at,
                actor=Actor(
                    role=s.actor_role,
                    institution=s.actor_institution,
                    unit=s.actor_unit,
                    name=s.actor_name,
                ),
                note=s.note,
                details=s.details,
            )
            for s in steps
        ],
    )


# --- submitting --------------------------------------------------------------------------


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


def _check_attributes(rtype: RiskFactorType, values: dict[str, Any]) -> None:
    problems = validate_attributes(rtype.attributes_schema, values)
    if problems:
        raise InvalidInput(
            f"Los atributos no corresponden al tipo {rtype.code!r}.", errors=problems
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
    _check_attributes(rtype, data.attributes)
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


def actor_columns(caller: Caller) -> dict[str, Any]:
    return {
        "actor_key_id": caller.key_id,
        "actor_role": caller.role.value if caller.role else None,
        "actor_institution": caller.institution,
        "actor_unit": caller.unit,
        "actor_name": caller.actor,
    }


# --- editing -----------------------------------------------------------------------------


def update_report(
    session: Session,
    report_id: uuid.UUID,
    caller: Caller,
    data: RiskFactorUpdate,
    *,
    if_match: str | None,
) -> RiskFactorReport:
    """Severity, description and attributes, by an admin or the key that submitted it."""
    report = load_visible(session, report_id, caller, for_update=True)
    submitter = caller.key_id is not None and report.reporter_key_id == caller.key_id
    if caller.role != Role.ADMIN and not submitter:
        raise Forbidden("Solo quien envió el informe o un administrador puede editarlo.")
    check_if_match(if_match, report.version)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("attributes") is not None:
        rtype = session.get_one(RiskFactorType, report.type_id)
        _check_attributes(rtype, changes["attributes"])
    for field in ("severity", "attributes"):
        if changes.get(field) is not None:
            setattr(report, field, changes[field])
    if "description" in changes:
        report.description = changes["description"]
    session.flush()
    audit.record(
        session, "risk_factor.update", "risk_factor", report.id, detail={"fields": sorted(changes)}
    )
    return report
