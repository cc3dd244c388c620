"""The interval audit of the public tables (issue 12, item 2): LP intervals against hand-solved
ones, the differencing attack of the issue pinned before the fix and not after, and the demo
data through every public surface with no pinned cell.
"""

from __future__ import annotations

import itertools
import math
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.complaints.ingest import import_complaints
from app.privacy.interval_audit import Interval, Relation, find_pinned, intervals, is_pinned
from app.privacy.linked_audit import Published, audit
from app.privacy.linked_tables import ALL, Atoms, Layout, general, suppress_year
from app.privacy.runner import audit_all
from app.privacy.suppression import LinkedSet, reader_bounds, suppress_linked
from bench.privacy import demo_years, linked, per_table
from tests.factories.risk import LANCO_TOWN

FAMILIES = tuple(str(f) for f in range(1, 10))
WITH_SENSITIVE = frozenset({"1", "2", "4", "6", "7"})  # data/categories.csv
UNITS = ("B01001", "B01002", "B01003", "B03001", "BRUR")
STATS = "/api/v1/public/stats"


def test_intervals_match_a_hand_solved_table() -> None:
    # a 2x2 table (a b / c d) with its margins shown and every cell hidden:
    # a is "<5" (1..4), the others "suprimido" (>= 5); true table 3 10 / 8 12.
    rows = [Relation("r1", ("a", "b")), Relation("r2", ("c", "d"))]
    columns = [Relation("c1", ("a", "c")), Relation("c2", ("b", "d"))]
    known = {"r1": 13.0, "r2": 20.0, "c1": 11.0, "c2": 22.0}
    unknown = {"a": (1.0, 4.0), "b": (5.0, math.inf), "c": (5.0, math.inf), "d": (5.0, math.inf)}

    found = intervals(known, unknown, rows + columns)

    # by hand: b = 13 - a, c = 11 - a, d = 9 + a, with a in 1..4
    assert found == {
        "a": Interval(1, 4),
        "b": Interval(9, 12),
        "c": Interval(7, 10),
        "d": Interval(10, 13),
    }
    # and by brute force over whole tables
    tables = [
        t
        for t in itertools.product(range(0, 25), repeat=4)
        if t[0] + t[1] == 13
        and t[2] + t[3] == 20
        and t[0] + t[2] == 11
        and 1 <= t[0] <= 4
        and min(t[1:]) >= 5
    ]
    for i, key in enumerate("abcd"):
        values = [t[i] for t in tables]
        assert found[key] == Interval(min(values), max(values))
    assert not find_pinned(known, unknown, rows + columns, {"a": 5})


def test_protection_rule() -> None:
    assert not is_pinned(Interval(1, 4), 5)  # all of "<5": protected
    assert is_pinned(Interval(1, 3), 5)  # "at most 3": less than "<5" says
    assert is_pinned(Interval(3, 3), 5)
    assert not is_pinned(Interval(0, 3), 5)  # might be zero: nothing small is revealed
    assert not is_pinned(Interval(2, 40), 5)  # might be large
    assert not is_pinned(Interval(5, math.inf), 5)  # a complementary cell
    assert not is_pinned(Interval(1, 9), 10)
    assert is_pinned(Interval(1, 8), 10)


def _audit_shown(
    shown: dict[Any, int | str], relations: list[Relation], protected: set[str], *, masked: bool
) -> dict[Any, Interval]:
    known = {k: float(v) for k, v in shown.items() if isinstance(v, int)}
    unknown = {
        k: reader_bounds(v, 5, zeros_masked=masked) for k, v in shown.items() if k not in known
    }
    return {
        p.key: p.interval
        for p in find_pinned(known, unknown, relations, dict.fromkeys(protected & set(unknown), 5))
    }


def test_four_small_parts_of_a_small_total_are_pinned_only_while_zeros_are_shown() -> None:
    # a line of six: 1, 1, 1, 1, 0, 0, total 4; every part and the total are "<5"
    line = [Relation("t", ("a", "b", "c", "d", "e", "f"))]
    values = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 0, "f": 0, "t": 4}
    small = {"a", "b", "c", "d", "t"}
    old = {k: "<5" if k in small else v for k, v in values.items()}

    # the old rule: zeros always shown, so "<5" is 1..4 and four of them in 4 are 1 each
    before = _audit_shown(old, line, small, masked=False)
    assert before == dict.fromkeys("abcd", Interval(1, 1)) | {"t": Interval(4, 4)}

    shown = suppress_linked(LinkedSet(values, dict.fromkeys(values, 5), line)).shown
    assert all(shown[k] == "<5" for k in small)
    assert _audit_shown(dict(shown), line, small, masked=True) == {}
    assert intervals(
        {k: float(v) for k, v in shown.items() if isinstance(v, int)},
        {k: reader_bounds(v, 5) for k, v in shown.items() if not isinstance(v, int)},
        line,
    )["a"] == Interval(0, 4)


