"""The ranking's input table, from ONE set-based aggregation per level and period.

For every unit of the comuna: its complaint counts of the current and previous periods
(`COUNT(*) FILTER (...)` over one index range scan per unit), plus the rows of the risk
factors open at the end of the period and the external variables the profile weights.
Identifiers in the SQL come from a fixed allow-list (`_UNITS`); every value is a bind
parameter.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import pandas as pd
import shapely
from libpysal.weights import W
from sqlalchemy import TextClause, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from app.db import use_custom_plans
from app.models import ExternalVariable
from app.scoring import DRUG_CONSUMPTION_CODES, DRUG_TRAFFICKING_CODES, Period, ScoringProfile
from app.scoring.errors import ScoringInputError, problem
from app.scoring.inputs import (
    COUNT_COLUMNS,
    adjacency,
    contiguity_weights,
    overdue_count,
    risk_factor_load,
)
from app.scoring.profiles import EXTERNAL_PREFIX
from app.timezone import CHILE_TZ

# level -> (unit table, complaint / report column): the only identifiers that reach SQL
_UNITS = {
    "barrio": ("barrio", "barrio_id"),
    "micro_barrio": ("micro_barrio", "micro_barrio_id"),
}

_AGGREGATE = """
SELECT u.code, u.id, u.name, u.population, u.population_estimated,
       count(*) FILTER (WHERE c.occurred_at >= :start AND k.dmcs) AS dmcs_count,
       count(*) FILTER (WHERE c.occurred_at < :start AND k.dmcs) AS dmcs_count_prev,
       count(*) FILTER (WHERE c.occurred_at >= :start
                          AND c.category_code = ANY(:trafficking)) AS drug_trafficking_count,
       count(*) FILTER (WHERE c.occurred_at >= :start
                          AND c.category_code = ANY(:consumption)) AS drug_consumption_count,
       count(*) FILTER (WHERE c.occurred_at >= :start AND k.violent) AS violent_count,
       count(*) FILTER (WHERE c.occurred_at >= :start AND k.violent AND NOT k.sensitive)
         AS violent_public_count,
       count(*) FILTER (WHERE c.occurred_at >= :start) AS total_count
  FROM {units} u
  LEFT JOIN complaint c
         ON c.{column} = u.id AND c.occurred_at >= :previous_start AND c.occurred_at < :end
  LEFT JOIN crime_category k ON k.code = c.category_code
 WHERE u.comuna_code = :comuna
 GROUP BY u.id
 ORDER BY u.code
"""

# Open at the end of the period: received before it, not discarded, not resolved before it.
_OPEN_FACTORS = """
SELECT u.code AS unit, t.code AS type_code, r.severity,
       floor(extract(epoch FROM (:end - r.received_at)) / 86400)::int AS days_open,
       t.expected_days
  FROM risk_factor_report r
  JOIN risk_factor_type t ON t.id = r.type_id
  JOIN {units} u ON u.id = r.{column}
 WHERE r.comuna_code = :comuna
   AND r.received_at < :end
   AND r.status NOT IN ('descartado', 'duplicado')
   AND NOT (r.status = 'resuelto' AND r.resolved_at IS NOT NULL AND r.resolved_at < :end)
 ORDER BY u.code, r.received_at, r.id
"""

# Method 2: the status each report had at the end of the period, read from its timeline (the
# last transition before the end), so a factor discarded or resolved later still counts and
# one resolved before the end does not, whatever its status today.
_OPEN_FACTORS_AT_END = """
SELECT u.code AS unit, t.code AS type_code, r.severity,
       floor(extract(epoch FROM (:end - r.received_at)) / 86400)::int AS days_open,
       t.expected_days
  FROM risk_factor_report r
  JOIN risk_factor_type t ON t.id = r.type_id
  JOIN {units} u ON u.id = r.{column}
  CROSS JOIN LATERAL (
        SELECT x.to_status FROM report_transition x
         WHERE x.report_id = r.id AND x.at < :end
         ORDER BY x.at DESC, x.id DESC LIMIT 1) AS s
 WHERE r.comuna_code = :comuna
   AND r.received_at < :end
   AND s.to_status NOT IN ('resuelto', 'descartado', 'duplicado')
 ORDER BY u.code, r.received_at, r.id
