"""Risk-terrain model end to end, and against its floor (issue #17, item 5).

    python -m bench.risk_terrain load-region [--url URL]  # one synthetic regional comuna
    python -m bench.risk_terrain run [--url URL] [--rounds 5]

`run` times, for Lanco (14103, the demo data) and the regional comuna (90000) when loaded:

* vigia: `app.risk_terrain.service.compute_snapshot` (grid, counts, exposure and features
  in PostGIS, the model, Gi*, storing the snapshot and its cells), rolled back;
* floor: the same SQL statements run with bare psycopg, then the libraries called directly
  on the result: glum's CV-L1 path on the same candidates, statsmodels' GLM of the retained
  features with the strata and offset, esda's Gi* on the counts.

Sides interleave round by round; medians, ratio and load averages are printed.
`load-region` loads the first comuna of bench/data/region (python -m bench.tiers region):
its territory, its complaints, and three synthetic context layers of 300 points.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import psycopg
import statsmodels.api as sm
from glum import GeneralizedLinearRegressorCV
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from app import migrations as schema
from app.complaints.ingest import import_complaints
from app.rankings.compute import default_period_end, period_for
from app.rankings.inputs import boundaries
from app.risk_terrain import features as sql_f
from app.risk_terrain import grid as sql_g
from app.risk_terrain import service
from app.scoring.grid_hotspots import distance_band_weights
from app.scoring.hotspots import HotSpotParams, esda_gi_star
from app.settings import TerritorySettings
from app.territory import service as territory

REPO = Path(__file__).resolve().parents[1]
REGION = Path(os.environ.get("VIGIA_BENCH_REGION", REPO / "bench" / "data" / "region"))
REGION_COMUNA = "90000"
REGION_CELL_M = 100.0  # 0.2 x 0.2 degrees of micro-barrios: 37k cells of 100 m (50 m: 150k)
# strata: the service's default (micro-barrios: 192 fixed effects; profiled out of the
# Poisson fits since app/scoring/poisson_fe.py, before which each GLM took 45 s)
DEFAULT_URL = os.environ.get(
    "VIGIA_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/vigia_rtm"
)


def _bare(sql: str) -> str:
    """SQLAlchemy's :name parameters as psycopg's %(name)s (casts `::` left alone)."""
    return re.sub(r"(?<![:\w]):([a-z_]+)", r"%(\1)s", sql.replace("%", "%%"))


def load_region(url: str) -> None:
    engine = create_engine(url)
    schema.upgrade(engine)
    path = REGION / "territory" / f"{REGION_COMUNA}.geojson"
    with Session(engine) as session:
        parsed = territory.parse_territory(orjson.loads(path.read_bytes()), TerritorySettings())
        territory.load_territory(session, parsed)
        session.commit()
    frame = pd.read_csv(REGION / "complaints.csv", dtype=str)
    lon, lat = frame["lon"].astype(float), frame["lat"].astype(float)
    mine = frame[(lon < -72.8) & (lat < -40.8)]
    out = Path("/tmp") / "vigia-rtm-region.csv"
    mine.to_csv(out, index=False)
    with Session(engine) as session:
        report = import_complaints(session, out, fmt="csv", mode="skip-invalid", loaded_by="bench")
        rng = np.random.default_rng(17)
        for layer in ("botilleria", "paradero", "cajero"):
            pts = np.column_stack((rng.uniform(-73, -72.8, 300), rng.uniform(-41, -40.8, 300)))
            for k, (x, y) in enumerate(pts):
                session.execute(
                    text(
                        "INSERT INTO context_feature (comuna_code, layer_type, source_name, "
                        "source_id, geom, synthetic) VALUES (:c, :t, 'bench', :id, "
                        "ST_SetSRID(ST_MakePoint(:x, :y), 4326), true) ON CONFLICT DO NOTHING"
                    ),
                    {"c": REGION_COMUNA, "t": layer, "id": f"{layer}-{k}", "x": x, "y": y},
                )
        session.commit()
    print(f"denuncias: {report.inserted:,} nuevas", flush=True)


def vigia_side(engine: Any, request: service.Request) -> Any:
    with Session(engine) as session:
        snapshot = service.compute_snapshot(session, request, computed_by="bench")
        features = list(snapshot.meta["candidates"]), [f["feature"] for f in snapshot.factors]
        session.rollback()
    return features


def floor_side(
    dsn: str, request: service.Request, comuna: str, kept: list[str], candidates: list[str]
) -> dict[str, float]:
    """The floor; returns its parts' seconds (sql, glum, glm, gi)."""
    parts: dict[str, float] = {}
    started = time.perf_counter()
    period = period_for(request.period_end or default_period_end(), request.months)
    limits = boundaries(period)
    params = {
        "comuna": comuna,
        "cell_m": request.cell_m,
        "srid": sql_g.SRID,
        "categories": list(request.categories or []),
        "start": limits["start"],
        "end": limits["end"],
        "factor_layers": list(request.layers or []),
        "context_layers": list(request.layers or []),
        "not_real": list(sql_f.NOT_REAL),
        "bands": [float(b) for b in request.bands_m],
        "k": 1.0,
        "strata": request.strata,
    }
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for statement in sql_g._CREATE:
            cur.execute(_bare(statement), params)
        cur.execute("SELECT count(*) FROM rtm_cell")
        params["cells"] = cells = cur.fetchone()[0]
        cur.execute(_bare(sql_g._EXPOSURE.text), params)
        exposure = cur.fetchall()
        cur.execute(_bare(sql_g._COUNTS.text), params)
        counted = cur.fetchall()
        for statement in sql_f._POINTS:
            cur.execute(_bare(statement), params)
        cur.execute(_bare(sql_f._FEATURES.text), params)
        rows = cur.fetchall()
        near = [(layer, band, cell) for layer, band, cell, _ in rows]
        dense = [(layer, band, cell) for layer, band, cell, flag in rows if flag]
        cur.execute("SELECT i, j FROM rtm_cell ORDER BY cell")
        ij = np.array(cur.fetchall(), dtype=float)
        conn.rollback()
    y = np.zeros(cells)
    for cell, n in counted:
        y[cell] = n
    residents = np.zeros(cells)
    strata = np.full(cells, "", dtype=object)
    for row in exposure:
        residents[row[0]], strata[row[0]] = row[1] or 0.0, row[2]
    flags = {name: np.zeros(cells) for name in {*kept, *candidates}}
    for layer, band, cell in [*near, *dense]:
        for name in flags:
            if name.startswith(f"{layer}:") and name.endswith(f":{band:g}m"):
                flags[name][cell] = 1
    parts["sql"] = time.perf_counter() - started
    lived = residents > 0
    offset = np.log(residents[lived])
    dummies = pd.get_dummies(pd.Series(strata[lived]), dtype=float).to_numpy()[:, 1:]
    with threadpool_limits(limits=1):
        started = time.perf_counter()
        if candidates:
            x = np.column_stack([flags[c][lived] for c in candidates])
            GeneralizedLinearRegressorCV(
                family="poisson", l1_ratio=1.0, n_alphas=20, min_alpha_ratio=1e-3, cv=5
            ).fit(x, y[lived], offset=offset)
        parts["glum"] = time.perf_counter() - started
        started = time.perf_counter()
        design = np.column_stack([*(flags[c][lived] for c in kept), dummies, np.ones(lived.sum())])
        sm.GLM(y[lived], design, family=sm.families.Poisson(), offset=offset).fit()
        parts["glm"] = time.perf_counter() - started
    started = time.perf_counter()
    from app.scoring.grid_hotspots import Grid

    grid = Grid(
        "EPSG:32718", request.cell_m, 0.0, 0.0, ij[:, 0].astype(int), ij[:, 1].astype(int), None
    )  # type: ignore[arg-type]
    esda_gi_star(y, distance_band_weights(grid, 125.0), HotSpotParams())
    parts["gi"] = time.perf_counter() - started
    return parts


