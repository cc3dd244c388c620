"""Gi* against a hand computation and against esda.G_Local called directly on Lanco."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from esda import G_Local
from libpysal.weights import Queen, W

from app.scoring import HotSpotParams, contiguity_weights, getis_ord_star
from app.scoring.hotspots import HOTSPOT_PERMUTATIONS, HOTSPOT_SEED


def chain(codes: list[str]) -> W:
    neighbours = {
        c: [
            n
            for n in (codes[i - 1] if i else None, codes[i + 1] if i + 1 < len(codes) else None)
            if n
        ]
        for i, c in enumerate(codes)
    }
    return W(neighbours)


def test_z_matches_hand_computed_ord_getis_formula() -> None:
    # a-b-c-d in a line, binary weights with the unit itself: xbar = 4, S = sqrt(28.5 - 16)
    # z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n W_i - W_i^2) / (n - 1)))
    # a: (3 - 8) / (S sqrt(4/3)) = -1.224745   b: (6 - 12) / S = -1.697056
    # c: (15 - 12) / S = 0.848528               d: (13 - 8) / (S sqrt(4/3)) = 1.224745
    codes = ["a", "b", "c", "d"]
    values = pd.Series([1.0, 2.0, 3.0, 10.0], index=codes)

    result = getis_ord_star(values, chain(codes), HotSpotParams(permutations=99))

    np.testing.assert_allclose(
        result.z.to_numpy(), [-1.224745, -1.697056, 0.848528, 1.224745], atol=1e-6
    )


def test_matches_esda_on_lanco_micro_barrios(lanco_micro: tuple[pd.Series, pd.Series]) -> None:
    population, geometry = lanco_micro
    rates = pd.Series(np.linspace(5, 40, len(population)) ** 1.3, index=population.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_iterable(list(geometry), ids=list(geometry.index))
        direct = G_Local(
            rates.to_numpy(),
            w,
            transform="B",
            star=True,
            permutations=HOTSPOT_PERMUTATIONS,
            seed=HOTSPOT_SEED,
            n_jobs=1,
        )

    result = getis_ord_star(rates, contiguity_weights(geometry))

    np.testing.assert_allclose(result.z.to_numpy(), direct.Zs, rtol=1e-12)
    np.testing.assert_allclose(result.p_sim.to_numpy(), direct.p_sim)
    assert result.hot.to_numpy().tolist() == ((direct.Zs > 0) & (direct.p_sim <= 0.05)).tolist()
    assert result.hot.any()  # the fixture has a real hot spot, so the comparison bites


def test_lanco_contiguity_crosses_barrio_borders_but_not_to_malalhue(
    lanco_micro: tuple[pd.Series, pd.Series],
) -> None:
    _, geometry = lanco_micro

    w = contiguity_weights(geometry)

    assert "B01002-01" in w.neighbors["B01001-03"]
    assert all(n.startswith("B03001") for n in w.neighbors["B03001-03"])
    assert not w.islands


def test_same_seed_gives_same_p_values(lanco_micro: tuple[pd.Series, pd.Series]) -> None:
    population, geometry = lanco_micro
    rates = pd.Series(np.arange(len(population), dtype=float), index=population.index)
    w = contiguity_weights(geometry)

    first = getis_ord_star(rates, w)
    second = getis_ord_star(rates, w)

    assert first.p_sim.equals(second.p_sim)


def test_island_is_never_a_hot_spot() -> None:
    w = W({"a": ["b"], "b": ["a", "c"], "c": ["b"], "d": []}, silence_warnings=True)
    values = pd.Series([1.0, 5.0, 2.0, 70.0], index=["a", "b", "c", "d"])

    result = getis_ord_star(values, w, HotSpotParams(permutations=99))

    assert result.island["d"]
    assert result.z["d"] == 0.0
    assert result.p_sim["d"] == 1.0
    assert not result.hot["d"]


@pytest.mark.parametrize("value", [0.0, 3.5])
def test_constant_variable_has_no_hot_spots(value: float) -> None:
    codes = ["a", "b", "c", "d"]

    result = getis_ord_star(pd.Series(value, index=codes), chain(codes))

    assert (result.z == 0.0).all()
    assert (result.p_sim == 1.0).all()
    assert not result.hot.any()


def test_result_follows_the_order_of_the_values_not_of_the_weights() -> None:
    codes = ["a", "b", "c", "d"]
    values = pd.Series([10.0, 3.0, 2.0, 1.0], index=["d", "c", "b", "a"])

    result = getis_ord_star(values, chain(codes), HotSpotParams(permutations=99))

    assert list(result.z.index) == ["d", "c", "b", "a"]
    assert result.z["d"] == pytest.approx(1.224745, abs=1e-6)
