"""How a ranking is said to people: one place for the phrases the API, CLI, map and bulletin use.

A council reads "lugar 4 de 19, entre 2 y 8", not "rank 4, p5-p95 [2, 8]"; and "de 100 puntos,
45 vienen de variables que este año no muestran diferencias entre lugares", not "A <= 0".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.scoring import VARIABLES


def rank_phrase(rank: int, total: int, low: int | None, high: int | None) -> str:
    """ "lugar 4 de 19, entre 2 y 8" (method 2) or "lugar 4 de 19" (method 1)."""
    text = f"lugar {rank} de {total}"
    if low is None or high is None:
        return text
    if low == high:
        return f"{text}, sin variación en el remuestreo"
    return f"{text}, entre {low} y {high}"


def class_phrase(label: str, probability: float | None, stable: bool | None) -> str:
    """ "crítico (en 92 % de los remuestreos)" or "alto, inestable (55 %)"."""
    if probability is None or stable is None:
        return label
    percent = round(100 * probability)
    if stable:
        return f"{label} (en {percent} % de los remuestreos)"
    return f"{label}, inestable (solo en {percent} % de los remuestreos)"


def variable_label(name: str) -> str:
    variable = VARIABLES.get(name)
    return variable.label if variable is not None else name.removeprefix("ext_")


def signal_phrase(meta: Mapping[str, Any]) -> str | None:
    """What part of the weight carried no signal, in one sentence; None for method 1."""
    signal = meta.get("signal")
    if not signal:
        return None
    silent = sorted(name for name, test in signal.items() if not test.get("signal"))
    without = float(meta.get("weight_without_signal") or 0.0)
    if not silent or without == 0.0:
        return "Todas las variables ponderadas muestran diferencias entre lugares en este período."
    names = ", ".join(variable_label(name) for name in silent)
    if without >= 100.0 - 1e-6:  # every weighted variable silent: all units tie at 0
        return (
            "Ninguna variable ponderada muestra diferencias entre lugares más allá del azar en "
            f"este período ({names}): todos los lugares suman 0 y el orden es solo por código; "
            "este ranking no sirve para priorizar."
        )
    return (
        f"De 100 puntos, {without:.0f} corresponden a variables que en este período no muestran "
        f"diferencias entre lugares más allá del azar ({names}); no suman a ningún lugar."
    )
