"""Which crimes an intervention can plausibly change: the default table by typology (#18).

`data/intervention_crimes.csv` lists, per SPD typology, the CEAD 2024 category codes a
project of that kind targets and why (street lighting: street and night-time crimes;
public-space recovery: vandalism, drugs and alcohol in public; community alarms: burglary
...). Intrafamily violence (family 6) and sexual offences (family 2) are never in it: they
happen indoors or between people who know each other, and a streetlight does not reach
them. A request may name its own categories instead. Lighting projects count night-time
complaints only by default (`NIGHT_HOURS`, Chile's wall-clock time).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from app.errors import FieldProblem, InvalidInput

CRIMES_FILE = "data/intervention_crimes.csv"  # under the repository root
NIGHT_HOURS = (19, 7)  # [19:00, 07:00) in Chile: dusk to dawn over the year in Lanco
NIGHT_TYPOLOGIES = frozenset({"IL"})
HOURS = ("noche", "todas")
NEVER_BY_DEFAULT_FAMILIES = frozenset({"2", "6"})  # sexual offences, intrafamily violence
MAX_CATEGORIES = 60  # more than the catalog has: a longer list is a mistake or an attack


@lru_cache(maxsize=1)
def default_crimes() -> dict[str, tuple[str, ...]]:
    """typology -> category codes, in the file's order."""
    # imported here: app.migrations brings alembic, which the bulletin's command does without
    from app.migrations import REPO_ROOT  # noqa: PLC0415

    table: dict[str, list[str]] = {}
    with (REPO_ROOT / CRIMES_FILE).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            table.setdefault(row["typology"], []).append(row["category_code"])
    return {typology: tuple(codes) for typology, codes in table.items()}


@dataclass(frozen=True)
class CrimeSelection:
    codes: tuple[str, ...]
    source: str  # "tabla" (the default by typology) | "solicitud"
    night_only: bool

    @property
    def hours_label(self) -> str:
        if not self.night_only:
            return "todas las horas"
        start, end = NIGHT_HOURS
        return f"solo de noche ({start}:00 a {end:02d}:00)"


def select_crimes(
    typology: str,
    requested: list[str] | None,
    hours: str | None,
    known: set[str],
) -> CrimeSelection:
    """The categories and hours an evaluation counts; unknown codes are the caller's 422."""
    problems: list[FieldProblem] = []
    if hours is not None and hours not in HOURS:
        problems.append(
            FieldProblem(field="hours", location="query", reason="debe ser noche o todas")
        )
    if requested and len(requested) > MAX_CATEGORIES:
        problems.append(
            FieldProblem(
                field="category", location="query", reason=f"a lo más {MAX_CATEGORIES} categorías"
            )
        )
    elif requested:
        unknown = [c for c in dict.fromkeys(requested) if c not in known]
        problems += [
            FieldProblem(
                field="category", location="query", reason=f"categoría desconocida: {c}", code=c
            )
            for c in unknown
        ]
    if problems:
        raise InvalidInput("Delitos u horario de la evaluación no válidos.", errors=problems)
    if requested:
        codes, source = tuple(dict.fromkeys(requested)), "solicitud"
    else:
        codes, source = default_crimes().get(typology, ()), "tabla"
    night = typology in NIGHT_TYPOLOGIES if hours is None else hours == "noche"
    return CrimeSelection(codes=codes, source=source, night_only=night)
