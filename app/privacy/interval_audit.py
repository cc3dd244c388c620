"""Interval audit of linked tables, as statistical offices run it (tau-ARGUS style).

A reader who sees every published number of a set of tables knows, for each hidden cell,
only what the published numbers, the linear relations between them (totals) and the
non-negativity of counts allow. Its feasible interval is [min, max] of the cell over that
polytope: two linear programs per cell, solved with HiGHS (scipy.optimize.linprog).

Pure code: cells and relations in, intervals out. Variables are the cells the reader does
not know exactly (hidden ones, bounded by what their label says, and unpublished ones,
bounded only by >= 0); a known cell is a constant. The LP relaxation is what tau-ARGUS
audits too: an integer solution can only make an interval narrower, never wider, so an
interval the LP finds too narrow is certainly too narrow; the bounds are rounded inwards
to whole counts.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

Key = Hashable
EPS = 1e-6


@dataclass(frozen=True)
class Relation:
    """`total` is the sum of `parts`: a line a reader can add up."""

    total: Key
    parts: tuple[Key, ...]

    def members(self) -> tuple[tuple[Key, int], ...]:
        return ((self.total, 1), *((p, -1) for p in self.parts))


@dataclass(frozen=True)
class Interval:
    low: float
    high: float  # math.inf when nothing bounds the cell from above

    @property
    def width(self) -> float:
        return self.high - self.low


class InconsistentTables(ValueError):
    """The published numbers contradict each other (no table of counts gives them all)."""


@dataclass
class _Component:
    variables: list[Key]
    rows: list[int]  # indices of relations


@dataclass
class _Program:
    """The relations touching unknown cells, as A x = b with the known cells moved right."""

    known: Mapping[Key, float]
    unknown: Mapping[Key, tuple[float, float]]
    relations: Sequence[Relation]

    def __post_init__(self) -> None:
        self.index = {key: i for i, key in enumerate(self.unknown)}
        self._matrices: dict[int, tuple[dict[Key, int], Any, Any, list[Any]]] = {}
        self._intervals: dict[Key, Interval] = {}
        self.rows: list[int] = []
        parent = list(range(len(self.index)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for r, relation in enumerate(self.relations):
            touched = [self.index[k] for k, _ in relation.members() if k in self.index]
            for key, _ in relation.members():
                if key not in self.index and key not in self.known:
                    raise KeyError(f"celda sin valor ni límites: {key!r}")
            if not touched:
                continue
            self.rows.append(r)
            for i in touched[1:]:
                parent[find(i)] = find(touched[0])
        self.component_of: dict[Key, int] = {}
        roots: dict[int, _Component] = {}
        for key, i in self.index.items():
            comp = roots.setdefault(find(i), _Component([], []))
            comp.variables.append(key)
        self.components = list(roots.values())
        for n, comp in enumerate(self.components):
            for key in comp.variables:
                self.component_of[key] = n
        for r in self.rows:
            first = next(k for k, _ in self.relations[r].members() if k in self.index)
            self.components[self.component_of[first]].rows.append(r)

    def solve(self, comp: _Component, target: Key, sense: int) -> tuple[float, Any]:
        """min (sense=1) or max (sense=-1) of `target` over the component's polytope."""
        value, result = self.optimum(comp, {target: float(sense)})
        return sense * value, result

    def optimum(self, comp: _Component, weights: Mapping[Key, float]) -> tuple[float, Any]:
        """min of sum(weight * cell); (-inf, None) when unbounded."""
        local, a_eq, rhs, bounds = self._matrix(comp)
        cost = np.zeros(len(local))
        for key, weight in weights.items():
            cost[local[key]] = weight
        result = linprog(
            cost,
            A_eq=a_eq if comp.rows else None,
            b_eq=rhs if comp.rows else None,
            bounds=bounds,
            method="highs",
        )
        if result.status == 2:
            raise InconsistentTables("las cifras publicadas no admiten ninguna tabla de conteos")
        if result.status == 3:
            return -math.inf, None
        if result.status != 0:
            raise RuntimeError(f"HiGHS no resolvió la auditoría: {result.message}")
        return float(result.fun), result

    def _matrix(self, comp: _Component) -> tuple[dict[Key, int], Any, Any, list[Any]]:
        """The component's A, b and bounds, built once."""
        cached = self._matrices.get(id(comp))
        if cached is not None:
            return cached
        local = {key: i for i, key in enumerate(comp.variables)}
        data, row_index, col_index, rhs = [], [], [], []
        for row, r in enumerate(comp.rows):
            constant = 0.0
            for key, coef in self.relations[r].members():
                if key in local:
                    data.append(float(coef))
                    row_index.append(row)
                    col_index.append(local[key])
                else:
                    constant += coef * self.known[key]
            rhs.append(-constant)
        shape = (len(comp.rows), len(local))
        a_eq = coo_matrix((data, (row_index, col_index)), shape=shape).tocsr()
        bounds = [self.unknown[key] for key in comp.variables]
        built = (local, a_eq, np.array(rhs), bounds)
        self._matrices[id(comp)] = built
        return built

    def interval(self, key: Key) -> Interval:
        if key in self._intervals:
            return self._intervals[key]
        comp = self.components[self.component_of[key]]
        self._intervals[key] = Interval(
            _round_up(self.solve(comp, key, 1)[0]), _round_down(self.solve(comp, key, -1)[0])
        )
        return self._intervals[key]


