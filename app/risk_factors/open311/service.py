"""Open311 GeoReport v2 over the risk-factor catalog and lifecycle.

Factor types are services (service_code = type code, group = SPD typology); reports are
service requests. open = reportado, validado, derivado, en_gestion; closed = resuelto,
descartado, duplicado, with `status_notes` saying which. Reading is public and generalised
exactly like the community feed (micro-barrio point, month precision, no free text, no
officer); filing needs a police or admin key and goes through the same strict submission.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Numeric, func, select, update
from sqlalchemy.orm import Session

from app.api.validation_messages import spanish_reason
from app.errors import InvalidInput, NotFound
from app.identity.caller import Caller
from app.models import ReportStatus, RiskFactorReport, RiskFactorType
from app.privacy.public_risk_factors import (
    Barrio,
    Micro,
    generalised_point,
    public_base,
)
from app.privacy.thresholds import PUBLIC_DECIMALS
from app.risk_factors import catalog
from app.risk_factors.lifecycle import CLOSED_STATUSES, LABELS, OPEN_STATUSES
from app.risk_factors.schemas import RiskFactorCreate
from app.risk_factors.submission import submit as submit_field_report
from app.settings import RiskFactorSettings
from app.timezone import CHILE_TZ, local_month_start

R = RiskFactorReport
T = RiskFactorType
TYPOLOGY_NAMES = {
    "IL": "Iluminación",
    "REP": "Recuperación de espacios públicos",
    "AC": "Alarmas comunitarias",
    "EQUIP": "Equipamiento",
    "CTV": "Televigilancia",
    None: "Coordinación",
}
_DATATYPES = {
    "integer": "number",
    "number": "number",
    "string": "string",
    "boolean": "singlevaluelist",
    "enum": "singlevaluelist",
}
SEVERITY = "severidad"
ADDRESS_MAX = 500  # as the column's check constraint (migration 0015)
_OPEN311_FIELDS = {"officer_id": "account_id", "description": "description"}


def open_or_closed(status: ReportStatus) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


# --- services ------------------------------------------------------------------------------


def services(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "service_code": t.code,
            "service_name": t.label,
            "description": (
                f"{t.label}. Unidad responsable habitual: {t.default_unit}; plazo esperado: "
                f"{t.expected_days} días."
            ),
            "metadata": True,  # every service takes at least the severity attribute
            "type": "realtime",
            "keywords": ",".join(k for k in (t.typology, "factor de riesgo") if k),
            "group": TYPOLOGY_NAMES[t.typology],
        }
        for t in catalog.list_types(session, public_only=True)
    ]


def _public_type(session: Session, code: str) -> RiskFactorType:
    rtype = session.scalar(select(T).where(T.code == code, T.active, T.public))
    if rtype is None:
        raise NotFound(f"No existe el servicio {code!r}.", code="servicio_no_encontrado")
    return rtype


def service_definition(session: Session, code: str) -> dict[str, Any]:
    rtype = _public_type(session, code)
    attributes: list[dict[str, Any]] = [
        {
            "variable": True,
            "code": SEVERITY,
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "Gravedad de 1 (leve) a 5 (crítica); por defecto 3.",
            "order": 1,
            "description": "Gravedad",
            "values": [{"key": str(n), "name": str(n)} for n in range(1, 6)],
        }
    ]
    for order, (attr_code, spec) in enumerate(rtype.attributes_schema.items(), start=2):
        attribute: dict[str, Any] = {
            "variable": True,
            "code": attr_code,
            "datatype": _DATATYPES[spec["type"]],
            "required": bool(spec.get("required")),
            "datatype_description": spec.get("label", attr_code),
            "order": order,
            "description": spec.get("label", attr_code),
        }
        if spec["type"] == "enum":
            attribute["values"] = [{"key": v, "name": v} for v in spec["values"]]
        elif spec["type"] == "boolean":
            attribute["values"] = [{"key": "true", "name": "Sí"}, {"key": "false", "name": "No"}]
        attributes.append(attribute)
    return {"service_code": rtype.code, "attributes": attributes}


# --- reading requests ----------------------------------------------------------------------


def _month_start(ts: Any) -> Any:
    return local_month_start(ts)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(CHILE_TZ).isoformat() if value is not None else None


def status_notes(status: ReportStatus, unit: str | None) -> str:
    if status == ReportStatus.DERIVADO and unit:
        return f"{LABELS[status]}: {unit}."
    return f"{LABELS[status]}."


def requests(
    session: Session,
    *,
    ids: list[uuid.UUID] | None = None,
    service_codes: list[str] | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    comuna: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    anchor = generalised_point()
    stmt = public_base(
        select(
            R.id,
            R.status,
            R.responsible_unit,
            T.code,
            T.label,
            T.default_unit,
            func.coalesce(Micro.name, Barrio.name),
            func.round(func.ST_Y(anchor).cast(Numeric), PUBLIC_DECIMALS),
            func.round(func.ST_X(anchor).cast(Numeric), PUBLIC_DECIMALS),
            _month_start(R.received_at),
            _month_start(R.updated_at),
        )
    )
    if ids:
        stmt = stmt.where(R.id.in_(ids))
    if service_codes:
        stmt = stmt.where(T.code.in_(service_codes))
    if status == "open":
        stmt = stmt.where(R.status.in_(OPEN_STATUSES))
    elif status == "closed":
        stmt = stmt.where(R.status.in_(CLOSED_STATUSES))
    if start is not None:
        stmt = stmt.where(R.received_at >= start)
    if end is not None:
        stmt = stmt.where(R.received_at <= end)
    if comuna:
        stmt = stmt.where(R.comuna_code == comuna)
    stmt = stmt.order_by(R.received_at.desc(), R.id).limit(limit)
    return [
        {
            "service_request_id": str(rid),
            "status": open_or_closed(st),
            "status_notes": status_notes(st, unit),
            "service_name": label,
            "service_code": code,
            "description": None,  # free text never leaves the staff side
            "agency_responsible": unit or default_unit,
            "service_notice": None,
            "requested_datetime": iso(requested),
            "updated_datetime": iso(updated),
            "expected_datetime": None,
            "address": place,
            "address_id": None,
            "zipcode": None,
            "lat": float(lat),
            "long": float(lon),
            "media_url": None,
        }
        for (rid, st, unit, code, label, default_unit, place, lat, lon, requested, updated) in (
            session.execute(stmt)
        )
    ]


def request(session: Session, request_id: str) -> list[dict[str, Any]]:
    try:
        rid = uuid.UUID(request_id)
    except ValueError as exc:
        raise NotFound(f"No existe la solicitud {request_id!r}.") from exc
    found = requests(session, ids=[rid])
    if not found:
        raise NotFound(f"No existe la solicitud {request_id!r}.", code="solicitud_no_encontrada")
    return found


# --- filing --------------------------------------------------------------------------------


def _convert(spec: dict[str, Any], raw: str) -> Any:
    kind = spec.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw  # the attribute check reports it, in Spanish, with the field name
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    return raw


def _float(form: dict[str, str], name: str) -> float:
    try:
        return float(form[name])
    except (KeyError, ValueError) as exc:
        raise InvalidInput(
            f"Falta '{name}' o no es un número: se necesitan lat y long (WGS 84).",
            errors=[{"field": name, "location": "body", "reason": "número obligatorio"}],
        ) from exc


def create_request(
    session: Session,
    caller: Caller,
    form: dict[str, str],
    *,
    idempotency_key: str | None,
    settings: RiskFactorSettings,
) -> list[dict[str, Any]]:
    code = form.get("service_code", "")
    rtype = _public_type(session, code) if code else None
    if rtype is None:
        raise InvalidInput(
            "Falta service_code.",
            errors=[{"field": "service_code", "location": "body", "reason": "obligatorio"}],
        )
    if "lat" not in form and "long" not in form and form.get("address_string"):
        # no coordinates: the address goes through the local geocoder (app/geocoding)
        from app.geocoding.service import point_of_address

        lon, lat = point_of_address(session, form["address_string"], field="address_string")
    else:
        lat, lon = _float(form, "lat"), _float(form, "long")
    attributes: dict[str, Any] = {}
    severity: Any = 3
    for key, value in form.items():
        if not (key.startswith("attribute[") and key.endswith("]")):
            continue
        name = key[len("attribute[") : -1]
        if name == SEVERITY:
            if value not in {"1", "2", "3", "4", "5"}:
                raise InvalidInput(
                    "La gravedad debe ser un número de 1 a 5.",
                    errors=[{"field": key, "location": "body", "reason": "entero de 1 a 5"}],
                )
            severity = int(value)
        else:
            attributes[name] = _convert(rtype.attributes_schema.get(name, {}), value)
    try:
        data = RiskFactorCreate.model_validate(
            {
                "type": rtype.code,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "severity": severity,
                "description": form.get("description") or None,
                "observed_at": datetime.now(UTC),
                "officer_id": form.get("account_id") or form.get("device_id") or None,
                "attributes": attributes,
            }
        )
    except ValidationError as exc:
        raise InvalidInput(
            "La solicitud tiene datos inválidos.",
            errors=[
                {
                    "field": _OPEN311_FIELDS.get(str(e["loc"][0]), str(e["loc"][0])),
                    "location": "body",
                    "reason": spanish_reason(e),
                }
                for e in exc.errors()
            ],
        ) from exc
    address = (form.get("address_string") or "").strip() or None
    if address is not None and len(address) > ADDRESS_MAX:
        raise InvalidInput(
            f"address_string admite hasta {ADDRESS_MAX} caracteres.",
            errors=[{"field": "address_string", "location": "body", "reason": "demasiado largo"}],
        )
    result = submit_field_report(
        session, caller, data, idempotency_key=idempotency_key, settings=settings
    )
    if address is not None and not result.replayed:
        # Core UPDATE: the report's version (its ETag) stays 1, as for any new report
        session.execute(
            update(R).where(R.id == uuid.UUID(result.report_id)).values(address_string=address)
        )
    return [
        {
            "service_request_id": result.report_id,
            "service_notice": (
                f"Recibido. Unidad responsable habitual: {rtype.default_unit}; plazo esperado "
                f"{rtype.expected_days} días."
            ),
            "account_id": None,
        }
    ]
