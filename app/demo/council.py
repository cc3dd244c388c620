"""Synthetic council sessions and prevention activities for the demo (marked as demo).

A year of monthly ordinary sessions of the Consejo Comunal de Seguridad Pública, with seeded
attendance and agreements followed up in later sessions (some on time, some late, a few
still open and overdue), and about three prevention activities a month across the plan's
activity kinds. Everything goes through the real services (`app.council.service`,
`app.activities.service`), so it passes the same validation and audit as a person's entry;
`recorded_by` is `demo-data` and activity codes start with `DEMO-`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.activities import catalog
from app.activities import service as activities
from app.activities.schemas import ActivityBody
from app.council import service as council
from app.council.schemas import AgreementCreate, FollowUpCreate, SessionCreate
from app.council.seats import seats
from app.models.activity import ActivityStatus
from app.models.council import Agreement, AgreementStatus, CouncilSession
from app.timezone import chile_today

RECORDED_BY = "demo-data"

# What a council agrees on, with the institution that answers for it.
AGREEMENTS = (
    ("Reponer las luminarias apagadas informadas por Carabineros en el sector", "Municipalidad"),
    ("Despejar el follaje que tapa luminarias en la plaza y sus accesos", "Municipalidad"),
    ("Notificar a los propietarios de sitios eriazos informados como foco", "Municipalidad"),
    ("Rondas preventivas en el horario de mayor ocurrencia de robos", "Carabineros de Chile"),
    ("Informar al consejo los sitios de venta de drogas denunciados", "Policía de Investigaciones"),
    ("Instalar alarmas comunitarias en las juntas de vecinos que las pidieron", "Municipalidad"),
    ("Coordinar con el SENDA una jornada de prevención en el liceo", "SENDA"),
    ("Presentar el boletín mensual de denuncias georreferenciadas", "Municipalidad"),
)
# Generic places: the demo runs for any comuna, so no place of one comuna is named here.
PLACES = (
    "Liceo municipal",
    "Escuela rural",
    "Sede de la junta de vecinos",
    "Gimnasio Municipal",
    "Biblioteca Municipal",
    "Plaza de Armas",
    "CESFAM",
)
TARGETS = {
    "charla": "escolares",
    "jornada": "escolares",
    "constitucion": "dirigentes",
    "seminario": "dirigentes",
    "taller_jefas": "jefas_hogar",
    "mujer": "mujeres",
    "nna": "nna",
}


@dataclass(frozen=True)
class CouncilDemo:
    sessions: int
    agreements: int
    follow_ups: int
    activities: int


def demo_council_exists(session: Session, comuna: str) -> bool:
    rows = select(func.count()).where(
        CouncilSession.comuna_code == comuna, CouncilSession.recorded_by == RECORDED_BY
    )
    return bool(session.scalar(rows))


def _months(last: date, count: int) -> list[date]:
    first = last.replace(day=1)
    out = []
    for _ in range(count):
        out.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return out[::-1]


def _target(kind: str) -> str:
    return next((group for key, group in TARGETS.items() if key in kind), "comunidad")


def create_demo_council(
    session: Session, comuna: str, last: date, *, seed: int, months: int = 12
) -> CouncilDemo:
    """Monthly sessions and activities for the `months` months ending with `last`."""
    rng = np.random.default_rng([seed, 14])
    today = chile_today()
    seat_codes = list(seats())
    held: list[tuple[int, date]] = []
    open_agreements: list[tuple[int, date]] = []
    agreements = follow_ups = 0
    for month in _months(last, months):
        held_on = month + timedelta(days=int(rng.integers(5, 20)))
        if held_on > today:
            continue
        present = [s for s in seat_codes if rng.random() < 0.8]
        picks = rng.choice(len(AGREEMENTS), size=int(rng.integers(1, 4)), replace=False)
        items = [
            AgreementCreate(
                text=AGREEMENTS[int(i)][0],
                responsible_institution=AGREEMENTS[int(i)][1],
                due_on=held_on + timedelta(days=int(rng.choice([30, 45, 60, 90]))),
            )
            for i in picks
        ]
        made = council.create_session(
            session,
            SessionCreate(comuna=comuna, held_on=held_on, present=present, agreements=items),
            recorded_by=RECORDED_BY,
        )
        # agreements of earlier sessions reviewed at this one: most done, some late
        for agreement_id, due_on in list(open_agreements):
            if rng.random() < 0.5:
                continue
            done = held_on <= due_on or rng.random() < 0.6
            council.follow_up(
                session,
                agreement_id,
                FollowUpCreate(
                    note="Se informó el avance en la sesión." if not done else "Cumplido.",
                    status=AgreementStatus.CUMPLIDO if done else AgreementStatus.EN_CURSO,
                    session_id=made.id,
                ),
                recorded_by=RECORDED_BY,
            )
            follow_ups += 1
            if done:
                open_agreements.remove((agreement_id, due_on))
        mine = select(Agreement.id, Agreement.due_on).where(Agreement.session_id == made.id)
        open_agreements += [(row.id, row.due_on) for row in session.execute(mine)]
        agreements += len(items)
        held.append((made.id, held_on))
    kinds = list(catalog.kinds())
    barrios = sorted(activities.barrio_ids(session, comuna))
    columns = catalog.ATTENDANCE_COLUMNS
    count = 0
    for month in _months(last, months):
        for _ in range(int(rng.integers(2, 5))):
            held_on = month + timedelta(days=int(rng.integers(0, 27)))
            if held_on > today:
                continue
            kind = kinds[int(rng.integers(len(kinds)))]
            attendance = {c: int(rng.poisson(4)) for c in columns if rng.random() < 0.4}
            count += 1
            activities.create_activity(
                session,
                ActivityBody(
                    comuna=comuna,
                    ref=f"DEMO-{comuna}-ACT-{count:04d}",
                    held_on=held_on,
                    kind=kind,
                    status=ActivityStatus.REALIZADA,
                    place=PLACES[int(rng.integers(len(PLACES)))],
                    barrio=barrios[int(rng.integers(len(barrios)))] if barrios else None,
                    target_group=_target(kind),
                    institution="Municipalidad",
                    **attendance,
                ),
                recorded_by=RECORDED_BY,
            )
    return CouncilDemo(len(held), agreements, follow_ups, count)
