"""Near-repeat analysis: the Knox test over distance × time bands, as Ratcliffe's Near
Repeat Calculator (NRC) reports it.

For n events with positions (x, y) in metres and times t in days, every unordered pair
(i, j) falls in one cell (a, b): distance band a of d_ij = ||p_i - p_j|| and time band b of
|t_i - t_j|. Bands are closed on the right, as the NRC's "0 to 100, 101 to 200" metres and
"0 to 7, 8 to 14" days: band k holds edge_{k-1} < v <= edge_k (the first one 0 <= v <=
edge_0), and a last open band holds what lies beyond the last edge.

- observed O_ab: the number of pairs in cell (a, b);
- expected E_ab: the mean of the same count over R Monte-Carlo permutations of the times
  among the events (places fixed), which keeps both margins' distributions and breaks only
  the space-time link (Knox 1964; Johnson et al. 2007);
- ratio O_ab / E_ab (the NRC's "Knox ratio") and the pseudo p-value
  (1 + #{r : O^(r)_ab >= O_ab}) / (1 + R), one-sided: more pairs than chance.

Cost: the pairs within the largest finite distance edge are found with a k-d tree
(O(n log n + P), P those pairs) and only they are re-counted per permutation, in blocks
(O(R · P) vectorised). The rows beyond the last distance edge come for free: a permutation
of the times leaves the multiset of all pairwise time gaps unchanged, so each time band's
total over all n(n-1)/2 pairs is a constant (counted once from the sorted times) and the
far row is that total minus the near rows. `MAX_EVENTS` and `MAX_CLOSE_PAIRS` bound the
work and memory; beyond them the caller gets a `NearRepeatInputError` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from app.errors import FieldProblem, InvalidInput

DEFAULT_CRS = "EPSG:32718"  # WGS 84 / UTM 18S: metres across Chile's south (~72-78° W)
DEFAULT_DISTANCE_EDGES_M: tuple[float, ...] = (100.0, 200.0, 300.0, 400.0)
DEFAULT_TIME_EDGES_DAYS: tuple[float, ...] = (7.0, 14.0, 21.0, 28.0)
DEFAULT_PERMUTATIONS = 999
DEFAULT_ALPHA = 0.05
MAX_EVENTS = 20_000
MAX_CLOSE_PAIRS = 2_000_000  # ~R × P values to count: 999 × 2e6 ≈ 35 s on 2 cores
MIN_EVENTS = 3
_BLOCK_VALUES = 4_000_000  # permutations per block × close pairs: ~32 MB of float64


class NearRepeatInputError(InvalidInput):
    """Events or bands the near-repeat test cannot use (too few, too many, bad bands)."""

    code = "repeticion_cercana_invalida"
    title = "Datos de repetición cercana inválidos"


def _refuse(field_name: str, reason: str) -> NearRepeatInputError:
    problem = FieldProblem(field=field_name, reason=reason, location="query")
    return NearRepeatInputError(reason, errors=[problem])


@dataclass(frozen=True)
class NearRepeatCell:
    distance_band: int  # index into NearRepeatResult.distance_labels
    time_band: int
    observed: int
    expected: float
    ratio: float | None  # None when expected is 0
    p_value: float
    significant: bool
    reading: str | None  # plain Spanish, only for significant cells


@dataclass(frozen=True)
class NearRepeatResult:
    events: int
    pairs: int
    permutations: int
    seed: int
    alpha: float
    distance_edges_m: tuple[float, ...]
    time_edges_days: tuple[float, ...]
    distance_labels: tuple[str, ...]
    time_labels: tuple[str, ...]
    observed: np.ndarray = field(repr=False)  # (distance bands, time bands), int
    expected: np.ndarray = field(repr=False)
    p_values: np.ndarray = field(repr=False)

    def cells(self) -> list[NearRepeatCell]:
        out = []
        for a, b in np.ndindex(self.observed.shape):
            obs, exp, p = int(self.observed[a, b]), float(self.expected[a, b]), self.p_values[a, b]
            ratio = obs / exp if exp > 0 else None
            significant = bool(p < self.alpha and ratio is not None and ratio > 1)
            # "1,0 veces el esperado" tells a council nothing, significant or not
            reading = (
                _reading(self.distance_edges_m, self.time_edges_days, a, b, ratio)
                if significant and ratio is not None and round(ratio, 1) > 1.0
                else None
            )
            out.append(NearRepeatCell(a, b, obs, exp, ratio, float(p), significant, reading))
        return out


def project(
    lon: np.ndarray, lat: np.ndarray, crs: str = DEFAULT_CRS
) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 lon/lat to metres in `crs` (imported here: pyproj costs a moment to load)."""
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = transformer.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def calendar_days(dates: Sequence[date]) -> np.ndarray:
    """Times in whole days, as the NRC counts them: the gap between two local calendar dates
    (the caller picks the calendar: Chile's, for complaints)."""
    return np.array([d.toordinal() for d in dates], dtype=float)


