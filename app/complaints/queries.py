"""Reading complaints: filters shared by every query, GeoJSON pages, one complaint."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Select,
    String,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.geojson import feature, feature_collection
from app.identity import access
from app.identity.access import complaint_scope, sees_complaint_identifiers
from app.identity.caller import Caller
from app.models import Barrio, Complaint, CrimeCategory, MicroBarrio
from app.models.base import SRID
from app.models.complaint import located


@dataclass(frozen=True)
class ComplaintFilter:
    """What a staff member narrows complaints down to; every field is optional."""

    categories: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    dmcs: bool | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    comuna: str | None = None
    barrio: str | None = None
    micro_barrio: str | None = None
    bbox: tuple[float, float, float, float] | None = None


def filtered(stmt: Select, where: ComplaintFilter) -> Select:
    """Join the catalog and territory and apply the filter (values as bind parameters)."""
    stmt = (
        stmt.select_from(Complaint)
        .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .outerjoin(Barrio, Barrio.id == Complaint.barrio_id)
        .outerjoin(MicroBarrio, MicroBarrio.id == Complaint.micro_barrio_id)
    )
    if where.categories:
        stmt = stmt.where(Complaint.category_code.in_(where.categories))
    if where.families:
        stmt = stmt.where(CrimeCategory.family_code.in_(where.families))
    if where.dmcs is not None:
        stmt = stmt.where(CrimeCategory.dmcs.is_(where.dmcs))
    if where.occurred_from is not None:
        stmt = stmt.where(Complaint.occurred_at >= where.occurred_from)
    if where.occurred_to is not None:
        stmt = stmt.where(Complaint.occurred_at < where.occurred_to)
    if where.comuna is not None:
        stmt = stmt.where(Complaint.comuna_code == where.comuna)
    if where.barrio is not None:
        stmt = stmt.where(Barrio.code == where.barrio)
    if where.micro_barrio is not None:
        stmt = stmt.where(MicroBarrio.code == where.micro_barrio)
    if where.bbox is not None:
        envelope = func.ST_MakeEnvelope(*where.bbox, SRID)
        stmt = stmt.where(Complaint.geom.op("&&")(envelope))
    return stmt


# --- keyset cursor ---------------------------------------------------------------------------


def encode_cursor(occurred_at: datetime, id_: uuid.UUID) -> str:
    raw = orjson.dumps([occurred_at.isoformat(), str(id_)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        occurred_at, id_ = orjson.loads(raw)
        key = datetime.fromisoformat(occurred_at), uuid.UUID(id_)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidInput(
            "El cursor no es válido; use el enlace `next` de la página anterior.",
            errors=[{"field": "cursor", "location": "query", "reason": "cursor no válido"}],
        ) from exc
    if key[0].tzinfo is None:
        raise InvalidInput(
            "El cursor no es válido.",
            errors=[{"field": "cursor", "location": "query", "reason": "cursor no válido"}],
        )
    return key


# --- GeoJSON page ------------------------------------------------------------------------------


@dataclass
class Page:
    geojson: str
    returned: int
    next_cursor: str | None


def _properties(caller: Caller) -> dict[str, Any]:
    identifiers = sees_complaint_identifiers(caller)
    return {
        "external_ref": Complaint.external_ref if identifiers else null().cast(String),
        "source": Complaint.source,
        "category": Complaint.category_code,
        "category_name": CrimeCategory.name,
        "family": CrimeCategory.family_code,
        "dmcs": CrimeCategory.dmcs,
        "sensitive": CrimeCategory.sensitive,
        "taxonomy_version": Complaint.taxonomy_version,
        "occurred_at": Complaint.occurred_at,
        "received_at": Complaint.received_at,
        "precision": Complaint.location_precision,
        "address": Complaint.address if identifiers else null().cast(String),
        "comuna": Complaint.comuna_code,
        "barrio": Barrio.code,
        "micro_barrio": MicroBarrio.code,
    }


def _audit_sensitive(session: Session, ids: list[uuid.UUID]) -> None:
    """Reading complaints of sensitive categories (sexual, VIF, children, drugs) is audited."""
    if not ids:
        return
    sensitive = session.scalars(
        select(Complaint.id)
        .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .where(Complaint.id == any_(bindparam("ids", ids, type_=ARRAY(Uuid))))
        .where(CrimeCategory.sensitive)
    ).all()
    access.audit_read(session, access.SENSITIVE_COMPLAINTS, sensitive, surface="api")


def complaints_page(
    session: Session,
    where: ComplaintFilter,
    caller: Caller,
    *,
    limit: int,
    cursor: str | None,
    links: Callable[[str | None], list[dict[str, str]]],
) -> Page:
    """One page, newest first, as a FeatureCollection serialised by PostGIS.

    Keyset pagination on (occurred_at, id): the page's keys are found first (index-backed),
    then PostGIS builds the document for exactly those rows. `links(next_cursor)` gives the
    `links` member.
    """
    order = (Complaint.occurred_at.desc(), Complaint.id.desc())
    keys = filtered(select(Complaint.occurred_at, Complaint.id), where).where(
        complaint_scope(caller), located()
    )
    if cursor is not None:
        keys = keys.where(tuple_(Complaint.occurred_at, Complaint.id) < decode_cursor(cursor))
    found = session.execute(keys.order_by(*order).limit(limit + 1)).all()
    page = found[:limit]
    next_cursor = encode_cursor(*page[-1]) if len(found) > limit else None
    ids = [row.id for row in page]
    _audit_sensitive(session, ids)
    source = filtered(
        select(
            feature(id_=Complaint.id, geom=Complaint.geom, properties=_properties(caller)).label(
                "feature"
            ),
            func.row_number().over(order_by=order).label("ordinal"),
        ),
        ComplaintFilter(),
    ).where(Complaint.id == any_(bindparam("ids", ids, type_=ARRAY(Uuid))))
    document = session.execute(
        feature_collection(
            source,
            order_by="ordinal",
            extra={
                "numberReturned": literal(len(ids)),
                "links": cast(literal(orjson.dumps(links(next_cursor)).decode()), JSON),
            },
        )
    ).scalar_one()
    return Page(geojson=document, returned=len(ids), next_cursor=next_cursor)


# --- one complaint -----------------------------------------------------------------------------


def complaint_read(
    session: Session, caller: Caller, *, source: str, external_ref: str
) -> dict[str, Any]:
    """A stored complaint as ComplaintRead fields, if the caller's scope reaches it."""
    row = session.execute(
        select(
            Complaint,
            func.ST_X(Complaint.geom).label("lon"),
            func.ST_Y(Complaint.geom).label("lat"),
            Barrio.code.label("barrio_code"),
            Barrio.name.label("barrio_name"),
            MicroBarrio.code.label("micro_code"),
            MicroBarrio.name.label("micro_name"),
        )
        .outerjoin(Barrio, Barrio.id == Complaint.barrio_id)
        .outerjoin(MicroBarrio, MicroBarrio.id == Complaint.micro_barrio_id)
        .where(Complaint.source == source, Complaint.external_ref == external_ref)
        .where(complaint_scope(caller))
    ).one_or_none()
    if row is None:
        raise NotFound(f"No existe la denuncia {source}/{external_ref}.")
    complaint: Complaint = row.Complaint
    return {
        "id": complaint.id,
        "external_ref": complaint.external_ref,
        "source": complaint.source,
        "category": complaint.category_code,
        "taxonomy_version": complaint.taxonomy_version,
        "occurred_at": complaint.occurred_at,
        "received_at": complaint.received_at,
        "lon": row.lon,
        "lat": row.lat,
        "precision": complaint.location_precision,
        "address": complaint.address,
        "comuna": complaint.comuna_code,
        "barrio": {"code": row.barrio_code, "name": row.barrio_name} if row.barrio_code else None,
        "micro_barrio": (
            {"code": row.micro_code, "name": row.micro_name} if row.micro_code else None
        ),
        "loaded_by": complaint.loaded_by,
    }
