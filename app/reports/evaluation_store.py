"""Stored intervention evaluations: what a council minute cites, read back by id."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import NotFound
from app.models import InterventionProject, ProjectEvaluation
from app.reports.evaluation import EvaluationRequest, evaluate_project
from app.reports.schemas import EvaluationRead, StoredEvaluationRead


class EvaluationNotFound(NotFound):
    code = "evaluacion_no_encontrada"
    title = "Evaluación no encontrada"


def store_evaluation(
    session: Session,
    project_id: int,
    request: EvaluationRequest,
    *,
    as_of: datetime,
    computed_by: str,
) -> StoredEvaluationRead:
    """Evaluates now and keeps the inputs, their fingerprint and the result."""
    read = evaluate_project(session, project_id, request, as_of=as_of)
    comuna = session.scalar(
        select(InterventionProject.comuna_code).where(InterventionProject.id == project_id)
    )
    row = ProjectEvaluation(
        comuna_code=comuna,
        project_id=project_id,
        method_version=read.method_version,
        input_fingerprint=read.input_fingerprint,
        data_as_of=as_of,
        computed_by=computed_by,
        inputs=read.inputs,
        result=read.model_dump(mode="json"),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "project.evaluation.store",
        "project_evaluation",
        row.id,
        detail={"project_id": project_id, "input_fingerprint": read.input_fingerprint},
    )
    session.refresh(row, ["computed_at"])
    return _stored(row)


def _stored(row: ProjectEvaluation) -> StoredEvaluationRead:
    body = EvaluationRead.model_validate(row.result).model_dump()
    return StoredEvaluationRead(
        **body,
        id=row.id,
        project_id=row.project_id,
        computed_at=row.computed_at,
        computed_by=row.computed_by,
    )


def get_evaluation(
    session: Session, project_id: int, evaluation_id: uuid.UUID
) -> StoredEvaluationRead:
    row = session.get(ProjectEvaluation, evaluation_id)
    if row is None or row.project_id != project_id:
        raise EvaluationNotFound(f"No existe la evaluación {evaluation_id} de este proyecto.")
    return _stored(row)
