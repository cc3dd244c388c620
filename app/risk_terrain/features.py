"""Proximity and density features of each layer at each band, computed in PostGIS.

A layer is a risk-factor type (its real reports: not discarded, not duplicates, observed
by the period's end) or a context-layer type (its features in the comuna). Every feature
is reduced to one point, `ST_PointOnSurface` (a line's or polygon's anchor, as the ranking
places a factor), projected to metres, in the temporary table `rtm_point` (GiST-indexed).
Against the grid of `grid.py`:

* proximidad (layer, band): a point of the layer lies within the band of the cell's centre
  (`ST_DWithin`, index-backed);
* densidad (layer, band): the quartic kernel sum over the points within the band
  (`ST_DWithin`, index-backed) is above the mean over all cells plus `DENSITY_SD` of their
  population standard deviations.

These are the definitions of `app.scoring.risk_terrain.rtm_features`, which gives the same
0/1 columns from the same points (tests/test_risk_terrain_api.py checks both, and an
independent brute-force query).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.risk_terrain.grid import SRID, CellGrid
from app.scoring.risk_terrain import DENSITY, DENSITY_SD, PROXIMITY, feature_name

NOT_REAL = ("descartado", "duplicado")

_POINTS = (
    "DROP TABLE IF EXISTS pg_temp.rtm_point",
    f"CREATE TEMP TABLE rtm_point (layer text NOT NULL, g geometry(Point, {SRID}) NOT NULL)"
    " ON COMMIT DROP",
    """
INSERT INTO rtm_point (layer, g)
SELECT t.code, ST_Transform(ST_PointOnSurface(r.geom), :srid)
  FROM risk_factor_report AS r JOIN risk_factor_type AS t ON t.id = r.type_id
 WHERE r.comuna_code = :comuna AND t.code = ANY(:factor_layers)
   AND r.status::text <> ALL(:not_real) AND r.observed_at < :end
""",
    """
INSERT INTO rtm_point (layer, g)
SELECT f.layer_type, ST_Transform(ST_PointOnSurface(f.geom), :srid)
  FROM context_feature AS f
 WHERE f.comuna_code = :comuna AND f.layer_type = ANY(:context_layers)
""",
    "CREATE INDEX ON rtm_point USING gist (g)",
    "ANALYZE rtm_point",
)

# One pass of the index-backed join gives both operationalisations: every (layer, band,
# cell) with a point within the band is a proximidad 1, and its kernel sum decides densidad
# (two passes, one per operationalisation, cost twice the join: 0.6 s of Lanco's 2 s of SQL)
_FEATURES = text(
    """
WITH dens AS (
  SELECT b.band, p.layer, c.cell,
         sum(3 / (pi() * b.band ^ 2)
             * (1 - ST_Distance(p.g, c.centre) ^ 2 / b.band ^ 2) ^ 2) AS v
    FROM unnest(CAST(:bands AS float8[])) AS b(band)
    JOIN rtm_cell AS c ON true
    JOIN rtm_point AS p ON ST_DWithin(p.g, c.centre, b.band)
   GROUP BY b.band, p.layer, c.cell
), moments AS (
  SELECT band, layer, sum(v) / :cells AS mean,
         sqrt(greatest(sum(v * v) / :cells - (sum(v) / :cells) ^ 2, 0)) AS sd
    FROM dens GROUP BY band, layer
)
SELECT d.layer, d.band, d.cell, (m.sd > 0 AND d.v > m.mean + :k * m.sd) AS dense
  FROM dens AS d JOIN moments AS m USING (band, layer)
"""
)


def load_points(
    session: Session,
    *,
    comuna: str,
    factor_layers: Sequence[str],
    context_layers: Sequence[str],
    end: datetime,
) -> dict[str, np.ndarray]:
    """Fill `rtm_point`; layer -> (n, 2) metres, in the order asked (factors, then context)."""
    params = {
        "comuna": comuna,
        "factor_layers": list(factor_layers),
        "context_layers": list(context_layers),
        "not_real": list(NOT_REAL),
        "end": end,
        "srid": SRID,
    }
    for statement in _POINTS:
        session.execute(text(statement), params)
    rows = session.execute(
        text("SELECT layer, ST_X(g), ST_Y(g) FROM rtm_point ORDER BY layer, ST_X(g), ST_Y(g)")
    ).all()
    out = {layer: np.zeros((0, 2)) for layer in [*factor_layers, *context_layers]}
    frame = pd.DataFrame(rows, columns=["layer", "x", "y"])
    for layer, group in frame.groupby("layer", sort=False):
        out[str(layer)] = group[["x", "y"]].to_numpy(dtype=float)
    return out


def sql_features(
    session: Session, grid: CellGrid, layers: Sequence[str], bands_m: Sequence[float]
) -> pd.DataFrame:
    """The 0/1 columns of `rtm_features` (same names and order), from `rtm_cell` x
    `rtm_point` (both created by `build_grid` and `load_points` in this transaction)."""
    flags: dict[str, np.ndarray] = {}
    for kind in (PROXIMITY, DENSITY):
        for layer in layers:
            for band in bands_m:
                flags[feature_name(layer, kind, band)] = np.zeros(grid.size, dtype=np.int8)
    bands = [float(b) for b in bands_m]
    params = {"bands": bands, "cells": grid.size, "k": DENSITY_SD}
    for layer, band, cell, dense in session.execute(_FEATURES, params).all():
        flags[feature_name(layer, PROXIMITY, band)][cell] = 1
        if dense:
            flags[feature_name(layer, DENSITY, band)][cell] = 1
    return pd.DataFrame(flags, index=pd.RangeIndex(grid.size))
