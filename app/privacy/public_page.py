"""The public statistics page `/estadisticas` and its CSV: one table, built once.

Everything here comes from what is already public: the suppressed table of
`/api/v1/public/stats`, the public risk-factor feed's rows (types marked public only) and
the public ranking summary. The HTML table and the CSV are both made from `stats_table`,
so the download is exactly the table on the page, labels included ("<5", "suprimido").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Comuna
from app.privacy import public_rankings, public_stats, thresholds
from app.privacy.public_risk_factors import R, T, public_base, status_label

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "public"
MONTH_NAMES = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


def _shown(value: int | str) -> str:
    return str(value)


def stats_table(stats: dict[str, Any]) -> Table:
    """Units by month with unit totals and a last row of month totals, as shown."""
    months = stats["months"]
    cell = {(c["unit"], c["month"]): c["count"] for c in stats["cells"]}
    unit_total = {t["unit"]: t["count"] for t in stats["unit_totals"]}
    header = ["Código", "Unidad", *months, "Total"]
    rows = [
        [
            u["code"],
            u["name"],
            *[_shown(cell[u["code"], m]) for m in months],
            _shown(unit_total[u["code"]]),
        ]
        for u in stats["units"]
    ]
    rows.append(
        ["", "Total", *[_shown(t["count"]) for t in stats["month_totals"]], _shown(stats["total"])]
    )
    return Table(header, rows)


def table_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return buffer.getvalue()


def risk_factor_summary(session: Session, comuna: str) -> list[dict[str, Any]]:
    """Public risk factors by type and current status. Not suppressed: each of them is
    already published one by one (generalised location) in /api/v1/public/risk-factors.
    """
    label = status_label()
    columns = cast("Select[Any]", select(T.label, label, func.count()))
    stmt = (
        public_base(columns)
        .where(R.comuna_code == comuna)
        .group_by(T.label, label)
        .order_by(T.label, label)
    )
    return [
        {"type_label": type_label, "status_label": status, "reports": n}
        for type_label, status, n in session.execute(stmt)
    ]


def trend_svg(month_totals: list[dict[str, Any]]) -> str:
    """Bars of the month totals as inline SVG (no JavaScript, no network). A suppressed
    month is a grey stub with its label: the page never draws a number it hides.
    """
    width, height, top, bottom = 640, 200, 18, 24
    slot = width / max(len(month_totals), 1)
    numbers = [t["count"] for t in month_totals if isinstance(t["count"], int)]
    peak = max(numbers, default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Denuncias por mes" class="tendencia">'
    ]
    base = height - bottom
    for i, total in enumerate(month_totals):
        x = i * slot + slot * 0.15
        w = slot * 0.7
        value = total["count"]
        month = int(total["month"][5:7])
        if isinstance(value, int):
            h = (base - top) * value / peak
            parts.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
                'fill="#1d4ed8"/>'
            )
            text, y = str(value), base - h - 4
        else:
            parts.append(
                f'<rect x="{x:.1f}" y="{base - 6}" width="{w:.1f}" height="6" fill="#9aa5b1"/>'
            )
            text, y = str(value), base - 10
        cx = x + w / 2
        parts.append(
            f'<text x="{cx:.1f}" y="{y:.1f}" font-size="11" text-anchor="middle">'
            f"{escape(text)}</text>"
        )
        parts.append(
            f'<text x="{cx:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" '
            f'fill="#52606d">{MONTH_NAMES[month - 1]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def page_data(
    session: Session,
    *,
    comuna: str | None,
    level: public_stats.Level,
    year: int,
    family: str | None,
) -> dict[str, Any]:
    """Everything the page shows, as data (what the privacy scanner reads in the tests)."""
    stats = public_stats.public_stats(session, comuna=comuna, level=level, year=year, family=family)
    try:
        ranking: dict[str, Any] | None = public_rankings.public_ranking(
            session, comuna=stats["comuna"], level="barrio"
        )
    except NotFound:
        ranking = None
    return {
        "stats": stats,
        "risk_factors": risk_factor_summary(session, stats["comuna"]),
        "ranking": ranking,
    }


def default_year() -> int:
    return date.today().year


def render_page(session: Session, data: dict[str, Any], csv_url: str) -> str:
    # lazy: the threshold's home pulls in the ranking's statistics (pandas)
    from app.scoring.method2 import STABLE_CLASS_PROBABILITY  # noqa: PLC0415

    stats = data["stats"]
    comuna = session.get(Comuna, stats["comuna"])
    template = _environment().get_template("estadisticas.html")
    return template.render(
        s=stats,
        comuna_name=comuna.name if comuna else stats["comuna"],
        table=stats_table(stats),
        trend=trend_svg(stats["month_totals"]),
        risk_factors=data["risk_factors"],
        ranking=data["ranking"],
        stable_percent=round(100 * STABLE_CLASS_PROBABILITY),
        csv_url=csv_url,
    )


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(thresholds.template_globals())
    return env
