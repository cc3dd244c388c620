"""Optional external variables per unit (social vulnerability index, perception survey...).

Loaded from a CSV with a unit-code column and one numeric column per variable; a profile
weights them as `ext_<name>`. Loading again replaces the values (one per unit and name).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.errors import FieldProblem
from app.models import Barrio, ExternalVariable, MicroBarrio
from app.scoring import load_external_csv
from app.scoring.errors import ScoringInputError, problem
from app.scoring.profiles import EXTERNAL_PREFIX

_NAME = re.compile(r"^[a-z0-9_]{1,56}$")


def load_external_variables(
    session: Session,
    source_file: str | Path | IO[str],
    *,
    comuna: str,
    level: str,
    source: str,
    name: str | None = None,
    unit_column: str = "unit",
) -> dict[str, int]:
    """Validate every row, then upsert; returns the number of values per variable name.

    With `name`, a CSV with one value column is stored under that name, and a CSV with
    several loads only the column called `name`.
    """
    frame = load_external_csv(source_file, unit_column=unit_column)
    frame.columns = [str(c).removeprefix(EXTERNAL_PREFIX) for c in frame.columns]
    if name is not None:
        if len(frame.columns) == 1:
            frame.columns = [name]
        elif name in frame.columns:
            frame = frame[[name]]
        else:
            raise ScoringInputError(
                f"el CSV no tiene la columna '{name}'",
                errors=[problem("name", "columna inexistente en el CSV")],
            )
    problems: list[FieldProblem] = [
        problem(str(c), "nombre en minúsculas, dígitos o '_' (máx. 56)")
        for c in frame.columns
        if not _NAME.match(str(c))
    ]
    unit = MicroBarrio if level == "micro_barrio" else Barrio
    known = set(session.scalars(select(unit.code).where(unit.comuna_code == comuna)))
    problems += [
        problem(unit_column, f"la unidad no existe en la comuna {comuna} ({level})", code=str(c))
        for c in frame.index
        if str(c) not in known
    ]
    if problems:
        raise ScoringInputError("el CSV de variables externas es inválido", errors=problems)
    rows = [
        {
            "comuna_code": comuna,
            "level": level,
            "unit_code": str(code),
            "name": str(column),
            "value": float(value),
            "source": source,
        }
        for column in frame.columns
        for code, value in frame[column].items()
    ]
    if rows:
        stmt = insert(ExternalVariable).values(rows)
        session.execute(
            stmt.on_conflict_do_update(
                constraint="uq_external_variable_comuna_code",
                set_={
                    "value": stmt.excluded.value,
                    "source": stmt.excluded.source,
                    "loaded_at": func.now(),
                },
            )
        )
    session.flush()
    return {str(c): int(frame[c].size) for c in frame.columns}
