"""Synthetic police-reported risk factors, so a demo shows the whole lifecycle.

Reports go through the same services as real ones (validation, placement, duplicate flags,
timeline), backdated over the last year, and move through the lifecycle with plausible
delays: some still waiting, some overdue, most resolved. The keys that "submit" them are
created for the occasion and revoked at once, so they can never be used to log in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo.complaints import BarrioShape, Placer
from app.identity import api_keys
from app.identity.caller import Caller
from app.models import ReportStatus, RiskFactorReport, RiskFactorType, Role
from app.risk_factors import field_reports as reports
from app.risk_factors import transitions
from app.risk_factors.schemas import RiskFactorCreate, TransitionCreate
from app.risk_factors.submission import submit as submit_field_report
from app.settings import RiskFactorSettings

S = ReportStatus
# (type code, relative frequency, severity range)
_TYPES = (
    ("luminaria_apagada", 30, (2, 4)),
    ("tramo_sin_iluminacion", 10, (3, 5)),
    ("follaje_obstruye", 20, (2, 4)),
    ("microbasural", 15, (1, 3)),
    ("sitio_eriazo", 8, (2, 4)),
    ("inmueble_abandonado", 5, (3, 5)),
    ("sin_alarma_comunitaria", 6, (2, 4)),
    ("espacio_publico_deteriorado", 8, (2, 3)),
    ("punto_ciego", 5, (3, 4)),
)
_NOTES = {
    "luminaria_apagada": "Luminaria apagada en pasaje; vecinos señalan robos de noche.",
    "tramo_sin_iluminacion": "Tramo oscuro entre la plaza y el paradero.",
    "follaje_obstruye": "Árbol tapa la luminaria y la visibilidad de la esquina.",
    "microbasural": "Acumulación de basura y escombros junto al canal.",
    "sitio_eriazo": "Sitio sin cierre usado de noche para consumo.",
    "inmueble_abandonado": "Casa abandonada con accesos abiertos.",
    "sin_alarma_comunitaria": "Villa sin alarma comunitaria; la junta de vecinos la pide.",
    "espacio_publico_deteriorado": "Paradero sin techo ni iluminación.",
    "punto_ciego": "Acceso al puente sin visibilidad desde la calle.",
}
# where a report's story ends: share of reports
_FATES = (
    (S.REPORTADO, 0.08),
    (S.VALIDADO, 0.07),
    (S.DERIVADO, 0.15),
    (S.EN_GESTION, 0.17),
    (S.RESUELTO, 0.48),
    (S.DESCARTADO, 0.05),
)
_PATH = (S.VALIDADO, S.DERIVADO, S.EN_GESTION, S.RESUELTO)


@dataclass
class DemoRiskReport:
    submitted: int = 0
    transitions: int = 0


def _line(lon: float, lat: float, length_m: float, heading: float) -> dict[str, object]:
    dlon = length_m * math.cos(heading) / (111_320 * math.cos(math.radians(lat)))
    dlat = length_m * math.sin(heading) / 111_320
    return {"type": "LineString", "coordinates": [[lon, lat], [lon + dlon, lat + dlat]]}


def _demo_callers(session: Session) -> tuple[Caller, Caller]:
    callers = []
    for role, institution, name in (
        (Role.POLICE, "carabineros", "Datos de demostración (Carabineros)"),
        (Role.ADMIN, "municipalidad", "Datos de demostración (municipio)"),
    ):
        key, _ = api_keys.create_key(session, name=name, role=role, institution=institution)
        api_keys.revoke_key(session, key.prefix)
        callers.append(
            Caller(
                role=role,
                institution=institution,
                key_id=key.id,
                key_name=key.name,
                key_prefix=key.prefix,
            )
        )
    return callers[0], callers[1]


def demo_reports_exist(session: Session, comuna: str) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(RiskFactorReport)
            .where(
                RiskFactorReport.comuna_code == comuna,
                RiskFactorReport.officer_id.like("DEMO-%"),
            )
        )
    )


def generate(
    session: Session,
    barrios: list[BarrioShape],
    *,
    count: int,
    seed: int,
    now: datetime | None = None,
) -> DemoRiskReport:
    """Submit `count` synthetic reports and move them along their lifecycle."""
    now = now or datetime.now(UTC)
    rng = np.random.default_rng(seed)
    urban = [b for b in barrios if b.blocks] or barrios
    placer = Placer(urban, [], rng)
    police, admin = _demo_callers(session)
    expected = {
        row.code: row.expected_days
        for row in session.execute(select(RiskFactorType.code, RiskFactorType.expected_days))
    }
    codes = [t for t in _TYPES if t[0] in expected]
    weights = np.array([w for _, w, _ in codes], dtype=float)
    settings = RiskFactorSettings()
    fates = [f for f, _ in _FATES]
    fate_p = np.array([p for _, p in _FATES])
    result = DemoRiskReport()
    for serial in range(1, count + 1):
        code, _, (low, high) = codes[int(rng.choice(len(codes), p=weights / weights.sum()))]
        lon, lat, address, _ = placer.place([])
        geometry = (
            _line(lon, lat, float(rng.uniform(60, 180)), float(rng.uniform(0, math.pi)))
            if code == "tramo_sin_iluminacion"
            else {"type": "Point", "coordinates": [lon, lat]}
        )
        received = now - timedelta(days=float(rng.uniform(3, 360)))
        data = RiskFactorCreate(
            type=code,
            geometry=geometry,
            severity=int(rng.integers(low, high + 1)),
            description=_NOTES.get(code),
            observed_at=received - timedelta(hours=float(rng.uniform(0.2, 20))),
            reporting_unit=f"Cuadrante {int(rng.integers(1, 4))}",
            officer_id=f"DEMO-{int(rng.integers(1000, 9999))}",
        )
        submission = submit_field_report(
            session, police, data, idempotency_key=f"demo:{seed}:{serial}", settings=settings,
            now=received,
        )  # fmt: skip
        if submission.replayed:
            continue
        result.submitted += 1
        report_id = submission.body["id"]
        fate = fates[int(rng.choice(len(fates), p=fate_p))]
        if fate == S.REPORTADO:
            steps: list[ReportStatus] = []
        elif fate in _PATH:
            steps = list(_PATH[: _PATH.index(fate) + 1])
        else:
            steps = [S.VALIDADO, fate]
        at = received
        days = expected.get(code) or 30
        for step in steps:
            gap = (
                days * float(rng.uniform(0.05, 0.6))
                if step == S.RESUELTO
                else float(rng.uniform(0.2, 4))
            )
            at = min(at + timedelta(days=gap), now - timedelta(hours=1))
            report = session.get_one(RiskFactorReport, report_id)
            transitions.transition(
                session,
                report.id,
                admin,
                TransitionCreate(to=step, note="Generado para demostración."),
                if_match=reports.etag(report.version),
                now=at,
            )
            result.transitions += 1
    session.flush()
    return result
