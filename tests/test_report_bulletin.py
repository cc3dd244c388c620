"""The council bulletin against a hand-computed fixture, and its HTML and PDF renderings."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.models import ReportFormat, ReportKind, ReportStatus
from app.reports.bulletin import build_bulletin
from app.reports.generate import generate
from app.reports.period import Month, year_to_date
from app.reports.plan import default_plan, set_indicator
from app.reports.progress import build_progress
from app.timezone import CHILE_TZ
from tests.factories.tables import make_complaint, make_factor, make_resolved_history

A = (-72.785306, -39.450470)  # micro-barrio B01001-01, barrio B01001 (Lanco)
B = (-72.511981, -39.542169)  # micro-barrio B03001-01, barrio B03001 (Malalhue)
HURTO, DANOS = "556", "753"  # families 5 (propiedad no violentos) and 7 (incivilidades)
JUNE = Month(2025, 6)
AS_OF = datetime(2025, 7, 10, 12, tzinfo=UTC)


def chile(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHILE_TZ)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def fixture(db: Session) -> None:
    def complaint(when: str, where: tuple[float, float], category: str = HURTO, **kw: object):
        make_complaint(
            db, occurred_at=chile(when), lon=where[0], lat=where[1], category=category, **kw
        )  # type: ignore[arg-type]

    # June 2025: 4 hurtos in A (one at 23:30 on the 30th, Chile time: still June), 1 daño in B
    for day in ("2025-06-03T10:00", "2025-06-10T10:00", "2025-06-20T10:00", "2025-06-30T23:30"):
        complaint(day, A)
    complaint("2025-06-15T12:00", B, DANOS)
    complaint("2025-07-01T00:30", A)  # July in Chile: not June
    complaint("2025-06-12T12:00", A, received_at=utc("2025-08-01T00:00"))  # arrived after as_of
    # June 2024: 2 hurtos in A (same month last year)
    complaint("2024-06-05T10:00", A)
    complaint("2024-06-25T10:00", A)
    # inside the 12-month window: Dec 2024 3 daños in B, Jan 2025 1 hurto in A
    for day in ("2024-12-01T10:00", "2024-12-02T10:00", "2024-12-03T10:00"):
        complaint(day, B, DANOS)
    complaint("2025-01-15T10:00", A)
    # before the moving-average window (only on the trend chart): May 2024, 5 hurtos in A
    for day in range(1, 6):
        complaint(f"2024-05-{day:02d}T10:00", A)

    # Risk factors (Alumbrado público: luminaria_apagada, 10 days; Aseo y ornato: microbasural, 7)
    make_factor(  # F1: opened and resolved in June, 5 days
        db,
        type_code="luminaria_apagada",
        lon=A[0],
        lat=A[1],
        received_at=utc("2025-06-02T12:00"),
        history=make_resolved_history(
            utc("2025-06-02T13:00"), utc("2025-06-03T12:00"), utc("2025-06-07T12:00")
        ),
    )
    make_factor(  # F2: opened in May, resolved in June after 50 days (late)
        db,
        type_code="luminaria_apagada",
        lon=A[0],
        lat=A[1],
        received_at=utc("2025-05-01T12:00"),
        history=make_resolved_history(
            utc("2025-05-01T13:00"), utc("2025-05-02T12:00"), utc("2025-06-20T12:00")
        ),
    )
    make_factor(  # F3: opened 25 June, routed, due 5 July: open, not overdue, at June's end
        db,
        type_code="luminaria_apagada",
        lon=B[0],
        lat=B[1],
        received_at=utc("2025-06-25T12:00"),
        history=[
            (ReportStatus.VALIDADO, utc("2025-06-25T13:00")),
            (ReportStatus.DERIVADO, utc("2025-06-26T12:00")),
        ],
    )
    make_factor(  # F4: opened 1 June, due 8 June, resolved only in July: overdue at June's end
        db,
        type_code="microbasural",
        lon=B[0],
        lat=B[1],
        received_at=utc("2025-06-01T12:00"),
        history=make_resolved_history(
            utc("2025-06-01T13:00"), utc("2025-07-05T12:00"), utc("2025-07-15T12:00")
        ),
    )
    make_factor(  # F5: discarded in April: counted nowhere
        db,
        type_code="microbasural",
        lon=B[0],
        lat=B[1],
        received_at=utc("2025-04-01T12:00"),
        history=[(ReportStatus.DESCARTADO, utc("2025-04-05T12:00"))],
    )
    make_factor(  # F6: after the month
        db, type_code="microbasural", lon=B[0], lat=B[1], received_at=utc("2025-07-02T12:00")
    )
    db.flush()


def test_bulletin_numbers_match_the_hand_computation(db: Session, fixture: None) -> None:
    b = build_bulletin(db, "14103", JUNE, as_of=AS_OF)

    # totals: June 2025 = 5, June 2024 = 2, months Jul 2024..Jun 2025 = 3 + 1 + 5 = 9
    assert (b.total.current, b.total.last_year) == (5, 2)
    assert b.total.moving_average == pytest.approx(9 / 12)
    assert b.total.change_vs_last_year == 150.0
    assert b.total.change_vs_average == pytest.approx(round((5 - 0.75) / 0.75 * 100, 1))

    families = {r.code: r for r in b.families}
    assert (families["5"].current, families["5"].last_year) == (4, 2)
    assert families["5"].moving_average == pytest.approx(5 / 12)  # Jan 1 + Jun 4
    assert families["5"].change_vs_last_year == 100.0
    assert (families["7"].current, families["7"].last_year) == (1, 0)
    assert families["7"].change_vs_last_year is None  # nothing to compare with
    assert families["7"].moving_average == pytest.approx(4 / 12)  # Dec 3 + Jun 1
    assert all(r.current == 0 for code, r in families.items() if code not in ("5", "7"))

    barrios = {r.code: r for r in b.barrios}
    assert (barrios["B01001"].current, barrios["B01001"].last_year) == (4, 2)
    assert barrios["B01001"].moving_average == pytest.approx(5 / 12)
    assert (barrios["B03001"].current, barrios["B03001"].last_year) == (1, 0)
    assert barrios["BRUR"].current == 0

    # trend: 24 months ending in June 2025; May 2024 holds the 5 early hurtos
    assert b.trend_months[0] == Month(2023, 7)
    assert b.trend_months[-1] == JUNE
    assert b.trend_counts[b.trend_months.index(Month(2024, 5))] == 5
    assert b.trend_counts[-1] == 5
    assert b.trend_moving_average[-1] == pytest.approx(0.75)
    assert b.trend_moving_average[10] is None  # fewer than 12 months before it

    units = {u.unit: u for u in b.units}
    assert set(units) == {"Alumbrado público", "Aseo y ornato"}
    light = units["Alumbrado público"]
    assert (light.opened, light.resolved, light.open_at_end, light.overdue_at_end) == (2, 2, 1, 0)
    assert light.median_days == 27.5  # median of 5 and 50 days
    waste = units["Aseo y ornato"]
    assert (waste.opened, waste.resolved, waste.open_at_end, waste.overdue_at_end) == (1, 0, 1, 1)
    assert waste.median_days is None

    states = sorted(p.state for p in b.risk_points)
    assert states == ["abierto", "resuelto", "resuelto", "vencido"]
    assert b.ranking is None  # no rankings tables on this branch


def test_late_arrivals_change_a_rerender_only_with_a_later_cutoff(
    db: Session, fixture: None
) -> None:
    later = build_bulletin(db, "14103", JUNE, as_of=utc("2025-08-02T00:00"))
    assert later.total.current == 6  # the complaint received on 1 August now counts
    again = build_bulletin(db, "14103", JUNE, as_of=AS_OF)
    assert again.total.current == 5


def test_bulletin_pdf_has_the_sections_and_numbers(db: Session, fixture: None) -> None:
    report = generate(
        db,
        kind=ReportKind.BULLETIN,
        period="2025-06",
        fmt=ReportFormat.PDF,
        created_by="prueba",
        as_of=AS_OF,
    )
    assert report.period == "2025-06"
    assert report.sha256 == hashlib.sha256(report.content).hexdigest()
    reader = PdfReader(io.BytesIO(report.content))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) == 5
    text = "\n".join(pages)
    for title in (
        "Boletín del Consejo Comunal de Seguridad Pública",
        "Resumen del mes",
        "Denuncias por barrio",
        "Denuncias por familia de delito",
        "Mapas",
        "Sin ranking calculado para el período",
        "Factores de riesgo por unidad responsable",
        "Proyectos de intervención",
        "Evaluación antes/después de intervenciones",
    ):
        assert title in text, title
    assert "Resumen del mes" in pages[0]
    assert "Mapas" in pages[2]
    assert "junio de 2025" in pages[0]
    assert re.search(r"\b27,5\b", text)  # Alumbrado público's median days
    assert re.search(r"\+150,0\s%", pages[0])  # 5 against 2 in June 2024


def test_bulletin_html_embeds_the_charts(db: Session, fixture: None) -> None:
    report = generate(
        db,
        kind=ReportKind.BULLETIN,
        period="2025-06",
        fmt=ReportFormat.HTML,
        created_by="prueba",
        as_of=AS_OF,
    )
    html = report.content.decode()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) >= 5  # trend, barrios, families, risk map, units
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert not re.search(r"(src|href)=\"https?://", html)  # nothing fetched at read time


def test_spd_progress_indicators(db: Session, fixture: None) -> None:
    set_indicator(
        db,
        default_plan(),
        comuna="14103",
        code="I.1.M3.a",
        year=2025,
        value=6,  # type: ignore[arg-type]
        note="Fases aprobadas en acta",
        entered_by="Secretaría Municipal",
    )
    progress = build_progress(db, ReportKind.SPD, "14103", year_to_date(JUNE), as_of=AS_OF)
    results = {r.indicator.code: r for r in progress.indicators}
    # due in Jan-Jun: F1 (on time), F2 (late), F4 (open at cutoff); F5 discarded
    assert results["II.1.M2.b"].value == pytest.approx(33.3)
    assert results["II.1.M2.b"].status == "pendiente"
    # DMCS (hurtos) Jan-Jun 2025 received by as_of: 1 + 4, all exact and in a micro-barrio
    assert results["II.2.M1.a"].value == 100.0
    assert results["I.1.M3.a"].value == 6
    assert results["I.1.M3.a"].source == "manual"
    assert results["I.1.M1.a"].source == "calculado"  # council sessions: from the registry
    assert results["I.1.M1.a"].value == 0
    assert results["III.7.M1.a"].value == 1  # F4 overdue at June's end
    assert results["II.2.M2.a"].source == "calculado"
    assert results["II.2.M2.a"].value == 0  # no ranking snapshot computed in Jan-Jun 2025
    assert progress.total.current == 1 + 5  # January hurto + June's five


def test_bulletin_says_each_rank_with_its_interval_and_what_the_variables_mean(
    db: Session, fixture: None
) -> None:
    from app.rankings import compute_snapshot  # noqa: PLC0415
    from app.scoring import VARIABLES  # noqa: PLC0415

    snapshot = compute_snapshot(
        db,
        level="barrio",
        comuna="14103",
        period_end=date(2025, 6, 30),
        months=12,
        profile_name=None,
        profile_version=None,
        computed_by="prueba",
    )
    as_of = snapshot.computed_at + timedelta(seconds=1)
    b = build_bulletin(db, "14103", JUNE, as_of=as_of)
    assert b.ranking is not None
    assert b.ranking.method == "2"
    assert b.ranking.coverage == 90
    first = b.ranking.units[0]
    assert re.fullmatch(
        r"lugar 1 de \d+(, entre 1 y \d+|, sin variación en el remuestreo)", first.place
    )
    assert first.stable is not None
    assert "remuestreos" in first.class_text
    weighted = [n for n, w in snapshot.meta["profile"]["weights"].items() if float(w) > 0]
    assert len(b.ranking.variables) == len(weighted)
    assert sum(v.points for v in b.ranking.variables) == pytest.approx(100.0)

    report = generate(
        db,
        kind=ReportKind.BULLETIN,
        period="2025-06",
        fmt=ReportFormat.PDF,
        created_by="prueba",
        as_of=as_of,
    )
    text = " ".join(
        " ".join(page.extract_text().split())
        for page in PdfReader(io.BytesIO(report.content)).pages
    )
    assert "Sin ranking calculado para el período" not in text
    for unit in b.ranking.units:
        assert unit.place in text
    assert b.ranking.signal_summary is not None
    assert " ".join(b.ranking.signal_summary.split()) in text
    assert "Qué mide cada variable del ranking" in text
    for name in weighted:
        assert " ".join(VARIABLES[name].plain.split()) in text, name
    assert "en 90 de cada 100 de esos cálculos" in text