def test_a_zero_is_hidden_as_a_label_to_protect_a_small_cell() -> None:
    # 3 + 4 + 0 + 0 = 7 shown: "<5" = 0..4 gives 3..4 for the first, so one zero is hidden
    # with the same label (first in data order) and the total stays visible
    line = [Relation("t", ("a", "b", "c", "d"))]
    values = {"a": 3, "b": 4, "c": 0, "d": 0, "t": 7}

    result = suppress_linked(LinkedSet(values, dict.fromkeys(values, 5), line))

    assert result.shown == {"a": "<5", "b": "<5", "c": "<5", "d": 0, "t": 7}
    assert _audit_shown(dict(result.shown), line, {"a", "b", "c"}, masked=True) == {}


def test_a_zero_another_line_would_give_back_is_not_hidden() -> None:
    # the same line, but its first zero is also in a line of zeros (c + d = k = 0): hidden,
    # it would be read back as 0, so the total is hidden instead, as before zeros could be
    lines = [Relation("t", ("a", "b", "c")), Relation("k", ("c", "d"))]
    values = {"a": 3, "b": 4, "c": 0, "t": 7, "d": 0, "k": 0}

    result = suppress_linked(LinkedSet(values, dict.fromkeys(values, 5), lines))

    assert result.shown == {"a": "<5", "b": "<5", "c": 0, "t": "suprimido", "d": 0, "k": 0}


def _comuna_body(year: int, family: str | None, july: int | str) -> dict[str, Any]:
    """A level=comuna stats body with one non-zero month, as a per-table suppression shows
    it: a small July makes every total of that table "<5" as well.
    """
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    value = {m: (july if m == f"{year}-07" else 0) for m in months}
    return {
        "level": "comuna",
        "year": year,
        "family": family,
        "cells": [{"unit": "14103", "month": m, "count": value[m]} for m in months],
        "unit_totals": [{"unit": "14103", "count": july}],
        "month_totals": [{"month": m, "count": value[m]} for m in months],
        "total": july,
    }


ISSUE_JULY = {"1": 18, "2": 0, "3": "<5", "4": 0, "5": 9, "6": 0, "7": 27, "8": 0, "9": 0}


def test_the_issues_differencing_case_is_pinned() -> None:
    # comuna 2022-07: all families 57; families 1-9: 18, 0, "<5", 0, 9, 0, 27, 0, 0
    seen = Published()
    seen.add_stats(_comuna_body(2022, None, 57), "todas")
    for family, july in ISSUE_JULY.items():
        seen.add_stats(_comuna_body(2022, family, july), f"familia {family}")
    layout = Layout(2022, UNITS, FAMILIES, WITH_SENSITIVE)

    result = audit(seen, [layout])

    pinned = {f.key: f.interval for f in result.findings}
    assert pinned[general(ALL, "2022-07", "3")] == Interval(3, 3)  # robos violentos = 3
    assert pinned[general(ALL, "2022", "3")] == Interval(3, 3)
    assert "familia 3" in " ".join(str(f) for f in result.findings)


def test_the_same_counts_suppressed_as_one_set_are_not_pinned() -> None:
    layout = Layout(2022, UNITS, FAMILIES, WITH_SENSITIVE)
    counts = {("B01001", "2022-07", f): n for f, n in (("1", 18), ("3", 3), ("5", 9), ("7", 27))}
    atoms = Atoms.of(counts, {})

    before = audit(per_table(layout, atoms), [layout])
    now, hidden = linked(layout, atoms)
    after = audit(now, [layout])

    assert general(ALL, "2022-07", "3") in {f.key for f in before.findings}
    assert after.findings == []
    shown = suppress_year(layout, atoms).shown
    assert shown[general(ALL, "2022-07", "3")] == "<5"
    # something else of July is hidden too: the visible families no longer add up
    july = [shown[general(ALL, "2022-07", f)] for f in (ALL, "1", "5", "7")]
    assert "suprimido" in july
    assert hidden > 4


def test_a_conflicting_number_is_a_finding() -> None:
    seen = Published()
    seen.add(general(ALL, "2022-07", ALL), 57, "una")
    seen.add(general(ALL, "2022-07", ALL), 56, "otra")
    seen.add(general(ALL, "2022-07", "3"), "<5", "una")
    seen.add(general(ALL, "2022-07", "3"), 3, "otra")  # a number shown anywhere is known

    assert len(seen.conflicts) == 1
    assert seen.shown[general(ALL, "2022-07", "3")] == 3


# Demo data: two months of 2025 (the generator's calendar, Poisson volumes calibrated on
# Lanco's CEAD series), small enough for CI and busy enough to have small cells everywhere.
DEMO_END = date(2025, 2, 1)


