"""Small-cell suppression with complementary suppression over linked tables.

A count 1..threshold-1 is hidden ("<5", or "<10" for sensitive categories and any rate).
A label means 0..threshold-1, not 1..threshold-1: zeros are shown, except those hidden to
protect another cell, which are shown with the same label (true: 0 is below 5). Positive
cells hidden only to protect another are shown as "suprimido" (they are not small, so "<5"
would be false). Without masked zeros a label would certify a count >= 1, and four "<5"
parts of a "<5" total would each be exactly 1.

Hiding one cell of a line is not enough when the line's total is published: total minus the
visible cells gives it back, and the same holds across tables (all families minus the
visible families, the comuna minus its barrios, the year minus its months). So suppression
works on one set of cells and every linear relation (`Relation`: total = sum of parts) a
reader can form between them, in two passes:

1. the quick pass, as in a single table: while a relation has exactly one hidden cell, hide
   the smallest visible part, a zero first (or its total when no part is left);
2. the interval audit (app/privacy/interval_audit.py): while some protected cell is pinned
   (`is_pinned`), hide the smallest visible cell, a zero first, of a relation that binds it
   (the LP's duals say which), report rows before statistics cells, then the quick pass
   again. Hiding only widens intervals, so this ends, at the latest when everything is
   hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from app.privacy.interval_audit import Relation, find_pinned

Value = int | str
Key = Hashable

COMPLEMENTARY = "suprimido"


def label(threshold: int) -> str:
    return f"<{threshold}"


def is_small(count: int, threshold: int) -> bool:
    return 0 < count < threshold


def reader_bounds(
    shown: Value, threshold: int, *, zeros_masked: bool = True
) -> tuple[float, float]:
    """What a label tells a reader who knows these rules: "<t" is 0..t-1 (some zeros are
    shown with it), "suprimido" >= t. `zeros_masked=False` reads the labels under the old
    rule (every zero shown, so "<t" is 1..t-1), to show what that rule let a reader pin.
    """
    if isinstance(shown, int):
        return float(shown), float(shown)
    if shown == COMPLEMENTARY:
        return float(threshold), math.inf
    return (0.0 if zeros_masked else 1.0), float(int(shown[1:]) - 1)


@dataclass(frozen=True)
class LinkedSet:
    """True counts of every published cell and of the unpublished quantities the tables
    link (e.g. the sensitive part of a family), with each one's threshold.
    """

    values: Mapping[Key, int]
    thresholds: Mapping[Key, int]
    relations: Sequence[Relation]
    unpublished: frozenset[Key] = frozenset()
    # lower number = hidden first when a complementary cell is needed
    preference: Callable[[Key], int] = field(default=lambda key: 0)


@dataclass(frozen=True)
class Suppressed:
    hidden: frozenset[Key]
    shown: Mapping[Key, Value]  # published cells only


def suppress_linked(linked: LinkedSet) -> Suppressed:
    values, thresholds = linked.values, linked.thresholds
    published = [k for k in values if k not in linked.unpublished]
    hidden = {k for k in published if is_small(values[k], thresholds[k])}
    protected_unpublished = {k for k in linked.unpublished if is_small(values[k], thresholds[k])}

    lines_of: dict[Key, list[tuple[Key, ...]]] = {}
    for relation in linked.relations:
        for k in _keys(relation):
            lines_of.setdefault(k, []).append(_keys(relation))

    def maskable(zero: Key) -> bool:
        """A zero is worth hiding only if every line through it already has another unknown
        cell: alone in a line, it would be given back as 0 at once, and protecting it in
        turn would hide zero after zero (a partial year's empty months, every one)."""
        return all(
            any(m != zero and (m in hidden or m in linked.unpublished) for m in line)
            for line in lines_of.get(zero, [])
        )

    def candidate(keys: Sequence[Key], last: Key | None = None) -> Key | None:
        """The cell to hide among `keys`: preferred kind first, then `last` (a total)
        after the others, then the smallest count (a zero, shown "<5", before anything
        shown "suprimido", when `maskable`), then data order."""
        options = [
            (linked.preference(k), k == last, values[k], n, k)
            for n, k in enumerate(keys)
            if k not in hidden and k not in linked.unpublished and (values[k] > 0 or maskable(k))
        ]
        return min(options, key=lambda o: o[:4])[4] if options else None

    _quick_pass(linked, hidden, protected_unpublished, candidate)
    # hiding only widens intervals: after the first round, only the cells pinned in the
    # previous one can still be pinned
    still: set[Key] | None = None
    while True:
        known = {k: float(values[k]) for k in published if k not in hidden}
        # in the order of `values`, never of a set: string hashes change from one process
        # to the next, and every worker must hide exactly the same cells
        unknown = {k: _bounds(values[k], thresholds[k]) for k in published if k in hidden}
        unknown |= {k: (0.0, math.inf) for k in values if k in linked.unpublished}
        # a masked zero is never pinned (0 is in its interval), so only small counts are
        protected = {
            k: thresholds[k]
            for k in unknown
            if is_small(values[k], thresholds[k]) and (still is None or k in still)
        }
        pinned = find_pinned(known, unknown, linked.relations, protected)
        still = {p.key for p in pinned}
        if not pinned:
            break
        added: set[Key] = set()
        for item in pinned:
            binding = [linked.relations[r] for r in item.binding]
            if any(set(_keys(r)) & added for r in binding):
                continue  # a cell hidden this round already widened this one's line
            pool = [k for r in binding for k in _keys(r)]
            pool = pool or [k for r in linked.relations if item.key in _keys(r) for k in _keys(r)]
            chosen = candidate(list(dict.fromkeys(pool)))
            if chosen is not None:
                hidden.add(chosen)
                added.add(chosen)
        if not added:
            break  # nothing left to hide: the audit will say so
        # a cell hidden alone in one of its lines would be given back at once (and a zero
        # hidden for nothing): the quick pass again, so no line has exactly one unknown
        _quick_pass(linked, hidden, protected_unpublished, candidate)
    shown: dict[Key, Value] = {}
    for k in published:
        if k not in hidden:
            shown[k] = values[k]
        else:
            below = values[k] < thresholds[k]  # small, or a zero hidden to protect another
            shown[k] = label(thresholds[k]) if below else COMPLEMENTARY
    return Suppressed(frozenset(hidden), shown)


def _keys(relation: Relation) -> tuple[Key, ...]:
    return (relation.total, *relation.parts)


def _bounds(value: int, threshold: int) -> tuple[float, float]:
    """What the cell's label will tell a reader (`reader_bounds`)."""
    if value < threshold:
        return 0.0, float(threshold - 1)
    return float(threshold), math.inf


def _quick_pass(
    linked: LinkedSet,
    hidden: set[Key],
    protected_unpublished: set[Key],
    candidate: Callable[..., Key | None],
) -> None:
    """The single-table rule over every relation: no line with exactly one unknown cell."""
    changed = True
    while changed:
        changed = False
        for relation in linked.relations:
            keys = _keys(relation)
            unknown = [k for k in keys if k in hidden or k in linked.unpublished]
            if len(unknown) != 1:
                continue
            if unknown[0] in linked.unpublished and unknown[0] not in protected_unpublished:
                continue
            chosen = candidate(keys, last=relation.total)
            if chosen is not None:
                hidden.add(chosen)
                changed = True


@dataclass
class SuppressedTable:
    """Cells, row totals, column totals and grand total, each an int or a "<n" label."""

    cells: dict[tuple[str, str], Value]
    row_totals: dict[str, Value]
    column_totals: dict[str, Value]
    total: Value
    hidden: set[tuple[str, str]] = field(default_factory=set)


def suppress(
    counts: dict[tuple[str, str], int], rows: list[str], columns: list[str], threshold: int
) -> SuppressedTable:
    """One table with its margins (missing cells are zeros, published as 0 unless one is
    hidden to protect a small cell)."""
    value: dict[Key, int] = {("cell", r, c): counts.get((r, c), 0) for r in rows for c in columns}
    for r in rows:
        value["row", r] = sum(value["cell", r, c] for c in columns)
    for c in columns:
        value["column", c] = sum(value["cell", r, c] for r in rows)
    value[("total",)] = sum(value["row", r] for r in rows)
    relations = [Relation(("row", r), tuple(("cell", r, c) for c in columns)) for r in rows]
    relations += [Relation(("column", c), tuple(("cell", r, c) for r in rows)) for c in columns]
    relations += [
        Relation(("total",), tuple(("row", r) for r in rows)),
        Relation(("total",), tuple(("column", c) for c in columns)),
    ]
    result = suppress_linked(LinkedSet(value, dict.fromkeys(value, threshold), relations))
    return SuppressedTable(
        cells={(r, c): result.shown["cell", r, c] for r in rows for c in columns},
        row_totals={r: result.shown["row", r] for r in rows},
        column_totals={c: result.shown["column", c] for c in columns},
        total=result.shown[("total",)],
        hidden={(r, c) for r in rows for c in columns if ("cell", r, c) in result.hidden},
    )
