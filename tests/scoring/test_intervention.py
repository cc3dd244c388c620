"""Intervention evaluation statistics (#18) against statsmodels/scipy and hand computations."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.multitest import multipletests

from app.scoring import intervention as iv
from app.scoring.intervention_design import (
    AreaCounts,
    EvaluationDataError,
    choose_comparisons,
    evaluate_counts,
)
from app.scoring.intervention_verdict import multiple_testing_note, verdict


def _series(rng: np.random.Generator, mean: float, k: int, ratio: float = 1.0) -> np.ndarray:
    return np.concatenate([rng.poisson(mean, k), rng.poisson(mean * ratio, k)])


def test_poisson_did_equals_statsmodels_glm_on_the_same_table() -> None:
    rng = np.random.default_rng(3)
    treated = _series(rng, 8, 4, ratio=0.6)
    comps = {f"U{i}": _series(rng, 12, 4) for i in range(3)}
    table = iv.did_table(treated, comps, 4)
    assert len(table) == 4 * 8
    fit = iv.fit_did(table)
    direct = smf.glm("y ~ C(area) + C(bin) + did", data=table, family=sm.families.Poisson()).fit()
    assert fit.family == "poisson"
    assert fit.irr == pytest.approx(math.exp(direct.params["did"]), rel=1e-10)
    low, high = direct.conf_int().loc["did"]
    assert (fit.low, fit.high) == (
        pytest.approx(math.exp(low), rel=1e-10),
        pytest.approx(math.exp(high), rel=1e-10),
    )
    assert fit.p_value == pytest.approx(direct.pvalues["did"], rel=1e-10)
    assert fit.pearson_dispersion == pytest.approx(direct.pearson_chi2 / direct.df_resid)
    # the pre-period check: treated x linear time on the bins before only
    pre = table[table["post"] == 0].assign(pretrend=lambda t: t["bin"] * t["treated"])
    pre_direct = smf.glm(
        "y ~ C(area) + C(bin) + pretrend", data=pre, family=sm.families.Poisson()
    ).fit()
    assert fit.pretrend_p == pytest.approx(pre_direct.pvalues["pretrend"], rel=1e-10)


def test_two_by_two_poisson_model_is_the_ratio_of_ratios() -> None:
    table = iv.did_table(np.array([20, 10]), {"C": np.array([50, 45])}, 1)
    fit = iv.fit_did(table)
    assert fit.irr == pytest.approx((10 / 20) / (45 / 50))
    se = math.sqrt(1 / 20 + 1 / 10 + 1 / 50 + 1 / 45)
    assert fit.low == pytest.approx(fit.irr * math.exp(-stats.norm.ppf(0.975) * se), rel=1e-6)


def test_overdispersed_counts_switch_to_negative_binomial_as_statsmodels_fits_it() -> None:
    rng = np.random.default_rng(11)
    k = 6

    def nb(mean: float, ratio: float = 1.0) -> np.ndarray:
        means = np.r_[np.full(k, mean), np.full(k, mean * ratio)]
        return rng.negative_binomial(2, 2 / (2 + means))  # alpha = 0.5

    treated = nb(15, 0.6)
    comps = {f"U{i}": nb(20) for i in range(4)}
    table = iv.did_table(treated, comps, k)
    fit = iv.fit_did(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nb_fit = smf.negativebinomial("y ~ C(area) + C(bin) + did", data=table).fit(
            disp=0, maxiter=300
        )
    alpha = nb_fit.params["alpha"]
    poisson = smf.glm("y ~ C(area) + C(bin) + did", data=table, family=sm.families.Poisson()).fit()
    lr = 2 * (nb_fit.llf - poisson.llf)
    assert 0.5 * stats.chi2.sf(lr, 1) < 0.05
    assert fit.family == "binomial_negativa"
    assert fit.nb_alpha == pytest.approx(alpha, rel=1e-8)
    direct = smf.glm(
        "y ~ C(area) + C(bin) + did",
        data=table,
        family=sm.families.NegativeBinomial(alpha=alpha),
    ).fit()
    assert fit.irr == pytest.approx(math.exp(direct.params["did"]), rel=1e-8)
    assert fit.p_value == pytest.approx(direct.pvalues["did"], rel=1e-6)
    assert fit.high == pytest.approx(math.exp(direct.conf_int().loc["did", 1]), rel=1e-8)


def test_exact_conditional_is_fisher_on_the_two_by_two() -> None:
    result = iv.exact_conditional(9, 3, 40, 38)
    table = np.array([[3, 9], [38, 40]])
    assert result.p_value == pytest.approx(stats.fisher_exact(table).pvalue)
    ref = stats.contingency.odds_ratio(table, kind="conditional")
    assert result.odds_ratio == pytest.approx(ref.statistic)
    ci = ref.confidence_interval(0.95)
    assert (result.low, result.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert result.odds_ratio < 1 < result.high


def test_weighted_displacement_quotient_by_hand() -> None:
    # Ra=100 -> Rb=60 treated, Da=50 -> Db=55 ring, Ca=200 -> Cb=190 control
    d = iv.weighted_displacement(100, 60, 50, 55, 200, 190)
    assert d.success_measure == pytest.approx(0.60 - 0.95)  # -0.35
    assert d.buffer_measure == pytest.approx(1.10 - 0.95)  # 0.15
    assert d.wdq == pytest.approx(-0.15 / 0.35)  # -0.4286: displacement < direct effect
    assert d.total_net_effect == pytest.approx((95 - 60) + (47.5 - 55))  # 27.5
    assert d.reading == "algún desplazamiento, menor que el efecto directo"
    diffusion = iv.weighted_displacement(100, 60, 50, 40, 200, 190)
    assert diffusion.wdq == pytest.approx((0.8 - 0.95) / -0.35)
    assert diffusion.reading == "difusión de beneficios hacia el entorno"
    assert iv.weighted_displacement(100, 120, 50, 40, 200, 190).wdq is None  # no success


def test_minimum_detectable_effect_by_hand_and_in_words() -> None:
    mde = iv.minimum_detectable_effect(20, 60, 60)
    se0 = math.sqrt(1 / 20 + 1 / 20 + 1 / 60 + 1 / 60)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert mde == pytest.approx(1 - math.exp(-z * se0))
    assert iv.mde_sentence(mde) == "Con estos números, solo una baja de más del 65 % se notaría."
    assert iv.minimum_detectable_effect(2000, 6000, 6000) < 0.1
    assert "ni siquiera" in iv.mde_sentence(iv.minimum_detectable_effect(2, 4, 4))
    assert iv.minimum_detectable_effect(0, 4, 4) is None


def _counts(treated: list[int], ring: list[int], **cands: list[int]) -> AreaCounts:
    return AreaCounts(
        bins_before=len(treated) // 2,
        treated=np.array(treated),
        catchment=np.array(ring),
        candidates={c: np.array(v) for c, v in cands.items()},
        same_settlement={"A": True, "B": True, "C": True},
    )


def test_comparisons_follow_the_pre_trend_shape_and_the_settlement_first() -> None:
    counts = _counts(
        [4, 6, 8, 10, 5, 5, 5, 5],
        [5] * 8,
        A=[40, 60, 80, 100, 90, 90, 90, 90],  # same rising shape, ten times the level
        B=[7, 7, 7, 7, 7, 7, 7, 7],  # same level, flat
        C=[10, 8, 6, 4, 5, 5, 5, 5],  # falling
        Z=[4, 6, 8, 10, 9, 9, 9, 9],  # identical shape, other settlement
        Q=[1, 0, 1, 0, 5, 5, 5, 5],  # too few before
    )
    chosen = [m.unit for m in choose_comparisons(counts, n=3)]
    assert chosen == ["A", "B", "C"]
    assert [m.unit for m in choose_comparisons(counts, n=4)] == ["A", "B", "C", "Z"]


def test_too_few_complaints_are_refused_naming_the_window() -> None:
    counts = _counts([1, 1, 1, 1], [3, 3, 3, 3], A=[9, 9, 9, 9])
    with pytest.raises(EvaluationDataError) as caught:
        evaluate_counts(counts)
    assert caught.value.errors[0]["field"] == "window_days"
    assert caught.value.status == 422


def test_planted_drop_with_displacement_reads_as_such() -> None:
    k = 6
    counts = AreaCounts(
        bins_before=k,
        treated=np.array([30] * k + [18] * k),
        catchment=np.array([30] * k + [42] * k),
        candidates={c: np.array([50] * 2 * k) for c in "ABC"},
        same_settlement=dict.fromkeys("ABC", True),
    )
    result = evaluate_counts(counts)
    assert result.treated.headline == "modelo"
    assert result.treated.irr == pytest.approx(0.6)
    assert result.displacement.wdq == pytest.approx((1.4 - 1) / (0.6 - 1))
    said = verdict(result, ring_label="el entorno (300 m)")
    assert said.code == "baja"
    assert said.text.startswith("Baja consistente con el proyecto: −40\u00a0%")
    assert said.displacement_code == "desplazamiento"
    assert said.displacement_text.startswith("Posible desplazamiento hacia el entorno (300 m)")


def test_multiple_testing_note_uses_benjamini_hochberg() -> None:
    p = [0.01, 0.04, 0.03, 0.5, 0.2, 0.8, 0.049]
    q = multipletests(p, method="fdr_bh")[1]
    note = multiple_testing_note(p)
    assert note is not None
    assert f"Hay {sum(x < 0.05 for x in p)} con p < 0,05" in note
    assert f"quedan {int((q < 0.05).sum())}." in note
    assert multiple_testing_note([0.01]) is None
