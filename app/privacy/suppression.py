"""Small-cell suppression with complementary suppression over a table with margins.

A published table shows each cell and its row and column totals. A count 1..threshold-1
is hidden ("<5", or "<10" for sensitive categories and any rate); cells hidden only to
protect another are shown as "suprimido" (they are not small, so "<5" would be false).
Hiding one cell of a row is not enough when the row total is shown: total minus the visible
cells gives it back. So whenever a row or column (with a published total) has exactly one
hidden cell, the next smallest cell of that line is hidden too, and this repeats until no
line has a lone hidden cell. A line with nothing left to hide gets its total hidden instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Value = int | str


COMPLEMENTARY = "suprimido"


def label(threshold: int) -> str:
    return f"<{threshold}"


def is_small(count: int, threshold: int) -> bool:
    return 0 < count < threshold


@dataclass
class SuppressedTable:
    """Cells, row totals, column totals and grand total, each an int or a "<n" label."""

    cells: dict[tuple[str, str], Value]
    row_totals: dict[str, Value]
    column_totals: dict[str, Value]
    total: Value
    hidden: set[tuple[str, str]] = field(default_factory=set)


def suppress(
    counts: dict[tuple[str, str], int], rows: list[str], columns: list[str], threshold: int
) -> SuppressedTable:
    """Suppress `counts` (missing cells are zeros, which are published as 0)."""
    value = {(r, c): counts.get((r, c), 0) for r in rows for c in columns}
    hidden = {key for key, n in value.items() if is_small(n, threshold)}
    row_total = {r: sum(value[r, c] for c in columns) for r in rows}
    col_total = {c: sum(value[r, c] for r in rows) for c in columns}
    hidden_rows = {r for r, n in row_total.items() if is_small(n, threshold)}
    hidden_cols = {c for c, n in col_total.items() if is_small(n, threshold)}

    def lines() -> list[tuple[bool, str, list[tuple[str, str]]]]:
        return [(r in hidden_rows, r, [(r, c) for c in columns]) for r in rows] + [
            (c in hidden_cols, c, [(r, c) for r in rows]) for c in columns
        ]

    changed = True
    while changed:
        changed = False
        for total_hidden, name, keys in lines():
            if total_hidden:
                continue
            lone = [k for k in keys if k in hidden]
            if len(lone) != 1:
                continue
            # hide the next smallest positive visible cell; zeros hide nothing
            candidates = sorted((value[k], k) for k in keys if k not in hidden and value[k] > 0)
            if candidates:
                hidden.add(candidates[0][1])
            elif name in row_total:
                hidden_rows.add(name)
            else:
                hidden_cols.add(name)
            changed = True
    # Margins: a hidden total must not be recoverable from the other totals either.
    if len(hidden_rows) == 1 and len(rows) > 1:
        visible = sorted((row_total[r], r) for r in rows if r not in hidden_rows)
        hidden_rows.add(visible[0][1])
    if len(hidden_cols) == 1 and len(columns) > 1:
        visible = sorted((col_total[c], c) for c in columns if c not in hidden_cols)
        hidden_cols.add(visible[0][1])
    small = label(threshold)
    grand = sum(row_total.values())

    def shown(n: int, is_hidden: bool) -> Value:
        if not is_hidden:
            return n
        return small if is_small(n, threshold) else COMPLEMENTARY

    return SuppressedTable(
        cells={k: shown(n, k in hidden) for k, n in value.items()},
        row_totals={r: shown(n, r in hidden_rows) for r, n in row_total.items()},
        column_totals={c: shown(n, c in hidden_cols) for c, n in col_total.items()},
        total=small if is_small(grand, threshold) else grand,
        hidden=hidden,
    )
