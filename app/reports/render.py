"""Turning a bulletin or progress report into HTML (Jinja2, charts as PNG data URIs) and
PDF (WeasyPrint, from the same HTML: one layout for screen and paper).

WeasyPrint is used rather than matplotlib's PdfPages or reportlab because it lays out text
tables that flow over pages, with page numbers, from the template the HTML version uses.
It needs Pango (Debian `libpango-1.0-0`, installed by scripts/bootstrap.sh); fonts are the
system's DejaVu, never fetched from the network.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from textwrap import shorten
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.privacy import thresholds
from app.reports import charts
from app.timezone import CHILE_TZ

if TYPE_CHECKING:
    from app.reports.bulletin import Bulletin
    from app.reports.progress import Progress

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "reports"
Step = Callable[[str], None]


def _number(value: float | int | str | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value  # a suppression label ("<5", "<10", "suprimido")
    text = f"{value:,.{digits}f}"
    # Chilean style: 1.234,5
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def _percent(value: float | None) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return f"{sign}{_number(abs(value), 1)}\u00a0%"


def _local(value: datetime) -> str:
    return value.astimezone(CHILE_TZ).strftime("%d-%m-%Y %H:%M")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["pct"] = _percent
    env.filters["local"] = _local
    env.globals.update(thresholds.template_globals())
    return env


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _quiet(_: str) -> None:
    return None


def bulletin_charts(bulletin: Bulletin, step: Step = _quiet) -> dict[str, Any]:
    month = bulletin.month
    last_year = month.shift(-12)
    step("gráfico de tendencia")
    result: dict[str, Any] = {
        "trend": _uri(
            charts.trend_chart(
                [m.short_label for m in bulletin.trend_months],
                bulletin.trend_counts,
                bulletin.trend_moving_average,
            )
        )
    }
    step("gráficos por familia y barrio")
    shown = [r for r in bulletin.families if r.current or r.last_year]
    result["families"] = _uri(
        charts.paired_bars(
            [r.name for r in shown],
            [r.current for r in shown],
            [r.last_year for r in shown],
            current_label=month.label,
            previous_label=last_year.label,
        )
    )
    result["barrios"] = _uri(
        charts.paired_bars(
            [r.name for r in bulletin.barrios],
            [r.current for r in bulletin.barrios],
            [r.last_year for r in bulletin.barrios],
            current_label=month.label,
            previous_label=last_year.label,
        )
    )
    step("mapas")
    shapes = bulletin.shapes
    result["risk_map"], result["risk_outside"] = None, 0
    if shapes:
        png, result["risk_outside"] = charts.risk_map(shapes, bulletin.risk_points)
        result["risk_map"] = _uri(png)
    if bulletin.ranking and shapes:
        classes = {u.code: (u.klass or "") for u in bulletin.ranking.units}
        result["ranking_map"] = _uri(charts.choropleth(shapes, classes, bulletin.ranking.unstable))
    else:
        result["ranking_map"] = None
    result["terrain_map"] = None
    if bulletin.terrain and shapes:
        result["terrain_map"] = _uri(charts.terrain_map(shapes, bulletin.terrain.drawn))
    if bulletin.units:
        step("gráfico de unidades responsables")
        result["units"] = _uri(
            charts.unit_bars(
                [u.unit for u in bulletin.units],
                {
                    "Informados": [u.opened for u in bulletin.units],
                    "Resueltos": [u.resolved for u in bulletin.units],
                    "Vencidos al cierre": [u.overdue_at_end for u in bulletin.units],
                },
            )
        )
    result["evaluations"] = [
        _uri(
            charts.before_after(
                ["Área intervenida", "Entorno", "Comparación"],
                [e.treated_before, e.catchment_before, e.comparison_before],
                [e.treated_after, e.catchment_after, e.comparison_after],
            )
        )
        for e in bulletin.evaluation.evaluations
    ]
    return result


def bulletin_html(bulletin: Bulletin, step: Step = _quiet) -> str:
    figures = bulletin_charts(bulletin, step)
    step("HTML")
    return _environment().get_template("bulletin.html").render(b=bulletin, fig=figures)


def progress_charts(progress: Progress, step: Step = _quiet) -> dict[str, str | None]:
    """Sessions per month against the monthly minimum; activities done against planned."""
    step("gráficos del Consejo y de las actividades")
    result: dict[str, str | None] = {"sessions": None, "activities": None}
    if progress.council is not None and progress.council.months:
        months = progress.council.months
        result["sessions"] = _uri(
            charts.month_bars(
                [m for m, _ in months], [n for _, n in months], label="Sesiones del Consejo", goal=1
            )
        )
    if progress.activities is not None and progress.activities.goals:
        goals = progress.activities.goals
        result["activities"] = _uri(
            charts.paired_bars(
                [shorten(f"{g.code} · {g.short}", 46, placeholder="…") for g in goals],
                [g.done for g in goals],
                [g.planned for g in goals],
                current_label="Realizadas",
                previous_label="Programadas",
            )
        )
    return result


def progress_html(progress: Progress, step: Step = _quiet) -> str:
    figures = progress_charts(progress, step)
    step("HTML")
    return _environment().get_template("progress.html").render(p=progress, fig=figures)


def _import_weasyprint() -> Any:
    """WeasyPrint's module, imported without ~50 subprocesses.

    On import it dlopens Pango, GObject, HarfBuzz and fontconfig trying several names per
    library (Windows, macOS, Linux spellings); cffi hands every name that does not load as
    given to `ctypes.util.find_library`, which on Linux runs ldconfig, gcc and ld each time
    (about 0.5 s in all). Among the names WeasyPrint tries are the full sonames
    (`libpango-1.0.so.0`, `libpango-1.0.dylib`) that the dynamic loader finds by itself, so
    the import first runs with `find_library` answering "not found" at once; only if that
    fails (an unusual install) is it imported again the ordinary way.
    """
    import ctypes.util  # noqa: PLC0415
    import io  # noqa: PLC0415
    from contextlib import redirect_stdout  # noqa: PLC0415

    real = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        with redirect_stdout(io.StringIO()):  # its "could not import" banner, if it fails
            import weasyprint  # noqa: PLC0415  (slow import; only when a PDF is asked for)
    except OSError:
        ctypes.util.find_library = real
        import weasyprint  # noqa: PLC0415
    finally:
        ctypes.util.find_library = real
    return weasyprint


def html_to_pdf(html: str, step: Step = _quiet) -> bytes:
    HTML = _import_weasyprint().HTML

    step("PDF")
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf
