"""Does a variable vary between units beyond chance? One test per variable (method 2).

A ranking variable that shows no between-unit variation beyond what Poisson (or binomial)
noise gives cannot rank anything: its empirical-Bayes between-variance A is 0 and every unit
gets the same value. Method 2 says so per variable, with a test, instead of letting its weight
vanish silently.

* Rates (events over residents): Pearson's dispersion statistic X^2 = sum (e_i - E_i)^2 / E_i
  with E_i = n_i * sum(e) / sum(n), as `scipy.stats.chisquare` computes it.
* Proportions (part over complaints): the chi-square of the 2 x k table (part, rest), as
  `scipy.stats.chi2_contingency` computes it.

Counts per unit are small (a micro-barrio has a handful of trafficking complaints a year),
where the chi-square law is a poor guide and rejects too often. The p-value is therefore a
parametric bootstrap under the null of one common rate (proportion): counts are redrawn from
Poisson(n_i m) (Binomial(t_i, m)), m is re-estimated on each draw and the statistic recomputed,
all draws at once with a fixed seed; p = (1 + #{X*^2 >= X^2}) / (1 + draws) (Davison & Hinkley
1997, ch. 4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from app.scoring.multiple import holm

DISPERSION_SEED = 20_965
DISPERSION_DRAWS = 499
SIGNAL_ALPHA = 0.05


@dataclass(frozen=True)
class SignalTest:
    """The outcome of a variable's test: is there a difference between units to rank?"""

    test: str  # which test, in words a report can print
    statistic: float | None
    p_value: float | None
    signal: bool
    p_adjusted: float | None = None  # Holm over the weighted variables (`across_variables`)

    def as_dict(self) -> dict[str, object]:
        return {
            "test": self.test,
            "statistic": None if self.statistic is None else round(self.statistic, 6),
            "p_value": None if self.p_value is None else round(self.p_value, 6),
            "p_adjusted": None if self.p_adjusted is None else round(self.p_adjusted, 6),
            "signal": self.signal,
        }


def across_variables(
    tests: dict[str, SignalTest], weighted: set[str], *, alpha: float = SIGNAL_ALPHA
) -> dict[str, SignalTest]:
    """Holm's correction over the tests of the weighted variables: signal = adjusted p <= alpha.

    Each variable is tested at 5 %; with six or seven weighted variables, one of them would show
    "signal" by chance in a quarter of the periods where there is none, and decide the whole
    ranking. Holm (1979; app/scoring/multiple.py) keeps the chance of any
    false signal at 5 %. The trend and hot-spot tests enter with their smallest BH q over the
    units (Simes' test of "no unit differs").
    """
    family = [n for n, t in tests.items() if n in weighted and t.p_value is not None]
    adjusted: dict[str, float] = {}
    if family:
        values = holm(np.array([tests[n].p_value for n in family], dtype=float))
        adjusted = dict(zip(family, (float(p) for p in values), strict=True))
    out = {}
    for name, test in tests.items():
        if name in adjusted:
            p = adjusted[name]
            out[name] = replace(test, p_adjusted=p, signal=p <= alpha)
        elif test.p_value is not None:  # not weighted: reported, never contributes
            out[name] = replace(test, signal=test.p_value <= alpha)
        else:
            out[name] = test
    return out


def poisson_dispersion(
    events: np.ndarray,
    base: np.ndarray,
    *,
    seed: int = DISPERSION_SEED,
    draws: int = DISPERSION_DRAWS,
    alpha: float = SIGNAL_ALPHA,
) -> SignalTest:
    """X^2 of events over residents against a common rate, parametric-bootstrap p-value."""
    e = np.asarray(events, dtype=float)
    n = np.asarray(base, dtype=float)
    keep = n > 0
    e, n = e[keep], n[keep]
    total = int(round(e.sum()))
    name = "dispersión de Poisson (X², bootstrap paramétrico)"
    if total == 0 or len(e) < 2:
        return SignalTest(name, None, None, False)
    expected = n * total / n.sum()
    observed = float(stats.chisquare(e, expected).statistic)
    rng = np.random.default_rng(seed)
    simulated = rng.poisson(np.broadcast_to(expected[:, None], (len(e), draws))).astype(float)
    fitted = n[:, None] * simulated.sum(axis=0) / n.sum()
    with np.errstate(divide="ignore", invalid="ignore"):  # an all-zero draw: X^2 = 0
        simulated -= fitted  # in place: (simulated - fitted) ** 2 / fitted, the same doubles
        simulated **= 2
        simulated /= fitted
        null = _finite_or_zero(simulated.sum(axis=0))
    p = (1.0 + float((null >= observed - 1e-9).sum())) / (draws + 1.0)
    return SignalTest(name, observed, p, p <= alpha)


def binomial_dispersion(
    part: np.ndarray,
    whole: np.ndarray,
    *,
    seed: int = DISPERSION_SEED,
    draws: int = DISPERSION_DRAWS,
    alpha: float = SIGNAL_ALPHA,
) -> SignalTest:
    """Chi-square of the (part, rest) x units table, parametric-bootstrap p-value."""
    v = np.asarray(part, dtype=float)
    t = np.asarray(whole, dtype=float)
    keep = t > 0
    v, t = v[keep], t[keep]
    name = "homogeneidad de proporciones (χ², bootstrap paramétrico)"
    if len(v) < 2 or v.sum() == 0 or v.sum() == t.sum():
        return SignalTest(name, None, None, False)
    table = np.vstack([v, t - v])
    observed = float(stats.chi2_contingency(table, correction=False).statistic)
    rng = np.random.default_rng(seed)
    trials = np.broadcast_to(t[:, None], (len(t), draws)).astype(np.int64)
    simulated = rng.binomial(trials, v.sum() / t.sum()).astype(float)
    m = simulated.sum(axis=0) / t.sum()
    part_fit = t[:, None] * m
    rest_fit = t[:, None] * (1.0 - m)
    with np.errstate(divide="ignore", invalid="ignore"):  # a draw with no parts: X^2 = 0
        null = _finite_or_zero(
            (
                (simulated - part_fit) ** 2 / part_fit
                + ((t[:, None] - simulated) - rest_fit) ** 2 / rest_fit
            ).sum(axis=0)
        )
    p = (1.0 + float((null >= observed - 1e-9).sum())) / (draws + 1.0)
    return SignalTest(name, observed, p, p <= alpha)


def _finite_or_zero(null: np.ndarray) -> np.ndarray:
    """A draw's X^2 is 0/0 = NaN only in every cell of the draw at once (a fitted value is 0
    only when the draw has no events, or no parts, or no rest, and then it is 0 for every
    unit), so zeroing the NaN sums equals zeroing every NaN cell first (`np.nan_to_num`)
    without a pass over all the cells."""
    return np.where(np.isfinite(null), null, 0.0)


def no_test(reason: str) -> SignalTest:
    """A variable Vigía cannot test (external data): its weight always counts."""
    return SignalTest(reason, None, None, True)
