"""Public complaint statistics: fixed units, month precision, suppressed small cells.

General categories: barrios (or the comuna) by month; barrios under 1,000 residents are
merged into "otros". Sensitive categories (sexual offences, VIF, children, drug trafficking)
only for the whole comuna and by quarter. No points, no free text, no arbitrary areas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Integer, cast, extract, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnClause

from app.errors import InvalidInput, NotFound
from app.models import Barrio, Complaint, Comuna, CrimeCategory
from app.privacy.suppression import suppress

Level = Literal["comuna", "barrio"]
MIN_POPULATION = 1000
GENERAL_THRESHOLD = 5
SENSITIVE_THRESHOLD = 10
OTHERS = "otros"
# a literal, not a bind parameter, so GROUP BY sees the same expression as SELECT
LOCAL_TZ: ColumnClause[str] = literal_column("'America/Santiago'")


@dataclass(frozen=True)
class PublicUnit:
    code: str
    name: str
    population: int
    members: tuple[str, ...]


def resolve_comuna(session: Session, comuna: str | None) -> Comuna:
    if comuna is not None:
        found = session.get(Comuna, comuna)
        if found is None:
            raise NotFound(f"No existe la comuna {comuna}.", code="comuna_no_encontrada")
        return found
    loaded = session.scalars(select(Comuna).limit(2)).all()
    if len(loaded) != 1:
        raise InvalidInput(
            "Indique la comuna (código CUT).",
            errors=[{"field": "comuna", "location": "query", "reason": "obligatorio"}],
        )
    return loaded[0]


def public_units(session: Session, comuna: Comuna, level: Level) -> list[PublicUnit]:
    """Fixed units with >= 1,000 residents; smaller ones (and unknown) merged into "otros"."""
    if level == "comuna":
        return [PublicUnit(comuna.code, comuna.name, comuna.population or 0, (comuna.code,))]
    barrios = session.execute(
        select(Barrio.code, Barrio.name, Barrio.population)
        .where(Barrio.comuna_code == comuna.code)
        .order_by(Barrio.code)
    ).all()
    big = [PublicUnit(c, n, p or 0, (c,)) for c, n, p in barrios if (p or 0) >= MIN_POPULATION]
    small = [(c, p or 0) for c, _, p in barrios if (p or 0) < MIN_POPULATION]
    if not small:
        return big
    members = tuple(c for c, _ in small)
    population = sum(p for _, p in small)
    if population < MIN_POPULATION and big:
        # still too small: fold the smallest published barrio into "otros" as well
        smallest = min(big, key=lambda u: u.population)
        big.remove(smallest)
        members += smallest.members
        population += smallest.population
    name = "Otros barrios (unidades de menos de 1.000 habitantes, agrupadas)"
    return [*big, PublicUnit(OTHERS, name, population, members)]


def _month() -> Any:
    return func.to_char(func.timezone(LOCAL_TZ, Complaint.occurred_at), literal_column("'YYYY-MM'"))


def _year() -> Any:
    return cast(extract("year", func.timezone(LOCAL_TZ, Complaint.occurred_at)), Integer)


def public_stats(
    session: Session, *, comuna: str | None, level: Level, year: int, family: str | None
) -> dict[str, Any]:
    place = resolve_comuna(session, comuna)
    units = public_units(session, place, level)
    unit_of = {m: u.code for u in units for m in u.members}
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    base = (
        select(Barrio.code, _month(), func.count())
        .select_from(Complaint)
        .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .outerjoin(Barrio, Barrio.id == Complaint.barrio_id)
        .where(Complaint.comuna_code == place.code, _year() == year)
        .where(~CrimeCategory.sensitive)
        .group_by(Barrio.code, _month())
    )
    if family is not None:
        base = base.where(CrimeCategory.family_code == family)
    counts: dict[tuple[str, str], int] = {}
    for barrio, month, n in session.execute(base):
        unit = place.code if level == "comuna" else unit_of.get(barrio, OTHERS)
        counts[unit, month] = counts.get((unit, month), 0) + n
    codes = [u.code for u in units]
    table = suppress(counts, codes, months, GENERAL_THRESHOLD)

    local = func.timezone(LOCAL_TZ, Complaint.occurred_at)
    quarter = func.to_char(local, literal_column("'YYYY-\"T\"Q'"))
    sensitive: dict[str, int] = dict(
        session.execute(
            select(quarter, func.count())
            .select_from(Complaint)
            .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
            .where(Complaint.comuna_code == place.code, _year() == year)
            .where(CrimeCategory.sensitive)
            .group_by(quarter)
        ).all()
    )
    quarters = [f"{year}-T{q}" for q in range(1, 5)]
    sensitive_table = suppress(
        {(place.code, q): n for q, n in sensitive.items()},
        [place.code],
        quarters,
        SENSITIVE_THRESHOLD,
    )
    return {
        "comuna": place.code,
        "level": level,
        "year": year,
        "family": family,
        "units": [
            {"code": u.code, "name": u.name, "population": u.population, "merged": len(u.members)}
            for u in units
        ],
        "months": months,
        "cells": [
            {"unit": u, "month": m, "count": table.cells[u, m]} for u in codes for m in months
        ],
        "unit_totals": [{"unit": u, "count": table.row_totals[u]} for u in codes],
        "month_totals": [{"month": m, "count": table.column_totals[m]} for m in months],
        "total": table.total,
        "sensitive_by_quarter": [
            {"quarter": q, "count": sensitive_table.cells[place.code, q]} for q in quarters
        ],
        "sensitive_total": sensitive_table.total,
    }
