"""Snapshots: what is stored so a ranking can be cited, read back and recomputed."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

import orjson
import pandas as pd
from libpysal.weights import W
from sqlalchemy import Uuid, bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from app.errors import NotFound
from app.models import RankingSnapshot, RankingUnitResult
from app.rankings.inputs import AggregatedInputs
from app.scoring import Ranking, UnitInputs
from app.scoring.inputs import adjacency

DIAGNOSTICS = (
    "dmcs_crude_rate",
    "dmcs_shrinkage",
    "population_missing",
    "gi_z",
    "gi_p_sim",
    "gi_hot",
    "gi_island",
    # method 2 (issue #16): uncertainty, tests, management indicators
    "rank_low",
    "rank_high",
    "class_probability",
    "class_stable",
    "p_critico",
    "p_alto",
    "p_medio",
    "p_bajo",
    "sensitivity_rank_low",
    "sensitivity_rank_high",
    "dmcs_rate_low",
    "dmcs_rate_high",
    "trend_ratio",
    "trend_p",
    "trend_q",
    "trend_rising",
    "gi_q",
    "lisa_quadrant",
    "risk_factors_open",
    "risk_factors_overdue",
)


class RankingNotFound(NotFound):
    code = "ranking_no_encontrado"
    title = "Ranking no encontrado"


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def inputs_document(inputs: UnitInputs, aggregated: AggregatedInputs) -> dict[str, Any]:
    """The input table and neighbour lists as JSON: enough to recompute the same numbers."""
    table = inputs.table
    values = table.to_numpy()
    return {
        "columns": [str(c) for c in table.columns],
        "units": {
            str(code): [_number(v) for v in row]
            for code, row in zip(table.index, values, strict=True)
        },
        "adjacency": None if inputs.weights is None else adjacency(inputs.weights),
        "risk_factors": [
            {
                "unit": str(f.unit),
                "type_code": str(f.type_code),
                "severity": int(f.severity),
                "days_open": int(f.days_open),
                "expected_days": None if pd.isna(f.expected_days) else int(f.expected_days),
            }
            for f in aggregated.factors.itertuples(index=False)
        ],
        "ignored_risk_factor_types": aggregated.ignored_factor_types,
    }


def inputs_from_document(document: dict[str, Any]) -> UnitInputs:
    table = pd.DataFrame.from_dict(document["units"], orient="index", columns=document["columns"])
    table = table.astype(float)
    graph = document.get("adjacency")
    weights = None
    if graph is not None:
        weights = W(graph, id_order=sorted(graph), silence_warnings=True)
    return UnitInputs.build(table, weights=weights)


def _split(record: dict[str, Any], prefix: str, names: list[str]) -> dict[str, Any]:
    return {name: record.get(f"{prefix}{name}") for name in names}


def unit_rows(
    ranking: Ranking, snapshot_id: uuid.UUID, aggregated: AggregatedInputs
) -> list[dict[str, Any]]:
    """The rows of ranking_unit_result, by rank (unit columns looked up once, not per unit)."""
    names = list(ranking.profile.weights)
    records = ranking.to_records()
    units = aggregated.units.reindex([record["unit"] for record in records])
    ids = units["id"].tolist()
    unit_names = units["name"].tolist()
    populations = units["population"].tolist()
    estimated = units["population_estimated"].tolist()
    return [
        {
            "snapshot_id": snapshot_id,
            "unit_code": record["unit"],
            "unit_id": int(unit_id),
            "unit_name": str(name),
            "rank": int(record["rank"]),
            "score": float(record["score"]),
            "class_": str(record["class"]),
            "population": None if pd.isna(population) else int(population),
            "population_estimated": bool(is_estimated),
            "raw": _split(record, "raw_", names),
            "normalised": _split(record, "norm_", names),
            "contributions": _split(record, "contrib_", names),
            "top_variables": list(record["top_variables"]),
            "diagnostics": {k: record[k] for k in DIAGNOSTICS if k in record},
        }
        for record, unit_id, name, population, is_estimated in zip(
            records, ids, unit_names, populations, estimated, strict=True
        )
    ]


# One statement for all the units: the rows travel as ONE JSON document (orjson) that
# PostgreSQL unpacks, instead of an executemany that serialises five JSONB values per unit with
# the json module. jsonb stores numbers as numeric and float8 parses the shortest repr exactly,
# so the stored values are those of the row-by-row insert (tests/test_rankings.py reads them).
_INSERT_UNIT_ROWS = text(
    """
INSERT INTO ranking_unit_result (snapshot_id, unit_code, unit_id, unit_name, rank, score,
                                 "class", population, population_estimated, raw, normalised,
                                 contributions, top_variables, diagnostics)
SELECT :snapshot_id, r.unit_code, r.unit_id, r.unit_name, r.rank, r.score, r.class_,
       r.population, r.population_estimated, r.raw, r.normalised, r.contributions,
       r.top_variables, r.diagnostics
  FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
       unit_code text, unit_id integer, unit_name text, rank integer, score double precision,
       class_ text, population integer, population_estimated boolean, raw jsonb,
       normalised jsonb, contributions jsonb, top_variables jsonb, diagnostics jsonb)
"""
).bindparams(bindparam("snapshot_id", type_=Uuid), bindparam("rows", type_=String))


def store_snapshot(
    session: Session,
    *,
    comuna: str,
    ranking: Ranking,
    inputs: UnitInputs,
    aggregated: AggregatedInputs,
    computed_by: str,
) -> RankingSnapshot:
    snapshot = RankingSnapshot(
        id=uuid.uuid4(),
        comuna_code=comuna,
        level=ranking.level,
        profile_name=ranking.profile.name,
        profile_version=ranking.profile.version,
        period_start=ranking.period.start,
        period_end=ranking.period.end - timedelta(days=1),
        input_fingerprint=ranking.input_fingerprint,
        result_fingerprint=ranking.result_fingerprint,
        computed_at=ranking.computed_at,
        computed_by=computed_by,
        inputs=inputs_document(inputs, aggregated),
        meta=ranking.metadata(),
    )
    session.add(snapshot)
    session.flush()
    rows = unit_rows(ranking, snapshot.id, aggregated)
    session.execute(
        _INSERT_UNIT_ROWS, {"snapshot_id": snapshot.id, "rows": orjson.dumps(rows).decode()}
    )
    return snapshot


def get_snapshot(session: Session, snapshot_id: uuid.UUID) -> RankingSnapshot:
    snapshot = session.get(RankingSnapshot, snapshot_id)
    if snapshot is None:
        raise RankingNotFound(f"No existe el ranking {snapshot_id}.")
    return snapshot


def latest_snapshot(session: Session, *, level: str, comuna: str) -> RankingSnapshot:
    snapshot = session.scalars(
        select(RankingSnapshot)
        .where(RankingSnapshot.comuna_code == comuna, RankingSnapshot.level == level)
        .order_by(RankingSnapshot.computed_at.desc(), RankingSnapshot.id)
        .limit(1)
    ).first()
    if snapshot is None:
        raise RankingNotFound(
            f"Aún no se ha calculado un ranking de nivel {level} para la comuna {comuna}."
        )
    return snapshot


def unit_results(session: Session, snapshot_id: uuid.UUID) -> list[RankingUnitResult]:
    return list(
        session.scalars(
            select(RankingUnitResult)
            .where(RankingUnitResult.snapshot_id == snapshot_id)
            .order_by(RankingUnitResult.rank)
        )
    )