def run(url: str, rounds: int, region_strata: str) -> None:
    engine = create_engine(url)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with Session(engine) as session:
        comunas = list(session.scalars(text("SELECT code FROM comuna ORDER BY code")))
        dmcs = list(
            session.scalars(text("SELECT code FROM crime_category WHERE dmcs ORDER BY code"))
        )
        layers = service.resolve_layers(session, None)
        end = session.scalar(text("SELECT max(occurred_at)::date FROM complaint"))
    for comuna, cell_m, strata in (
        ("14103", 50.0, "micro_barrio"),
        (REGION_COMUNA, REGION_CELL_M, region_strata),
    ):
        if comuna not in comunas:
            continue
        request = service.Request(
            comuna=comuna,
            period_end=end,
            months=12,
            categories=dmcs,
            layers=layers.names,
            cell_m=cell_m,
            strata=strata,
        )
        candidates, kept = vigia_side(engine, request)  # warm-up
        floor_side(dsn, request, comuna, kept, candidates)
        mine, floor, no_glm = [], [], []
        print(
            f"comuna {comuna}, celdas de {cell_m:g} m, estratos {strata}; carga {os.getloadavg()}",
            flush=True,
        )
        for _ in range(rounds):
            started = time.perf_counter()
            vigia_side(engine, request)
            mine.append(time.perf_counter() - started)
            started = time.perf_counter()
            parts = floor_side(dsn, request, comuna, kept, candidates)
            floor.append(time.perf_counter() - started)
            no_glm.append(floor[-1] - parts["glm"])
            shown = ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
            print(
                f"  vigia {mine[-1]:.2f} s, piso {floor[-1]:.2f} s ({shown}); "
                f"carga {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        a, b, c = statistics.median(mine), statistics.median(floor), statistics.median(no_glm)
        print(
            f"  mediana vigia {a:.2f} s, piso {b:.2f} s, razón {a / b:.2f}x; "
            f"piso sin el GLM con variables indicadoras {c:.2f} s, razón {a / c:.2f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["load-region", "run"])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--region-strata",
        default=service.Request.strata,
        choices=["micro_barrio", "barrio", "ninguno"],
        help="efectos fijos de la comuna regional (por omisión, los del servicio)",
    )
    args = parser.parse_args()
    if args.command == "load-region":
        load_region(args.url)
    else:
        run(args.url, args.rounds, args.region_strata)


if __name__ == "__main__":
    main()
