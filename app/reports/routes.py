"""Generated reports: the council bulletin, the SPD progress report, the annual report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.api.deps import SessionDep, require_roles
from app.api.params import ComunaFilter
from app.api.schemas import problem_responses
from app.errors import InvalidInput
from app.identity.caller import Caller
from app.models import GeneratedReport, ReportKind, Role
from app.reports import store
from app.reports.generate import generate
from app.reports.schemas import ReportCreate, ReportRead

router = APIRouter(prefix="/reports", tags=["informes"])

PlannerDep = Annotated[Caller, Depends(require_roles(Role.PLANNER))]
ReportId = Annotated[int, Path(description="Identificador del informe generado.")]


def _read(report: GeneratedReport) -> ReportRead:
    return ReportRead(
        id=report.id,
        kind=report.kind,
        period=report.period,
        format=report.format,
        comuna=report.comuna_code,
        data_as_of=report.data_as_of,
        created_at=report.created_at,
        created_by=report.created_by,
        size_bytes=report.size_bytes,
        sha256=report.sha256,
        download=f"/api/v1/reports/{report.id}",
    )


def _period(data: ReportCreate) -> str:
    if data.kind == ReportKind.ANNUAL:
        if data.year is None:
            raise InvalidInput(
                "El informe anual necesita el año.",
                errors=[{"field": "year", "location": "body", "reason": "obligatorio para annual"}],
            )
        return str(data.year)
    if data.month is None:
        raise InvalidInput(
            f"El informe {data.kind.value} necesita el mes.",
            errors=[
                {"field": "month", "location": "body", "reason": f"obligatorio para {data.kind}"}
            ],
        )
    return data.month


@router.get(
    "",
    operation_id="listReports",
    response_model=list[ReportRead],
    responses=problem_responses(401, 403, 422),
)
def list_reports(
    session: SessionDep,
    _: PlannerDep,
    kind: Annotated[ReportKind | None, Query(description="Solo este tipo.")] = None,
    comuna: ComunaFilter = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Máximo de informes.")] = 100,
) -> list[ReportRead]:
    """Informes generados, del más reciente al más antiguo (sin el contenido)."""
    return [_read(r) for r in store.list_reports(session, comuna=comuna, kind=kind, limit=limit)]


# Sync on purpose: charts, maps and the PDF are CPU work; FastAPI runs this in a thread.
@router.post(
    "",
    operation_id="createReport",
    response_model=ReportRead,
    status_code=201,
    responses=problem_responses(401, 403, 422),
)
def create_report(
    session: SessionDep, caller: PlannerDep, data: ReportCreate, response: Response
) -> ReportRead:
    """Genera y guarda un informe (planificación o administración); puede tardar segundos."""
    report = generate(
        session,
        kind=data.kind,
        period=_period(data),
        fmt=data.format,
        comuna=data.comuna,
        created_by=caller.actor,
        as_of=datetime.now(UTC),
        location="body",
    )
    response.headers["Location"] = f"/api/v1/reports/{report.id}"
    return _read(report)


@router.get(
    "/{report_id}",
    operation_id="downloadReport",
    response_class=Response,
    responses={
        200: {
            "description": "El archivo (PDF o HTML).",
            "content": {"application/pdf": {}, "text/html": {}},
        },
        **problem_responses(401, 403, 404),
    },
)
def download_report(session: SessionDep, _: PlannerDep, report_id: ReportId) -> Response:
    """Descarga un informe generado, tal como se guardó (la huella va en ETag)."""
    report = store.get_report(session, report_id, with_content=True)
    return Response(
        content=report.content,
        media_type=store.MEDIA_TYPES[report.format],
        headers={
            "Content-Disposition": f'attachment; filename="{store.filename(report)}"',
            "ETag": f'"{report.sha256}"',
            "X-Data-As-Of": report.data_as_of.isoformat(),
        },
    )
