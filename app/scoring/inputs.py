"""The input contract of a ranking: one row per unit (barrio or micro-barrio) and period.

The database layer aggregates complaints and open risk factors per unit and period and hands
over a pandas DataFrame indexed by unit code with the columns of `REQUIRED_COLUMNS`, plus any
external variables (columns named `ext_<name>`, e.g. from `load_external_csv`). Geometry is
only needed for the Gi* hot-spot variable: pass the unit polygons (shapely) or ready-made
libpysal weights. Everything is checked at once and reported in Spanish, unit by unit.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from libpysal.weights import Queen, W
from shapely.geometry.base import BaseGeometry

from app.categories import groups
from app.errors import FieldProblem
from app.scoring.errors import ScoringInputError, problem
from app.scoring.grid_hotspots import GridHotShare
from app.scoring.profiles import EXTERNAL_PREFIX

# CEAD 2024 subgroups, defined once for the ranking and the plan's indicators (re-exported).
DRUG_TRAFFICKING_CODES = groups.DRUG_TRAFFICKING_CODES
DRUG_CONSUMPTION_CODES = groups.DRUG_CONSUMPTION_CODES

COUNT_COLUMNS = (
    "dmcs_count",
    "dmcs_count_prev",
    "drug_trafficking_count",
    "drug_consumption_count",
    "violent_count",
    "total_count",
)
REQUIRED_COLUMNS = ("population", *COUNT_COLUMNS, "risk_factor_load")
# Method 2 (issue #16) also reads: the violent complaints in public space (violent and not
# sensitive), and the number of open risk factors at the end of the period and how many of them
# were past their deadline. Method-1 tables do not carry them.
METHOD2_COLUMNS = ("violent_public_count", "risk_factor_count", "risk_factor_overdue")
KNOWN_COLUMNS = (*REQUIRED_COLUMNS, *METHOD2_COLUMNS)


@dataclass(frozen=True)
class UnitInputs:
    """A validated input table (sorted by unit code) and, optionally, contiguity weights."""

    table: pd.DataFrame
    weights: W | None = None
    # the grid's hot-spot variable (app/scoring/grid_hotspots.py), when it replaces the polygon
    # Gi*: measured on the planted truth and not adopted (docs/metodologia.md, "Puntos
    # calientes en grilla"); only the recovery experiments pass it
    grid_hotspot: GridHotShare | None = None

    @classmethod
    def build(
        cls,
        table: pd.DataFrame,
        *,
        geometry: pd.Series | Mapping[str, BaseGeometry] | None = None,
        weights: W | None = None,
    ) -> UnitInputs:
        """Validate `table` and attach contiguity weights (from `geometry` or given)."""
        clean = _validated_table(table)
        codes = list(clean.index)
        if geometry is not None and weights is not None:
            raise ScoringInputError("entregue geometrías o pesos espaciales, no ambos")
        if geometry is not None:
            weights = contiguity_weights(_aligned_geometry(geometry, codes))
        elif weights is not None:
            _check_weights(weights, codes)
            # permutation p-values depend on the id order: rebuild in code order, binary
            weights = W(adjacency(weights), id_order=codes, silence_warnings=True)
        return cls(table=clean, weights=weights)

    @property
    def codes(self) -> list[str]:
        return [str(code) for code in self.table.index]

    @property
    def external_columns(self) -> list[str]:
        return [c for c in self.table.columns if c.startswith(EXTERNAL_PREFIX)]


def contiguity_weights(geometry: pd.Series) -> W:
    """Queen contiguity (shared edge or vertex) between unit polygons, ids = unit codes.

    Weights stay binary: Gi* is computed with `transform="B"` and the focal unit included.
    """
    with warnings.catch_warnings():
        # "not fully connected" is expected: Malalhue does not touch Lanco town
        warnings.simplefilter("ignore", UserWarning)
        return Queen.from_iterable(list(geometry), ids=[str(c) for c in geometry.index])


def adjacency(weights: W) -> dict[str, list[str]]:
    """Neighbour lists sorted by code: the part of the weights that Gi* depends on."""
    return {
        str(code): sorted(str(n) for n in weights.neighbors[code])
        for code in sorted(weights.neighbors, key=str)
    }


def _validated_table(table: pd.DataFrame) -> pd.DataFrame:
    problems: list[FieldProblem] = []
    problems += _index_problems(table.index)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    problems += [problem(c, "falta la columna obligatoria") for c in missing]
    unknown = [
        c
        for c in table.columns
        if c not in KNOWN_COLUMNS and not str(c).startswith(EXTERNAL_PREFIX)
    ]
    problems += [
        problem(
            str(c), f"columna desconocida (las variables externas empiezan con '{EXTERNAL_PREFIX}')"
        )
        for c in unknown
    ]
    if problems:
        raise ScoringInputError("la tabla de entrada no cumple el contrato", errors=problems)
    clean = table.copy()
    clean.index = clean.index.map(str)
    clean.index.name = "unit"
    for column in clean.columns:
        problems += _column_problems(clean, str(column))
    problems += _subset_problems(clean)
    if problems:
        raise ScoringInputError("la tabla de entrada no cumple el contrato", errors=problems)
    clean["population"] = clean["population"].fillna(0.0)
    known = [c for c in KNOWN_COLUMNS if c in clean.columns]
    ordered = [*known, *sorted(c for c in clean.columns if c not in KNOWN_COLUMNS)]
    return clean[ordered].astype(float).sort_index()


def _index_problems(index: pd.Index) -> list[FieldProblem]:
    if len(index) == 0:
        return [problem("unit", "la tabla no tiene unidades")]
    codes = [str(c) for c in index]
    if any(not c.strip() or c == "nan" for c in codes):
        return [problem("unit", "hay unidades sin código")]
    duplicated = sorted(c for c, n in Counter(codes).items() if n > 1)
    return [problem("unit", "código de unidad repetido", code=c) for c in duplicated]


def _column_problems(table: pd.DataFrame, column: str) -> list[FieldProblem]:
    raw = table[column]
    if pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.astype(float)  # already numbers (the database path): nothing to coerce
    else:
        values = pd.to_numeric(raw, errors="coerce")
        bad_type = raw.notna() & values.isna()
        if bad_type.any():
            return [
                problem(column, "el valor no es numérico", code=str(u))
                for u in table.index[bad_type]
            ]
        values = values.astype(float)
    table[column] = values
    array = values.to_numpy()

    def at(mask: np.ndarray, reason: str) -> list[FieldProblem]:
        # masks are checked in numpy; problem lists are only built when something is wrong
        if not mask.any():
            return []
        return [problem(column, reason, code=str(u)) for u in table.index[mask]]

    missing = np.isnan(array)
    out: list[FieldProblem] = []
    if column != "population":
        out += at(missing, "falta el valor (complételo o quite la variable)")
    out += at(np.isinf(array), "el valor no es finito")
    if column in KNOWN_COLUMNS:
        out += at(array < 0, "el valor no puede ser negativo")
    if column in COUNT_COLUMNS or column in METHOD2_COLUMNS:
        with np.errstate(invalid="ignore"):
            out += at(~missing & (array != np.floor(array)), "un conteo debe ser entero")
    return out


def _subset_problems(table: pd.DataFrame) -> list[FieldProblem]:
    out = []
    for part in ("violent_count", "violent_public_count"):
        if part in table.columns:
            too_many = table[part] > table["total_count"]
            out += [
                problem(part, "hay más delitos violentos que denuncias en total", code=str(u))
                for u in table.index[too_many]
            ]
    return out


def _aligned_geometry(
    geometry: pd.Series | Mapping[str, BaseGeometry], codes: list[str]
) -> pd.Series:
    series = pd.Series(dict(geometry)) if isinstance(geometry, Mapping) else geometry.copy()
    series.index = series.index.map(str)
    missing = [c for c in codes if c not in series.index]
    if missing:
        raise ScoringInputError(
            "faltan geometrías de unidades",
            errors=[problem("geometry", "la unidad no tiene geometría", code=c) for c in missing],
        )
    aligned = series.reindex(codes)
    empty = [c for c, g in aligned.items() if g is None or g.is_empty]
    if empty:
        raise ScoringInputError(
            "hay geometrías vacías",
            errors=[problem("geometry", "geometría vacía", code=str(c)) for c in empty],
        )
    return aligned


def _check_weights(weights: W, codes: list[str]) -> None:
    ids = sorted(str(i) for i in weights.id_order)
    if ids != sorted(codes):
        raise ScoringInputError(
            "los pesos espaciales no corresponden a las unidades de la tabla "
            f"({len(ids)} ids en los pesos, {len(codes)} unidades)"
        )


# --- risk factors -------------------------------------------------------------------------

RISK_FACTOR_COLUMNS = ("unit", "type_code", "severity", "days_open", "expected_days")
MAX_OVERDUE_RATIO = 2.0


def risk_factor_load(
    factors: pd.DataFrame,
    type_weights: Mapping[str, float],
    *,
    units: list[str] | None = None,
    overdue: bool = True,
) -> pd.Series:
    """Weighted load of the open risk factors of each unit (weights: the profile's).

    load(unit) = sum over its open factors of
        type_weight[type] * severity / 5 * (1 + min(overdue_ratio, 2)),
    overdue_ratio = max(0, days_open / expected_days - 1) (0 when there is no deadline), so a
    factor counts between 0.2 and 3 times its type weight. `units` lists every unit of the
    ranking: those without open factors get 0. Method 2 passes `overdue=False`: delay is the
    municipality's, not the place's risk, and is reported apart (`overdue_count`).
    """
    missing = [c for c in RISK_FACTOR_COLUMNS if c not in factors.columns]
    if missing:
        raise ScoringInputError(
            "la tabla de factores de riesgo no cumple el contrato",
            errors=[problem(c, "falta la columna obligatoria") for c in missing],
        )
    problems = _risk_factor_problems(factors, type_weights)
    if problems:
        raise ScoringInputError("factores de riesgo inválidos", errors=problems)
    frame = factors.assign(unit=factors["unit"].map(str))
    type_weight = frame["type_code"].map(lambda t: float(type_weights[str(t)]))
    load = type_weight * frame["severity"].astype(float) / 5.0
    if overdue:
        load = load * overdue_multiplier(frame)
    totals = load.groupby(frame["unit"]).sum()
    index = sorted(set(units) | set(totals.index)) if units is not None else sorted(totals.index)
    result = totals.reindex(index, fill_value=0.0).astype(float)
    result.index.name = "unit"
    return result.rename("risk_factor_load")


def overdue_count(factors: pd.DataFrame, units: list[str]) -> pd.Series:
    """Open factors past their type's deadline at the end of the period, per unit."""
    expected = factors["expected_days"].astype(float)
    late = expected.notna() & (expected > 0) & (factors["days_open"].astype(float) > expected)
    counts = late.groupby(factors["unit"].map(str)).sum()
    return counts.reindex(units, fill_value=0).astype(float)


def overdue_multiplier(factors: pd.DataFrame) -> pd.Series:
    """1 + min(max(0, days_open / expected_days - 1), 2); 1 when there is no deadline."""
    expected = factors["expected_days"].astype(float)
    has_deadline = expected.notna() & (expected > 0)
    ratio = (factors["days_open"].astype(float) / expected.where(has_deadline) - 1.0).clip(lower=0)
    return 1.0 + ratio.fillna(0.0).clip(upper=MAX_OVERDUE_RATIO)


def _risk_factor_problems(
    factors: pd.DataFrame, type_weights: Mapping[str, float]
) -> list[FieldProblem]:
    out: list[FieldProblem] = []
    for row, item in enumerate(factors.itertuples(index=False), start=1):
        record: dict[str, Any] = item._asdict()
        unit = str(record["unit"])
        if str(record["type_code"]) not in type_weights:
            out.append(
                _row(problem("type_code", "tipo de factor sin peso definido", code=unit), row)
            )
        severity = record["severity"]
        if not (isinstance(severity, int | float | np.number) and 1 <= severity <= 5):
            out.append(_row(problem("severity", "la severidad va de 1 a 5", code=unit), row))
        days = record["days_open"]
        if not (isinstance(days, int | float | np.number) and days >= 0):
            out.append(_row(problem("days_open", "días abierto debe ser >= 0", code=unit), row))
    out += [
        problem("type_weights", f"el peso del tipo '{t}' debe ser finito y >= 0")
        for t, w in type_weights.items()
        if not (np.isfinite(w) and w >= 0)
    ]
    return out


def _row(item: FieldProblem, row: int) -> FieldProblem:
    item["row"] = row
    return item


# --- external variables -------------------------------------------------------------------


def load_external_csv(source: str | Path | IO[str], *, unit_column: str = "unit") -> pd.DataFrame:
    """Read external variables (one row per unit, numeric columns) from a CSV.

    Columns come back prefixed `ext_` (e.g. `ivs` -> `ext_ivs`) so they join the input table
    without clashing with Vigía's own variables.
    """
    frame = pd.read_csv(source, dtype={unit_column: str})
    if unit_column not in frame.columns:
        raise ScoringInputError(
            "el CSV de variables externas no tiene columna de unidad",
            errors=[problem(unit_column, "falta la columna de unidad")],
        )
    frame = frame.set_index(unit_column)
    problems = _index_problems(frame.index)
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        problems += [
            problem(str(column), "valor faltante o no numérico", code=str(u))
            for u in frame.index[values.isna()]
        ]
    if problems:
        raise ScoringInputError("el CSV de variables externas es inválido", errors=problems)
    renamed = {
        c: c if str(c).startswith(EXTERNAL_PREFIX) else f"{EXTERNAL_PREFIX}{c}"
        for c in frame.columns
    }
    return frame.apply(pd.to_numeric).rename(columns=renamed)
