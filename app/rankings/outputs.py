"""A stored ranking as JSON, GeoJSON choropleth (built in PostGIS) and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.geojson import feature, feature_collection, json_object
from app.models import Barrio, MicroBarrio, RankingSnapshot, RankingUnitResult
from app.rankings.store import DIAGNOSTICS, unit_results
from app.rankings.wording import class_phrase, rank_phrase, signal_phrase

R = RankingUnitResult


def _weights(snapshot: RankingSnapshot) -> dict[str, float]:
    stored = snapshot.meta["profile"]["weights"]  # canonical form: repr strings
    return {name: float(value) for name, value in stored.items()}


def snapshot_header(snapshot: RankingSnapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "level": snapshot.level,
        "comuna": snapshot.comuna_code,
        "profile": {
            "name": snapshot.profile_name,
            "version": snapshot.profile_version,
            "weights": _weights(snapshot),
        },
        "period": {"start": snapshot.period_start, "end": snapshot.period_end},
        "input_fingerprint": snapshot.input_fingerprint,
        "result_fingerprint": snapshot.result_fingerprint,
        "computed_at": snapshot.computed_at,
        "method": {
            "version": str(snapshot.meta.get("method_version", "1")),
            "signal": snapshot.meta.get("signal"),
            "weight_without_signal": snapshot.meta.get("weight_without_signal"),
            "signal_summary": signal_phrase(snapshot.meta),
        },
    }


_CLASS_KEYS = {"crítico": "p_critico", "alto": "p_alto", "medio": "p_medio", "bajo": "p_bajo"}


def uncertainty(row: RankingUnitResult, total: int) -> dict[str, Any] | None:
    """The method-2 intervals of one unit, or None for a method-1 ranking."""
    diagnostics = row.diagnostics
    if "rank_low" not in diagnostics:
        return None
    return {
        "summary": rank_phrase(row.rank, total, diagnostics["rank_low"], diagnostics["rank_high"]),
        "class_summary": class_phrase(
            row.class_, diagnostics["class_probability"], diagnostics["class_stable"]
        ),
        "rank_low": diagnostics["rank_low"],
        "rank_high": diagnostics["rank_high"],
        "class_probability": {label: diagnostics[key] for label, key in _CLASS_KEYS.items()},
        "class_stable": diagnostics["class_stable"],
        "sensitivity_rank_low": diagnostics["sensitivity_rank_low"],
        "sensitivity_rank_high": diagnostics["sensitivity_rank_high"],
        "dmcs_rate_low": diagnostics.get("dmcs_rate_low"),
        "dmcs_rate_high": diagnostics.get("dmcs_rate_high"),
    }


def snapshot_document(session: Session, snapshot: RankingSnapshot) -> dict[str, Any]:
    """The snapshot with every unit: raw, normalised, contributions, by rank."""
    rows = unit_results(session, snapshot.id)
    units = [
        {
            "code": row.unit_code,
            "name": row.unit_name,
            "rank": row.rank,
            "score": row.score,
            "class": row.class_,
            "raw": row.raw,
            "normalised": row.normalised,
            "contributions": row.contributions,
            "top_variables": row.top_variables,
            "population": row.population,
            "population_estimated": row.population_estimated,
            "uncertainty": uncertainty(row, len(rows)),
        }
        for row in rows
    ]
    return {**snapshot_header(snapshot), "units": units}


def snapshot_geojson(session: Session, snapshot: RankingSnapshot) -> str:
    """FeatureCollection of the unit polygons with rank, score, class and top variables."""
    unit: type[Barrio] | type[MicroBarrio] = (
        MicroBarrio if snapshot.level == "micro_barrio" else Barrio
    )
    source: Select[Any] = (
        select(
            feature(
                id_=R.unit_code,
                geom=func.ST_ForcePolygonCCW(unit.geom),
                properties={
                    "code": R.unit_code,
                    "name": R.unit_name,
                    "rank": R.rank,
                    "score": R.score,
                    "class": R.class_,
                    "top_variables": R.top_variables,
                    # method 2 (null for method 1): where the rank may lie, how sure the class is
                    "rank_low": R.diagnostics["rank_low"],
                    "rank_high": R.diagnostics["rank_high"],
                    "class_probability": R.diagnostics["class_probability"],
                    "class_stable": R.diagnostics["class_stable"],
                },
            ).label("feature"),
            R.rank.label("rank"),
        )
        .join(unit, (unit.comuna_code == snapshot.comuna_code) & (unit.code == R.unit_code))
        .where(R.snapshot_id == snapshot.id)
    )
    header = snapshot_header(snapshot)
    ranking = json_object(
        {
            "id": str(snapshot.id),
            "level": snapshot.level,
            "comuna": snapshot.comuna_code,
            "profile": json_object(
                {"name": snapshot.profile_name, "version": snapshot.profile_version}
            ),
            "period": json_object(
                {
                    "start": snapshot.period_start.isoformat(),
                    "end": snapshot.period_end.isoformat(),
                }
            ),
            "input_fingerprint": header["input_fingerprint"],
            "result_fingerprint": header["result_fingerprint"],
            "computed_at": snapshot.computed_at.isoformat(),
        }
    )
    stmt = feature_collection(source, order_by="rank", extra={"ranking": ranking})
    return str(session.execute(stmt).scalar_one())


def snapshot_csv(session: Session, snapshot: RankingSnapshot) -> str:
    """One row per unit, by rank: raw_, norm_ and contrib_ columns for every variable."""
    names = list(_weights(snapshot))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "code",
            "name",
            "rank",
            "score",
            "class",
            "population",
            "population_estimated",
            *(f"raw_{n}" for n in names),
            *(f"norm_{n}" for n in names),
            *(f"contrib_{n}" for n in names),
            "top_variables",
            *DIAGNOSTICS,
        ]
    )

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value

    for row in unit_results(session, snapshot.id):
        writer.writerow(
            [
                row.unit_code,
                row.unit_name,
                row.rank,
                row.score,
                row.class_,
                cell(row.population),
                cell(row.population_estimated),
                *(cell(row.raw.get(n)) for n in names),
                *(cell(row.normalised.get(n)) for n in names),
                *(cell(row.contributions.get(n)) for n in names),
                "|".join(row.top_variables),
                *(cell(row.diagnostics.get(k)) for k in DIAGNOSTICS),
            ]
        )
    return buffer.getvalue()
