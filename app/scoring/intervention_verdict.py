"""The plain-language verdict of an intervention evaluation, and its caveats (Spanish).

One place for the words a council reads: the API, the bulletin and the SPD report all show
what `verdict` returns. The rules:

* the headline test (model, or exact when counts are small) finds a significant drop
  (interval wholly below 1): "baja consistente con el proyecto"; a significant rise: "alza
  en el área intervenida"; otherwise "sin evidencia de cambio", with the minimum detectable
  effect so that "no evidence" is not read as "no effect";
* the ring around the area: a significant rise against the comparison is "posible
  desplazamiento hacia ..."; a significant drop, "posible difusión de beneficios hacia ...";
* caveats: small counts, non-parallel pre-trends (p < 0.10), comparison units from another
  settlement, and that an observational comparison suggests rather than proves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.scoring.intervention import mde_sentence
from app.scoring.intervention_design import AreaEffect, InterventionResult
from app.scoring.multiple import benjamini_hochberg

PRETREND_LEVEL = 0.10


@dataclass(frozen=True)
class Verdict:
    code: str  # baja | alza | sin_evidencia
    text: str
    displacement_code: str | None  # desplazamiento | difusion | None
    displacement_text: str | None
    caveats: list[str]


def _pct(irr: float) -> str:
    change = round((irr - 1) * 100)
    sign = "+" if change > 0 else ("−" if change < 0 else "")
    return f"{sign}{abs(change)}\u00a0%"


def decimal(value: float, digits: int = 3) -> str:
    """A number as Chile writes it: decimal comma."""
    return f"{value:.{digits}f}".replace(".", ",")


def _interval(effect: AreaEffect) -> str:
    low, high = effect.interval
    p = decimal(effect.p_value)
    return f"{_pct(effect.irr)} (IC 95 %: {_pct(low)} a {_pct(high)}; p = {p})"


def verdict(result: InterventionResult, *, ring_label: str) -> Verdict:
    t = result.treated
    low, high = t.interval
    if t.significant and high < 1:
        code, text = "baja", f"Baja consistente con el proyecto: {_interval(t)}."
    elif t.significant and low > 1:
        code, text = (
            "alza",
            f"Alza en el área intervenida frente a la comparación: {_interval(t)}.",
        )
    else:
        code = "sin_evidencia"
        text = f"Sin evidencia de cambio: {_interval(t)}. {mde_sentence(result.mde)}"
    d_code = d_text = None
    ring = result.catchment
    if ring is not None and ring.significant:
        if ring.interval[0] > 1:
            d_code, d_text = (
                "desplazamiento",
                f"Posible desplazamiento hacia {ring_label}: {_interval(ring)}.",
            )
        elif ring.interval[1] < 1:
            d_code, d_text = (
                "difusion",
                f"Posible difusión de beneficios hacia {ring_label}: {_interval(ring)}.",
            )
    return Verdict(code, text, d_code, d_text, caveats(result))


def caveats(result: InterventionResult) -> list[str]:
    t = result.treated
    out = []
    if t.headline == "exacto":
        out.append(
            f"Son pocos casos ({t.before} antes y {t.after} después en el área): se usa la "
            "prueba exacta condicional, y unas pocas denuncias más o menos cambian el resultado."
        )
    pre_p = t.model.pretrend_p
    if pre_p is not None and pre_p < PRETREND_LEVEL:
        out.append(
            "Antes de la intervención, el área y la comparación no seguían tendencias "
            f"paralelas (p = {decimal(pre_p)}): la comparación es menos creíble."
        )
    if result.matched_on == "ventana_previa":
        out.append(
            "No hay historia antes de la ventana previa: la comparación se eligió con los "
            "mismos conteos con que se mide el efecto, lo que tiende a exagerar una baja "
            "(regresión a la media)."
        )
    elif result.matched_on == "nivel":
        out.append(
            "El área tuvo muy pocas denuncias en el período de pareo para comparar tendencias: "
            "se usaron las áreas con más casos de la misma localidad."
        )
    elsewhere = [m.unit for m in result.matches if not m.same_settlement]
    if elsewhere:
        out.append(
            "Algunas áreas de comparación están en otra localidad "
            f"({', '.join(elsewhere)}): no había suficientes parecidas en la misma."
        )
    if t.model.family == "binomial_negativa":
        out.append(
            "Los conteos varían más de lo que el azar simple explica (sobredispersión): se "
            "usó un modelo binomial negativo, con intervalos más anchos."
        )
    out.append(
        "Esta comparación sugiere, no prueba: patrullajes, estacionalidad, cambios en la "
        "disposición a denunciar y denuncias que llegan tarde también influyen."
    )
    return out


def multiple_testing_note(p_values: list[float], alpha: float = 0.05) -> str | None:
    """Benjamini-Hochberg over the evaluations listed together (None with fewer than two)."""
    if len(p_values) < 2:
        return None
    p = np.asarray(p_values, dtype=float)
    q = benjamini_hochberg(p)
    raw = int((p < alpha).sum())
    kept = int((q < alpha).sum())
    return (
        f"Se listan {len(p)} evaluaciones: solo por azar se esperarían unas "
        f"{decimal(alpha * len(p), 1)} con p < {decimal(alpha, 2)} aunque ningún proyecto "
        f"tuviera efecto. Hay {raw} con p < {decimal(alpha, 2)}; tras corregir por comparaciones "
        "múltiples "
        f"(Benjamini-Hochberg, tasa de falsos descubrimientos del 5 %) quedan {kept}."
    )
