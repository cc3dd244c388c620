"""Did an intervention change crime where it was made? Count-model statistics (issue #18).

Pure: no FastAPI, no SQLAlchemy. The database layer (app/reports/evaluation.py) or a
planted world (app/demo/evaluation_recovery.py) counts complaints per area and time bin;
this module fits the models and returns numbers. Formulas and references are in
docs/metodologia.md ("Evaluación de intervenciones").

* `fit_did`: difference-in-differences as a count model, log E[y_at] = a_a + g_t +
  b [a treated and t after] (areas and bins as fixed effects), Poisson GLM, or negative
  binomial (NB2) GLM when the likelihood-ratio test of alpha = 0 rejects at 5 % (the
  boundary test, p = P(chi2_1 > LR) / 2; Cameron & Trivedi 2013). IRR = exp(b), Wald 95 %
  interval and p-value from the fitted GLM. The pre-period check fits the bins before only
  with a treated x linear-time term (its p-value says whether the pre-trends differ).
* `exact_conditional`: the 2x2 table treated/comparison x before/after under four
  independent Poisson counts. Conditional on its margins, the treated-after cell follows
  Fisher's noncentral hypergeometric law whose odds ratio is the IRR, so Fisher's exact test
  and the conditional (exact) interval are the small-count answer.
* `weighted_displacement`: Bowers & Johnson's (2003) weighted displacement quotient for
  the catchment ring, with Guerette's (2009) total net effect.
* `minimum_detectable_effect`: the smallest drop a two-sided 5 % test finds with 80 %
  power, from the Wald standard error of the log IRR with the expected counts under "no
  change" (inflated by the dispersion the model found).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# pandas, scipy and statsmodels are imported where used: the bulletin's command imports this
# module's names (through app/reports/evaluation_counts.py) and must start without them

ALPHA = 0.05
POWER = 0.80
NB_TEST_LEVEL = 0.05  # LR test of alpha = 0: below this, the negative binomial is used
SMALL_CELL = 5  # a 2x2 cell below this, or fewer than SMALL_TREATED treated complaints ...
SMALL_TREATED = 20  # ... and the exact conditional test is the headline
TREATED, RING = "tratada", "anillo"  # the area names of a count table
FORMULA = "y ~ C(area) + C(bin) + did"
PRE_FORMULA = "y ~ C(area) + C(bin) + pretrend"


def did_table(
    treated: np.ndarray, comparisons: dict[str, np.ndarray], bins_before: int
) -> pd.DataFrame:
    """Long table (area, bin, post, treated, did, y): the input of `fit_did`.

    Every array holds the counts of bins of equal length, the first `bins_before` before
    the intervention, the rest after.
    """
    import pandas as pd  # noqa: PLC0415

    rows = []
    for area, counts in ((TREATED, treated), *sorted(comparisons.items())):
        for b, y in enumerate(np.asarray(counts, dtype=int)):
            post = int(b >= bins_before)
            is_treated = int(area == TREATED)
            rows.append((area, b, post, is_treated, post * is_treated, int(y)))
    return pd.DataFrame(rows, columns=["area", "bin", "post", "treated", "did", "y"])


@dataclass(frozen=True)
class CountDiD:
    family: str  # "poisson" | "binomial_negativa"
    irr: float
    low: float
    high: float
    p_value: float
    nb_alpha: float | None  # NB2 dispersion (None: Poisson kept)
    nb_test_p: float | None  # LR test of alpha = 0
    pearson_dispersion: float  # Pearson chi2 / df of the Poisson fit
    pretrend_irr: float | None  # per-bin ratio of treated over comparison trends, before
    pretrend_p: float | None
    rows: int

    @property
    def dispersion(self) -> float:
        """Variance inflation used by the MDE (>= 1)."""
        return max(1.0, self.pearson_dispersion) if self.family != "poisson" else 1.0


def _glm(formula: str, table: pd.DataFrame, alpha: float | None) -> object:
    import statsmodels.api as sm  # noqa: PLC0415  (slow import; only when a model is fitted)
    import statsmodels.formula.api as smf  # noqa: PLC0415

    family = sm.families.Poisson() if alpha is None else sm.families.NegativeBinomial(alpha=alpha)
    with warnings.catch_warnings():  # a saturated 2x2 or an all-zero bin: numbers stay right
        warnings.simplefilter("ignore")
        return smf.glm(formula, data=table, family=family).fit()


def nb2_alpha(table: pd.DataFrame, formula: str = FORMULA) -> tuple[float | None, float]:
    """ML estimate of the NB2 alpha with the same design, and the LR test's p (alpha = 0).

    None when the fit does not converge (then the Poisson model is kept, and said so).
    """
    import statsmodels.formula.api as smf  # noqa: PLC0415
    from scipy import stats  # noqa: PLC0415

    poisson = _glm(formula, table, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = smf.negativebinomial(formula, data=table).fit(disp=0, maxiter=300)
        except (np.linalg.LinAlgError, ValueError):
            return None, 1.0
    alpha = float(nb.params["alpha"])
    if not nb.mle_retvals.get("converged", False) or not math.isfinite(alpha) or alpha <= 1e-8:
        return None, 1.0
    lr = max(0.0, 2.0 * (float(nb.llf) - float(poisson.llf)))  # type: ignore[attr-defined]
    return alpha, float(0.5 * stats.chi2.sf(lr, 1))


def fit_did(table: pd.DataFrame) -> CountDiD:
    """The count-model difference-in-differences of a `did_table`."""
    poisson = _glm(FORMULA, table, None)
    pearson = float(poisson.pearson_chi2 / max(poisson.df_resid, 1))  # type: ignore[attr-defined]
    alpha, nb_p = nb2_alpha(table)
    use_nb = alpha is not None and nb_p < NB_TEST_LEVEL
    model = _glm(FORMULA, table, alpha) if use_nb else poisson
    b = float(model.params["did"])  # type: ignore[attr-defined]
    low, high = (float(v) for v in model.conf_int(alpha=ALPHA).loc["did"])  # type: ignore[attr-defined]
    pre_irr, pre_p = _pretrend(table, alpha if use_nb else None)
    return CountDiD(
        family="binomial_negativa" if use_nb else "poisson",
        irr=math.exp(b),
        low=math.exp(low),
        high=math.exp(high),
        p_value=float(model.pvalues["did"]),  # type: ignore[attr-defined]
        nb_alpha=alpha if use_nb else None,
        nb_test_p=None if alpha is None else nb_p,
        pearson_dispersion=pearson,
        pretrend_irr=pre_irr,
        pretrend_p=pre_p,
        rows=len(table),
    )


def pretrend_table(table: pd.DataFrame) -> pd.DataFrame:
    """The bins before only, with `pretrend` = bin index for the treated area (0 elsewhere)."""
    pre = table[table["post"] == 0].copy()
    pre["pretrend"] = pre["bin"] * pre["treated"]
    return pre


def _pretrend(table: pd.DataFrame, alpha: float | None) -> tuple[float | None, float | None]:
    pre = pretrend_table(table)
    if pre["bin"].nunique() < 3:  # two bins: the slope is the level, nothing to test
        return None, None
    model = _glm(PRE_FORMULA, pre, alpha)
    return (
        math.exp(float(model.params["pretrend"])),  # type: ignore[attr-defined]
        float(model.pvalues["pretrend"]),  # type: ignore[attr-defined]
    )


@dataclass(frozen=True)
class ExactTest:
    odds_ratio: float  # conditional MLE of the IRR
    low: float
    high: float
    p_value: float


def exact_conditional(
    treated_before: int, treated_after: int, comparison_before: int, comparison_after: int
) -> ExactTest:
    """Fisher's exact test and conditional interval on [[ta, tb], [ca, cb]]: the IRR."""
    from scipy import stats  # noqa: PLC0415

    table = np.array([[treated_after, treated_before], [comparison_after, comparison_before]])
    result = stats.contingency.odds_ratio(table, kind="conditional")
    ci = result.confidence_interval(confidence_level=1 - ALPHA)
    p = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    return ExactTest(float(result.statistic), float(ci.low), float(ci.high), p)