def _edges(values: Sequence[float], field_name: str) -> np.ndarray:
    edges = np.asarray(values, dtype=float)
    if edges.ndim != 1 or len(edges) == 0 or not np.all(np.isfinite(edges)):
        raise _refuse(field_name, "Indique al menos un límite de banda finito.")
    if edges[0] <= 0 or np.any(np.diff(edges) <= 0):
        raise _refuse(field_name, "Los límites de banda deben ser positivos y crecientes.")
    return edges


def _band(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Band index of each value: k where edges[k-1] < v <= edges[k]; len(edges) beyond."""
    return np.searchsorted(edges, values, side="left")


def _check_events(x: np.ndarray, y: np.ndarray, t: np.ndarray, max_events: int) -> None:
    if not (x.shape == y.shape == t.shape) or x.ndim != 1:
        raise _refuse("events", "Coordenadas y fechas deben tener el mismo largo.")
    if len(x) < MIN_EVENTS:
        raise _refuse(
            "events", f"Se necesitan al menos {MIN_EVENTS} hechos; el período tiene {len(x)}."
        )
    if len(x) > max_events:
        raise _refuse(
            "events",
            f"Demasiados hechos ({len(x)}) para la prueba de Knox: el máximo es {max_events}. "
            "Acorte el período o elija una categoría más específica.",
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(np.isfinite(t))):
        raise _refuse("events", "Hay coordenadas o fechas no finitas.")


_MAX_DAY_SPAN = 100_000  # whole days over a shorter span use the look-up table below


def _whole_days(t: np.ndarray) -> bool:
    return bool(np.all(t == np.floor(t)) and t.max() - t.min() <= _MAX_DAY_SPAN)


def _gap_bands(t: np.ndarray, edges: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Time band of |t_a - t_b|, elementwise. Whole days (the NRC's unit, and what the
    service passes) go through a look-up table indexed by the gap: about 3 times faster
    than a binary search per pair (bench/near_repeat.py)."""
    if not _whole_days(t):
        return lambda a, b: _band(np.abs(a - b), edges).astype(np.int32)
    table = _band(np.arange(int(t.max() - t.min()) + 1, dtype=float), edges).astype(np.int32)

    def bands(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        gap = a - b
        np.abs(gap, out=gap)
        return table[gap]

    return bands


def _time_band_totals(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Pairs per time band over all pairs (invariant under permutations of the times)."""
    s = np.sort(t)
    n = len(s)
    within = np.empty(len(edges), dtype=np.int64)  # pairs with gap <= edge
    for k, edge in enumerate(edges):
        within[k] = int((np.searchsorted(s, s + edge, side="right") - np.arange(n) - 1).sum())
    total = n * (n - 1) // 2
    return np.diff(np.concatenate([[0], within, [total]]))


def knox_table(
    x: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    *,
    distance_edges_m: Sequence[float] = DEFAULT_DISTANCE_EDGES_M,
    time_edges_days: Sequence[float] = DEFAULT_TIME_EDGES_DAYS,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    max_events: int = MAX_EVENTS,
) -> NearRepeatResult:
    """The NRC table for events at (x, y) metres and times t days (see the module doc).

    Longer than the house's 60 lines on purpose: the pair arrays, the band tables and the
    permutation loop share one scope, and splitting them would pass six arrays around."""
    from scipy.spatial import cKDTree

    x, y, t = (np.asarray(v, dtype=float) for v in (x, y, t))
    _check_events(x, y, t, max_events)
    if permutations < 1:
        raise _refuse("permutations", "Indique al menos una permutación.")
    d_edges = _edges(distance_edges_m, "distance_bands")
    t_edges = _edges(time_edges_days, "time_bands")
    n = len(x)
    points = np.column_stack([x, y])
    pairs = cKDTree(points).query_pairs(float(d_edges[-1]), output_type="ndarray")
    if len(pairs) > MAX_CLOSE_PAIRS:
        raise _refuse(
            "events",
            f"Demasiados pares cercanos ({len(pairs)}; máximo {MAX_CLOSE_PAIRS}): acorte el "
            "período o las bandas de distancia.",
        )
    i, j = pairs[:, 0], pairs[:, 1]
    d_band = _band(np.hypot(x[i] - x[j], y[i] - y[j]), d_edges)
    n_d, n_t = len(d_edges) + 1, len(t_edges) + 1
    base = (d_band * n_t).astype(np.int32)  # cell index without the time band

    band_of_gaps = _gap_bands(t, t_edges)

    def near_rows(times: np.ndarray) -> np.ndarray:
        """(rows, n_d - 1, n_t): counts of the near pairs for each row of times."""
        cell = band_of_gaps(times[:, i], times[:, j])
        cell += base
        cell += (np.arange(len(times), dtype=cell.dtype) * n_d * n_t)[:, None]
        counts = np.bincount(cell.ravel(), minlength=len(times) * n_d * n_t)
        return counts.reshape(len(times), n_d, n_t)[:, : n_d - 1, :]

    totals = _time_band_totals(t, t_edges)

    def full(near: np.ndarray) -> np.ndarray:
        far = totals[None, :] - near.sum(axis=1)
        return np.concatenate([near, far[:, None, :]], axis=1)

    t_rows = (t - t.min()).astype(np.int32) if _whole_days(t) else t
    observed = full(near_rows(t_rows[None, :]))[0]
    rng = np.random.default_rng(seed)
    exceed = np.zeros_like(observed)
    summed = np.zeros(observed.shape, dtype=float)
    block = max(1, min(permutations, _BLOCK_VALUES // max(1, len(pairs))))
    done = 0
    while done < permutations:
        size = min(block, permutations - done)
        shuffled = rng.permuted(np.broadcast_to(t_rows, (size, n)), axis=1)
        simulated = full(near_rows(shuffled))
        exceed += (simulated >= observed[None]).sum(axis=0)
        summed += simulated.sum(axis=0)
        done += size
    return NearRepeatResult(
        events=n,
        pairs=n * (n - 1) // 2,
        permutations=permutations,
        seed=seed,
        alpha=alpha,
        distance_edges_m=tuple(float(e) for e in d_edges),
        time_edges_days=tuple(float(e) for e in t_edges),
        distance_labels=band_labels(d_edges.tolist(), "m"),
        time_labels=band_labels(t_edges.tolist(), "días"),
        observed=observed,
        expected=summed / permutations,
        p_values=(1 + exceed) / (1 + permutations),
    )


def _num(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def band_labels(edges: Sequence[float], unit: str) -> tuple[str, ...]:
    """NRC-style labels: "0 a 100 m", "101 a 200 m", ..., "más de 400 m" (whole units
    start one above the previous edge, as the NRC writes them)."""
    labels = []
    previous: float | None = None
    for edge in edges:
        if previous is None:
            start = "0"
        elif float(previous).is_integer():
            start = _num(previous + 1)
        else:
            start = f"más de {_num(previous)}"
        labels.append(f"{start} a {_num(edge)} {unit}")
        previous = edge
    labels.append(f"más de {_num(edges[-1])} {unit}")
    return tuple(labels)


def _reading(
    d_edges: Sequence[float], t_edges: Sequence[float], a: int, b: int, ratio: float
) -> str:
    """ "en los 7 días siguientes, a menos de 100 m, el riesgo es 2,3 veces el esperado"."""
    if b == 0:
        when = f"en los {_num(t_edges[0])} días siguientes"
    elif b < len(t_edges):
        when = f"entre {_num(t_edges[b - 1])} y {_num(t_edges[b])} días después"
    else:
        when = f"más de {_num(t_edges[-1])} días después"
    if a == 0:
        where = f"a menos de {_num(d_edges[0])} m"
    elif a < len(d_edges):
        where = f"entre {_num(d_edges[a - 1])} y {_num(d_edges[a])} m"
    else:
        where = f"a más de {_num(d_edges[-1])} m"
    times = f"{ratio:.1f}".replace(".", ",")
    return f"{when}, {where}, el riesgo es {times} veces el esperado"
