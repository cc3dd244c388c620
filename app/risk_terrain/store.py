"""Risk-terrain snapshots: what is stored so a model can be cited, read back and recomputed.

`inputs` holds the grid (cell columns and rows), the counts, residents and strata per cell,
and each layer's points in metres: `recompute` fits the same model from them alone, and
`input_fingerprint` is a SHA-256 over them with the bands, seed and method version;
`result_fingerprint` hashes the factor table and the scores.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Uuid, bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from app.errors import NotFound
from app.models import RiskTerrainCell, RiskTerrainSnapshot
from app.risk_terrain.grid import SRID
from app.scoring.risk_terrain import RiskTerrain, fit_rtm, rtm_features
from app.scoring.snapshot import Period

if TYPE_CHECKING:
    from app.risk_terrain.grid import CellGrid
    from app.risk_terrain.service import Layers, Request

TOP_CELLS = 20


class RiskTerrainNotFound(NotFound):
    code = "terreno_de_riesgo_no_encontrado"
    title = "Modelo de terreno de riesgo no encontrado"


def _sha(document: Any) -> str:
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def factor_rows(model: RiskTerrain, sources: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "layer": str(layer),
            "source": sources.get(str(layer), "factor"),
            "feature": str(r.feature),
            "operationalisation": str(r.operacionalizacion),
            "band_m": float(r.banda_m),
            "beta": float(r.beta),
            "rr": float(r.rr),
            "ci_low": float(r.ic_inf),
            "ci_high": float(r.ic_sup),
            "p_value": float(r.p_valor),
        }
        for layer, r in model.table.iterrows()
    ]


def _meta(
    model: RiskTerrain, grid: CellGrid, counts: np.ndarray, hot: np.ndarray, strata_level: str
) -> dict[str, Any]:
    return {
        "family": model.family,
        "dispersion_z": model.dispersion_z,
        "dispersion_p": model.dispersion_p,
        "nb_alpha": model.nb_alpha,
        "penalty": model.penalty,
        "candidates": list(model.candidates),
        "selected": list(model.selected),
        "intercept": model.intercept,
        "cells": grid.size,
        "events": int(counts.sum()),
        "exposure": "residentes" if grid.residents is not None else None,
        "strata": strata_level,
        "hot_cells": int(hot.sum()),
    }


_INSERT_CELLS = text(
    f"""
INSERT INTO risk_terrain_cell (snapshot_id, cell, events, score, rank, hot_spot, geom)
SELECT :snapshot_id, r.cell, r.events, r.score, r.rank, r.hot_spot,
       ST_Transform(ST_SetSRID(ST_MakeEnvelope(r.i * :cell_m, r.j * :cell_m,
                                               (r.i + 1) * :cell_m, (r.j + 1) * :cell_m),
                               {SRID}), 4326)
  FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
       cell integer, i integer, j integer, events integer, score double precision,
       rank integer, hot_spot text)
