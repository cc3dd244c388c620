"""Charts and maps drawn server-side as PNG, with no network (no tiles, no web fonts).

`matplotlib.figure.Figure` directly (not pyplot): no global state, safe in worker threads,
Agg canvas. DejaVu Sans ships with matplotlib and has every Spanish accent.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from app.reports.data import FactorPoint, UnitShape

DPI = 150
INK = "#1f2933"
MUTED = "#7b8794"
ACCENT = "#c2410c"
CURRENT = "#1d4ed8"
LAST_YEAR = "#93c5fd"
STATE_COLORS = {"abierto": "#f59e0b", "vencido": "#dc2626", "resuelto": "#16a34a"}
CLASS_COLORS = {"crítico": "#b91c1c", "alto": "#f97316", "medio": "#fde68a", "bajo": "#e5e7eb"}


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.set_facecolor("white")
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # metadata without a date: the same data renders to the same bytes
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _style(ax: object) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)  # type: ignore[attr-defined]
    ax.tick_params(colors=INK, labelsize=7)  # type: ignore[attr-defined]


def trend_chart(
    labels: Sequence[str], counts: Sequence[int], moving_average: Sequence[float | None]
) -> bytes:
    """Monthly complaints (bars, the last one highlighted) with the 12-month moving average."""
    fig = _figure(7.2, 2.4)
    ax = fig.add_subplot()
    xs = range(len(labels))
    colors = [LAST_YEAR] * (len(labels) - 1) + [CURRENT]
    ax.bar(xs, counts, color=colors, width=0.75, label="Denuncias del mes")
    points = [(x, v) for x, v in zip(xs, moving_average, strict=True) if v is not None]
    if points:
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=ACCENT,
            linewidth=1.8,
            label="Promedio móvil 12 meses",
        )
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, rotation=90, fontsize=6.5)
    ax.set_ylabel("Denuncias", fontsize=7, color=INK)
    _legend_above(ax)
    _style(ax)
    return _png(fig)


def _legend_above(ax: object, ncol: int = 3) -> None:
    ax.legend(  # type: ignore[attr-defined]
        fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=ncol
    )


def paired_bars(
    names: Sequence[str],
    current: Sequence[int],
    previous: Sequence[int],
    *,
    current_label: str,
    previous_label: str,
) -> bytes:
    """Horizontal bars: this month against the same month last year, one pair per row."""
    height = 0.8 + 0.26 * len(names)
    fig = _figure(7.2, height)
    ax = fig.add_subplot()
    ys = list(range(len(names)))[::-1]
    ax.barh([y + 0.2 for y in ys], previous, height=0.38, color=LAST_YEAR, label=previous_label)
    ax.barh([y - 0.2 for y in ys], current, height=0.38, color=CURRENT, label=current_label)
    for y, value in zip(ys, current, strict=True):
        ax.text(value, y - 0.2, f" {value}", va="center", fontsize=6.5, color=INK)
    ax.set_yticks(ys)
    ax.set_yticklabels([_wrap(n, 42) for n in names], fontsize=7)
    _legend_above(ax)
    ax.margins(x=0.12)
    _style(ax)
    return _png(fig)


def unit_bars(names: Sequence[str], series: dict[str, Sequence[int]]) -> bytes:
    """Grouped horizontal bars per responsible unit (opened, resolved, overdue)."""
    height = 0.9 + 0.36 * max(len(names), 1)
    fig = _figure(7.2, height)
    ax = fig.add_subplot()
    ys = list(range(len(names)))[::-1]
    colors = {"Informados": LAST_YEAR, "Resueltos": "#16a34a", "Vencidos al cierre": "#dc2626"}
    step = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        offset = 0.4 - step * (i + 0.5)
        ax.barh(
            [y + offset for y in ys],
            values,
            height=step * 0.95,
            color=colors.get(label, MUTED),
            label=label,
        )
    ax.set_yticks(ys)
    ax.set_yticklabels([_wrap(n, 36) for n in names], fontsize=7)
    _legend_above(ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _style(ax)
    return _png(fig)


def _wrap(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _frame(shapes: Sequence[UnitShape]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"code": [s.code for s in shapes], "name": [s.name for s in shapes]},
        geometry=[s.geom for s in shapes],
        crs="EPSG:4326",
    )
    # Web Mercator is conformal: shapes look right at municipal scale.
    return frame.to_crs(3857)


def _zones(frame: gpd.GeoDataFrame, gap_m: float = 1500) -> list[gpd.GeoDataFrame]:
    """The populated zones to zoom on: units far smaller than the largest ones (a rural
    remainder would shrink the towns to dots), grouped when closer than `gap_m`. Works for
    any territory file, not only Lanco's.
    """
    areas = frame.geometry.area
    small = frame[areas <= areas.median() * 20]
    if small.empty:
        return [frame]
    blobs = small.geometry.buffer(gap_m / 2).union_all()
    parts = list(getattr(blobs, "geoms", [blobs]))
    zones = [small[small.geometry.intersects(part)] for part in parts]
    zones.sort(key=lambda z: -z.geometry.area.sum())
    return zones[:3]


def _zone_title(zone: gpd.GeoDataFrame) -> str:
    names = [str(n) for n in zone["name"]]
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix.strip(" -,")
    return prefix if len(prefix) >= 3 else ", ".join(str(c) for c in zone["code"])


def _map_panels(frame: gpd.GeoDataFrame, height: float = 3.6) -> tuple[Figure, list[Any]]:
    """A figure with one panel per populated zone, widths proportional to their shapes."""
    zones = _zones(frame)
    bounds = []
    for zone in zones:
        minx, miny, maxx, maxy = zone.total_bounds
        pad = max(maxx - minx, maxy - miny) * 0.06
        bounds.append((minx - pad, miny - pad, maxx + pad, maxy + pad))
    ratios = [max((b[2] - b[0]) / (b[3] - b[1]), 0.5) for b in bounds]
    fig = _figure(7.2, height)
    axes = fig.subplots(1, len(zones), width_ratios=ratios, squeeze=False)[0]
    for ax, zone, (minx, miny, maxx, maxy) in zip(axes, zones, bounds, strict=True):
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.set_title(_zone_title(zone), fontsize=8, color=INK, loc="left")
    return fig, list(axes)


def _label_units(ax: Any, frame: gpd.GeoDataFrame) -> None:
    minx, maxx = ax.get_xlim()
    miny, maxy = ax.get_ylim()
    for code, geom in zip(frame["code"], frame.geometry, strict=True):
        point = geom.representative_point()
        if minx <= point.x <= maxx and miny <= point.y <= maxy:
            ax.annotate(
                code,
                (point.x, point.y),
                fontsize=6,
                ha="center",
                va="center",
                color=INK,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )


def choropleth(shapes: Sequence[UnitShape], classes: dict[str, str]) -> bytes:
    """Barrios coloured by ranking class; units outside the ranking in white."""
    frame = _frame(shapes)
    fig, axes = _map_panels(frame)
    colors = [CLASS_COLORS.get(classes.get(code, ""), "white") for code in frame["code"]]
    for ax in axes:
        frame.plot(ax=ax, color=colors, edgecolor=INK, linewidth=0.6)
        _label_units(ax, frame)
    present = [c for c in CLASS_COLORS if c in classes.values()]
    handles = [Patch(facecolor=CLASS_COLORS[c], edgecolor=INK, label=c) for c in present]
    fig.legend(handles=handles, fontsize=7, frameon=False, loc="outside lower center", ncol=4)
    return _png(fig)


def risk_map(shapes: Sequence[UnitShape], points: Sequence[FactorPoint]) -> tuple[bytes, int]:
    """Barrio outlines and each risk factor as a dot coloured by its state at month's end.

    Returns the PNG and how many factors fall outside the panels (reported under the map).
    """
    frame = _frame(shapes)
    fig, axes = _map_panels(frame)
    dots = gpd.GeoDataFrame(
        {"state": [p.state for p in points]},
        geometry=gpd.points_from_xy([p.lon for p in points], [p.lat for p in points]),
        crs="EPSG:4326",
    ).to_crs(3857)
    shown = [False] * len(dots)
    for ax in axes:
        frame.plot(ax=ax, color="#f3f4f6", edgecolor=MUTED, linewidth=0.6)
        _label_units(ax, frame)
        minx, maxx = ax.get_xlim()
        miny, maxy = ax.get_ylim()
        for i, geom in enumerate(dots.geometry):
            if minx <= geom.x <= maxx and miny <= geom.y <= maxy:
                shown[i] = True
        for state, color in STATE_COLORS.items():
            subset = dots[dots["state"] == state]
            if len(subset):
                subset.plot(
                    ax=ax,
                    color=to_rgba(color, 0.9),
                    markersize=16,
                    edgecolor="white",
                    linewidth=0.4,
                    zorder=3,
                )
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
    handles = [
        Line2D([], [], marker="o", linestyle="", color=c, label=s.capitalize())
        for s, c in STATE_COLORS.items()
    ]
    fig.legend(handles=handles, fontsize=7, frameon=False, loc="outside lower center", ncol=3)
    return _png(fig), shown.count(False)


def before_after(labels: Sequence[str], before: Sequence[float], after: Sequence[float]) -> bytes:
    """Small paired bars: before and after for the intervention area and its comparison."""
    fig = _figure(3.4, 2.0)
    ax = fig.add_subplot()
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], before, width=0.38, color=LAST_YEAR, label="Antes")
    ax.bar([x + 0.2 for x in xs], after, width=0.38, color=CURRENT, label="Después")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=7)
    _legend_above(ax)
    _style(ax)
    return _png(fig)
