"""Intervention projects (Ámbito III, Objetivo 7): what closes the loop on risk factors."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import InvalidInput, NotFound
from app.models import Barrio, InterventionProject, RiskFactorReport, RiskFactorType
from app.models import project_barrio as link
from app.risk_factors.field_reports import overdue
from app.risk_factors.schemas import ProjectCreate, ProjectFactor, ProjectRead, ProjectUpdate

R = RiskFactorReport


def _barrio_ids(session: Session, comuna: str, codes: list[str]) -> list[int]:
    rows = session.execute(
        select(Barrio.code, Barrio.id).where(Barrio.comuna_code == comuna, Barrio.code.in_(codes))
    )
    found: dict[str, int] = {row.code: row.id for row in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        raise InvalidInput(
            "Hay barrios que no existen en la comuna.",
            errors=[
                {"field": "barrios", "location": "body", "reason": f"no existe: {c}", "code": c}
                for c in missing
            ],
        )
    return [found[c] for c in dict.fromkeys(codes)]


def _check_dates(start: object, end: object) -> None:
    if start is not None and end is not None and end < start:  # type: ignore[operator]
        raise InvalidInput(
            "La fecha de término es anterior a la de inicio.",
            errors=[{"field": "end_date", "location": "body", "reason": "anterior al inicio"}],
        )


def _set_barrios(session: Session, project: InterventionProject, codes: list[str]) -> None:
    ids = _barrio_ids(session, project.comuna_code, codes)
    session.execute(delete(link).where(link.c.project_id == project.id))
    if ids:
        session.execute(insert(link), [{"project_id": project.id, "barrio_id": i} for i in ids])


def create_project(session: Session, data: ProjectCreate) -> InterventionProject:
    _check_dates(data.start_date, data.end_date)
    project = InterventionProject(
        comuna_code=data.comuna,
        name=data.name,
        typology=data.typology,
        status=data.status,
        start_date=data.start_date,
        end_date=data.end_date,
        budget_clp=data.budget_clp,
    )
    session.add(project)
    session.flush()
    _set_barrios(session, project, data.barrios)
    session.flush()
    audit.record(session, "project.create", "project", project.id)
    return project


def get_project(session: Session, project_id: int) -> InterventionProject:
    project = session.get(InterventionProject, project_id)
    if project is None:
        raise NotFound(f"No existe el proyecto {project_id}.", code="proyecto_no_encontrado")
    return project


def update_project(session: Session, project_id: int, data: ProjectUpdate) -> InterventionProject:
    project = get_project(session, project_id)
    changes = data.model_dump(exclude_unset=True)
    _check_dates(
        changes.get("start_date", project.start_date), changes.get("end_date", project.end_date)
    )
    if (codes := changes.pop("barrios", None)) is not None:
        _set_barrios(session, project, codes)
    for field, value in changes.items():
        if value is not None or field in ("start_date", "end_date", "budget_clp"):
            setattr(project, field, value)
    session.flush()
    audit.record(session, "project.update", "project", project.id)
    return project


def read_project(session: Session, project_id: int) -> ProjectRead:
    project = get_project(session, project_id)
    now = datetime.now(UTC)
    barrios = session.scalars(
        select(Barrio.code)
        .join(link, link.c.barrio_id == Barrio.id)
        .where(link.c.project_id == project.id)
        .order_by(Barrio.code)
    ).all()
    rows = session.execute(
        select(R.id, RiskFactorType.code, R.status, Barrio.code, overdue(now))
        .join(RiskFactorType, RiskFactorType.id == R.type_id)
        .outerjoin(Barrio, Barrio.id == R.barrio_id)
        .where(R.project_id == project.id)
        .order_by(R.received_at, R.id)
    ).all()
    factors = [ProjectFactor(id=i, type=t, status=s, barrio=b, overdue=o) for i, t, s, b, o in rows]
    return ProjectRead(
        id=project.id,
        comuna=project.comuna_code,
        name=project.name,
        typology=project.typology,
        status=project.status,
        barrios=list(barrios),
        start_date=project.start_date,
        end_date=project.end_date,
        budget_clp=project.budget_clp,
        factors=factors,
        factors_by_status=dict(Counter(f.status.value for f in factors)),
    )


def list_projects(session: Session, comuna: str | None) -> list[ProjectRead]:
    stmt = select(InterventionProject.id).order_by(InterventionProject.id)
    if comuna:
        stmt = stmt.where(InterventionProject.comuna_code == comuna)
    return [read_project(session, pid) for pid in session.scalars(stmt)]
