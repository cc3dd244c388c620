"""Recording prevention activities: the checks every activity passes (API or spreadsheet row),
writing it with its attendance counts, reading it back, and its evidence file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.catalog import (
    ATTENDANCE_COLUMNS,
    TARGET_GROUPS,
    attendance_key,
    kinds,
)
from app.activities.schemas import ActivityBody, ActivityCreate, ActivityRead
from app.audit import trail as audit
from app.council.documents import Document, attach
from app.errors import FieldProblem, InvalidInput, NotFound
from app.models import Barrio
from app.models.activity import ActivityAttendance, ActivityStatus, PreventionActivity
from app.reports.plan import default_plan
from app.territory.service import resolve_comuna
from app.timezone import chile_today


@dataclass(frozen=True)
class Checked:
    data: ActivityCreate
    goal: str
    barrio_id: int | None


def barrio_ids(session: Session, comuna: str) -> dict[str, int]:
    return dict(
        session.execute(select(Barrio.code, Barrio.id).where(Barrio.comuna_code == comuna)).all()
    )


def check(
    data: ActivityCreate, barrios: dict[str, int], *, row: int | None = None
) -> tuple[Checked | None, list[FieldProblem]]:
    """The rules beyond the field types: known kind and goal, the goal the kind belongs to,
    a known target group and barrio, and no realised activity dated in the future.
    """
    problems: list[FieldProblem] = []

    def bad(field: str, reason: str) -> None:
        item: FieldProblem = {"field": field, "reason": reason}
        if row is None:
            item["location"] = "body"
        else:
            item["row"] = row
        problems.append(item)

    kind = kinds().get(data.kind)
    if kind is None:
        bad(
            "kind",
            f"tipo de actividad desconocido {data.kind!r} (ver GET /api/v1/activities/kinds)",
        )
    goal = data.goal or (kind.goal if kind else None)
    if data.goal is not None and data.goal not in default_plan().goals():
        bad("goal", f"meta desconocida {data.goal!r}: no está en el plan")
    elif kind is not None and goal != kind.goal:
        bad("goal", f"el tipo {kind.code} corresponde a la meta {kind.goal}, no a {goal}")
    if data.target_group not in TARGET_GROUPS:
        bad("target_group", "grupo desconocido; use uno de: " + ", ".join(TARGET_GROUPS))
    if data.barrio is not None and data.barrio not in barrios:
        bad("barrio", f"el barrio {data.barrio} no existe en la comuna")
    if data.status == ActivityStatus.REALIZADA and data.held_on > chile_today():
        bad("held_on", "una actividad realizada no puede tener fecha futura")
    if problems or goal is None:
        return None, problems
    return Checked(data, goal, barrios.get(data.barrio) if data.barrio else None), []


def insert_checked(
    session: Session, comuna: str, items: Iterable[Checked], *, recorded_by: str
) -> list[PreventionActivity]:
    rows = []
    for item in items:
        d = item.data
        activity = PreventionActivity(
            comuna_code=comuna,
            ref=d.ref,
            kind=d.kind,
            goal_code=item.goal,
            status=d.status,
            held_on=d.held_on,
            place=d.place,
            barrio_id=item.barrio_id,
            target_group=d.target_group,
            responsible_institution=d.institution,
            recorded_by=recorded_by,
        )
        session.add(activity)
        rows.append((activity, d))
    session.flush()
    session.add_all(
        ActivityAttendance(
            activity_id=activity.id,
            sex=attendance_key(column)[0],
            age_band=attendance_key(column)[1],
            count=getattr(d, column),
        )
        for activity, d in rows
        for column in ATTENDANCE_COLUMNS
        if getattr(d, column)
    )
    session.flush()
    return [a for a, _ in rows]


def existing_refs(session: Session, comuna: str, refs: set[str]) -> set[str]:
    if not refs:
        return set()
    return set(
        session.scalars(
            select(PreventionActivity.ref).where(
                PreventionActivity.comuna_code == comuna, PreventionActivity.ref.in_(refs)
            )
        )
    )


def create_activity(
    session: Session, body: ActivityBody, *, recorded_by: str
) -> PreventionActivity:
    comuna = resolve_comuna(session, body.comuna).code
    data = ActivityCreate.model_validate(body.model_dump(exclude={"comuna"}))
    checked, problems = check(data, barrio_ids(session, comuna))
    if data.ref and existing_refs(session, comuna, {data.ref}):
        problems.append({"field": "ref", "location": "body", "reason": "ya existe ese código"})
    if problems or checked is None:
        raise InvalidInput("La actividad tiene datos inválidos; no se guardó.", errors=problems)
    (activity,) = insert_checked(session, comuna, [checked], recorded_by=recorded_by)
    audit.record(session, "activity.create", "prevention_activity", activity.id)
    return activity


def get_activity(session: Session, activity_id: int) -> PreventionActivity:
    activity = session.get(PreventionActivity, activity_id)
    if activity is None:
        raise NotFound(f"No existe la actividad {activity_id}.", code="actividad_no_encontrada")
    return activity


def store_evidence(session: Session, activity_id: int, document: Document) -> PreventionActivity:
    activity = get_activity(session, activity_id)
    attach(
        session,
        activity,
        "evidence",
        document,
        action="activity.evidence",
        kind="prevention_activity",
    )
    return activity


def read_activities(session: Session, activities: list[PreventionActivity]) -> list[ActivityRead]:
    ids = [a.id for a in activities]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for r in session.scalars(
        select(ActivityAttendance).where(ActivityAttendance.activity_id.in_(ids))
    ):
        counts[r.activity_id][f"{r.sex.value}_{r.age_band.value}"] = r.count
    codes = dict(session.execute(select(Barrio.id, Barrio.code)).all())
    catalogue = kinds()
    return [
        ActivityRead(
            id=a.id,
            comuna=a.comuna_code,
            ref=a.ref,
            held_on=a.held_on,
            kind=a.kind,
            kind_label=catalogue[a.kind].label if a.kind in catalogue else a.kind,
            goal=a.goal_code,
            status=a.status,
            place=a.place,
            barrio=codes.get(a.barrio_id) if a.barrio_id else None,
            target_group=a.target_group,
            institution=a.responsible_institution,
            attendance={c: counts[a.id].get(c, 0) for c in ATTENDANCE_COLUMNS},
            attendance_total=sum(counts[a.id].values()),
            evidence_sha256=a.evidence_sha256,
        )
        for a in activities
    ]


def list_activities(
    session: Session, comuna: str | None, *, goal: str | None = None, year: int | None = None
) -> list[ActivityRead]:
    A = PreventionActivity
    stmt = select(A).order_by(A.held_on.desc(), A.id)
    if comuna:
        stmt = stmt.where(A.comuna_code == comuna)
    if goal:
        stmt = stmt.where(A.goal_code == goal)
    if year:
        stmt = stmt.where(A.held_on >= date(year, 1, 1), A.held_on <= date(year, 12, 31))
    return read_activities(session, list(session.scalars(stmt)))
