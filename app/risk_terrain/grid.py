"""The grid over the comuna's settled area, its counts and exposure, built in PostGIS.

The settled area is the union of the comuna's finest units (micro-barrios, or barrios when
it has none). `ST_SquareGrid` aligns its cells on multiples of the side from the CRS's
origin, as `app.scoring.grid_hotspots.square_grid` does, so both put a point in the same
cell; a cell is kept when it intersects the settled area; cells are numbered in (row,
column) order. The grid lives in a temporary table (`rtm_cell`, GiST-indexed centres)
for the feature queries of `features.py`, and is dropped when the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import FieldProblem, InvalidInput
from app.scoring.near_repeat import DEFAULT_CRS

SRID = int(DEFAULT_CRS.split(":")[1])  # UTM 18S, metres

_SETTLED = """
WITH finest AS (
  SELECT m.geom, m.population, m.code, b.code AS barrio
    FROM micro_barrio AS m JOIN barrio AS b ON b.id = m.barrio_id
   WHERE m.comuna_code = :comuna
  UNION ALL
  SELECT geom, population, code, code AS barrio FROM barrio
   WHERE comuna_code = :comuna
     AND NOT EXISTS (SELECT 1 FROM micro_barrio WHERE comuna_code = :comuna)
)
"""

_EXTENT = text(
    _SETTLED
    + """
SELECT (ceil(ST_XMax(e) / :cell_m) - floor(ST_XMin(e) / :cell_m))
     * (ceil(ST_YMax(e) / :cell_m) - floor(ST_YMin(e) / :cell_m)) AS candidates
  FROM (SELECT ST_Extent(ST_Transform(geom, :srid))::geometry AS e FROM finest) AS x
 WHERE e IS NOT NULL
"""
)

_CREATE = (
    "DROP TABLE IF EXISTS pg_temp.rtm_cell",
    "CREATE TEMP TABLE rtm_cell ON COMMIT DROP AS "
    + _SETTLED
    + """, settled AS (SELECT ST_Transform(ST_Union(geom), :srid) AS g FROM finest)
SELECT (row_number() OVER (ORDER BY sq.j, sq.i) - 1)::int AS cell, sq.i, sq.j,
       sq.geom AS box, ST_Centroid(sq.geom) AS centre
  FROM settled, ST_SquareGrid(:cell_m, settled.g) AS sq
 WHERE ST_Intersects(sq.geom, settled.g)
""",
    "CREATE INDEX ON rtm_cell USING gist (centre)",
    "CREATE INDEX ON rtm_cell USING gist (box)",
    "ANALYZE rtm_cell",
)

# Residents per cell: each unit's population spread evenly over its polygon, cut by the
# cells; the stratum of a cell is the unit (or its barrio, `strata = 'barrio'`) covering
# most of it.
_EXPOSURE = text(
    _SETTLED
    + """, units AS (
  SELECT CASE WHEN :strata = 'barrio' THEN barrio ELSE code END AS code, population,
         ST_Transform(geom, :srid) AS g FROM finest
)
SELECT c.cell,
       sum(u.population * ST_Area(ST_Intersection(c.box, u.g)) / ST_Area(u.g)) AS residents,
       (array_agg(u.code ORDER BY ST_Area(ST_Intersection(c.box, u.g)) DESC, u.code))[1]
         AS stratum,
       bool_or(u.population IS NULL) AS unknown
  FROM rtm_cell AS c JOIN units AS u ON ST_Intersects(c.box, u.g)
 GROUP BY c.cell ORDER BY c.cell
"""
)

_COUNTS = text(
    """
WITH pts AS (
  SELECT ST_Transform(geom, :srid) AS g FROM complaint
   WHERE comuna_code = :comuna AND category_code = ANY(:categories)
     AND occurred_at >= :start AND occurred_at < :end
)
SELECT c.cell, count(*) AS n
  FROM pts JOIN rtm_cell AS c
    ON c.i = floor(ST_X(pts.g) / :cell_m) AND c.j = floor(ST_Y(pts.g) / :cell_m)
 GROUP BY c.cell
"""
)


@dataclass(frozen=True)
class CellGrid:
    cell_m: float
    i: np.ndarray  # column of each cell (x = i * cell_m), in cell order
    j: np.ndarray  # row
    residents: np.ndarray | None  # None when some unit has no population
    strata: np.ndarray  # the unit (or barrio) of each cell; all "" without strata

    @property
    def size(self) -> int:
        return len(self.i)

    @property
    def centres(self) -> np.ndarray:
        return np.column_stack(((self.i + 0.5) * self.cell_m, (self.j + 0.5) * self.cell_m))


def too_many_cells(cells: int, cap: int, cell_m: float) -> InvalidInput:
    reason = (
        f"una grilla de celdas de {cell_m:g} m tendría {cells} celdas, más que el máximo de "
        f"{cap}: use celdas más grandes"
    )
    problem = FieldProblem(field="cell_m", reason=reason, location="body")
    return InvalidInput(f"Dato inválido: cell_m ({reason}).", errors=[problem])


def build_grid(
    session: Session, *, comuna: str, cell_m: float, max_cells: int, strata: str = "micro_barrio"
) -> CellGrid:
    """Create `rtm_cell` for the comuna; refuse (nothing built) a grid over the cap.
    `strata`: micro_barrio (the finest unit), barrio, or ninguno."""
    params = {"comuna": comuna, "cell_m": cell_m, "srid": SRID, "strata": strata}
    candidates = session.execute(_EXTENT, params).scalar()
    if candidates is None:
        problem = FieldProblem(
            field="comuna", reason="la comuna no tiene barrios cargados", location="body"
        )
        raise InvalidInput("La comuna no tiene área poblada.", errors=[problem])
    if candidates > 4 * max_cells:  # the bounding box alone is far over the cap
        raise too_many_cells(int(candidates), max_cells, cell_m)
    for statement in _CREATE:
        session.execute(text(statement), params)
    count = int(session.execute(text("SELECT count(*) FROM rtm_cell")).scalar_one())
    if count > max_cells:
        session.execute(text("DROP TABLE pg_temp.rtm_cell"))
        raise too_many_cells(count, max_cells, cell_m)
    rows = session.execute(text("SELECT i, j FROM rtm_cell ORDER BY cell")).all()
    i = np.array([r[0] for r in rows], dtype=np.int64)
    j = np.array([r[1] for r in rows], dtype=np.int64)
    exposure = session.execute(_EXPOSURE, params).all()
    residents = np.zeros(len(i))
    labels = np.full(len(i), "", dtype=object)
    unknown = False
    for row in exposure:
        residents[row.cell] = float(row.residents or 0.0)
        labels[row.cell] = row.stratum if strata != "ninguno" else "comuna"
        unknown = unknown or bool(row.unknown)
    return CellGrid(cell_m, i, j, None if unknown else residents, labels)


def cell_counts(
    session: Session,
    grid: CellGrid,
    *,
    comuna: str,
    categories: list[str],
    start: datetime,
    end: datetime,
) -> np.ndarray:
    """Complaints of the categories in [start, end) per cell (outside the grid: not counted)."""
    params = {
        "comuna": comuna,
        "categories": categories,
        "start": start,
        "end": end,
        "cell_m": grid.cell_m,
        "srid": SRID,
    }
    counts = np.zeros(grid.size, dtype=np.int64)
    for cell, n in session.execute(_COUNTS, params).all():
        counts[cell] = n
    return counts
