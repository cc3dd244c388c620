"""Recording the council's work: members by seat, sessions with their attendance and
agreements, minutes, and follow-ups. Services flush; the request or CLI commits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.council.documents import Document, attach
from app.council.schemas import AgreementCreate, FollowUpCreate, MemberUpdate, SessionCreate
from app.council.seats import seats
from app.errors import FieldProblem, InvalidInput, NotFound
from app.models.council import (
    Agreement,
    AgreementFollowUp,
    AgreementStatus,
    CouncilMember,
    CouncilSession,
    SessionAttendance,
)
from app.territory.service import resolve_comuna
from app.timezone import chile_today


def _unknown_seat(seat: str, field: str) -> FieldProblem:
    known = ", ".join(seats())
    return {"field": field, "location": "body", "reason": f"asiento desconocido {seat!r} ({known})"}


def set_member(session: Session, seat: str, data: MemberUpdate) -> CouncilMember:
    """Designate (or replace) who holds a seat."""
    if seat not in seats():
        raise NotFound(
            f"El Consejo no tiene el asiento {seat}.",
            code="asiento_no_encontrado",
            errors=[_unknown_seat(seat, "seat")],
        )
    comuna = resolve_comuna(session, data.comuna).code
    institution = data.institution or seats()[seat].institution
    stmt = (
        insert(CouncilMember)
        .values(
            comuna_code=comuna,
            seat=seat,
            institution=institution,
            representative=data.representative,
        )
        .on_conflict_do_update(
            index_elements=["comuna_code", "seat"],
            set_={"institution": institution, "representative": data.representative},
        )
        .returning(CouncilMember.id)
    )
    member_id = session.scalar(stmt)
    session.flush()
    audit.record(session, "council.member.set", "council_member", member_id, detail={"seat": seat})
    member = session.get(CouncilMember, member_id, populate_existing=True)
    assert member is not None
    return member


def _check_agreements(items: list[AgreementCreate], held_on: date, prefix: str) -> None:
    problems: list[FieldProblem] = [
        {
            "field": f"{prefix}{i}.due_on",
            "location": "body",
            "reason": "el plazo es anterior a la sesión que lo acordó",
        }
        for i, item in enumerate(items)
        if item.due_on < held_on
    ]
    if problems:
        raise InvalidInput("Hay compromisos con plazo anterior a la sesión.", errors=problems)


def create_session(session: Session, data: SessionCreate, *, recorded_by: str) -> CouncilSession:
    """A held session: its attendance (every seat, present or not) and its agreements."""
    problems = [_unknown_seat(s, f"present.{i}") for i, s in enumerate(data.present)]
    problems = [p for p, s in zip(problems, data.present, strict=True) if s not in seats()]
    if data.held_on > chile_today():
        problems.append(
            {
                "field": "held_on",
                "location": "body",
                "reason": "la fecha es futura: se registra una sesión ya realizada",
            }
        )
    if problems:
        raise InvalidInput("La sesión tiene datos inválidos; no se guardó nada.", errors=problems)
    _check_agreements(data.agreements, data.held_on, "agreements.")
    comuna = resolve_comuna(session, data.comuna).code
    council = CouncilSession(
        comuna_code=comuna, held_on=data.held_on, kind=data.kind, recorded_by=recorded_by
    )
    session.add(council)
    session.flush()
    members = dict(
        session.execute(
            select(CouncilMember.seat, CouncilMember.institution).where(
                CouncilMember.comuna_code == comuna
            )
        ).all()
    )
    present = set(data.present)
    session.add_all(
        SessionAttendance(
            session_id=council.id,
            seat=seat.code,
            institution=members.get(seat.code, seat.institution),
            present=seat.code in present,
        )
        for seat in seats().values()
    )
    for item in data.agreements:
        _add_agreement(session, council, item)
    session.flush()
    audit.record(
        session,
        "council.session.create",
        "council_session",
        council.id,
        detail={"present": len(present), "agreements": len(data.agreements)},
    )
    return council


def _add_agreement(session: Session, council: CouncilSession, item: AgreementCreate) -> Agreement:
    agreement = Agreement(
        comuna_code=council.comuna_code,
        session_id=council.id,
        text=item.text,
        responsible_institution=item.responsible_institution,
        due_on=item.due_on,
        status=AgreementStatus.PENDIENTE,
    )
    session.add(agreement)
    return agreement


def get_session(session: Session, session_id: int) -> CouncilSession:
    council = session.get(CouncilSession, session_id)
    if council is None:
        raise NotFound(f"No existe la sesión {session_id}.", code="sesion_no_encontrada")
    return council


def add_agreement(session: Session, session_id: int, item: AgreementCreate) -> Agreement:
    council = get_session(session, session_id)
    _check_agreements([item], council.held_on, "")
    agreement = _add_agreement(session, council, item)
    session.flush()
    audit.record(session, "council.agreement.create", "council_agreement", agreement.id)
    return agreement


def get_agreement(session: Session, agreement_id: int) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(f"No existe el compromiso {agreement_id}.", code="compromiso_no_encontrado")
    return agreement


def follow_up(
    session: Session, agreement_id: int, data: FollowUpCreate, *, recorded_by: str
) -> Agreement:
    """Record what a session said about an agreement and move it to `data.status`."""
    agreement = get_agreement(session, agreement_id)
    review: CouncilSession | None = None
    if data.session_id is not None:
        review = get_session(session, data.session_id)
    problems: list[FieldProblem] = []
    if data.completed_on is not None and data.status != AgreementStatus.CUMPLIDO:
        problems.append(
            {"field": "completed_on", "location": "body", "reason": "solo con estado cumplido"}
        )
    completed = data.completed_on
    if data.status == AgreementStatus.CUMPLIDO and completed is None:
        completed = review.held_on if review else chile_today()
    if completed is not None and completed > chile_today():
        problems.append({"field": "completed_on", "location": "body", "reason": "fecha futura"})
    if review is not None and review.comuna_code != agreement.comuna_code:
        problems.append(
            {"field": "session_id", "location": "body", "reason": "sesión de otra comuna"}
        )
    if problems:
        raise InvalidInput("El seguimiento tiene datos inválidos.", errors=problems)
    session.add(
        AgreementFollowUp(
            agreement_id=agreement.id,
            session_id=data.session_id,
            note=data.note,
            status=data.status,
            recorded_by=recorded_by,
        )
    )
    agreement.status = data.status
    agreement.completed_on = completed
    session.flush()
    audit.record(
        session,
        "council.agreement.follow_up",
        "council_agreement",
        agreement.id,
        detail={"status": data.status.value},
    )
    return agreement


def store_minutes(session: Session, session_id: int, document: Document) -> CouncilSession:
    council = get_session(session, session_id)
    attach(
        session,
        council,
        "minutes",
        document,
        action="council.session.minutes",
        kind="council_session",
    )
    return council