"""

_GEOMETRY = """
SELECT u.code, ST_AsBinary(u.geom) AS wkb FROM {units} u WHERE u.comuna_code = :comuna
"""


def _statement(template: str, level: str) -> TextClause:
    units, column = _UNITS[level]
    return text(template.format(units=units, column=column))


def aggregation_statement(level: str) -> TextClause:
    """The aggregate SQL of a level (also run bare by bench/rankings.py)."""
    return _statement(_AGGREGATE, level).bindparams(
        bindparam("trafficking", type_=ARRAY(String)),
        bindparam("consumption", type_=ARRAY(String)),
    )


def boundaries(period: Period) -> dict[str, datetime]:
    """Half-open period limits as instants: calendar days in Chile (America/Santiago)."""

    def instant(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=CHILE_TZ)

    return {
        "previous_start": instant(period.previous().start),
        "start": instant(period.start),
        "end": instant(period.end),
    }


def aggregation_params(comuna: str, period: Period) -> dict[str, Any]:
    return {
        "comuna": comuna,
        "trafficking": list(DRUG_TRAFFICKING_CODES),
        "consumption": list(DRUG_CONSUMPTION_CODES),
        **boundaries(period),
    }


@dataclass(frozen=True)
class AggregatedInputs:
    """The contract table for `UnitInputs.build`, and what the outputs need about units."""

    table: pd.DataFrame  # indexed by unit code, REQUIRED_COLUMNS + ext_<name>
    units: pd.DataFrame  # id, name, population, population_estimated by code
    factors: pd.DataFrame  # open risk factors used in risk_factor_load
    ignored_factor_types: list[str]  # types the profile gives no weight to


def aggregate(
    session: Session, *, level: str, comuna: str, period: Period, profile: ScoringProfile
) -> AggregatedInputs:
    params = aggregation_params(comuna, period)
    use_custom_plans(session.connection())  # planned for this comuna and period
    rows = session.execute(aggregation_statement(level), params).mappings().all()
    if not rows:
        raise ScoringInputError(
            f"la comuna {comuna} no tiene unidades de nivel {level} cargadas",
            errors=[problem("level", "no hay unidades de este nivel en la comuna")],
        )
    frame = pd.DataFrame([dict(r) for r in rows]).set_index("code")
    frame.index = frame.index.map(str)
    units = frame[["id", "name", "population", "population_estimated"]]
    table = frame[["population", *COUNT_COLUMNS]].astype(float)
    table["population"] = frame["population"].astype("Float64").astype(float)

    method2 = profile.method == 2
    factors = pd.DataFrame(
        session.execute(
            _statement(_OPEN_FACTORS_AT_END if method2 else _OPEN_FACTORS, level),
            {"comuna": comuna, "end": params["end"]},
        )
        .mappings()
        .all(),
        columns=["unit", "type_code", "severity", "days_open", "expected_days"],
    )
    weighted = factors["type_code"].isin(list(profile.risk_factor_weights))
    ignored = sorted(set(factors.loc[~weighted, "type_code"]))
    factors = factors[weighted].reset_index(drop=True)
    codes = list(table.index)
    table["risk_factor_load"] = risk_factor_load(
        factors, profile.risk_factor_weights, units=codes, overdue=not method2
    ).reindex(table.index)
    if method2:  # method-1 tables keep their columns, so their fingerprints do not move
        table["violent_public_count"] = frame["violent_public_count"].astype(float)
        counts = factors.groupby(factors["unit"].map(str)).size()
        table["risk_factor_count"] = counts.reindex(codes, fill_value=0).astype(float)
        table["risk_factor_overdue"] = overdue_count(factors, codes)
    for name, values in external_columns(session, level, comuna, profile, table.index).items():
        table[name] = values
    table.index.name = "unit"
    return AggregatedInputs(table=table, units=units, factors=factors, ignored_factor_types=ignored)


def external_columns(
    session: Session, level: str, comuna: str, profile: ScoringProfile, codes: pd.Index
) -> dict[str, pd.Series]:
    """The ext_<name> columns the profile weights, complete for every unit or an error."""
    wanted = sorted(
        name.removeprefix(EXTERNAL_PREFIX)
        for name in profile.weights
        if name.startswith(EXTERNAL_PREFIX)
    )
    if not wanted:
        return {}
    rows = session.execute(
        select(ExternalVariable.name, ExternalVariable.unit_code, ExternalVariable.value).where(
            ExternalVariable.comuna_code == comuna,
            ExternalVariable.level == level,
            ExternalVariable.name.in_(wanted),
        )
    ).all()
    columns: dict[str, pd.Series] = {}
    problems = []
    for name in wanted:
        values = pd.Series(
            {code: value for n, code, value in rows if n == name}, dtype=float
        ).reindex(codes)
        problems += [
            problem(
                f"{EXTERNAL_PREFIX}{name}",
                "falta el valor de la variable externa para esta unidad "
                "(cárguela con `vigia rankings load-external`)",
                code=str(code),
            )
            for code in codes[values.isna().to_numpy()]
        ]
        columns[f"{EXTERNAL_PREFIX}{name}"] = values
    if problems:
        raise ScoringInputError(
            "el perfil pondera variables externas que no están cargadas para todas las unidades",
            errors=problems,
        )
    return columns


def unit_geometry(session: Session, *, level: str, comuna: str) -> pd.Series:
    """Unit polygons (shapely) by code, for the contiguity weights of Gi*."""
    rows = session.execute(_statement(_GEOMETRY, level), {"comuna": comuna}).all()
    return pd.Series(
        {str(code): shapely.from_wkb(bytes(wkb)) for code, wkb in rows}, dtype=object
    ).sort_index()


# Queen contiguity from polygons costs more than the rest of the weights' uses together, and a
# comuna's units rarely change: the neighbour lists are kept per (level, digest of every unit's
# code and geometry), so an edited or reloaded boundary gets new weights. Bounded: a national
# deployment ranks ~350 comunas at two levels.
_WEIGHTS_CACHE: OrderedDict[tuple[str, str], dict[str, list[str]]] = OrderedDict()
_WEIGHTS_CACHE_SIZE = 1024
_WEIGHTS_LOCK = threading.Lock()


def unit_weights(session: Session, *, level: str, comuna: str) -> W:
    """Queen contiguity of the comuna's units (`contiguity_weights` of `unit_geometry`)."""
    rows = sorted(
        (str(code), bytes(wkb))
        for code, wkb in session.execute(_statement(_GEOMETRY, level), {"comuna": comuna})
    )
    digest = hashlib.sha256()
    for code, wkb in rows:
        digest.update(f"{code}\0{len(wkb)}\0".encode())
        digest.update(wkb)
    key = (level, digest.hexdigest())
    with _WEIGHTS_LOCK:
        graph = _WEIGHTS_CACHE.get(key)
        if graph is not None:
            _WEIGHTS_CACHE.move_to_end(key)
    if graph is None:
        geometry = pd.Series({code: shapely.from_wkb(wkb) for code, wkb in rows}, dtype=object)
        graph = adjacency(contiguity_weights(geometry))
        with _WEIGHTS_LOCK:
            _WEIGHTS_CACHE[key] = graph
            while len(_WEIGHTS_CACHE) > _WEIGHTS_CACHE_SIZE:
                _WEIGHTS_CACHE.popitem(last=False)
    # a new W every time: esda sets the transform of the W it gets
    return W(
        {code: list(n) for code, n in graph.items()}, id_order=list(graph), silence_warnings=True
    )
