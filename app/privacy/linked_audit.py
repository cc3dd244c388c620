"""The outside auditor's view: rebuild the linked cells from what the public surfaces print,
then ask the interval audit whether any hidden or unpublished count is pinned.

Pure code. `Published` collects cells from responses (`/api/v1/public/stats`, the CSV of
`/estadisticas`, the cuenta pública's data) under the keys of app/privacy/linked_tables.py;
`audit` knows only those numbers, the labels' bounds ("<5": 0..4, "<10": 0..9,
"suprimido": at least the threshold), the relations and the non-negativity of counts.
`vigia privacy check` feeds it the live outputs; a test feeds it the differencing case of
issue 12 and sees it fail.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.privacy.interval_audit import (
    InconsistentTables,
    Interval,
    Pinned,
    find_pinned,
)
from app.privacy.linked_tables import ALL, Layout, general, relations, sensitive, threshold
from app.privacy.suppression import COMPLEMENTARY, Key, Value, reader_bounds


@dataclass(frozen=True)
class Finding:
    key: Key | None  # None: the tables as a whole
    interval: Interval | None
    detail: str

    def __str__(self) -> str:
        where = "tablas publicadas" if self.key is None else describe(self.key)
        return f"{where}: {self.detail}"


def describe(key: Key) -> str:
    """A cell key in words, for the check's report."""
    assert isinstance(key, tuple)
    kind, *rest = key
    if kind == "G":
        unit, period, family = rest
        where = "comuna" if unit == ALL else f"unidad {unit}"
        what = "todas las familias" if family == ALL else f"familia {family}"
        return f"denuncias no sensibles, {where}, {period}, {what}"
    if kind == "S":
        return f"denuncias sensibles, comuna, {rest[0]}"
    if kind == "R":
        family, year = rest
        what = "total" if family == ALL else f"familia {family}"
        return f"cuenta pública {year}, {what}"
    family, year = rest
    return f"parte sensible de la familia {family} en {year} (no publicada)"


@dataclass
class Published:
    """Every public number a reader has seen, one value per cell."""

    shown: dict[Key, Value] = field(default_factory=dict)
    conflicts: list[Finding] = field(default_factory=list)
    sources: int = 0

    def add(self, key: Key, value: Value, where: str) -> None:
        before = self.shown.get(key)
        if before is None or before == value:
            self.shown[key] = value
            return
        if isinstance(before, int) and isinstance(value, int):
            detail = f"{where} muestra {value}, otra salida {before}"
            self.conflicts.append(Finding(key, None, detail))
        elif isinstance(value, int):
            self.shown[key] = value  # a number shown anywhere is known everywhere
        elif not isinstance(before, int) and value != before:
            low, high = _intersect(
                reader_bounds(before, threshold(key)), reader_bounds(value, threshold(key))
            )
            if low > high:
                self.conflicts.append(Finding(key, None, f"{where}: etiquetas incompatibles"))
            elif value != COMPLEMENTARY:
                self.shown[key] = value

    def add_stats(self, body: dict[str, Any], where: str) -> None:
        """One /api/v1/public/stats body (or the CSV of /estadisticas, parsed alike)."""
        self.sources += 1
        family = body["family"] if body.get("family") is not None else ALL
        year = str(body["year"])

        def unit(code: str) -> str:
            return ALL if body["level"] == "comuna" else code

        for c in body["cells"]:
            self.add(general(unit(c["unit"]), c["month"], family), c["count"], where)
        for t in body["unit_totals"]:
            self.add(general(unit(t["unit"]), year, family), t["count"], where)
        for t in body["month_totals"]:
            self.add(general(ALL, t["month"], family), t["count"], where)
        self.add(general(ALL, year, family), body["total"], where)
        for q in body.get("sensitive_by_quarter", []):
            self.add(sensitive(q["quarter"]), q["count"], where)
        if "sensitive_total" in body:
            self.add(sensitive(year), body["sensitive_total"], where)

    def add_report(self, data: dict[str, Any], now: Layout, before: Layout, where: str) -> None:
        """The cuenta pública's numbers (`reports.public.public_data`), this year and last."""
        self.sources += 1
        for row in data["families"]:
            self.add(now.report_row(row["family"]), row["count"], where)
            self.add(before.report_row(row["family"]), row["previous_count"], where)
        self.add(now.report_row(ALL), data["total"], where)
        self.add(before.report_row(ALL), data["previous_total"], where)
        for row in data["barrios"]:
            self.add(general(row["barrio"], str(now.year), ALL), row["count"], where)
            self.add(general(row["barrio"], str(before.year), ALL), row["previous_count"], where)


def csv_as_stats(text: str, *, level: str, year: int, family: str | None) -> dict[str, Any]:
    """The /estadisticas.csv table in the shape of a stats body (labels kept as shown)."""
    rows = list(csv.reader(io.StringIO(text)))
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    months = header[2:-1]

    def value(text: str) -> Value:
        return int(text) if text.isdigit() else text

    return {
        "level": level,
        "year": year,
        "family": family,
        "cells": [
            {"unit": r[0], "month": m, "count": value(v)}
            for r in body
            for m, v in zip(months, r[2:-1], strict=True)
        ],
        "unit_totals": [{"unit": r[0], "count": value(r[-1])} for r in body],
        "month_totals": [
            {"month": m, "count": value(v)} for m, v in zip(months, totals[2:-1], strict=True)
        ],
        "total": value(totals[-1]),
    }


@dataclass(frozen=True)
class AuditResult:
    audited: int  # hidden or unpublished cells whose interval was checked
    findings: list[Finding]  # pinned cells (or contradictions): the check fails


def audit(
    published: Published, layouts: Iterable[Layout], *, zeros_masked: bool = True
) -> AuditResult:
    """Every hidden or unpublished count that the published numbers pin (`is_pinned`).

    `zeros_masked=False` reads the labels as the old rule meant them ("<5": 1..4, every zero
    shown), to show what a reader could pin under it.
    """
    linked = [r for layout in layouts for r in relations(layout)]
    known: dict[Key, float] = {}
    unknown: dict[Key, tuple[float, float]] = {}
    for key, value in published.shown.items():
        if isinstance(value, int):
            known[key] = float(value)
        else:
            unknown[key] = reader_bounds(value, threshold(key), zeros_masked=zeros_masked)
    for relation in linked:
        for key in (relation.total, *relation.parts):
            if key not in known and key not in unknown:
                unknown[key] = (0.0, math.inf)  # not published anywhere the check looked
    protected = {k: threshold(k) for k, (low, _) in unknown.items() if low < threshold(k)}
    try:
        pinned = find_pinned(known, unknown, linked, protected)
    except InconsistentTables as exc:
        inconsistent = Finding(None, None, str(exc))
        return AuditResult(len(protected), [*published.conflicts, inconsistent])

    def finding(p: Pinned) -> Finding:
        interval = f"{p.interval.low:.0f}..{p.interval.high:.0f}"
        limit = threshold(p.key)
        why = f"protección: que incluya 0, llegue a {limit} o sea todo 1..{limit - 1}"
        return Finding(p.key, p.interval, f"acotada a {interval} ({why})")

    return AuditResult(len(protected), [*published.conflicts, *(finding(p) for p in pinned)])


def _intersect(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return max(a[0], b[0]), min(a[1], b[1])