def intervals(
    known: Mapping[Key, float],
    unknown: Mapping[Key, tuple[float, float]],
    relations: Sequence[Relation],
    targets: Iterable[Key] | None = None,
) -> dict[Key, Interval]:
    """Feasible [min, max] of each target (default: every unknown cell), two LPs each.

    `known` maps published cells to their value, `unknown` the others to the bounds a reader
    has for them (a "<5" cell: (0, 4); a complementary one: (5, inf); unpublished: (0, inf)).
    """
    program = _Program(known, unknown, relations)
    found: dict[Key, Interval] = {}
    for key in unknown if targets is None else targets:
        found[key] = program.interval(key)
    return found


@dataclass(frozen=True)
class Pinned:
    key: Key
    interval: Interval
    binding: tuple[int, ...]  # relations whose duals say they hold the bound that is too tight


def find_pinned(
    known: Mapping[Key, float],
    unknown: Mapping[Key, tuple[float, float]],
    relations: Sequence[Relation],
    protected: Mapping[Key, int],
) -> list[Pinned]:
    """Protected cells (key -> threshold) whose feasible interval `is_pinned`.

    Same answer as `intervals` + `is_pinned`, with fewer LPs: any solution in which a cell
    reaches a value certifies that value is feasible, so two LPs per component (all
    protected cells down, all up) settle most cells, and each LP solved after them also
    settles the other cells it happens to push far enough.
    """
    program = _Program(known, unknown, relations)
    seen_low: dict[Key, float] = {}
    seen_high: dict[Key, float] = {}
    pinned: list[Pinned] = []

    def record(comp: _Component, result: Any) -> None:
        for key, value in zip(comp.variables, result.x, strict=True):
            if key in protected:
                seen_low[key] = min(seen_low.get(key, math.inf), float(value))
                seen_high[key] = max(seen_high.get(key, -math.inf), float(value))

    def settled(key: Key, threshold: int) -> bool:
        low, high = seen_low.get(key, math.inf), seen_high.get(key, -math.inf)
        if low < 1 - EPS or high > threshold - 1 + EPS:
            return True
        return low <= 1 + EPS and high >= threshold - 1 - EPS

    for comp in program.components:
        mine = [k for k in comp.variables if k in protected]
        for sense in (1.0, -1.0):
            # push every cell still unsettled on this side at once, while that settles some
            while True:
                side = [k for k in mine if not settled(k, protected[k])]
                if sense < 0:
                    side = [k for k in side if not math.isinf(unknown[k][1])]
                before = len(side)
                if not side:
                    break
                _, result = program.optimum(comp, dict.fromkeys(side, sense))
                if result is None:
                    break
                record(comp, result)
                if sum(1 for k in side if not settled(k, protected[k])) >= before:
                    break

    for key, threshold in protected.items():
        comp = program.components[program.component_of[key]]
        solved: dict[int, tuple[float, Any]] = {}
        for sense in (1, -1):
            if settled(key, threshold):
                break
            value, result = program.solve(comp, key, sense)
            solved[sense] = (value, result)
            if result is not None:
                record(comp, result)
            else:  # unbounded above: never pinned
                seen_high[key] = math.inf
        if settled(key, threshold):
            continue
        interval = Interval(_round_up(solved[1][0]), _round_down(solved[-1][0]))
        if not is_pinned(interval, threshold):
            continue
        binding: list[int] = []
        for _, result in solved.values():
            marginals = result.eqlin.marginals
            binding += [comp.rows[i] for i, m in enumerate(marginals) if abs(m) > EPS]
        pinned.append(Pinned(key, interval, tuple(dict.fromkeys(binding))))
    return pinned


def is_pinned(interval: Interval, threshold: int) -> bool:
    """The protection level (docs/privacidad.md, "Nivel de protección"): a reader must not
    be able to tell that a count is a small positive one (1..threshold-1) *and* narrow it
    below that whole range. The interval of a "<5" cell (labels mean 0..4) must include 0,
    or reach 5, or be all of 1..4; of a "<10" cell, include 0, reach 10 or be all of 1..9.
    """
    return interval.low >= 1 and interval.high <= threshold - 1 and interval.width < threshold - 2


def _round_up(value: float) -> float:
    return value if math.isinf(value) else float(math.ceil(value - EPS))


def _round_down(value: float) -> float:
    return value if math.isinf(value) else float(math.floor(value + EPS))