@pytest.fixture(scope="module")
def demo_2025() -> Any:
    return demo_years(DEMO_END, 1, 1)[2025]


def test_per_table_suppression_of_demo_data_leaks_and_the_linked_set_does_not(
    demo_2025: Any,
) -> None:
    before = audit(per_table(demo_2025.layout, demo_2025.atoms), [demo_2025.layout])
    now, _ = linked(demo_2025.layout, demo_2025.atoms)
    after = audit(now, [demo_2025.layout])

    assert len(before.findings) > 0  # what issue 12 found in 2021-2026
    assert after.findings == [], [str(f) for f in after.findings]
    # read as the old rule meant them ("<5" = 1..4, every zero shown), the labels pin cells
    assert audit(now, [demo_2025.layout], zeros_masked=False).findings


@pytest.fixture
def issue_complaints(db: Session) -> None:
    """The issue's July 2022: 18 of family 1, 3 robos violentos, 9 of family 5, 27 of 7."""
    rows = []
    for category, n in (("151", 18), ("351", 3), ("551", 9), ("70201", 27)):
        rows += [
            {
                "external_ref": f"D-{category}-{i}",
                "source": "carabineros",
                "category": category,
                "occurred_at": "2022-07-10T12:00:00",
                "lon": LANCO_TOWN[0],
                "lat": LANCO_TOWN[1],
                "precision": "exact",
            }
            for i in range(n)
        ]
    import_complaints(db, rows, loaded_by="carabineros/prueba")
    db.commit()


@pytest.mark.usefixtures("issue_complaints")
def test_live_outputs_of_the_differencing_case_pass_the_audit(
    client: TestClient, db: Session
) -> None:
    by_family = client.get(STATS, params={"year": 2022, "level": "comuna", "family": "3"})
    assert by_family.json()["cells"][6]["count"] == "<5"
    july = [
        client.get(STATS, params={"year": 2022, "level": "comuna", **extra}).json()["cells"][6]
        for extra in ({}, {"family": "1"}, {"family": "5"}, {"family": "7"})
    ]
    assert "suprimido" in [c["count"] for c in july]  # 57 - 18 - 9 - 27 no longer works

    result = audit_all(client, db, [2022])

    assert result.audited > 0
    assert result.findings == [], [str(f) for f in result.findings]


def test_demo_data_through_every_public_surface_has_no_pinned_cell(
    client: TestClient, db: Session
) -> None:
    from app.demo import complaints as demo_data

    rows = [
        r.as_row()
        for r in demo_data.generate(_demo_sources(), end=DEMO_END, years=1, seed=1)
        if r.occurred_at.year == 2025
    ]
    import_complaints(db, rows, loaded_by="demo/prueba")
    db.commit()

    result = audit_all(client, db, [2025])

    assert len(rows) > 100
    assert result.audited > 50
    assert result.findings == [], [str(f) for f in result.findings]


def _demo_sources() -> Any:
    from app.demo import complaints as demo_data
    from app.settings import TerritorySettings
    from app.territory.service import parse_territory
    from tests.conftest import LANCO_FILE, REPO, load_json

    territory = parse_territory(load_json(LANCO_FILE), TerritorySettings())
    barrios = [demo_data.BarrioShape(b.code, b.population or 0, b.geom) for b in territory.barrios]
    return demo_data.build_sources(barrios, demo_data.DemoFiles.in_directory(REPO / "data"))


_SUPPRESS_RANDOM_YEAR = """
import numpy as np
from app.privacy.linked_tables import Atoms, Layout, suppress_year
rng = np.random.default_rng(3)
units = ("B01001", "B01002", "B01003", "B03001", "BRUR")
families = tuple(str(f) for f in range(1, 10))
general = {
    (u, f"2024-{m:02d}", f): int(rng.poisson(1.2))
    for u in units for m in (1, 2) for f in ("1", "3", "5", "7", "8", "9")
}
sensitive = {(f, "2024-T1"): int(rng.poisson(2)) for f in ("1", "2", "4", "6", "7")}
layout = Layout(2024, units, families, frozenset({"1", "2", "4", "6", "7"}))
shown = suppress_year(layout, Atoms.of(general, sensitive)).shown
print(sorted((repr(k), repr(v)) for k, v in shown.items()))
"""


def test_every_process_hides_the_same_cells() -> None:
    # string hashes differ between processes (uvicorn workers): a set's order must not
    # decide what is hidden, or two workers would show two patterns that reveal each other
    import os
    import subprocess
    import sys

    outputs = {
        subprocess.run(
            [sys.executable, "-c", _SUPPRESS_RANDOM_YEAR],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert "suprimido" in outputs.pop()
