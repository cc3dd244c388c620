"""Everything Vigía publishes about one comuna's complaints in one year, as ONE set of cells.

Every public number is one of these cells, under one key, whichever surface shows it:

- ("G", unit, period, family): non-sensitive complaints of a public unit (a barrio code,
  "otros", or ALL for the comuna) in a period (a month "YYYY-MM" or the year "YYYY") of a
  family (a code, or ALL). `/api/v1/public/stats` (every level and family), `/estadisticas`,
  its CSV and the barrio table of the cuenta pública all show G cells;
- ("S", period): sensitive complaints of the whole comuna by quarter "YYYY-Tn" and year;
- ("R", family, "YYYY"): the cuenta pública's row of a family that has sensitive categories
  (it counts them too), and ("R", ALL, "YYYY") its total. A family without sensitive
  categories has no R cell: its row is the G cell of the comuna, year and family;
- ("F", family, "YYYY"): the sensitive part of a family's year. Never published, but the
  report row minus the statistics cell gives it, so it is protected like a published
  sensitive count; so are the G cells of UNPLACED (complaints in no public unit, which the
  comuna's totals count and no unit row shows).

`relations(layout)` lists every sum a reader can form between them: families add up to all
families, units to the comuna, months to the year, quarters to the year, the report's rows
to its total and each report row to its statistics part plus its sensitive part. Years are
not linked: the cuenta pública's "año anterior" column is the previous year's own cells.

Pure code: the service layer fetches the counts (`Atoms`) and reads what to show from
`suppress_year`; the privacy check rebuilds the same cells from what the surfaces print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from app.privacy.interval_audit import Relation
from app.privacy.suppression import Key, LinkedSet, Suppressed, suppress_linked
from app.privacy.thresholds import GENERAL_THRESHOLD, SENSITIVE_THRESHOLD

ALL = "*"
UNPLACED = "?"  # complaints of the comuna in no public unit: counted in ALL, never shown


def general(unit: str, period: str, family: str) -> Key:
    return ("G", unit, period, family)


def sensitive(period: str) -> Key:
    return ("S", period)


def sensitive_part(family: str, year: int) -> Key:
    return ("F", family, str(year))


def is_unpublished(key: Key) -> bool:
    assert isinstance(key, tuple)
    return key[0] == "F" or (key[0] == "G" and key[1] == UNPLACED)


def threshold(key: Key) -> int:
    assert isinstance(key, tuple)
    return GENERAL_THRESHOLD if key[0] == "G" else SENSITIVE_THRESHOLD


def preference(key: Key) -> int:
    """Report rows are hidden before statistics cells: each one is shown in one place only."""
    assert isinstance(key, tuple)
    return 0 if key[0] == "R" else 1


@dataclass(frozen=True)
class Layout:
    year: int
    units: tuple[str, ...]  # public units at barrio level (codes, "otros" last)
    families: tuple[str, ...]
    sensitive_families: frozenset[str]  # families with at least one sensitive category
    unplaced: bool = False  # some complaints of the year are in no public unit

    @cached_property
    def all_units(self) -> tuple[str, ...]:
        return (*self.units, UNPLACED) if self.unplaced else self.units

    @cached_property
    def months(self) -> tuple[str, ...]:
        return tuple(f"{self.year}-{m:02d}" for m in range(1, 13))

    @cached_property
    def quarters(self) -> tuple[str, ...]:
        return tuple(f"{self.year}-T{q}" for q in range(1, 5))

    def report_row(self, family: str) -> Key:
        """The cuenta pública's cell for a family (ALL: its total) in this year."""
        if family == ALL or family in self.sensitive_families:
            return ("R", family, str(self.year))
        return general(ALL, str(self.year), family)


def relations(layout: Layout) -> list[Relation]:
    year = str(layout.year)
    units = (*layout.all_units, ALL)
    families = (*layout.families, ALL)
    periods = (*layout.months, year)
    found = [
        Relation(general(u, p, ALL), tuple(general(u, p, f) for f in layout.families))
        for u in units
        for p in periods
    ]
    found += [
        Relation(general(ALL, p, f), tuple(general(u, p, f) for u in layout.all_units))
        for p in periods
        for f in families
    ]
    found += [
        Relation(general(u, year, f), tuple(general(u, m, f) for m in layout.months))
        for u in units
        for f in families
    ]
    found.append(Relation(sensitive(year), tuple(sensitive(q) for q in layout.quarters)))
    with_sensitive = [f for f in layout.families if f in layout.sensitive_families]
    found.append(
        Relation(sensitive(year), tuple(sensitive_part(f, layout.year) for f in with_sensitive))
    )
    found += [
        Relation(layout.report_row(f), (general(ALL, year, f), sensitive_part(f, layout.year)))
        for f in with_sensitive
    ]
    report_total = layout.report_row(ALL)
    found.append(Relation(report_total, tuple(layout.report_row(f) for f in layout.families)))
    found.append(Relation(report_total, (general(ALL, year, ALL), sensitive(year))))
    return found


@dataclass(frozen=True)
class Atoms:
    """The finest counts of a year: non-sensitive by (unit, month, family) and sensitive by
    (family, quarter). Hashable, so a suppressed year can be cached by its data.
    """

    general: tuple[tuple[tuple[str, str, str], int], ...]
    sensitive: tuple[tuple[tuple[str, str], int], ...]

    @classmethod
    def of(
        cls,
        general: Mapping[tuple[str, str, str], int],
        sensitive: Mapping[tuple[str, str], int],
    ) -> Atoms:
        return cls(
            tuple(sorted((k, n) for k, n in general.items() if n)),
            tuple(sorted((k, n) for k, n in sensitive.items() if n)),
        )


def true_values(layout: Layout, atoms: Atoms) -> dict[Key, int]:
    year = str(layout.year)
    values: dict[Key, int] = {}
    for u in (*layout.all_units, ALL):
        for p in (*layout.months, year):
            for f in (*layout.families, ALL):
                values[general(u, p, f)] = 0
    for (unit, month, family), n in atoms.general:
        for u in (unit, ALL):
            for p in (month, year):
                for f in (family, ALL):
                    values[general(u, p, f)] += n
    for q in (*layout.quarters, year):
        values[sensitive(q)] = 0
    parts = {f: 0 for f in layout.families if f in layout.sensitive_families}
    for (family, quarter), n in atoms.sensitive:
        values[sensitive(quarter)] += n
        values[sensitive(year)] += n
        parts[family] += n
    for f, n in parts.items():
        values[sensitive_part(f, layout.year)] = n
        values[layout.report_row(f)] = values[general(ALL, year, f)] + n
    values[layout.report_row(ALL)] = values[general(ALL, year, ALL)] + values[sensitive(year)]
    return values


def linked_set(layout: Layout, atoms: Atoms) -> LinkedSet:
    values = true_values(layout, atoms)
    unpublished = frozenset(k for k in values if is_unpublished(k))
    return LinkedSet(
        values=values,
        thresholds={k: threshold(k) for k in values},
        relations=relations(layout),
        unpublished=unpublished,
        preference=preference,
    )


def suppress_year(layout: Layout, atoms: Atoms) -> Suppressed:
    """What every public surface shows for this year: one decision per cell."""
    return suppress_linked(linked_set(layout, atoms))