"""
).bindparams(bindparam("snapshot_id", type_=Uuid), bindparam("rows", type_=String))


def store_snapshot(
    session: Session,
    *,
    comuna: str,
    period: Period,
    categories: list[str],
    request: Request,
    grid: CellGrid,
    counts: np.ndarray,
    points: dict[str, np.ndarray],
    layers: Layers,
    model: RiskTerrain,
    hot: np.ndarray,
    later: np.ndarray | None,
    validation: pd.DataFrame | None,
    method_version: int,
    computed_by: str,
    computed_at: datetime,
) -> RiskTerrainSnapshot:
    sources = dict.fromkeys(layers.context, "contexto")
    inputs = {
        "crs": f"EPSG:{SRID}",
        "cell_m": grid.cell_m,
        "bands_m": [float(b) for b in request.bands_m],
        "i": grid.i.tolist(),
        "j": grid.j.tolist(),
        "counts": counts.tolist(),
        "residents": None if grid.residents is None else grid.residents.tolist(),
        "strata": None if request.strata == "ninguno" else [str(s) for s in grid.strata],
        "layers": {
            name: {"source": sources.get(name, "factor"), "points": points[name].tolist()}
            for name in layers.names
        },
        "later_counts": None if later is None else later.tolist(),
    }
    factors = factor_rows(model, sources)
    scores = [round(float(s), 12) for s in model.score]
    meta = _meta(model, grid, counts, hot, request.strata) | {
        "validation": None if validation is None else validation.to_dict(orient="records")
    }
    snapshot = RiskTerrainSnapshot(
        id=uuid.uuid4(),
        comuna_code=comuna,
        period_start=period.start,
        period_end=period.end - timedelta(days=1),
        categories=categories,
        cell_m=grid.cell_m,
        seed=request.seed,
        method_version=method_version,
        input_fingerprint=_sha(
            {"inputs": inputs, "seed": request.seed, "method_version": method_version}
        ),
        result_fingerprint=_sha({"factors": factors, "scores": scores}),
        computed_at=computed_at,
        computed_by=computed_by,
        inputs=inputs,
        factors=factors,
        meta=meta,
    )
    session.add(snapshot)
    session.flush()
    order = np.argsort(-model.score, kind="stable")
    rank = np.empty(grid.size, dtype=np.int64)
    rank[order] = np.arange(1, grid.size + 1)
    rows = [
        {
            "cell": k,
            "i": int(grid.i[k]),
            "j": int(grid.j[k]),
            "events": int(counts[k]),
            "score": float(model.score[k]),
            "rank": int(rank[k]),
            "hot_spot": "caliente" if hot[k] else "no_significativo",
        }
        for k in range(grid.size)
    ]
    session.execute(
        _INSERT_CELLS,
        {"snapshot_id": snapshot.id, "rows": orjson.dumps(rows).decode(), "cell_m": grid.cell_m},
    )
    return snapshot


def get_snapshot(session: Session, snapshot_id: uuid.UUID) -> RiskTerrainSnapshot:
    snapshot = session.get(RiskTerrainSnapshot, snapshot_id)
    if snapshot is None:
        raise RiskTerrainNotFound(f"No existe el modelo de terreno de riesgo {snapshot_id}.")
    return snapshot


def recompute(snapshot: RiskTerrainSnapshot) -> RiskTerrain:
    """The model fitted again from the stored inputs alone (pure code, no database)."""
    inputs = snapshot.inputs
    cell_m = float(inputs["cell_m"])
    i, j = np.asarray(inputs["i"], dtype=float), np.asarray(inputs["j"], dtype=float)
    centres = np.column_stack(((i + 0.5) * cell_m, (j + 0.5) * cell_m))
    layers = {
        name: np.asarray(layer["points"], dtype=float).reshape(-1, 2)
        for name, layer in inputs["layers"].items()
    }
    features = rtm_features(centres, layers, inputs["bands_m"])
    residents = inputs["residents"]
    return fit_rtm(
        np.asarray(inputs["counts"]),
        features,
        snapshot.seed,
        exposure=None if residents is None else np.asarray(residents, dtype=float),
        strata=None if inputs["strata"] is None else np.asarray(inputs["strata"], dtype=object),
    )


def top_cells(
    session: Session, snapshot_id: uuid.UUID, limit: int = TOP_CELLS
) -> list[dict[str, Any]]:
    C = RiskTerrainCell
    rows = session.execute(
        select(
            C.cell,
            C.rank,
            C.score,
            C.events,
            C.hot_spot,
            C.geom.ST_Centroid().ST_X(),
            C.geom.ST_Centroid().ST_Y(),
        )
        .where(C.snapshot_id == snapshot_id)
        .order_by(C.rank)
        .limit(limit)
    ).all()
    return [
        {
            "cell": r[0],
            "rank": r[1],
            "score": r[2],
            "events": r[3],
            "hot_spot": r[4],
            "lon": round(float(r[5]), 6),
            "lat": round(float(r[6]), 6),
        }
        for r in rows
    ]


def snapshot_document(session: Session, snapshot: RiskTerrainSnapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "comuna": snapshot.comuna_code,
        "period_start": snapshot.period_start,
        "period_end": snapshot.period_end,
        "categories": snapshot.categories,
        "cell_m": snapshot.cell_m,
        "bands_m": snapshot.inputs["bands_m"],
        "seed": snapshot.seed,
        "method_version": snapshot.method_version,
        "input_fingerprint": snapshot.input_fingerprint,
        "result_fingerprint": snapshot.result_fingerprint,
        "computed_at": snapshot.computed_at,
        "computed_by": snapshot.computed_by,
        "model": {k: v for k, v in snapshot.meta.items() if k != "validation"},
        "factors": snapshot.factors,
        "top_cells": top_cells(session, snapshot.id),
        "validation": snapshot.meta.get("validation"),
    }


CSV_COLUMNS = (
    "layer",
    "source",
    "feature",
    "operationalisation",
    "band_m",
    "beta",
    "rr",
    "ci_low",
    "ci_high",
    "p_value",
)


def factors_csv(snapshot: RiskTerrainSnapshot) -> str:
    frame = pd.DataFrame(snapshot.factors, columns=list(CSV_COLUMNS))
    out = io.StringIO()
    frame.to_csv(out, index=False, lineterminator="\n")
    return out.getvalue()


def factor_type_weights(session: Session, snapshot_id: uuid.UUID) -> dict[str, float]:
    """Each retained risk-factor type's RRV in a stored model (context layers left out: the
    ranking weighs police-reported factors); a 422 naming the field when there is no such
    model or it retained no factor type."""
    from app.scoring.errors import ProfileError, problem

    snapshot = session.get(RiskTerrainSnapshot, snapshot_id)
    if snapshot is None:
        reason = f"no existe el modelo de terreno de riesgo {snapshot_id}"
        raise ProfileError(reason, errors=[problem("risk_factor_weights_from", reason)])
    weights = {
        f["layer"]: round(float(f["rr"]), 4) for f in snapshot.factors if f["source"] == "factor"
    }
    if not weights:
        reason = "el modelo no retuvo ningún tipo de factor de riesgo"
        raise ProfileError(reason, errors=[problem("risk_factor_weights_from", reason)])
    return weights
