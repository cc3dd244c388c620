"""Charts and maps drawn server-side as PNG, with no network (no tiles, no web fonts).

`matplotlib.figure.Figure` directly (not pyplot): no global state, safe in worker threads,
Agg canvas. DejaVu Sans ships with matplotlib and has every Spanish accent.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from matplotlib.collections import PatchCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator

from app.reports.data import FactorPoint, UnitShape

DPI = 150
EARTH_RADIUS_M = 6378137.0  # WGS84 semi-major axis, the sphere of EPSG:3857
INK = "#1f2933"
MUTED = "#7b8794"
ACCENT = "#c2410c"
CURRENT = "#1d4ed8"
LAST_YEAR = "#93c5fd"
STATE_COLORS = {"abierto": "#f59e0b", "vencido": "#dc2626", "resuelto": "#16a34a"}
CLASS_COLORS = {"crítico": "#b91c1c", "alto": "#f97316", "medio": "#fde68a", "bajo": "#e5e7eb"}
# risk-terrain cells by relative risk (upper bound, colour, label), as on the web map
TERRAIN_CLASSES = ((2.0, "#fdd49e", "hasta 2 veces"), (4.0, "#fc8d59", "2 a 4 veces"),
                   (float("inf"), "#b30000", "más de 4 veces"))  # fmt: skip


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.set_facecolor("white")
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # metadata without a date: the same data renders to the same bytes. Light zlib
    # compression: the same pixels, encoded ~3x faster; WeasyPrint recompresses images into
    # the PDF anyway (same PDF size), only the HTML version grows (~15 %).
    fig.savefig(buffer, format="png", metadata={"Software": None}, pil_kwargs={"compress_level": 1})
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


def month_bars(labels: Sequence[str], counts: Sequence[int], *, label: str, goal: int) -> bytes:
    """Per month bars against a horizontal line at the monthly goal (council sessions)."""
    fig = _figure(7.2, 2.0)
    ax = fig.add_subplot()
    xs = range(len(labels))
    colors = [CURRENT if c >= goal else ACCENT for c in counts]
    ax.bar(xs, counts, color=colors, width=0.7, label=label)
    ax.axhline(goal, color=MUTED, linewidth=1, linestyle="--", label=f"Mínimo: {goal} al mes")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=6.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([goal + 1, *counts]))
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
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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


@dataclass(frozen=True)
class _Frame:
    """Barrio codes, names and shapes in Web Mercator metres, in the same order."""

    codes: list[str]
    names: list[str]
    geoms: np.ndarray  # of shapely geometries


def _web_mercator(lonlat: np.ndarray) -> np.ndarray:
    """EPSG:4326 to EPSG:3857 (spherical Mercator on the WGS84 radius), as PROJ does it."""
    x = EARTH_RADIUS_M * np.radians(lonlat[:, 0])
    y = EARTH_RADIUS_M * np.log(np.tan(np.pi / 4 + np.radians(lonlat[:, 1]) / 2))
    return np.column_stack([x, y])


def _frame(shapes: Sequence[UnitShape]) -> _Frame:
    # Web Mercator is conformal: shapes look right at municipal scale.
    geoms = shapely.transform(np.array([s.geom for s in shapes], dtype=object), _web_mercator)
    return _Frame([s.code for s in shapes], [s.name for s in shapes], geoms)


def _subset(frame: _Frame, keep: np.ndarray) -> _Frame:
    return _Frame(
        [c for c, k in zip(frame.codes, keep, strict=True) if k],
        [n for n, k in zip(frame.names, keep, strict=True) if k],
        frame.geoms[keep],
    )


def _zones(frame: _Frame, gap_m: float = 1500) -> list[_Frame]:
    """The populated zones to zoom on: units far smaller than the largest ones (a rural
    remainder would shrink the towns to dots), grouped when closer than `gap_m`. Works for
    any territory file, not only Lanco's.
    """
    areas = shapely.area(frame.geoms)
    small = _subset(frame, areas <= np.median(areas) * 20)
    if not len(small.geoms):
        return [frame]
    blobs = shapely.union_all(shapely.buffer(small.geoms, gap_m / 2))
    parts = list(getattr(blobs, "geoms", [blobs]))
    zones = [_subset(small, shapely.intersects(small.geoms, part)) for part in parts]
    zones.sort(key=lambda z: -float(shapely.area(z.geoms).sum()))
    return zones[:3]


def _zone_title(zone: _Frame) -> str:
    names = [str(n) for n in zone.names]
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix.strip(" -,")
    return prefix if len(prefix) >= 3 else ", ".join(str(c) for c in zone.codes)


def _map_panels(frame: _Frame, height: float = 3.6) -> tuple[Figure, list[Any]]:
    """A figure with one panel per populated zone, widths proportional to their shapes."""
    zones = _zones(frame)
    bounds = []
    for zone in zones:
        minx, miny, maxx, maxy = shapely.total_bounds(zone.geoms)
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


def _patch(geom: Any) -> PathPatch:
    """One (multi)polygon as a compound path: exteriors and holes, as geopandas draws it."""
    paths = []
    for part in getattr(geom, "geoms", [geom]):
        paths.append(Path(np.asarray(part.exterior.coords)[:, :2], closed=True))
        paths.extend(Path(np.asarray(r.coords)[:, :2], closed=True) for r in part.interiors)
    return PathPatch(Path.make_compound_path(*paths))


def _draw_units(
    ax: Any, frame: _Frame, facecolor: Any, edgecolor: str, hatch: str | None = None
) -> None:
    geoms = shapely.normalize(frame.geoms)  # rings oriented so holes stay holes
    keep = ~shapely.is_empty(geoms)
    colors = (
        facecolor
        if isinstance(facecolor, str)
        else [c for c, k in zip(facecolor, keep, strict=True) if k]
    )
    patches = [_patch(g) for g in geoms[keep]]
    ax.add_collection(
        PatchCollection(patches, facecolor=colors, edgecolor=edgecolor, linewidth=0.6, hatch=hatch),
        autolim=True,
    )
    ax.autoscale_view()


def _label_units(ax: Any, frame: _Frame) -> None:
    minx, maxx = ax.get_xlim()
    miny, maxy = ax.get_ylim()
    for code, geom in zip(frame.codes, frame.geoms, strict=True):
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


def choropleth(
    shapes: Sequence[UnitShape], classes: dict[str, str], unstable: Collection[str] = ()
) -> bytes:
    """Barrios coloured by ranking class, hatched where the class is unstable (method 2);
    units outside the ranking in white."""
    frame = _frame(shapes)
    fig, axes = _map_panels(frame)
    colors = [CLASS_COLORS.get(classes.get(code, ""), "white") for code in frame.codes]
    marked = np.array([c in unstable for c in frame.codes], dtype=bool)
    shaky = _Frame(
        [c for c, m in zip(frame.codes, marked, strict=True) if m],
        [n for n, m in zip(frame.names, marked, strict=True) if m],
        frame.geoms[marked],
    )
    for ax in axes:
        _draw_units(ax, frame, colors, INK)
        if shaky.codes:
            _draw_units(ax, shaky, "none", INK, hatch="////")
        _label_units(ax, frame)
    present = [c for c in CLASS_COLORS if c in classes.values()]
    handles = [Patch(facecolor=CLASS_COLORS[c], edgecolor=INK, label=c) for c in present]
    if shaky.codes:
        handles.append(Patch(facecolor="white", edgecolor=INK, hatch="////", label="inestable"))
    fig.legend(handles=handles, fontsize=7, frameon=False, loc="outside lower center", ncol=4)
    return _png(fig)


def risk_map(shapes: Sequence[UnitShape], points: Sequence[FactorPoint]) -> tuple[bytes, int]:
    """Barrio outlines and each risk factor as a dot coloured by its state at month's end.

    Returns the PNG and how many factors fall outside the panels (reported under the map).
    """
    frame = _frame(shapes)
    fig, axes = _map_panels(frame)
    lonlat = np.array([(p.lon, p.lat) for p in points], dtype=float).reshape(-1, 2)
    xy = _web_mercator(lonlat)
    states = np.array([p.state for p in points], dtype=object)
    shown = np.zeros(len(points), dtype=bool)
    for ax in axes:
        _draw_units(ax, frame, "#f3f4f6", MUTED)
        _label_units(ax, frame)
        minx, maxx = ax.get_xlim()
        miny, maxy = ax.get_ylim()
        shown |= (minx <= xy[:, 0]) & (xy[:, 0] <= maxx) & (miny <= xy[:, 1]) & (xy[:, 1] <= maxy)
        for state, color in STATE_COLORS.items():
            subset = xy[states == state]
            if len(subset):
                ax.scatter(
                    subset[:, 0],
                    subset[:, 1],
                    color=to_rgba(color, 0.9),
                    s=16,
                    marker="o",
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
    return _png(fig), int((~shown).sum())


def terrain_map(shapes: Sequence[UnitShape], cells: Sequence[Any]) -> bytes:
    """Barrio outlines and the risk-terrain cells where a retained factor acts, coloured by
    relative risk; Gi* hot cells outlined (cells: `geom` lon/lat, `score`, `hot`)."""
    frame = _frame(shapes)
    fig, axes = _map_panels(frame)
    geoms = shapely.transform(np.array([c.geom for c in cells], dtype=object), _web_mercator)
    colors = [
        next((col for top, col, _ in TERRAIN_CLASSES if c.score <= top), "none")
        if c.score > 1
        else "none"
        for c in cells
    ]
    hot = np.array([c.hot for c in cells], dtype=bool)
    for ax in axes:
        _draw_units(ax, frame, "#f3f4f6", MUTED)
        limits = ax.get_xlim(), ax.get_ylim()
        if len(geoms):
            patches = [_patch(g) for g in geoms]
            edges = [INK if h else "none" for h in hot]
            ax.add_collection(
                PatchCollection(patches, facecolor=colors, edgecolor=edges, linewidth=0.5)
            )
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
    handles = [
        Patch(facecolor=col, edgecolor="none", label=label) for _, col, label in TERRAIN_CLASSES
    ]
    handles.append(Patch(facecolor="white", edgecolor=INK, label="punto caliente (Gi*)"))
    fig.legend(handles=handles, fontsize=7, frameon=False, loc="outside lower center", ncol=4)
    return _png(fig)


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
