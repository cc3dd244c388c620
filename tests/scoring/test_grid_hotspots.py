"""Grid hot spots (issue #17, item 3): each statistic against the library called directly,
counts against a brute-force loop, and the planted truth of the demo world."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pytest
import shapely
from esda import G_Local
from scipy.stats import multivariate_normal
from shapely.geometry import box
from statsmodels.stats.multitest import multipletests

from app.demo.grid_recovery import recover
from app.demo.sources import sources_from_files
from app.scoring.errors import ScoringInputError
from app.scoring.grid_hotspots import (
    count_in_cells,
    distance_band_weights,
    grid_gi_star,
    hot_share,
    kde_surface,
    square_grid,
    to_metres,
)
from app.scoring.hotspots import HotSpotParams
from app.scoring.near_repeat import DEFAULT_CRS, project
from tests.scoring.factories import REPO

# a 1 km x 600 m rectangle in Lanco, lon/lat, plus a 4 m hamlet 2.5 km east (one cell)
LON0, LAT0 = -72.775, -39.452
TOWN = box(LON0, LAT0, LON0 + 0.0117, LAT0 + 0.0054)
HAMLET = box(LON0 + 0.03, LAT0, LON0 + 0.03005, LAT0 + 0.00003)
END = date(2025, 12, 1)


def _grid():
    return square_grid([TOWN, HAMLET], 50.0)


def _events(grid, n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = grid.settled.bounds
    x = rng.uniform(minx - 100, maxx + 100, n)
    y = rng.uniform(miny - 100, maxy + 100, n)
    return x, y


def test_grid_keeps_exactly_the_cells_that_intersect_the_settled_area() -> None:
    grid = _grid()
    settled = to_metres(shapely.union_all([TOWN, HAMLET]), grid.crs)
    boxes = grid.boxes()
    assert shapely.intersects(boxes, settled).all()
    # every cell of the bounding box left out misses the settled area
    minx, miny, maxx, maxy = settled.bounds
    cols = np.arange(np.floor(minx / 50), np.ceil(maxx / 50))
    rows = np.arange(np.floor(miny / 50), np.ceil(maxy / 50))
    all_boxes = [box(c * 50, r * 50, c * 50 + 50, r * 50 + 50) for c in cols for r in rows]
    expected = sum(1 for b in all_boxes if b.intersects(settled))
    assert grid.size == expected
    assert grid.x0 % 50 == 0
    assert grid.y0 % 50 == 0


def test_too_many_cells_refused_naming_the_field() -> None:
    with pytest.raises(ScoringInputError) as caught:
        square_grid([TOWN], 5.0, max_cells=1000)
    assert caught.value.errors[0]["field"] == "cell_m"
    with pytest.raises(ScoringInputError) as caught:
        square_grid([TOWN], -1.0)
    assert caught.value.errors[0]["field"] == "cell_m"


def test_counts_equal_a_brute_force_loop() -> None:
    grid = _grid()
    x, y = _events(grid, 3000)
    counted = count_in_cells(grid, x, y)
    left = grid.x0 + grid.col * grid.cell_m
    bottom = grid.y0 + grid.row * grid.cell_m
    brute = np.zeros(grid.size, dtype=int)
    for xi, yi in zip(x, y, strict=True):
        for k in range(grid.size):
            if left[k] <= xi < left[k] + 50 and bottom[k] <= yi < bottom[k] + 50:
                brute[k] += 1
    np.testing.assert_array_equal(counted.counts, brute)
    assert counted.outside == len(x) - brute.sum() > 0
    inside = counted.cell >= 0
    assert np.bincount(counted.cell[inside], minlength=grid.size).tolist() == brute.tolist()


def _clustered_counts(grid, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = grid.centres
    hot = np.hypot(*(centres - centres[len(centres) // 3]).T) < 120
    return rng.poisson(np.where(hot, 3.0, 0.3))


def test_gi_star_equals_esda_called_directly_and_bh_equals_statsmodels() -> None:
    grid = _grid()
    counts = _clustered_counts(grid)
    params = HotSpotParams()
    result = grid_gi_star(counts, grid, 125.0, params)

    weights = distance_band_weights(grid, 125.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = G_Local(
            counts.astype(float),
            weights,
            transform="B",
            star=True,
            permutations=params.permutations,
            seed=params.seed,
        )
    tested = result.tested
    assert tested.sum() == grid.size - 1  # the hamlet's lone cell has no neighbour
    np.testing.assert_allclose(result.z[tested], direct.Zs[tested], rtol=1e-12)
    np.testing.assert_allclose(result.p_sim[tested], direct.p_sim[tested], rtol=1e-12)
    assert (result.z[~tested] == 0).all()
    assert (result.q[~tested] == 1).all()
    bh = multipletests(direct.p_sim[tested], method="fdr_bh")[1]
    np.testing.assert_allclose(result.q[tested], bh, rtol=1e-12)
    above = counts > counts.mean()
    expected = (direct.Zs > 0) & above & tested
    expected[tested] &= bh <= params.alpha
    np.testing.assert_array_equal(result.hot, expected)
    assert result.hot.sum() > 0
    assert not (result.hot & ~above).any()  # high-high only


def test_constant_counts_have_no_hot_cell() -> None:
    grid = _grid()
    result = grid_gi_star(np.ones(grid.size), grid)
    assert not result.hot.any()
    assert (result.p_sim == 1).all()


def test_kde_equals_the_sum_of_scipy_normal_densities() -> None:
    grid = _grid()
    x, y = _events(grid, 40)
    h = 80.0
    surface = kde_surface(x, y, grid, h)
    points = np.column_stack((x, y))
    direct = sum(
        multivariate_normal(mean=p, cov=h**2 * np.eye(2)).pdf(grid.centres) for p in points
    )
    np.testing.assert_allclose(surface, direct * 1e6, rtol=1e-10)


def test_kde_by_hand_on_three_points() -> None:
    grid = _grid()
    cx, cy = grid.centres[0]
    # 3 events: on the centre, 100 m east, 100 m north and 100 m east; h = 100 m
    # f = (1 + e^-0.5 + e^-1) / (2 pi 100^2) per m2 = 31.42371... per km2
    surface = kde_surface(np.array([cx, cx + 100, cx + 100]), np.array([cy, cy, cy + 100]), grid)
    expected = (1 + np.exp(-0.5) + np.exp(-1.0)) / (2 * np.pi * 100**2) * 1e6
    assert surface[0] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(31.42371, rel=1e-6)


def test_hot_share_is_the_settled_area_in_hot_cells() -> None:
    grid = _grid()
    hot = np.zeros(grid.size, dtype=bool)
    west = grid.col == grid.col.min()
    hot[west] = True
    # the town's westernmost column of cells: its width over the town's width
    town = to_metres(TOWN, grid.crs)
    minx = town.bounds[0]
    strip = (grid.x0 + (grid.col.min() + 1) * 50) - minx
    units = {"town": TOWN, "hamlet": HAMLET, "nowhere": box(0, 0, 0.001, 0.001)}
    share = hot_share(grid, hot, units)
    assert share["town"] == pytest.approx(
        town.intersection(box(minx - 1, -1e8, minx + strip, 1e8)).area / town.area, rel=1e-9
    )
    assert share["hamlet"] == 0.0
    assert share["nowhere"] == 0.0


def test_projection_is_the_near_repeat_one() -> None:
    grid = _grid()
    lon, lat = np.array(TOWN.exterior.coords).T
    x, y = project(lon, lat, grid.crs)
    town = to_metres(TOWN, grid.crs)
    np.testing.assert_allclose(np.array(town.exterior.coords), np.column_stack((x, y)))
    assert grid.crs == DEFAULT_CRS


@pytest.fixture(scope="module")
def sources():
    return sources_from_files(REPO / "data" / "barrios.geojson", REPO / "data")


def test_planted_units_have_a_higher_hot_share_and_the_null_world_few_hot_cells(
    sources,
) -> None:
    wins, null_rates = 0, []
    for seed in (1, 2, 3):
        found = recover(sources, seed=seed, end=END)
        planted = list(found.planted)
        wins += found.share[planted].mean() > found.share.drop(planted).mean()
        null = recover(sources, seed=seed, end=END, signal=False)
        null_rates.append(null.hot_cells / null.cells)
    assert wins >= 2
    # observed about 1 % (Gi*'s null is an even spread over cells, people are not)
    assert max(null_rates) < 0.03


def test_gi_star_with_exposure_is_esda_on_the_pearson_residuals() -> None:
    grid = _grid()
    rng = np.random.default_rng(8)
    residents = rng.gamma(2.0, 20.0, grid.size) * (rng.random(grid.size) > 0.1)
    counts = rng.poisson(0.02 * residents) + _clustered_counts(grid)
    params = HotSpotParams()
    result = grid_gi_star(counts, grid, 125.0, params, exposure=residents)
    expected = counts.sum() * residents / residents.sum()
    lived = expected > 0
    residual = np.zeros(grid.size)
    residual[lived] = (counts[lived] - expected[lived]) / np.sqrt(expected[lived])
    weights = distance_band_weights(grid, 125.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = G_Local(
            residual - residual.min(),
            weights,
            transform="B",
            star=True,
            permutations=params.permutations,
            seed=params.seed,
        )
    tested = result.tested
    assert not tested[~lived].any()  # nobody lives there: not tested
    np.testing.assert_allclose(result.z[tested], direct.Zs[tested], rtol=1e-10)
    np.testing.assert_allclose(result.p_sim[tested], direct.p_sim[tested], rtol=1e-12)
    # Gi*'s z is the same for the residuals unshifted (the shift only keeps G's sum positive)
    z_formula = _gi_star_z(residual, weights)
    np.testing.assert_allclose(result.z[tested], z_formula[tested], rtol=1e-8)
    assert not (result.hot & (counts <= expected)).any()  # above the expected count only
    assert result.hot.sum() > 0
    with pytest.raises(ScoringInputError) as caught:
        grid_gi_star(counts, grid, exposure=residents[:-1])
    assert caught.value.errors[0]["field"] == "exposure"


def _gi_star_z(y: np.ndarray, weights) -> np.ndarray:
    """Getis & Ord (1992) Gi* z with binary weights, the focal cell included, by hand."""
    n = len(y)
    mean, s = y.mean(), np.sqrt((y**2).mean() - y.mean() ** 2)
    z = np.zeros(n)
    for i, key in enumerate(weights.id_order):
        members = [i, *weights.neighbors[key]]
        w = len(members)
        z[i] = (y[members].sum() - mean * w) / (s * np.sqrt((n * w - w**2) / (n - 1)))
    return z


def test_with_residents_as_exposure_the_null_world_has_almost_no_hot_cell(sources) -> None:
    from app.demo.grid_recovery import settled_grid  # noqa: PLC0415
    from app.demo.rtm_recovery import residents_per_cell  # noqa: PLC0415
    from app.demo.world import simulate  # noqa: PLC0415

    grid = settled_grid(sources)
    residents = residents_per_cell(sources, grid)
    plain, relative = [], []
    for seed in (1, 2, 3):
        world = simulate(sources, seed=seed, end=END, years=1, signal=False)
        c = world.complaints[world.complaints["category"].isin(sorted(sources.dmcs_codes))]
        counts = count_in_cells(grid, *project(c["lon"].to_numpy(), c["lat"].to_numpy())).counts
        plain.append(grid_gi_star(counts, grid).hot.mean())
        relative.append(grid_gi_star(counts, grid, exposure=residents).hot.mean())
    # crime follows residents: on raw counts Gi* flags the dense blocks (about 1 % of the
    # cells); against the residents almost nothing (0.008 % over 20 seeds, bench)
    assert sum(plain) > 0
    assert max(relative) < 0.002
    assert sum(relative) < sum(plain) / 5


def test_distance_band_weights_equal_libpysal_distance_band() -> None:
    from libpysal.weights import DistanceBand  # noqa: PLC0415

    grid = _grid()
    for band in (60.0, 125.0, 200.0):
        mine = distance_band_weights(grid, band)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            direct = DistanceBand(grid.centres, threshold=band, binary=True)
        assert mine.id_order == direct.id_order
        assert {k: sorted(v) for k, v in mine.neighbors.items()} == {
            k: sorted(v) for k, v in direct.neighbors.items()
        }
        assert all(set(w) == {1.0} for w in mine.weights.values() if w)
