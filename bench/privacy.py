"""Linked-table suppression on realistic data: time, cells hidden, cells the audit pins.

    python -m bench.privacy [--years 6] [--seed 1]

Pure: the demo generator's complaints for Lanco (app/demo/complaints.py), placed in
barrios with shapely, counted per year as the service counts them, then suppressed two ways:
per table (what Vigía did before issue 12: each /api/v1/public/stats response and each
report table on its own) and as one linked set (what it does now). The interval audit
counts the hidden cells a reader can pin in each. Ratios and counts, no assertions
(docs/benchmarks.md); tests/test_privacy_audit.py asserts the zero.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shapely import Point
from shapely.prepared import prep

from app.demo import complaints as demo_data
from app.privacy.linked_audit import Published, audit
from app.privacy.linked_tables import (
    ALL,
    Atoms,
    Layout,
    general,
    sensitive,
    suppress_year,
    true_values,
)
from app.privacy.suppression import suppress
from app.privacy.thresholds import GENERAL_THRESHOLD, SENSITIVE_THRESHOLD

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DemoYear:
    layout: Layout
    atoms: Atoms


def demo_years(end: date, years: int, seed: int) -> dict[int, DemoYear]:
    """The demo complaints of `years` years up to `end`, as each year's layout and counts."""
    import orjson

    from app.settings import TerritorySettings
    from app.territory.service import parse_territory

    document = orjson.loads((REPO / "data" / "barrios.geojson").read_bytes())
    territory = parse_territory(document, TerritorySettings())
    shapes = [demo_data.BarrioShape(b.code, b.population or 0, b.geom) for b in territory.barrios]
    sources = demo_data.build_sources(shapes, demo_data.DemoFiles.in_directory(REPO / "data"))
    catalog = list(csv.DictReader((REPO / "data" / "categories.csv").open(encoding="utf-8")))
    family_of = {r["code"]: r["family_code"] for r in catalog}
    is_sensitive = {r["code"]: r["sensitive"] == "true" for r in catalog}
    families = tuple(sorted({r["family_code"] for r in catalog}, key=lambda f: (len(f), f)))
    with_sensitive = frozenset(r["family_code"] for r in catalog if r["sensitive"] == "true")
    units = tuple(b.code for b in shapes if b.population >= 1000)  # Lanco: no "otros"
    prepared = [(b.code, prep(b.geom)) for b in shapes]
    general_counts: dict[int, dict[tuple[str, str, str], int]] = defaultdict(
        lambda: defaultdict(int)
    )
    sensitive_counts: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for row in demo_data.generate(sources, end=end, years=years, seed=seed):
        local = row.occurred_at
        family = family_of[row.category]
        if is_sensitive[row.category]:
            quarter = f"{local.year}-T{(local.month - 1) // 3 + 1}"
            sensitive_counts[local.year][family, quarter] += 1
            continue
        point = Point(row.lon, row.lat)
        unit = next((code for code, geom in prepared if geom.contains(point)), units[-1])
        general_counts[local.year][unit, f"{local.year}-{local.month:02d}", family] += 1
    return {
        year: DemoYear(
            Layout(year, units, families, with_sensitive),
            Atoms.of(general_counts[year], sensitive_counts[year]),
        )
        for year in sorted(general_counts)
    }


def per_table(layout: Layout, atoms: Atoms) -> Published:
    """What a reader collected before the fix: every table suppressed on its own."""
    values = true_values(layout, atoms)
    seen = Published()
    year = str(layout.year)
    for level_units in ((ALL,), layout.units):
        for family in (ALL, *layout.families):
            counts = {
                (u, m): values[general(u, m, family)] for u in level_units for m in layout.months
            }
            table = suppress(counts, list(level_units), list(layout.months), GENERAL_THRESHOLD)
            for (u, m), shown in table.cells.items():
                seen.add(general(u, m, family), shown, "stats")
            for u, shown in table.row_totals.items():
                seen.add(general(u, year, family), shown, "stats")
            for m, shown in table.column_totals.items():
                seen.add(general(ALL, m, family), shown, "stats")
            seen.add(general(ALL, year, family), table.total, "stats")
    quarters = suppress(
        {("c", q): values[sensitive(q)] for q in layout.quarters},
        ["c"],
        list(layout.quarters),
        SENSITIVE_THRESHOLD,
    )
    for q in layout.quarters:
        seen.add(sensitive(q), quarters.cells["c", q], "stats")
    seen.add(sensitive(year), quarters.total, "stats")
    rows = {("f", f): values[layout.report_row(f)] for f in layout.families}
    report = suppress(
        {(f, "now"): n for (_, f), n in rows.items()},
        list(layout.families),
        ["now"],
        SENSITIVE_THRESHOLD,
    )
    for f in layout.families:
        seen.add(layout.report_row(f), report.cells[f, "now"], "cuenta pública")
    seen.add(layout.report_row(ALL), report.column_totals["now"], "cuenta pública")
    return seen


def linked(layout: Layout, atoms: Atoms) -> tuple[Published, int]:
    """What a reader collects now: every surface reads the one suppressed set."""
    result = suppress_year(layout, atoms)
    seen = Published()
    for key, shown in result.shown.items():
        seen.add(key, shown, "salidas públicas")
    return seen, len(result.hidden)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(list(argv) if argv is not None else None)
    data = demo_years(date(2026, 10, 1), args.years, args.seed)
    print(
        "año  denuncias  celdas  ocultas(antes) acotadas(antes)  ocultas(ahora) "
        "acotadas(ahora) ceros_ocultos  supresión_cpu_s  auditoría_cpu_s"
    )
    for year, demo in data.items():
        values = true_values(demo.layout, demo.atoms)
        before = per_table(demo.layout, demo.atoms)
        hidden_before = sum(1 for v in before.shown.values() if not isinstance(v, int))
        pinned_before = audit(before, [demo.layout]).findings
        # CPU seconds of this process: the machine is shared, wall time drifts with its load
        start = time.process_time()
        now, hidden_now = linked(demo.layout, demo.atoms)
        suppress_s = time.process_time() - start
        start = time.process_time()
        audited = audit(now, [demo.layout])
        pinned_now = audited.findings
        # zeros shown with a label to protect a small cell
        zeros = sum(1 for k, v in now.shown.items() if isinstance(v, str) and values[k] == 0)
        audit_s = time.process_time() - start
        total = values[demo.layout.report_row(ALL)]
        print(
            f"{year} {total:10d} {len(now.shown):7d} {hidden_before:14d} {len(pinned_before):15d} "
            f"{hidden_now:15d} {len(pinned_now):15d} {zeros:13d} {suppress_s:12.2f} "
            f"{audit_s:12.2f}"
        )


if __name__ == "__main__":
    main()
