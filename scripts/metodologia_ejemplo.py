"""Worked examples of docs/metodologia.md: the ranking of Lanco's 19 micro-barrios, by method 1
(profile vigia-micro-barrio v1) and by method 2 (v2) on the same inputs.

The counts and risk factors below are SYNTHETIC (plausible for Lanco's volumes, not real
complaints); populations and geometries are those of data/barrios.geojson. The tables in the
document are this script's output, so anyone can regenerate and compare them:

    .venv/bin/python scripts/metodologia_ejemplo.py            # print the Markdown block
    .venv/bin/python scripts/metodologia_ejemplo.py --write    # update docs/metodologia.md
    .venv/bin/python scripts/metodologia_ejemplo.py --check    # exit 1 if the doc is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from shapely.geometry import shape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.rankings.wording import class_phrase, rank_phrase, signal_phrase  # noqa: E402
from app.scoring import (  # noqa: E402
    MICRO_BARRIO_PROFILE,
    MICRO_BARRIO_PROFILE_V1,
    VARIABLES,
    Period,
    Ranking,
    Smoothing,
    UnitInputs,
    compute_ranking,
    empirical_bayes,
    risk_factor_load,
)
from app.scoring.inputs import overdue_count  # noqa: E402
from app.scoring.smoothing import PER_THOUSAND, poisson_eb, spatial_poisson_eb  # noqa: E402
from app.scoring.variables_v2 import star_matrix  # noqa: E402

DOC = REPO / "docs" / "metodologia.md"
BEGIN, END = "<!-- ejemplo:inicio -->", "<!-- ejemplo:fin -->"
BEGIN_V2, END_V2 = "<!-- ejemplo-m2:inicio -->", "<!-- ejemplo-m2:fin -->"
PERIOD = Period(date(2025, 1, 1), date(2026, 1, 1))
COMPUTED_AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

# code: dmcs, dmcs_prev, trafficking, consumption, violent, total (synthetic, 12 months)
COUNTS = {
    "B01001-01": (7, 4, 1, 1, 6, 20),
    "B01001-02": (4, 2, 1, 4, 5, 16),
    "B01001-03": (12, 8, 0, 3, 8, 29),
    "B01001-04": (10, 6, 0, 2, 7, 27),
    "B01001-05": (5, 3, 2, 2, 5, 13),
    "B01002-01": (16, 13, 2, 2, 3, 27),
    "B01002-02": (9, 7, 0, 0, 2, 19),
    "B01002-03": (4, 9, 1, 1, 1, 13),
    "B01002-04": (5, 10, 0, 1, 4, 14),
    "B01003-01": (7, 5, 2, 0, 7, 19),
    "B01003-02": (6, 12, 1, 1, 6, 26),
    "B01003-03": (10, 10, 0, 1, 7, 26),
    "B01003-04": (12, 13, 2, 3, 5, 29),
    "B01003-05": (9, 8, 1, 1, 5, 19),
    "B03001-01": (9, 3, 0, 0, 4, 19),
    "B03001-02": (3, 0, 0, 0, 2, 11),
    "B03001-03": (14, 12, 3, 1, 6, 28),
    "B03001-04": (7, 3, 1, 0, 2, 14),
    "B03001-05": (8, 10, 0, 1, 6, 17),
}
# method 2: how many of the violent complaints are sensitive (VIF, sexual offences; synthetic)
SENSITIVE_VIOLENT = {
    "B01001-01": 2,
    "B01001-02": 1,
    "B01001-03": 2,
    "B01001-04": 3,
    "B01001-05": 1,
    "B01002-01": 1,
    "B01002-02": 0,
    "B01002-03": 0,
    "B01002-04": 2,
    "B01003-01": 3,
    "B01003-02": 2,
    "B01003-03": 2,
    "B01003-04": 1,
    "B01003-05": 2,
    "B03001-01": 1,
    "B03001-02": 1,
    "B03001-03": 2,
    "B03001-04": 0,
    "B03001-05": 3,
}
# open risk factors: unit, type, severity (1-5), days open, expected days to solve (synthetic)
FACTORS = [
    ("B01001-01", "microbasural", 2, 5, 10),
    ("B01001-03", "luminaria_apagada", 4, 60, 15),
    ("B01001-03", "punto_consumo_via_publica", 5, 120, 30),
    ("B01001-03", "microbasural", 3, 20, 10),
    ("B01001-04", "sitio_eriazo", 4, 200, 90),
    ("B01001-04", "luminaria_apagada", 3, 10, 15),
    ("B01002-01", "punto_ciego", 4, 90, 60),
    ("B01002-01", "punto_consumo_via_publica", 4, 45, 30),
    ("B01002-01", "follaje_obstruye", 3, 40, 20),
    ("B01002-02", "tramo_sin_iluminacion", 4, 150, 60),
    ("B01002-04", "luminaria_apagada", 3, 5, 15),
    ("B01003-02", "espacio_publico_deteriorado", 3, 100, 90),
    ("B01003-04", "inmueble_abandonado", 5, 300, 120),
    ("B01003-04", "luminaria_apagada", 2, 30, 15),
    ("B01003-05", "sitio_eriazo", 2, 60, 90),
    ("B03001-01", "follaje_obstruye", 2, 25, 20),
    ("B03001-03", "sin_alarma_comunitaria", 3, 400, 180),
    ("B03001-03", "tramo_sin_iluminacion", 5, 200, 60),
    ("B03001-03", "punto_consumo_via_publica", 3, 10, 30),
    ("B03001-05", "microbasural", 3, 50, 10),
]
COLUMNS = [
    "dmcs_count",
    "dmcs_count_prev",
    "drug_trafficking_count",
    "drug_consumption_count",
    "violent_count",
    "total_count",
]


def lanco_micro_barrios() -> tuple[pd.Series, pd.Series]:
    features = json.loads((REPO / "data" / "barrios.geojson").read_text())["features"]
    chosen = [f for f in features if f["properties"]["level"] == "micro_barrio"]
    codes = [f["properties"]["code"] for f in chosen]
    population = pd.Series([f["properties"]["population"] for f in chosen], index=codes)
    geometry = pd.Series([shape(f["geometry"]) for f in chosen], index=codes, dtype=object)
    return population, geometry


def example_inputs() -> tuple[UnitInputs, pd.DataFrame]:
    population, geometry = lanco_micro_barrios()
    table = pd.DataFrame.from_dict(COUNTS, orient="index", columns=COLUMNS)
    table.insert(0, "population", population.reindex(table.index))
    factors = pd.DataFrame(
        FACTORS, columns=["unit", "type_code", "severity", "days_open", "expected_days"]
    )
    table["risk_factor_load"] = risk_factor_load(
        factors, MICRO_BARRIO_PROFILE_V1.risk_factor_weights, units=list(table.index)
    )
    return UnitInputs.build(table, geometry=geometry), factors


def run() -> tuple[Ranking, UnitInputs, pd.DataFrame]:
    inputs, factors = example_inputs()
    ranking = compute_ranking(
        inputs, MICRO_BARRIO_PROFILE_V1, PERIOD, "micro_barrio", computed_at=COMPUTED_AT
    )
    return ranking, inputs, factors


def _num(value: float, decimals: int = 2) -> str:
    text = f"{value:.{decimals}f}"
    return "0" if text.strip("-0.") == "" else text.replace(".", ",")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render() -> str:
    ranking, inputs, factors = run()
    table, data = ranking.table, inputs.table
    dmcs = empirical_bayes(data["dmcs_count"], data["population"])
    variables = list(MICRO_BARRIO_PROFILE_V1.weights)
    parts = [
        "#### Entradas (sintéticas) por micro-barrio, período "
        f"{PERIOD.start.isoformat()} a {PERIOD.end.isoformat()} (excluido)",
        "",
        _table(
            [
                "código",
                "población",
                "DMCS",
                "DMCS ant.",
                "tráfico",
                "consumo",
                "violentos",
                "total",
                "carga FR",
            ],
            [
                [str(code)] + [_num(v, 0) for v in row[:-1]] + [_num(row.iloc[-1])]
                for code, row in data[["population", *COLUMNS, "risk_factor_load"]].iterrows()
            ],
        ),
        "",
        "#### Factores de riesgo abiertos (sintéticos)",
        "",
        _table(
            ["unidad", "tipo", "peso tipo", "severidad", "días abierto", "plazo (días)"],
            [
                [
                    u,
                    t,
                    _num(MICRO_BARRIO_PROFILE_V1.risk_factor_weights[t], 1),
                    str(s),
                    str(d),
                    str(e),
                ]
                for u, t, s, d, e in factors.itertuples(index=False)
            ],
        ),
        "",
        "#### Suavizamiento de la tasa DMCS",
        "",
        f"m = {_num(dmcs.prior_mean, 4)} por 1.000 hab.; A = {dmcs.between_variance:.3e} "
        "(varianza entre unidades, por habitante al cuadrado).",
        "",
        _table(
            ["código", "tasa bruta", "C (peso propio)", "tasa suavizada"],
            [
                [str(c), _num(dmcs.crude[c]), _num(dmcs.shrinkage[c], 3), _num(dmcs.smoothed[c])]
                for c in data.index
            ],
        ),
        "",
        "#### Variables (valor bruto)",
        "",
        _table(
            ["código", *variables, "Gi* z", "p_sim"],
            [
                [str(code)]
                + [_num(row[f"raw_{v}"], 3) for v in variables]
                + [_num(row["gi_z"]), _num(row["gi_p_sim"], 3)]
                for code, row in table.sort_index().iterrows()
            ],
        ),
        "",
        "#### Contribuciones, puntaje, clase y lugar",
        "",
        _table(
            ["lugar", "código", *[VARIABLES[v].label for v in variables], "puntaje", "clase"],
            [
                [str(row["rank"]), str(code)]
                + [_num(row[f"contrib_{v}"], 1) for v in variables]
                + [_num(row["score"], 1), str(row["class"])]
                for code, row in table.iterrows()
            ],
        ),
        "",
        f"Perfil `{ranking.profile.name}` v{ranking.profile.version} "
        f"(huella `{ranking.profile.fingerprint()[:16]}…`); "
        f"huella de entrada `{ranking.input_fingerprint}`; "
        f"huella de resultado `{ranking.result_fingerprint}`.",
    ]
    return "\n".join(parts)


def example_inputs_v2() -> UnitInputs:
    """The same counts and factors with method 2's columns: violent complaints in public
    space (the sensitive ones out), open and overdue factors, the load without delay."""
    population, geometry = lanco_micro_barrios()
    table = pd.DataFrame.from_dict(COUNTS, orient="index", columns=COLUMNS)
    table.insert(0, "population", population.reindex(table.index))
    units = list(table.index)
    factors = pd.DataFrame(
        FACTORS, columns=["unit", "type_code", "severity", "days_open", "expected_days"]
    )
    weights = MICRO_BARRIO_PROFILE.risk_factor_weights
    table["risk_factor_load"] = risk_factor_load(factors, weights, units=units, overdue=False)
    table["violent_public_count"] = table["violent_count"] - pd.Series(SENSITIVE_VIOLENT)
    table["risk_factor_count"] = factors.groupby("unit").size().reindex(units, fill_value=0)
    table["risk_factor_overdue"] = overdue_count(factors, units)
    return UnitInputs.build(table, geometry=geometry)


def run_v2() -> tuple[Ranking, UnitInputs]:
    inputs = example_inputs_v2()
    ranking = compute_ranking(
        inputs, MICRO_BARRIO_PROFILE, PERIOD, "micro_barrio", computed_at=COMPUTED_AT
    )
    return ranking, inputs


QUADRANTS = {0: "—", 1: "alto-alto", 2: "bajo-alto", 3: "bajo-bajo", 4: "alto-bajo"}


def _yes(value: object) -> str:
    return "sí" if bool(value) else "no"


def render_v2() -> str:
    ranking, inputs = run_v2()
    table, data = ranking.table, inputs.table
    meta = ranking.method_meta
    profile = MICRO_BARRIO_PROFILE
    variables = list(profile.weights)
    total_weight = profile.weight_total
    assert inputs.weights is not None
    star = star_matrix(inputs.weights, list(data.index))
    events, residents = data["dmcs_count"].to_numpy(float), data["population"].to_numpy(float)
    if profile.smoothing is Smoothing.SPATIAL:
        smoothed, prior_mean, _ = spatial_poisson_eb(events, residents, star)
        prior_label = "espacial"
    else:
        smoothed, global_mean, _ = poisson_eb(events, residents)
        prior_mean = np.full(len(events), float(np.asarray(global_mean).ravel()[0]))
        prior_label = "global"
    total = len(table)
    parts = [
        "#### Entradas que agrega el método 2",
        "",
        "Violentos en el espacio público = violentos − sensibles (VIF, delitos sexuales); "
        "factores abiertos y vencidos al cierre del período; carga sin multiplicador de atraso, "
        "por 1.000 residentes.",
        "",
        _table(
            [
                "código",
                "violentos",
                "sensibles",
                "violentos públicos",
                "FR abiertos",
                "FR vencidos",
                "carga FR (sin atraso)",
            ],
            [
                [
                    str(code),
                    _num(row["violent_count"], 0),
                    _num(SENSITIVE_VIOLENT[str(code)], 0),
                    _num(row["violent_public_count"], 0),
                    _num(row["risk_factor_count"], 0),
                    _num(row["risk_factor_overdue"], 0),
                    _num(row["risk_factor_load"]),
                ]
                for code, row in data.iterrows()
            ],
        ),
        "",
        "#### ¿Qué variables distinguen lugares? (prueba de señal)",
        "",
        _table(
            [
                "variable",
                "peso (de 100)",
                "prueba",
                "estadístico",
                "p (o q mínimo)",
                "p Holm",
                "señal",
            ],
            [
                [
                    VARIABLES[name].label,
                    _num(100 * profile.weights[name] / total_weight, 1),
                    str(test["test"]),
                    "—" if test["statistic"] is None else _num(float(test["statistic"]), 2),
                    "—" if test["p_value"] is None else _num(float(test["p_value"]), 4),
                    "—" if test.get("p_adjusted") is None else _num(float(test["p_adjusted"]), 4),
                    _yes(test["signal"]),
                ]
                for name in variables
                if (test := meta["signal"].get(name)) is not None
            ],
        ),
        "",
        f"Puntos sin señal: {_num(meta['weight_without_signal'], 1)} de 100. En palabras "
        f"(`signal_phrase`): «{signal_phrase(meta)}»",
        "",
        f"#### Tasa DMCS: Bayes empírico (a priori {prior_label}) e intervalo posterior (90 %)",
        "",
        _table(
            ["código", "tasa bruta", "media a priori", "tasa suavizada", "intervalo 90 %"],
            [
                [
                    str(code),
                    _num(table.at[code, "dmcs_crude_rate"]),
                    _num(prior_mean[i] * PER_THOUSAND),
                    _num(smoothed[i] * PER_THOUSAND),
                    f"{_num(table.at[code, 'dmcs_rate_low'])} a "
                    f"{_num(table.at[code, 'dmcs_rate_high'])}",
                ]
                for i, code in enumerate(data.index)
            ],
        ),
        "",
        "#### Tendencia (razón de tasas contra la comuna) y puntos calientes",
        "",
        _table(
            [
                "código",
                "DMCS",
                "DMCS ant.",
                "razón vs comuna",
                "p",
                "q (BH)",
                "alza",
                "Gi* z",
                "q Gi* (BH)",
                "sobre la media",
                "Moran local",
                "punto caliente",
            ],
            [
                [
                    str(code),
                    _num(data.at[code, "dmcs_count"], 0),
                    _num(data.at[code, "dmcs_count_prev"], 0),
                    _num(row["trend_ratio"]),
                    _num(row["trend_p"], 3),
                    _num(row["trend_q"], 3),
                    _yes(row["trend_rising"]),
                    _num(row["gi_z"]),
                    _num(row["gi_q"], 3),
                    _yes(row["raw_dmcs_rate"] > table["raw_dmcs_rate"].mean()),
                    QUADRANTS[int(row["lisa_quadrant"])],
                    _yes(row["gi_hot"]),
                ]
                for code, row in table.sort_index().iterrows()
            ],
        ),
        "",
        "#### Contribuciones, puntaje, lugar con su intervalo y clase con su estabilidad",
        "",
        _table(
            [
                "lugar",
                "código",
                *[VARIABLES[v].label for v in variables],
                "puntaje",
                "en palabras",
                "clase",
                "pesos ±50 %",
            ],
            [
                [str(row["rank"]), str(code)]
                + [_num(row[f"contrib_{v}"], 1) for v in variables]
                + [
                    _num(row["score"], 1),
                    rank_phrase(
                        int(row["rank"]), total, int(row["rank_low"]), int(row["rank_high"])
                    ),
                    class_phrase(
                        str(row["class"]),
                        float(row["class_probability"]),
                        bool(row["class_stable"]),
                    ),
                    f"{int(row['sensitivity_rank_low'])} a {int(row['sensitivity_rank_high'])}",
                ]
                for code, row in table.iterrows()
            ],
        ),
        "",
        f"Perfil `{ranking.profile.name}` v{ranking.profile.version} "
        f"(huella `{ranking.profile.fingerprint()[:16]}…`); "
        f"huella de entrada `{ranking.input_fingerprint}`; "
        f"huella de resultado `{ranking.result_fingerprint}`.",
    ]
    return "\n".join(parts)


def _replace(text: str, begin: str, end: str, block: str) -> str:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{block}\n{end}{tail}"


def _doc_with(block: str, block_v2: str | None = None) -> str:
    text = _replace(DOC.read_text(), BEGIN, END, block)
    if block_v2 is not None:
        text = _replace(text, BEGIN_V2, END_V2, block_v2)
    return text


def expected_doc() -> str:
    """docs/metodologia.md with both worked examples as the code computes them today."""
    return _doc_with(render(), render_v2())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="update docs/metodologia.md")
    group.add_argument("--check", action="store_true", help="fail if the doc is stale")
    args = parser.parse_args()
    if args.write:
        DOC.write_text(expected_doc())
    elif args.check:
        if DOC.read_text() != expected_doc():
            print("docs/metodologia.md no corresponde al ejemplo; corra con --write")
            return 1
        print("docs/metodologia.md al día")
    else:
        print(render())
        print()
        print(render_v2())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
