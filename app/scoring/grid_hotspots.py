"""Hot spots on a regular grid of square cells (issue #17, item 3): Gi*, KDE, unit shares.

The polygon Gi* of the ranking (app/scoring/hotspots.py) tests 19 micro-barrios; here the
same statistic runs on cells of about half a block over the settled area, so a hot spot is
a place, not an administrative unit, and a unit's hot-spot variable can be the *share of
its settled area covered by significant hot cells* (`hot_share`). Choices:

* grid: square cells of side `cell_m` metres in a metric CRS (default
  `app.scoring.near_repeat.DEFAULT_CRS`, UTM 18S), aligned on multiples of `cell_m` so the
  same inputs give the same cells; kept when they intersect the settled polygons; at most
  `MAX_CELLS` cells (and `MAX_CANDIDATE_CELLS` cells in the settled parts' bounding boxes);
* counts: an event at (x, y) falls in the cell [x0 + i c, x0 + (i + 1) c) x [y0 + j c, ...);
  events outside the kept cells are not counted (`CellCounts.outside` says how many);
* Gi*: distance-band binary weights on the cell centres (libpysal `DistanceBand`, `band_m`
  metres, the focal cell included: esda `G_Local(star=True, transform="B")`), 999
  conditional permutations with the ranking's fixed seed (`HotSpotParams`); a cell is a
  significant hot spot when z > 0, its own count is above the mean count of the cells, and
  the Benjamini-Hochberg q over the tested cells is <= alpha (method 2 of the ranking);
  cells with no neighbour in the band are not tested (z = 0, p = q = 1);
* KDE: a Gaussian kernel of fixed, isotropic bandwidth h (default one block, 100 m) summed
  directly at every cell centre, in events per km2 (`kde_surface`); `scott_bandwidth` gives
  Scott's rule h = sigma n^(-1/6) (sigma the root of the mean of the two coordinate
  variances) for those who want a data-driven h.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from libpysal.weights import W
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from app.scoring.errors import ScoringInputError, problem
from app.scoring.hotspots import HotSpotParams, esda_gi_star
from app.scoring.multiple import benjamini_hochberg
from app.scoring.near_repeat import DEFAULT_CRS, project

DEFAULT_CELL_M = 50.0  # about half a block
DEFAULT_BAND_M = 125.0  # 2.5 cells: the 20 cells within 2 cells (and not on a lattice tie)
DEFAULT_KDE_BANDWIDTH_M = 100.0  # about one block
MAX_CELLS = 50_000
MAX_CANDIDATE_CELLS = 2_000_000
_KDE_BLOCK = 2_000_000  # cells x events per block of the direct sum (~16 MB of float64)


def _refuse(field: str, reason: str) -> ScoringInputError:
    return ScoringInputError(reason, errors=[problem(field, reason)])


@dataclass(frozen=True)
class Grid:
    crs: str
    cell_m: float
    x0: float  # the lower-left corner of cell (col 0, row 0), metres in `crs`
    y0: float
    col: np.ndarray  # kept cells, in (row, col) order
    row: np.ndarray
    settled: BaseGeometry  # the settled area, projected

    @property
    def size(self) -> int:
        return len(self.col)

    @property
    def centres(self) -> np.ndarray:
        return np.column_stack(
            (self.x0 + (self.col + 0.5) * self.cell_m, self.y0 + (self.row + 0.5) * self.cell_m)
        )

    def boxes(self) -> np.ndarray:
        x = self.x0 + self.col * self.cell_m
        y = self.y0 + self.row * self.cell_m
        return shapely.box(x, y, x + self.cell_m, y + self.cell_m)


def to_metres(geom: BaseGeometry, crs: str = DEFAULT_CRS) -> BaseGeometry:
    """A lon/lat geometry projected to `crs`."""
    return shapely.transform(geom, lambda xy: np.column_stack(project(xy[:, 0], xy[:, 1], crs)))


def square_grid(
    polygons: Sequence[BaseGeometry],
    cell_m: float = DEFAULT_CELL_M,
    *,
    crs: str = DEFAULT_CRS,
    max_cells: int = MAX_CELLS,
) -> Grid:
    """The square cells of side `cell_m` intersecting the (lon/lat) settled `polygons`."""
    if not np.isfinite(cell_m) or cell_m <= 0:
        raise _refuse("cell_m", "El lado de la celda debe ser un número positivo de metros.")
    parts = [p for p in polygons if p is not None and not p.is_empty]
    if not parts:
        raise _refuse("polygons", "No hay área poblada sobre la cual construir la grilla.")
    settled = to_metres(shapely.union_all(parts), crs)
    pieces = shapely.get_parts(settled)
    bounds = shapely.bounds(pieces)
    lo = np.floor(bounds[:, :2] / cell_m).astype(np.int64)
    hi = np.ceil(bounds[:, 2:] / cell_m).astype(np.int64)
    candidates = int(np.prod(np.maximum(hi - lo, 1), axis=1).sum())
    if candidates > MAX_CANDIDATE_CELLS:
        raise _refuse("cell_m", _too_many(candidates, MAX_CANDIDATE_CELLS, cell_m))
    origin = lo.min(axis=0)
    shapely.prepare(settled)
    keys: list[np.ndarray] = []
    width = int(hi[:, 0].max() - origin[0]) + 1
    for (c0, r0), (c1, r1) in zip(lo, hi, strict=True):
        mesh = np.meshgrid(np.arange(c0, max(c1, c0 + 1)), np.arange(r0, max(r1, r0 + 1)))
        cols, rows = mesh[0].ravel(), mesh[1].ravel()
        boxes = shapely.box(cols * cell_m, rows * cell_m, (cols + 1) * cell_m, (rows + 1) * cell_m)
        hit = shapely.intersects(settled, boxes)
        keys.append((rows[hit] - origin[1]) * width + (cols[hit] - origin[0]))
    key = np.unique(np.concatenate(keys))
    if len(key) > max_cells:
        raise _refuse("cell_m", _too_many(len(key), max_cells, cell_m))
    return Grid(
        crs=crs,
        cell_m=float(cell_m),
        x0=float(origin[0] * cell_m),
        y0=float(origin[1] * cell_m),
        col=(key % width).astype(np.int64),
        row=(key // width).astype(np.int64),
        settled=settled,
    )


def _too_many(cells: int, cap: int, cell_m: float) -> str:
    return (
        f"Una grilla de celdas de {cell_m:g} m tendría {cells} celdas, más que el máximo de "
        f"{cap}: use celdas más grandes."
    )


@dataclass(frozen=True)
class CellCounts:
    counts: np.ndarray  # events per kept cell (int64)
    cell: np.ndarray  # per event: index of its kept cell, -1 outside the grid
    outside: int


def count_in_cells(grid: Grid, x: np.ndarray, y: np.ndarray) -> CellCounts:
    """Events (metres in the grid's CRS) per kept cell, by floor division on the origin."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    col = np.floor((x - grid.x0) / grid.cell_m)
    row = np.floor((y - grid.y0) / grid.cell_m)
    width = int(grid.col.max()) + 1 if grid.size else 1
    key = grid.row * width + grid.col  # sorted: the cells are in (row, col) order
    ok = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (row >= 0) & (col < width)
    if grid.size == 0 or not ok.any():
        return CellCounts(np.zeros(grid.size, np.int64), np.full(len(x), -1), len(x))
    event_key = np.where(ok, np.where(ok, row, 0) * width + np.where(ok, col, 0), -1).astype(
        np.int64
    )
    at = np.minimum(np.searchsorted(key, event_key), grid.size - 1)
    found = ok & (key[at] == event_key)
    cell = np.where(found, at, -1)
    counts = np.bincount(cell[found], minlength=grid.size).astype(np.int64)
    return CellCounts(counts=counts, cell=cell, outside=int((~found).sum()))


def distance_band_weights(grid: Grid, band_m: float) -> W:
    """Binary weights between cell centres at most `band_m` metres apart (ids 0..n-1)."""
    if not np.isfinite(band_m) or band_m <= 0:
        raise _refuse("band_m", "La banda de distancia debe ser un número positivo de metros.")
    # the pairs from a k-d tree straight into W: libpysal's DistanceBand builds the same
    # neighbours through a scipy DOK matrix, 0.7 of Lanco's 1.7 s of Gi*
    pairs = cKDTree(grid.centres).query_pairs(band_m, output_type="ndarray")
    rows = np.concatenate((pairs[:, 0], pairs[:, 1]))
    cols = np.concatenate((pairs[:, 1], pairs[:, 0]))
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    starts = np.searchsorted(rows, np.arange(grid.size + 1))
    neighbors = {i: cols[starts[i] : starts[i + 1]].tolist() for i in range(grid.size)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # islands and disconnected components
        return W(neighbors, id_order=list(range(grid.size)), silence_warnings=True)


@dataclass(frozen=True)
class GridHotSpots:
    z: np.ndarray
    p_sim: np.ndarray
    q: np.ndarray  # BH over the tested cells; 1 elsewhere
    above_mean: np.ndarray
    tested: np.ndarray  # cells with at least one neighbour in the band
    hot: np.ndarray
    band_m: float
    params: HotSpotParams


def grid_gi_star(
    counts: np.ndarray,
    grid: Grid,
    band_m: float = DEFAULT_BAND_M,
    params: HotSpotParams | None = None,
    *,
    weights: W | None = None,
    exposure: np.ndarray | None = None,
) -> GridHotSpots:
    """High-high Gi* hot cells, FDR-corrected (see the module docstring).

    `exposure` (per cell, e.g. residents): Gi* on the Pearson residuals (y - E) / sqrt(E),
    E = total count x the cell's share of the exposure, and "above" means y > E; cells with
    no exposure are not tested. Gi* on raw counts tests against events spread evenly over
    the cells, so where crime follows where people live it flags the dense blocks: on the
    demo's null world (crime proportional to residents) 0.9 % of cells and 27 of 380 units
    with hot_share >= 0.10, against 0.04 % and 0 of 380 with the residents as exposure
    (bench/grid_hotspots.py)."""
    params = params or HotSpotParams()
    y = np.asarray(counts, dtype=float)
    if len(y) != grid.size:
        raise _refuse("counts", f"Se esperaban {grid.size} conteos, uno por celda.")
    weights = weights if weights is not None else distance_band_weights(grid, band_m)
    tested = np.array([len(weights.neighbors[i]) > 0 for i in weights.id_order], dtype=bool)
    values, reference = y, np.full(grid.size, y.mean() if grid.size else 0.0)
    if exposure is not None:
        e = np.asarray(exposure, dtype=float)
        if e.shape != y.shape or not np.isfinite(e).all() or (e < 0).any() or e.sum() <= 0:
            raise _refuse("exposure", f"Se esperaban {grid.size} exposiciones no negativas.")
        reference = y.sum() * e / e.sum()
        lived = reference > 0
        values = np.zeros(grid.size)
        values[lived] = (y[lived] - reference[lived]) / np.sqrt(reference[lived])
        # shifted to be non-negative: Gi*'s z is unchanged by a shift, and esda's G and its
        # permutation p divide by the sum of the values, which must not be near 0
        values = values - values.min()
        tested &= lived
    z, p = np.zeros(grid.size), np.ones(grid.size)
    if grid.size >= 3 and np.ptp(values) > 0 and tested.any():
        gi = esda_gi_star(values, weights, params)
        z = np.where(tested, np.nan_to_num(np.asarray(gi.Zs, dtype=float)), 0.0)
        p = np.where(tested, np.asarray(gi.p_sim, dtype=float), 1.0)
    q = np.ones(grid.size)
    if tested.any():
        q[tested] = benjamini_hochberg(p[tested])
    above = y > reference
    hot = (z > 0) & above & (q <= params.alpha) & tested
    return GridHotSpots(z, p, q, above, tested, hot, float(band_m), params)


def scott_bandwidth(x: np.ndarray, y: np.ndarray) -> float:
    """Scott's rule for an isotropic 2-D Gaussian kernel: sigma n^(-1/6)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2:
        raise _refuse("events", "Se necesitan al menos dos eventos para la regla de Scott.")
    sigma = float(np.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / 2))
    return sigma * len(x) ** (-1 / 6)


def kde_surface(
    x: np.ndarray, y: np.ndarray, grid: Grid, bandwidth_m: float = DEFAULT_KDE_BANDWIDTH_M
) -> np.ndarray:
    """Events per km2 at each cell centre: sum_i exp(-d_i^2 / 2h^2) / (2 pi h^2) x 1e6."""
    if not np.isfinite(bandwidth_m) or bandwidth_m <= 0:
        raise _refuse("bandwidth_m", "El ancho de banda debe ser un número positivo de metros.")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    centres = grid.centres
    out = np.zeros(grid.size)
    if len(x) == 0 or grid.size == 0:
        return out
    step = max(1, _KDE_BLOCK // len(x))
    two_h2 = 2.0 * bandwidth_m**2
    for start in range(0, grid.size, step):
        c = centres[start : start + step]
        d2 = (c[:, :1] - x[None, :]) ** 2 + (c[:, 1:] - y[None, :]) ** 2
        out[start : start + step] = np.exp(-d2 / two_h2).sum(axis=1)
    return out / (np.pi * two_h2) * 1e6


def hot_share(grid: Grid, hot: np.ndarray, unit_polygons: Mapping[str, BaseGeometry]) -> pd.Series:
    """Per unit (lon/lat polygons), the share of its settled area inside hot cells (0..1).

    A unit with no settled area gets 0 (no settled place of it is hot)."""
    hot = np.asarray(hot, dtype=bool)
    if len(hot) != grid.size:
        raise _refuse("hot", f"Se esperaban {grid.size} valores, uno por celda.")
    hot_area = shapely.union_all(grid.boxes()[hot]) if hot.any() else None
    out = {}
    for code, polygon in unit_polygons.items():
        settled = to_metres(polygon, grid.crs).intersection(grid.settled)
        area = settled.area
        if hot_area is None or area <= 0:
            out[code] = 0.0
            continue
        out[code] = float(settled.intersection(hot_area).area / area)
    return pd.Series(out, dtype=float)


@dataclass(frozen=True)
class GridHotShare:
    """A unit-level hot-spot variable from the grid: `hot_share` per unit, and the smallest BH
    q over the tested cells with whether any cell is hot (the variable's signal test)."""

    share: pd.Series
    q_min: float
    any_hot: bool

    @classmethod
    def of(cls, spots: GridHotSpots, share: pd.Series) -> GridHotShare:
        q = spots.q[spots.tested]
        return cls(share, float(q.min()) if len(q) else 1.0, bool(spots.hot.any()))
