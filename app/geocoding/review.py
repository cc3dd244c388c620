"""The review queue: complaints that arrived as an address the geocoder could not place,
and their placement by hand (audited; barrio and micro-barrio assigned by the import's
own rule, app/complaints/staging.py).

Only callers who may read addresses (police of the complaint's institution, admins) see
the queue: an address and its candidates name a place, which planners never receive.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.complaints.staging import BARRIO_ID, UNIT_JOINS
from app.errors import InvalidInput, NotFound
from app.identity.access import SENSITIVE_COMPLAINTS, audit_read, complaint_scope
from app.identity.caller import Caller
from app.models import Complaint, CrimeCategory, LocationPrecision
from app.models.gazetteer import ComplaintGeocode, GeocodeStatus
from app.settings import get_territory_settings


@dataclass
class UnplacedPage:
    items: list[dict[str, Any]]
    total: int


def unplaced(
    session: Session, caller: Caller, *, comuna: str | None, limit: int, offset: int
) -> UnplacedPage:
    """The queue, oldest case first, with each complaint's candidates."""
    G = ComplaintGeocode
    where = [G.status == GeocodeStatus.UNPLACED, Complaint.geom.is_(None), complaint_scope(caller)]
    if comuna is not None:
        where.append(Complaint.comuna_code == comuna)
    base = (
        select(
            Complaint.id,
            Complaint.external_ref,
            Complaint.source,
            Complaint.category_code,
            CrimeCategory.sensitive,
            Complaint.occurred_at,
            Complaint.comuna_code,
            Complaint.address,
            G.score,
            G.candidates,
            G.gazetteer_version_id,
        )
        .join(G, G.complaint_id == Complaint.id)
        .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .where(*where)
    )
    total = session.scalar(select(text("count(*)")).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(Complaint.occurred_at, Complaint.id).limit(limit).offset(offset)
    ).all()
    audit_read(session, SENSITIVE_COMPLAINTS, [r.id for r in rows if r.sensitive], surface="api")
    return UnplacedPage(
        items=[
            {
                "id": r.id,
                "external_ref": r.external_ref,
                "source": r.source,
                "category": r.category_code,
                "occurred_at": r.occurred_at,
                "comuna": r.comuna_code,
                "address": r.address,
                "best_score": r.score,
                "candidates": r.candidates,
                "gazetteer_version": r.gazetteer_version_id,
            }
            for r in rows
        ],
        total=int(total),
    )


_PLACE = text(
    """
    UPDATE complaint c SET geom = u.geom, location_precision = :precision,
           barrio_id = u.barrio_id, micro_barrio_id = u.micro_barrio_id
      FROM (SELECT p.geom,"""
    + BARRIO_ID.format(point="p.geom", comuna=":comuna")
    + """
              FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom) p"""
    + UNIT_JOINS.format(point="p.geom", comuna=":comuna")
    + """) u
     WHERE c.id = :id
    RETURNING (SELECT code FROM barrio WHERE id = c.barrio_id) AS barrio,
              (SELECT code FROM micro_barrio WHERE id = c.micro_barrio_id) AS micro_barrio
    """
)
_INSIDE = text(
    """
    SELECT ST_Intersects(c.geom, p) OR ST_DWithin(c.geom::geography, p::geography, :tolerance)
      FROM comuna c, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS p WHERE c.code = :comuna
    """
)


def place_by_hand(
    session: Session,
    caller: Caller,
    complaint_id: uuid.UUID,
    *,
    lon: float,
    lat: float,
    precision: LocationPrecision,
) -> dict[str, Any]:
    """Give a complaint the point an analyst chose; flushes, audits. A complaint outside
    the caller's scope does not exist for it (404)."""
    found = session.execute(
        select(Complaint.id, Complaint.comuna_code, Complaint.geom.is_(None).label("was_unplaced"))
        .where(Complaint.id == complaint_id, complaint_scope(caller))
        .with_for_update()
    ).first()
    if found is None:
        raise NotFound("La denuncia no existe.", code="denuncia_no_encontrada")
    tolerance = get_territory_settings().comuna_tolerance_m
    point = {"lon": lon, "lat": lat, "comuna": found.comuna_code, "tolerance": tolerance}
    if not session.scalar(_INSIDE, point):
        reason = f"el punto ({lon}, {lat}) queda fuera de la comuna {found.comuna_code}"
        raise InvalidInput(
            f"No se ubicó: {reason}.",
            errors=[{"field": "lon,lat", "location": "body", "reason": reason}],
            code="fuera_del_territorio",
        )
    units = session.execute(
        _PLACE, {**point, "id": complaint_id, "precision": precision.value}
    ).one()
    record = session.get(ComplaintGeocode, complaint_id)
    if record is None:
        record = ComplaintGeocode(complaint_id=complaint_id, candidates=[])
        session.add(record)
    record.status = GeocodeStatus.MANUAL
    record.placed_by = caller.actor
    record.geocoded_at = func.now()
    session.flush()
    audit.record(
        session,
        "complaint.place",
        "complaint",
        complaint_id,
        detail={
            "lon": lon,
            "lat": lat,
            "precision": precision.value,
            "was_unplaced": bool(found.was_unplaced),
            "barrio": units.barrio,
            "micro_barrio": units.micro_barrio,
        },
    )
    return {"barrio": units.barrio, "micro_barrio": units.micro_barrio}
