"""Risk-terrain model on planted truth (issue #17, item 2).

    python -m bench.risk_terrain_recovery [--seeds 20] [--sin-exposicion] [--sin-estratos]
                                          [--efecto-en-sitios]

For each seed, the signal and the null demo world (app/demo/rtm_recovery.py): how often each
planted type (RR != 1) is retained with its planted RR inside the 95 % interval, how often
each type with no planted effect is retained, how often the null world retains anything;
seconds per world (features + fit), with the load averages.
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections import Counter
from datetime import date
from pathlib import Path

from app.demo.planted import PlantedSpec
from app.demo.rtm_recovery import RECOVERY_SPEC, recover
from app.demo.sources import sources_from_files

REPO = Path(__file__).resolve().parents[1]
END = date(2025, 12, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--sin-exposicion",
        action="store_true",
        help="sin los residentes de cada celda como exposición (RTM clásico)",
    )
    parser.add_argument(
        "--sin-estratos",
        action="store_true",
        help="sin el micro-barrio de cada celda como efecto fijo",
    )
    parser.add_argument(
        "--efecto-en-sitios",
        action="store_true",
        help="la verdad por defecto de la demo: sitios a 120 m del factor (no de celda)",
    )
    args = parser.parse_args()
    exposure = not args.sin_exposicion
    options = {
        "exposure": exposure,
        "strata": not args.sin_estratos,
        "spec": PlantedSpec() if args.efecto_en_sitios else RECOVERY_SPEC,
    }
    sources = sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")
    print(
        f"exposición (residentes por celda): {exposure}; estratos: {options['strata']}; "
        f"verdad: {options['spec']}"
    )
    print(f"carga al inicio: {os.getloadavg()}", flush=True)
    covered, retained, null_retained, null_any, families = Counter(), Counter(), Counter(), 0, []
    seconds, pai, pei = [], [], []
    for seed in range(1, args.seeds + 1):
        signal = recover(sources, seed=seed, end=END, **options)  # type: ignore[arg-type]
        null = recover(sources, seed=seed, end=END, signal=False, **options)  # type: ignore[arg-type]
        for layer in signal.planted_rr:
            covered[layer] += signal.covered(layer)
            retained[layer] += layer in signal.retained
            null_retained[layer] += layer in null.retained
        null_any += bool(null.retained)
        families += [signal.model.family, null.model.family]
        seconds += [signal.seconds, null.seconds]
        pai.append(signal.pai.set_index("share")["pai"])
        pei.append(signal.pai.set_index("share")["pei"])
        hits = sorted(t for t, rr in signal.planted_rr.items() if rr != 1 and signal.covered(t))
        print(
            f"semilla {seed}: señal {sorted(signal.retained)}; nulo {sorted(null.retained)}; "
            f"IC cubre: {hits}; "
            f"{signal.seconds:.1f} s / {null.seconds:.1f} s; carga {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    n = args.seeds
    print(f"celdas: {signal.cells}; DMCS sin tendencia (24 meses): {signal.events}")
    for layer, rr in sorted(signal.planted_rr.items()):
        extra = f", RR plantado dentro del IC 95 %: {covered[layer]}/{n}" if rr != 1 else ""
        print(
            f"{layer} (RR {rr:g}): retenido {retained[layer]}/{n}{extra}; "
            f"nulo {null_retained[layer]}/{n}"
        )
    print(f"mundo nulo con algún factor retenido: {null_any}/{n}")
    print(f"familias: {Counter(families)}")
    for share in pai[0].index:
        print(
            f"top {share:.0%} de celdas, 12 meses siguientes (mundo con señal): PAI mediano "
            f"{statistics.median(p[share] for p in pai):.2f}, PEI mediano "
            f"{statistics.median(p[share] for p in pei):.2f}"
        )
    q = statistics.quantiles(seconds, n=4)
    print(
        f"variables + ajuste: mediana {statistics.median(seconds):.2f} s por mundo "
        f"(p25 {q[0]:.2f}, p75 {q[2]:.2f})"
    )
    print(f"carga al final: {os.getloadavg()}")


if __name__ == "__main__":
    main()
