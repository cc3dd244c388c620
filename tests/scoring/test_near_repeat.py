"""The Knox table of app/scoring/near_repeat.py against a brute-force pair loop and against
pointpats' Knox test called directly on the same events; then the planted near-repeat
pattern of the demo world is found, and the null world stays near the nominal level."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pytest

from app.demo.near_repeat_recovery import RECOVERY_SPEC, recover
from app.demo.planted import PlantedSpec
from app.demo.sources import DemoSources, sources_from_files
from app.demo.world import simulate
from app.scoring.near_repeat import NearRepeatInputError, band_labels, knox_table
from tests.conftest import LANCO_FILE, REPO

D_EDGES = (100.0, 200.0, 300.0, 400.0)
T_EDGES = (7.0, 14.0, 21.0, 28.0)


def _events(n: int = 250, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 2500, n), rng.uniform(0, 2500, n)
    t = np.floor(rng.uniform(0, 365, n))
    # a few near repeats, so that the first cell is not empty; integer gaps hit the edges
    x[:20], y[:20], t[:20] = x[20:40] + 30, y[20:40], t[20:40] + 7
    return x, y, t


def _brute_force(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    table = np.zeros((len(D_EDGES) + 1, len(T_EDGES) + 1), dtype=int)
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            d = float(np.hypot(x[i] - x[j], y[i] - y[j]))
            gap = abs(float(t[i] - t[j]))
            a = next((k for k, e in enumerate(D_EDGES) if d <= e), len(D_EDGES))
            b = next((k for k, e in enumerate(T_EDGES) if gap <= e), len(T_EDGES))
            table[a, b] += 1
    return table


def test_observed_counts_equal_a_pair_loop() -> None:
    x, y, t = _events(120)
    result = knox_table(x, y, t, permutations=9)
    assert result.observed.tolist() == _brute_force(x, y, t).tolist()
    assert result.observed.sum() == 120 * 119 // 2


def test_each_permutation_keeps_the_pairs_and_the_time_margin() -> None:
    x, y, t = _events()
    result = knox_table(x, y, t, permutations=199, seed=3)
    # the time-band totals (columns) do not depend on which event has which time
    assert np.allclose(result.expected.sum(axis=0), result.observed.sum(axis=0))
    assert result.expected.sum() == pytest.approx(result.pairs)


def test_single_threshold_equals_pointpats_knox() -> None:
    spacetime = pytest.importorskip("pointpats.spacetime")
    x, y, t = _events()
    ours = knox_table(
        x, y, t, distance_edges_m=(100.0,), time_edges_days=(7.0,), permutations=999, seed=11
    )
    np.random.seed(11)  # pointpats draws from numpy's global generator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = spacetime.Knox(
            np.column_stack([x, y]), t[:, None], delta=100, tau=7, permutations=999
        )
    assert ours.observed[0, 0] == theirs.statistic_
    assert ours.observed.tolist() == theirs.observed.astype(int).tolist()
    # the permutation mean estimates the exact expectation NS * NT / pairs
    assert ours.expected[0, 0] == pytest.approx(theirs.expected[0, 0], rel=0.05)
    # two independent Monte-Carlo p-values of 999 draws: within ~4 standard errors
    p = theirs.p_sim
    assert abs(ours.p_values[0, 0] - p) <= 4 * np.sqrt(2 * p * (1 - p) / 999) + 1e-3
    assert 0.0 < p < 0.2  # the planted pairs make it a meaningful comparison


def test_same_seed_same_table_and_p_value_formula() -> None:
    x, y, t = _events()
    first = knox_table(x, y, t, permutations=99, seed=5)
    again = knox_table(x, y, t, permutations=99, seed=5)
    assert np.array_equal(first.p_values, again.p_values)
    assert np.array_equal(first.expected, again.expected)
    # (1 + #sim >= obs) / (1 + R): a multiple of 1/100 between 1/100 and 1
    assert np.allclose(first.p_values * 100, np.round(first.p_values * 100))
    assert first.p_values.min() >= 0.01
    assert first.p_values[0, 0] == pytest.approx(0.01)  # 20 planted near repeats


def test_reading_and_labels_in_spanish() -> None:
    x, y, t = _events()
    result = knox_table(x, y, t, permutations=99)
    cell = result.cells()[0]
    assert cell.significant
    ratio = f"{cell.ratio:.1f}".replace(".", ",")
    assert cell.reading == (
        f"en los 7 días siguientes, a menos de 100 m, el riesgo es {ratio} veces el esperado"
    )
    assert band_labels(D_EDGES, "m") == (
        "0 a 100 m",
        "101 a 200 m",
        "201 a 300 m",
        "301 a 400 m",
        "más de 400 m",
    )
    assert all(c.reading is None for c in result.cells() if not c.significant)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_events": 100}, "events"),
        ({"distance_edges_m": (200.0, 100.0)}, "distance_bands"),
        ({"time_edges_days": ()}, "time_bands"),
        ({"permutations": 0}, "permutations"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, object], field: str) -> None:
    x, y, t = _events()
    with pytest.raises(NearRepeatInputError) as caught:
        knox_table(x, y, t, **kwargs)  # type: ignore[arg-type]
    assert caught.value.errors[0]["field"] == field
    with pytest.raises(NearRepeatInputError):
        knox_table(x[:2], y[:2], t[:2])


# --- planted truth -------------------------------------------------------------------------

END = date(2024, 12, 1)


@pytest.fixture(scope="module")
def sources() -> DemoSources:
    return sources_from_files(LANCO_FILE, REPO / "data")


def test_near_repeat_moves_only_places_of_its_category(sources: DemoSources) -> None:
    plain = simulate(sources, seed=3, end=END, years=2)
    planted = simulate(sources, seed=3, end=END, years=2, spec=RECOVERY_SPEC)
    a, b = plain.complaints, planted.complaints
    assert a["category"].tolist() == b["category"].tolist()
    assert a["occurred_at"].equals(b["occurred_at"])
    other = a["category"] != "551"
    assert a[other].equals(b[other])
    moved = (a["lon"] != b["lon"]) | (a["lat"] != b["lat"])
    assert 0 < moved.sum() <= planted.truth.near_repeat["moved"]  # type: ignore[index]
    assert plain.truth.near_repeat is None
    null = simulate(sources, seed=3, end=END, years=2, signal=False, spec=RECOVERY_SPEC)
    assert null.truth.near_repeat is None
    assert null.complaints.equals(
        simulate(sources, seed=3, end=END, years=2, signal=False).complaints
    )
    again = simulate(sources, seed=3, end=END, years=2, spec=RECOVERY_SPEC)
    assert again.complaints.equals(b)
    assert PlantedSpec().near_repeat_category is None  # the demo data stay as they were


def test_knox_finds_the_planted_pattern_and_not_the_null_one(sources: DemoSources) -> None:
    found = [recover(sources, seed=s, signal=True, end=END)[0] for s in range(1, 6)]
    assert sum(r.planted_flagged for r in found) >= 4, found
    null = [recover(sources, seed=s, signal=False, end=END)[0] for s in range(1, 21)]
    flagged = sum(r.flagged_cells for r in null) / sum(r.cells for r in null)
    assert flagged <= 0.10, flagged
    assert sum(r.planted_flagged for r in null) <= 2


def test_whole_days_table_equals_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.scoring.near_repeat as module

    x, y, t = _events()
    fast = knox_table(x, y, t, permutations=99, seed=8)
    monkeypatch.setattr(module, "_MAX_DAY_SPAN", -1)  # whole days through the binary search
    general = knox_table(x, y, t, permutations=99, seed=8)
    assert np.array_equal(fast.observed, general.observed)
    assert np.array_equal(fast.p_values, general.p_values)
    fractional = knox_table(x, y, t + 0.25, permutations=99, seed=8)
    assert np.array_equal(fractional.observed, fast.observed)
