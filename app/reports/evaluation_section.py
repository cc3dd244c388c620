"""The evaluations a report lists: every project finished in a span, evaluated alike.

The bulletin (projects finished in the 12 months up to the month's end) and the SPD report
(those finished in its period) show the same section: each evaluation's verdict, or why it
could not be evaluated, and the Benjamini-Hochberg note when several are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import VigiaError
from app.models import InterventionProject, ProjectStatus
from app.reports.evaluation import evaluate_project

if TYPE_CHECKING:
    from app.reports.schemas import EvaluationRead


@dataclass
class EvaluationSection:
    evaluations: list[EvaluationRead] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # "<project>: why it was not evaluated"
    fdr_note: str | None = None


def evaluations_for(
    session: Session,
    comuna: str,
    *,
    ended_from: date,
    ended_before: date,
    as_of: datetime,
    until: datetime,
) -> EvaluationSection:
    """Projects of the comuna finished in [ended_from, ended_before), observed until `until`."""
    P = InterventionProject
    finished = session.execute(
        select(P.id, P.name)
        .where(
            P.comuna_code == comuna,
            P.status == ProjectStatus.TERMINADO,
            P.end_date < ended_before,
            P.end_date >= ended_from,
        )
        .order_by(P.end_date.desc(), P.id)
    ).all()
    section = EvaluationSection()
    for project_id, name in finished:
        try:
            section.evaluations.append(
                evaluate_project(session, project_id, as_of=as_of, until=until)
            )
        except VigiaError as exc:  # no location, window not over, too few complaints
            section.notes.append(f"{name}: {exc.detail}")
    from app.scoring.intervention_verdict import multiple_testing_note  # noqa: PLC0415

    p_values = [e.p_value for e in section.evaluations if e.p_value is not None]
    section.fdr_note = multiple_testing_note(p_values)
    return section
