"""The factor type catalog: seeded by the migration, edited by admins through the API."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import Conflict, InvalidInput, NotFound
from app.models import RiskFactorType
from app.risk_factors.attributes import check_schema
from app.risk_factors.schemas import RiskFactorTypeCreate, RiskFactorTypeUpdate


def list_types(
    session: Session, *, include_inactive: bool = False, public_only: bool = False
) -> list[RiskFactorType]:
    stmt = select(RiskFactorType).order_by(RiskFactorType.code)
    if not include_inactive:
        stmt = stmt.where(RiskFactorType.active)
    if public_only:
        stmt = stmt.where(RiskFactorType.public)
    return list(session.scalars(stmt))


def get_type(session: Session, code: str) -> RiskFactorType:
    found = session.scalar(select(RiskFactorType).where(RiskFactorType.code == code))
    if found is None:
        raise NotFound(f"No existe el tipo de factor {code!r}.", code="tipo_no_encontrado")
    return found


def type_for_submission(session: Session, code: str, comuna: str | None = None) -> RiskFactorType:
    """An active type usable in `comuna` (national, or that comuna's own), else a 422."""
    stmt = select(RiskFactorType).where(RiskFactorType.code == code, RiskFactorType.active)
    if comuna is not None:
        stmt = stmt.where(
            or_(RiskFactorType.comuna_code.is_(None), RiskFactorType.comuna_code == comuna)
        )
    found = session.scalar(stmt)
    if found is None:
        raise InvalidInput(
            f"El tipo de factor {code!r} no existe o no está activo.",
            errors=[{"field": "type", "location": "body", "reason": "tipo desconocido o inactivo"}],
        )
    return found


def _check_attributes_schema(schema: object) -> None:
    problems = check_schema(schema)
    if problems:
        raise InvalidInput("El esquema de atributos no es válido.", errors=problems)


def create_type(session: Session, data: RiskFactorTypeCreate) -> RiskFactorType:
    _check_attributes_schema(data.attributes_schema)
    if session.scalar(select(RiskFactorType.id).where(RiskFactorType.code == data.code)):
        raise Conflict(f"Ya existe el tipo {data.code!r}.", code="tipo_duplicado")
    rtype = RiskFactorType(
        code=data.code,
        comuna_code=data.comuna,
        label=data.label,
        typology=data.typology,
        default_unit=data.default_unit,
        expected_days=data.expected_days,
        geometry_types=list(data.geometry_types),
        attributes_schema=data.attributes_schema,
        public=data.public,
    )
    session.add(rtype)
    session.flush()
    audit.record(session, "risk_factor_type.create", "risk_factor_type", rtype.code)
    return rtype


def update_type(session: Session, code: str, data: RiskFactorTypeUpdate) -> RiskFactorType:
    rtype = get_type(session, code)
    changes = data.model_dump(exclude_unset=True)
    if "attributes_schema" in changes:
        _check_attributes_schema(changes["attributes_schema"])
    for field, value in changes.items():
        if value is None and field not in ("typology",):
            continue
        setattr(rtype, field, list(value) if field == "geometry_types" else value)
    session.flush()
    audit.record(
        session,
        "risk_factor_type.update",
        "risk_factor_type",
        code,
        detail={"fields": sorted(changes)},
    )
    return rtype