def small_counts(tb: int, ta: int, cb: int, ca: int) -> bool:
    """The documented switch to the exact test (see the module doc)."""
    return min(tb, ta, cb, ca) < SMALL_CELL or tb + ta < SMALL_TREATED


@dataclass(frozen=True)
class Displacement:
    """Bowers & Johnson (2003): R response (treated), D displacement (catchment), C control;
    a before, b after."""

    success_measure: float  # Rb/Ra - Cb/Ca (negative: the treated area improved)
    buffer_measure: float  # Db/Da - Cb/Ca (positive: the ring got worse than the control)
    wdq: float | None  # buffer_measure / success_measure; None when not defined
    total_net_effect: float  # [Ra Cb/Ca - Rb] + [Da Cb/Ca - Db] (complaints prevented)
    reading: str


def weighted_displacement(ra: int, rb: int, da: int, db: int, ca: int, cb: int) -> Displacement:
    """The WDQ and its reading. Undefined (None) without a success (SM >= 0) or a zero."""
    if min(ra, da, ca) <= 0:
        return Displacement(math.nan, math.nan, None, math.nan, "sin datos suficientes")
    control = cb / ca
    sm = rb / ra - control
    bdm = db / da - control
    tne = (ra * control - rb) + (da * control - db)
    if sm >= 0:
        return Displacement(sm, bdm, None, tne, "sin éxito en el área: el WDQ no se aplica")
    wdq = bdm / sm
    if wdq > 1:
        reading = "difusión de beneficios mayor que el efecto directo"
    elif wdq > 0:
        reading = "difusión de beneficios hacia el entorno"
    elif wdq == 0:
        reading = "sin desplazamiento ni difusión"
    elif wdq >= -1:
        reading = "algún desplazamiento, menor que el efecto directo"
    else:
        reading = "desplazamiento mayor que el efecto directo"
    return Displacement(sm, bdm, wdq, tne, reading)


def minimum_detectable_effect(
    treated_before: int,
    comparison_before: int,
    comparison_after: int,
    *,
    dispersion: float = 1.0,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float | None:
    """Smallest relative drop (0-1) detected with `power`: 1 - exp(-(z_a/2 + z_b) SE0),
    SE0 = sqrt(phi (1/tb + 1/E + 1/cb + 1/ca)), E = tb ca / cb (the treated count after
    expected with no change). None without counts."""
    tb, cb, ca = treated_before, comparison_before, comparison_after
    if min(tb, cb, ca) <= 0:
        return None
    from scipy import stats  # noqa: PLC0415

    expected = tb * ca / cb
    se0 = math.sqrt(dispersion * (1 / tb + 1 / expected + 1 / cb + 1 / ca))
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return 1.0 - math.exp(-z * se0)


def mde_sentence(mde: float | None) -> str:
    if mde is None:
        return "Sin denuncias en algún período no se puede estimar qué cambio se notaría."
    pct = math.ceil(mde * 100)
    if pct >= 90:
        return (
            "Con estos números ni siquiera una baja del 90 % se distinguiría del azar: "
            "la evaluación no puede concluir."
        )
    return f"Con estos números, solo una baja de más del {pct} % se notaría."
