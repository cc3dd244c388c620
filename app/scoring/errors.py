"""Errors of the scoring module: domain errors, so the API renders them as problem+json."""

from __future__ import annotations

from app.errors import FieldProblem, InvalidInput


class ScoringInputError(InvalidInput):
    """The per-unit input table (or a risk-factor list, or an external CSV) breaks the contract."""

    code = "datos_de_ranking_invalidos"
    title = "Datos de entrada del ranking inválidos"


class ProfileError(InvalidInput):
    """A scoring profile that cannot be used: unknown variables, negative weights, ..."""

    code = "perfil_de_ranking_invalido"
    title = "Perfil de ranking inválido"


def problem(field: str, reason: str, *, code: str | None = None) -> FieldProblem:
    item = FieldProblem(field=field, reason=reason, location="body")
    if code is not None:
        item["code"] = code
    return item
