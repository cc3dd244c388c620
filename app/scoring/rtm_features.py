"""The risk-terrain model's variables (issue #17): two 0/1 operationalisations of every
layer at every band, per grid cell (see app/scoring/risk_terrain.py for the definitions and
app/risk_terrain/features.py for the same columns computed in PostGIS)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from app.scoring.errors import ScoringInputError, problem
from app.scoring.grid_hotspots import Grid

BLOCK_M = 100.0  # one block length (Chilean towns: ~100 m between street axes)
DEFAULT_BANDS_M: tuple[float, ...] = (BLOCK_M, 2 * BLOCK_M, 3 * BLOCK_M)
DENSITY_SD = 1.0  # densidad: above the mean of the cells by this many standard deviations
PROXIMITY = "proximidad"
DENSITY = "densidad"


def _refuse(field: str, reason: str) -> ScoringInputError:
    return ScoringInputError(reason, errors=[problem(field, reason)])


def feature_name(layer: str, kind: str, band_m: float) -> str:
    return f"{layer}:{kind}:{band_m:g}m"


def _points(layer: str, xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not np.isfinite(xy).all():
        raise _refuse("layers", f"La capa {layer} tiene coordenadas no finitas.")
    return xy


def _check_bands(bands_m: Sequence[float]) -> None:
    if not bands_m or any(not np.isfinite(b) or b <= 0 for b in bands_m):
        raise _refuse("bands_m", "Las bandas deben ser números positivos de metros.")


def cell_centres(cells: Grid | np.ndarray) -> np.ndarray:
    """The centroids of a grid's cells, or an (n, 2) array of centres as given."""
    raw = cells.centres if isinstance(cells, Grid) else cells
    return np.asarray(raw, dtype=float).reshape(-1, 2)


def proximity_features(
    cells: Grid | np.ndarray,
    layers: Mapping[str, np.ndarray],
    bands_m: Sequence[float] = DEFAULT_BANDS_M,
) -> pd.DataFrame:
    """0/1 per cell centre: a point of the layer within the band (distance <= band)."""
    _check_bands(bands_m)
    centres = cell_centres(cells)
    out: dict[str, np.ndarray] = {}
    for layer, xy in layers.items():
        pts = _points(layer, xy)
        nearest = cKDTree(pts).query(centres, k=1)[0] if len(pts) else np.full(len(centres), np.inf)
        for band in bands_m:
            out[feature_name(layer, PROXIMITY, band)] = (nearest <= band).astype(np.int8)
    return pd.DataFrame(out, index=pd.RangeIndex(len(centres)))


def quartic_density(centres: np.ndarray, xy: np.ndarray, radius_m: float) -> np.ndarray:
    """Points per m2 at each centre, quartic kernel of radius `radius_m` (see the module)."""
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    out = np.zeros(len(centres))
    if len(xy) == 0:
        return out
    pairs = cKDTree(centres).sparse_distance_matrix(cKDTree(xy), radius_m, output_type="ndarray")
    u2 = pairs["v"] ** 2 / radius_m**2
    np.add.at(out, pairs["i"], (1 - u2) ** 2)
    return out * 3 / (math.pi * radius_m**2)


def density_features(
    cells: Grid | np.ndarray,
    layers: Mapping[str, np.ndarray],
    bands_m: Sequence[float] = DEFAULT_BANDS_M,
    sd: float = DENSITY_SD,
) -> pd.DataFrame:
    """0/1 per cell centre: the layer's quartic density above mean + `sd` standard deviations
    (population sd over the cells); all 0 when the density is constant."""
    _check_bands(bands_m)
    centres = cell_centres(cells)
    out: dict[str, np.ndarray] = {}
    for layer, xy in layers.items():
        pts = _points(layer, xy)
        for band in bands_m:
            d = quartic_density(centres, pts, band)
            spread = d.std()
            flag = d > d.mean() + sd * spread if spread > 0 else np.zeros(len(d), bool)
            out[feature_name(layer, DENSITY, band)] = flag.astype(np.int8)
    return pd.DataFrame(out, index=pd.RangeIndex(len(centres)))


def rtm_features(
    cells: Grid | np.ndarray,
    layers: Mapping[str, np.ndarray],
    bands_m: Sequence[float] = DEFAULT_BANDS_M,
) -> pd.DataFrame:
    """Both operationalisations of every layer at every band, one column each."""
    return pd.concat(
        [proximity_features(cells, layers, bands_m), density_features(cells, layers, bands_m)],
        axis=1,
    )


def parse_feature(name: str) -> tuple[str, str, float]:
    """(layer, operationalisation, band in metres) of a column name."""
    layer, kind, band = name.rsplit(":", 2)
    return layer, kind, float(band.removesuffix("m"))
