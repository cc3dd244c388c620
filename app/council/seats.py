"""The council's seats (Plan, Ámbito I, Objetivo 1, Meta 2) from data/plan/council_seats.csv,
and the quorum rule, defined once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.migrations import REPO_ROOT

SEATS_FILE = REPO_ROOT / "data" / "plan" / "council_seats.csv"


@dataclass(frozen=True)
class Seat:
    code: str
    label: str
    institution: str


def load_seats(path: Path = SEATS_FILE) -> tuple[Seat, ...]:
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(Seat(r["seat"], r["label"], r["institution"]) for r in csv.DictReader(f))


@lru_cache
def seats() -> dict[str, Seat]:
    return {s.code: s for s in load_seats()}


def quorum_needed(seat_count: int) -> int:
    """An absolute majority of the seats: more than half must be present to agree anything.

    Ley 20.965 leaves the council's quorum to its own rules of procedure; the absolute
    majority is the usual rule of Chilean collegiate bodies and what this assumes.
    """
    return seat_count // 2 + 1
