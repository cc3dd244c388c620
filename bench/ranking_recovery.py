"""Planted-truth sweep of the ranking (issue #16): how often it finds what was planted.

    python -m bench.ranking_recovery [--seeds 40] [--trend-ratio 2.5] [--end 2025-12]

For each seed, the signal world and the null world of the same seed (app/demo/recovery.py).
Prints the rates the issue asks for, with their goals, and the load averages.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from app.demo.planted import PlantedSpec
from app.demo.recovery import recover
from app.demo.sources import sources_from_files

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--trend-ratio", type=float, default=None)
    parser.add_argument("--trend-min-population-ratio", type=float, default=None)
    parser.add_argument("--end", default="2025-12")
    parser.add_argument(
        "--hotspot",
        choices=["poligonos", "grilla", "grilla_residentes"],
        default="poligonos",
        help="variable de puntos calientes: Gi* de polígonos (método 2) o hot_share de grilla",
    )
    args = parser.parse_args()
    end = date.fromisoformat(f"{args.end}-01")
    spec = PlantedSpec()
    if args.trend_ratio is not None:
        spec = replace(spec, trend_ratio=args.trend_ratio)
    if args.trend_min_population_ratio is not None:
        spec = replace(spec, trend_min_population_ratio=args.trend_min_population_ratio)
    sources = sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")
    print(f"carga antes: {os.getloadavg()}; semillas {args.seeds}; {args.hotspot}; {spec}")
    started = time.perf_counter()
    signal, null = [], []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for world, out in ((True, signal), (False, null)):
            out.append(
                recover(sources, seed=seed, end=end, signal=world, spec=spec, hotspot=args.hotspot)
            )
    n = len(signal)
    top = sum(r.elevated_in_top for r in signal)
    trend = sum(r.trend_flagged and not r.other_trend_flagged for r in signal)
    trend_only = sum(r.trend_flagged for r in signal)
    clean = sum(not r.critical_with_high_probability for r in null)
    null_trend = sum(not r.other_trend_flagged for r in null)
    silent_null = sum(r.weight_without_signal for r in null) / n
    silent_signal = sum(r.weight_without_signal for r in signal) / n
    print(f"unidades plantadas en crítico/alto: {top}/{n} = {top / n:.0%} (meta >= 90 %)")
    print(
        f"tendencia plantada marcada y ninguna otra: {trend}/{n} = {trend / n:.0%} (meta >= 90 %)"
        f"; marcada (con o sin otras): {trend_only / n:.0%}"
    )
    print(
        f"mundo nulo sin 'crítico' de alta probabilidad: {clean}/{n} = {clean / n:.0%}"
        " (meta >= 95 %)"
    )
    print(f"mundo nulo sin tendencia marcada: {null_trend}/{n} = {null_trend / n:.0%}")
    powers = [r.trend_power for r in signal if r.trend_power is not None]
    if powers:
        print(
            f"potencia de la prueba para la tendencia plantada (predicha): media "
            f"{sum(powers) / len(powers):.0%}; marcada observada {trend_only / n:.0%}"
        )
        able = [r for r in signal if r.trend_power is not None and r.trend_power >= 0.9]
        if able:
            found = sum(r.trend_flagged and not r.other_trend_flagged for r in able)
            print(
                f"semillas con potencia >= 90 %: {len(able)}; marcada y ninguna otra en "
                f"{found}/{len(able)} = {found / len(able):.0%} (meta >= 90 %)"
            )
    print(
        f"puntos sin señal (de 100), media: con señal {silent_signal:.1f}, nulo {silent_null:.1f}"
    )
    print(f"{time.perf_counter() - started:.1f} s; carga después: {os.getloadavg()}")


if __name__ == "__main__":
    main()
