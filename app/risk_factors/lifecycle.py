"""The report lifecycle as data: which moves exist and who may make them. No database here.

    reportado -> validado -> derivado -> en_gestion -> resuelto
        |            |           |           |     \\-> descartado | duplicado
        \\------------+-----------+-----------+-------> descartado | duplicado
    resuelto -> derivado   (reopened: back to the responsible unit's queue)

descartado and duplicado are final.
"""

from __future__ import annotations

from app.models import ReportStatus, Role

S = ReportStatus

_CLOSING = {S.DESCARTADO, S.DUPLICADO}

ALLOWED: dict[ReportStatus, frozenset[ReportStatus]] = {
    S.REPORTADO: frozenset({S.VALIDADO, *_CLOSING}),
    S.VALIDADO: frozenset({S.DERIVADO, *_CLOSING}),
    S.DERIVADO: frozenset({S.EN_GESTION, *_CLOSING}),
    S.EN_GESTION: frozenset({S.RESUELTO, *_CLOSING}),
    S.RESUELTO: frozenset({S.DERIVADO}),
    S.DESCARTADO: frozenset(),
    S.DUPLICADO: frozenset(),
}

OPEN_STATUSES = frozenset({S.REPORTADO, S.VALIDADO, S.DERIVADO, S.EN_GESTION})
CLOSED_STATUSES = frozenset({S.RESUELTO, S.DESCARTADO, S.DUPLICADO})

# A responsible unit works its own queue; validating, routing, discarding and reopening
# are municipal security's call (admin keys).
UNIT_MAY_MOVE_TO = frozenset({S.EN_GESTION, S.RESUELTO})

LABELS: dict[ReportStatus, str] = {
    S.REPORTADO: "Reportado",
    S.VALIDADO: "Validado",
    S.DERIVADO: "Derivado a la unidad responsable",
    S.EN_GESTION: "En gestión",
    S.RESUELTO: "Resuelto",
    S.DESCARTADO: "Descartado tras revisión",
    S.DUPLICADO: "Duplicado de otro informe",
}


def is_allowed(current: ReportStatus, target: ReportStatus) -> bool:
    return target in ALLOWED[current]


def is_reopening(current: ReportStatus, target: ReportStatus) -> bool:
    return current == S.RESUELTO and target == S.DERIVADO


def role_may_move(role: Role, target: ReportStatus) -> bool:
    if role == Role.ADMIN:
        return True
    if role == Role.UNIT:
        return target in UNIT_MAY_MOVE_TO
    return False


def describe_allowed(current: ReportStatus) -> str:
    targets = sorted(t.value for t in ALLOWED[current])
    return ", ".join(targets) if targets else "ninguno (estado final)"
