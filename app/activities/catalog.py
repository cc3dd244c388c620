"""What an activity can be: its kinds (data/plan/activity_kinds.csv, each linked to one goal
of the plan), target groups, and the attendance columns (sex x age band), defined once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.migrations import REPO_ROOT
from app.models.activity import AgeBand, Sex

KINDS_FILE = REPO_ROOT / "data" / "plan" / "activity_kinds.csv"

TARGET_GROUPS = {
    "escolares": "Estudiantes",
    "apoderados_docentes": "Apoderados, centros de alumnos y docentes",
    "dirigentes": "Dirigentes vecinales y sociales",
    "mujeres": "Mujeres",
    "jefas_hogar": "Mujeres jefas de hogar",
    "nna": "Niños, niñas y adolescentes",
    "comunidad": "Comunidad en general",
    "instituciones": "Instituciones de la red",
}

# The spreadsheet's column titles in Spanish (as `header_key` reduces them), each the name of
# a column of ActivityCreate; the English names are accepted too (they are the API's).
SPANISH_COLUMNS = {
    "fecha": "held_on",
    "tipo": "kind",
    "lugar": "place",
    "grupo_objetivo": "target_group",
    "institucion": "institution",
    "institucion_responsable": "institution",
    "codigo": "ref",
    "meta": "goal",
    "estado": "status",
    "barrio": "barrio",
}

# One column per sex and age band, e.g. mujeres_0_13: the only way attendance is recorded.
ATTENDANCE_COLUMNS = tuple(f"{sex.value}_{band.value}" for sex in Sex for band in AgeBand)
MINOR_BANDS = (AgeBand.NINOS, AgeBand.ADOLESCENTES)


def attendance_key(column: str) -> tuple[Sex, AgeBand]:
    sex, band = column.split("_", 1)
    return Sex(sex), AgeBand(band)


@dataclass(frozen=True)
class ActivityKind:
    code: str
    label: str
    goal: str


def load_kinds(path: Path = KINDS_FILE) -> tuple[ActivityKind, ...]:
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(ActivityKind(r["code"], r["label"], r["goal"]) for r in csv.DictReader(f))


@lru_cache
def kinds() -> dict[str, ActivityKind]:
    return {k.code: k for k in load_kinds()}
