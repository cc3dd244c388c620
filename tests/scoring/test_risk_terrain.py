"""Risk-terrain model (issue #17, item 2): features against a brute-force loop, the model
against statsmodels called directly on the same design matrix, PAI/PEI by hand, and the
planted truth of the demo world."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.discrete.discrete_model import NegativeBinomial

from app.demo.rtm_recovery import recover
from app.demo.sources import sources_from_files
from app.scoring.errors import ScoringInputError
from app.scoring.risk_terrain import (
    NEGATIVE_BINOMIAL,
    POISSON,
    density_features,
    fit_rtm,
    pai_pei,
    proximity_features,
    rtm_features,
)
from tests.scoring.factories import REPO

BANDS = (100.0, 200.0, 300.0)


def _fixture() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A 12 x 12 lattice of 50 m cell centres and two point layers (one empty)."""
    ii, jj = np.meshgrid(np.arange(12), np.arange(12))
    centres = np.column_stack(((ii.ravel() + 0.5) * 50, (jj.ravel() + 0.5) * 50))
    rng = np.random.default_rng(3)
    layers = {"a": rng.uniform(0, 600, (5, 2)), "b": np.array([[100.0, 100.0], [150.0, 100.0]])}
    layers["vacia"] = np.zeros((0, 2))
    return centres, layers


def test_proximity_equals_a_brute_force_loop() -> None:
    centres, layers = _fixture()
    got = proximity_features(centres, layers, BANDS)
    for layer, pts in layers.items():
        for band in BANDS:
            want = [int(any(math.dist(c, p) <= band for p in pts)) for c in centres.tolist()]
            assert got[f"{layer}:proximidad:{band:g}m"].tolist() == want


def test_density_equals_a_brute_force_loop() -> None:
    centres, layers = _fixture()
    got = density_features(centres, layers, BANDS)
    for layer, pts in layers.items():
        for band in BANDS:
            density = []
            for c in centres.tolist():
                total = 0.0
                for p in pts.tolist():
                    d = math.dist(c, p)
                    if d < band:
                        total += 3 / (math.pi * band**2) * (1 - d**2 / band**2) ** 2
                density.append(total)
            mean, sd = float(np.mean(density)), float(np.std(density))
            want = [int(sd > 0 and v > mean + sd) for v in density]
            assert got[f"{layer}:densidad:{band:g}m"].tolist() == want
    assert got["b:densidad:100m"].sum() > 0


