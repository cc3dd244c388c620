"""Render the council bulletin for the demo data and save page images for the docs.

    VIGIA_DATABASE_URL=... .venv/bin/python scripts/render_boletin_demo.py --month 2026-10

The demo complaints (`vigia demo-data`) have no risk factors or projects, so this script
adds a plausible set (seeded, inside the urban barrios) in a transaction that is ROLLED
BACK at the end: the database is left as it was. Writes docs/img/boletin-p<N>.png and,
with --pdf, the PDF itself.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import shapely
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.models import MicroBarrio, ProjectStatus, ReportStatus, Typology  # noqa: E402
from app.reports.bulletin import build_bulletin  # noqa: E402
from app.reports.period import Month  # noqa: E402
from app.reports.render import bulletin_html, html_to_pdf  # noqa: E402
from app.settings import get_database_settings  # noqa: E402
from tests.factories.tables import make_factor, make_project, make_resolved_history  # noqa: E402

TYPES = [
    ("luminaria_apagada", 10, 0.35),
    ("follaje_obstruye", 20, 0.2),
    ("microbasural", 7, 0.15),
    ("sitio_eriazo", 60, 0.1),
    ("espacio_publico_deteriorado", 90, 0.1),
    ("sin_alarma_comunitaria", 120, 0.1),
]


def _urban_points(
    session: Session, rng: np.random.Generator, n: int, prefix: str = "B0"
) -> list[tuple[float, float]]:
    rows = session.execute(
        select(func.ST_AsBinary(MicroBarrio.geom)).where(MicroBarrio.code.like(f"{prefix}%"))
    ).scalars()
    polys = [shapely.from_wkb(bytes(g)) for g in rows]
    points = []
    while len(points) < n:
        poly = polys[rng.integers(len(polys))]
        minx, miny, maxx, maxy = poly.bounds
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if poly.contains(shapely.Point(x, y)):
            points.append((x, y))
    return points


def seed(session: Session, month: Month, rng: np.random.Generator) -> None:
    end = month.end.astimezone(UTC)
    start = month.shift(-14).start.astimezone(UTC)
    span = (end - start).total_seconds()
    done = make_project(
        session,
        name="Recambio de luminarias LED, Lanco Oriente-Norte",
        status=ProjectStatus.TERMINADO,
        start=date(month.year, month.month, 1) - timedelta(days=500),
        # over a year before the month: the default evaluation windows are complete
        end=date(month.year, month.month, 1) - timedelta(days=400),
        typology=Typology.IL,
    )
    plaza = make_project(
        session,
        name="Recuperación de plaza y paradero, Lanco Centro-Poniente",
        status=ProjectStatus.TERMINADO,
        start=date(month.year, month.month, 1) - timedelta(days=480),
        end=date(month.year, month.month, 1) - timedelta(days=380),
        typology=Typology.REP,
    )
    make_project(
        session,
        name="Poda y despeje de luminarias, Malalhue",
        status=ProjectStatus.EN_EJECUCION,
        start=date(month.year, month.month, 1) - timedelta(days=45),
        end=None,
        typology=Typology.REP,
    )
    make_project(
        session,
        name="Alarmas comunitarias, Lanco Centro-Poniente",
        status=ProjectStatus.PLANIFICADO,
        start=None,
        end=None,
        typology=Typology.AC,
    )
    # the projects' factors in the barrios they are named after, the rest anywhere in town
    points = (
        _urban_points(session, rng, 4, "B01003")
        + _urban_points(session, rng, 2, "B01001")
        + _urban_points(session, rng, 36)
    )
    for i, (lon, lat) in enumerate(points):
        code, days, _ = TYPES[rng.choice(len(TYPES), p=[t[2] for t in TYPES])]
        received = start + timedelta(seconds=float(rng.uniform(0, span)))
        fate = rng.uniform()
        history: list[tuple[ReportStatus, datetime]] = []
        project = done if i < 4 else (plaza if i < 6 else None)
        if project is not None:  # the finished projects' factors, fixed on their last day
            fixed = datetime.combine(project.end_date, time(18), tzinfo=UTC)  # type: ignore[arg-type]
            received = fixed - timedelta(days=float(rng.uniform(60, 200)))
            history = make_resolved_history(
                received + timedelta(hours=6), received + timedelta(days=1), fixed
            )
        elif fate < 0.6:
            took = timedelta(days=float(rng.gamma(2.0, days / 2.5)))
            resolved = min(received + took, end - timedelta(hours=1))
            history = make_resolved_history(
                received + timedelta(hours=6), received + timedelta(days=1), resolved
            )
        elif fate < 0.85:
            history = [
                (ReportStatus.VALIDADO, received + timedelta(hours=6)),
                (ReportStatus.DERIVADO, received + timedelta(days=1)),
            ]
        history = [(s, at) for s, at in history if at < end]
        make_factor(
            session,
            type_code=code,
            lon=lon,
            lat=lat,
            received_at=received,
            history=history,
            project_id=None if project is None else project.id,
        )
    session.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--month", required=True, help="AAAA-MM")
    parser.add_argument("--pages", default="1,3", help="páginas a guardar como PNG")
    parser.add_argument("--pdf", type=Path, help="guardar también el PDF aquí")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = parser.parse_args()
    year, mon = (int(x) for x in args.month.split("-"))
    month = Month(year, mon)
    engine = create_engine(get_database_settings().database_url)
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        seed(session, month, np.random.default_rng(8))
        bulletin = build_bulletin(session, "14103", month, as_of=datetime.now(UTC))
        pdf = html_to_pdf(bulletin_html(bulletin, print), print)
        outer.rollback()
    if args.pdf:
        args.pdf.write_bytes(pdf)
    document = pdfium.PdfDocument(pdf)
    print(f"{len(document)} páginas")
    args.out.mkdir(parents=True, exist_ok=True)
    for number in (int(p) for p in args.pages.split(",")):
        image = document[number - 1].render(scale=110 / 72).to_pil()
        target = args.out / f"boletin-p{number}.png"
        image.save(target, optimize=True)
        print(f"escrito {target.relative_to(REPO)}")


if __name__ == "__main__":
    main()
