"""Public complaint statistics: fixed units, month precision, suppressed small cells.

General categories: barrios (or the comuna) by month; barrios under 1,000 residents are
merged into "otros". Sensitive categories (sexual offences, VIF, children, drug trafficking)
only for the whole comuna and by quarter. No points, no free text, no arbitrary areas.

Every number comes from `published_year`: the year's cells suppressed once, as one linked
set with the other levels, families and the cuenta pública, so no response can be
subtracted from another to recover a hidden cell.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from app.models import Barrio, Complaint, Comuna, CrimeCategory
from app.privacy.linked_tables import (
    ALL,
    UNPLACED,
    Atoms,
    Layout,
    general,
    sensitive,
    suppress_year,
)
from app.privacy.suppression import Key, Suppressed, Value
from app.privacy.thresholds import MIN_POPULATION
from app.territory.service import resolve_comuna
from app.timezone import local_month, local_quarter, local_year

Level = Literal["comuna", "barrio"]
OTHERS = "otros"


@dataclass(frozen=True)
class PublicUnit:
    code: str
    name: str
    population: int
    members: tuple[str, ...]


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
    return local_month(Complaint.occurred_at)


def _quarter() -> Any:
    return local_quarter(Complaint.occurred_at)


def _year() -> Any:
    return cast(local_year(Complaint.occurred_at), Integer)


@dataclass(frozen=True)
class PublishedYear:
    """One comuna's year as every public surface shows it (app/privacy/linked_tables.py)."""

    comuna: Comuna
    units: list[PublicUnit]
    layout: Layout
    shown: Mapping[Key, Value]

    def value(self, key: Key) -> Value:
        return self.shown.get(key, 0)  # a family code outside the catalog counts nothing


def catalog_families(session: Session) -> tuple[tuple[str, ...], frozenset[str]]:
    """Family codes, and those with at least one sensitive category."""
    rows = session.execute(
        select(CrimeCategory.family_code, func.bool_or(CrimeCategory.sensitive))
        .group_by(CrimeCategory.family_code)
        .order_by(func.length(CrimeCategory.family_code), CrimeCategory.family_code)
    ).all()
    return tuple(f for f, _ in rows), frozenset(f for f, s in rows if s)


def published_year(
    session: Session, place: Comuna, year: int, *, as_of: datetime | None = None
) -> PublishedYear:
    """The suppressed cells of `year`; `as_of` counts only complaints received by then."""
    units = public_units(session, place, "barrio")
    unit_of = {m: u.code for u in units for m in u.members}
    codes = [u.code for u in units]
    outside = OTHERS if OTHERS in codes else UNPLACED
    stmt = (
        select(
            Barrio.code,
            _month(),
            _quarter(),
            CrimeCategory.family_code,
            CrimeCategory.sensitive,
            func.count(),
        )
        .select_from(Complaint)
        .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .outerjoin(Barrio, Barrio.id == Complaint.barrio_id)
        .where(Complaint.comuna_code == place.code, _year() == year)
        .group_by(Barrio.code, _month(), _quarter(), CrimeCategory.family_code)
        .group_by(CrimeCategory.sensitive)
    )
    if as_of is not None:
        stmt = stmt.where(Complaint.received_at <= as_of)
    general: dict[tuple[str, str, str], int] = defaultdict(int)
    sensitive: dict[tuple[str, str], int] = defaultdict(int)
    for barrio, month, quarter, family, is_sensitive, n in session.execute(stmt):
        if is_sensitive:
            sensitive[family, quarter] += n
        else:
            general[unit_of.get(barrio, outside), month, family] += n
    families, with_sensitive = catalog_families(session)
    layout = Layout(
        year=year,
        units=tuple(codes),
        families=families,
        sensitive_families=with_sensitive,
        unplaced=any(unit == UNPLACED for unit, _, _ in general),
    )
    suppressed = _suppressed(layout, Atoms.of(general, sensitive))
    return PublishedYear(place, units, layout, suppressed.shown)


_SUPPRESSING = threading.Lock()


def _suppressed(layout: Layout, atoms: Atoms) -> Suppressed:
    """Cached by the year's counts themselves: new data, new entry; same data, same answer.
    One computation at a time (it takes seconds on a busy year, docs/benchmarks.md): a burst
    of requests after an import waits for the first instead of repeating it.
    """
    with _SUPPRESSING:
        return _suppressed_cached(layout, atoms)


@lru_cache(maxsize=256)
def _suppressed_cached(layout: Layout, atoms: Atoms) -> Suppressed:
    return suppress_year(layout, atoms)


def public_stats(
    session: Session, *, comuna: str | None, level: Level, year: int, family: str | None
) -> dict[str, Any]:
    place = resolve_comuna(session, comuna)
    published = published_year(session, place, year)
    value = published.value
    units = public_units(session, place, level)
    fam = family if family is not None else ALL
    y = str(year)
    months = list(published.layout.months)

    def unit_key(code: str) -> str:
        return ALL if level == "comuna" else code

    codes = [u.code for u in units]
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
            {"unit": u, "month": m, "count": value(general(unit_key(u), m, fam))}
            for u in codes
            for m in months
        ],
        "unit_totals": [{"unit": u, "count": value(general(unit_key(u), y, fam))} for u in codes],
        "month_totals": [{"month": m, "count": value(general(ALL, m, fam))} for m in months],
        "total": value(general(ALL, y, fam)),
        "sensitive_by_quarter": [
            {"quarter": q, "count": value(sensitive(q))} for q in published.layout.quarters
        ],
        "sensitive_total": value(sensitive(y)),
    }