def _world(overdispersed: bool, seed: int = 5) -> tuple[np.ndarray, pd.DataFrame]:
    """Counts on 900 cells where layer `a` (within 100 m) triples the rate; `b` does nothing."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3000, (900, 2))
    layers = {"a": rng.uniform(0, 3000, (25, 2)), "b": rng.uniform(0, 3000, (25, 2))}
    features = rtm_features(centres, layers, (100.0, 200.0))
    mu = 0.4 * np.exp(math.log(3.0) * features["a:proximidad:100m"].to_numpy())
    if overdispersed:
        mu = mu * rng.gamma(1.0, 1.0, len(mu))
    return rng.poisson(mu), features


@pytest.mark.parametrize(("overdispersed", "family"), [(False, POISSON), (True, NEGATIVE_BINOMIAL)])
def test_model_equals_statsmodels_on_the_same_design(overdispersed: bool, family: str) -> None:
    counts, features = _world(overdispersed)
    model = fit_rtm(counts, features, seed=1, folds=3)
    assert model.family == family
    kept = list(model.table["feature"])
    assert "a:proximidad:100m" in kept
    assert not any(name.startswith("b:") for name in kept)
    design = sm.add_constant(features[kept].astype(float))
    if family == POISSON:
        # converged tighter than the default (deviance change 1e-8): a p of 1e-22 moves in its
        # sixth digit with the last IRLS step
        direct = sm.GLM(counts, design, family=sm.families.Poisson()).fit(tol=1e-13)
    else:
        direct = NegativeBinomial(counts, design).fit(disp=0, maxiter=500)
        assert model.nb_alpha == pytest.approx(direct.params["alpha"], rel=1e-6)
    ci = direct.conf_int(alpha=0.05)
    for _, row in model.table.iterrows():
        name = row["feature"]
        assert row["beta"] == pytest.approx(direct.params[name], rel=1e-6)
        assert row["rr"] == pytest.approx(math.exp(direct.params[name]), rel=1e-6)
        assert row["ic_inf"] == pytest.approx(math.exp(ci.loc[name, 0]), rel=1e-6)
        assert row["ic_sup"] == pytest.approx(math.exp(ci.loc[name, 1]), rel=1e-6)
        assert row["p_valor"] == pytest.approx(direct.pvalues[name], rel=1e-6, abs=1e-300)
    linear = design[kept].to_numpy() @ direct.params[kept].to_numpy()
    np.testing.assert_allclose(model.score, np.exp(linear), rtol=1e-6)
    top = model.top_cells(0.10)
    assert len(top) == 90
    assert model.score[top].min() >= np.delete(model.score, top).max()


def test_pai_pei_by_hand() -> None:
    scores = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=float)
    counts = np.array([3, 0, 2, 1, 0, 0, 4, 0, 0, 0], dtype=float)  # 10 events
    table = pai_pei(scores, counts, 2500.0, shares=(0.05, 0.10, 0.20, 0.25))
    # 5 %: ceil(0.5) = 1 cell (the first, 3 events): PAI = 0.3 / 0.1 = 3; best cell 4: PEI 0.75
    # 20 %: cells 0-1, 3 events: PAI 0.3 / 0.2 = 1.5; best two cells 4 + 3: PEI 3/7
    # 25 %: ceil(2.5) = 3 cells (0-2), 5 events: PAI 0.5 / 0.3; best three 4 + 3 + 2: PEI 5/9
    assert table["cells"].tolist() == [1, 1, 2, 3]
    assert table["hits"].tolist() == [3, 3, 3, 5]
    np.testing.assert_allclose(table["pai"], [3.0, 3.0, 1.5, 0.5 / 0.3])
    np.testing.assert_allclose(table["pei"], [0.75, 0.75, 3 / 7, 5 / 9])
    np.testing.assert_allclose(table["area_share"], [0.1, 0.1, 0.2, 0.3])


def test_bad_input_is_refused() -> None:
    counts, features = _world(False)
    with pytest.raises(ScoringInputError):
        fit_rtm(counts[:-1], features, seed=1)
    with pytest.raises(ScoringInputError):
        fit_rtm(-counts, features, seed=1)
    with pytest.raises(ScoringInputError):
        proximity_features(np.zeros((3, 2)), {"a": np.ones((1, 2))}, (0.0,))
    with pytest.raises(ScoringInputError):
        pai_pei(np.ones(3), np.ones(3), 1.0, shares=(0.0,))


def test_exposure_enters_as_an_offset() -> None:
    """A layer placed where people live: with residents as exposure it is not a risk factor,
    and the fit equals statsmodels' GLM with log(exposure) as the offset."""
    rng = np.random.default_rng(11)
    centres = rng.uniform(0, 3000, (900, 2))
    layers = {"a": rng.uniform(0, 3000, (25, 2)), "b": rng.uniform(0, 3000, (25, 2))}
    features = rtm_features(centres, layers, (100.0, 200.0))
    residents = np.where(features["b:proximidad:200m"] == 1, 40.0, 10.0)
    residents[:30] = 0.0  # nobody lives there: left out of the fit
    near_a = features["a:proximidad:100m"].to_numpy()
    counts = rng.poisson(0.03 * residents * np.exp(math.log(3.0) * near_a))
    naive = fit_rtm(counts, features, seed=1, folds=3)
    assert "b" in naive.table.index  # b only marks where people live
    model = fit_rtm(counts, features, seed=1, folds=3, exposure=residents)
    assert list(model.table.index) == ["a"]
    kept = list(model.table["feature"])
    lived = residents > 0
    design = sm.add_constant(features.loc[lived, kept].astype(float))
    direct = sm.GLM(
        counts[lived], design, family=sm.families.Poisson(), offset=np.log(residents[lived])
    ).fit()
    assert model.family == POISSON
    name = kept[0]
    assert model.table.loc["a", "beta"] == pytest.approx(direct.params[name], rel=1e-6)
    assert model.table.loc["a", "ic_inf"] == pytest.approx(
        math.exp(direct.conf_int().loc[name, 0]), rel=1e-6
    )
    assert model.intercept == pytest.approx(direct.params["const"], rel=1e-6)
    assert len(model.score) == len(counts)


def test_planted_factor_types_are_recovered_and_the_null_world_is_empty() -> None:
    """Two demo worlds (bench/risk_terrain_recovery.py sweeps 20 seeds): in the signal world
    both planted types are retained with the planted RR in their 95 % interval; in the null
    world nothing is retained."""
    sources = sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")
    found = recover(sources, seed=3, end=date(2025, 12, 1))
    for layer in ("sitio_eriazo", "luminaria_apagada"):
        assert found.covered(layer), found.retained
    # the terrain ranks the cells of the next 12 months better than chance
    assert found.pai.set_index("share").loc[0.10, "pai"] > 1.5
    null = recover(sources, seed=3, end=date(2025, 12, 1), signal=False)
    assert null.retained == {}
