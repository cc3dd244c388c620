"""Complaints (denuncias): load one or a file, list them as GeoJSON, count them."""

from __future__ import annotations

from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from app.api.deps import SessionDep, require_roles
from app.api.params import BboxQuery, CodeList, ComunaFilter
from app.api.responses import GeoJSONResponse
from app.api.schemas import problem_responses
from app.api.strict import IsoDatetime
from app.audit import trail as audit
from app.complaints.ingest import Format, ImportMode, ImportReport, import_complaints
from app.complaints.queries import ComplaintFilter, complaint_read, complaints_page
from app.complaints.schemas import (
    ComplaintCollection,
    ComplaintCreate,
    ComplaintRead,
    ComplaintStats,
    ImportReportRead,
    problems_out,
)
from app.complaints.stats import GROUPS, complaint_counts, counts_csv
from app.errors import Forbidden, InvalidInput, UnsupportedMediaType
from app.identity.access import complaint_sources
from app.identity.caller import Caller
from app.models import Role
from app.timezone import as_chile

router = APIRouter(tags=["denuncias"])

_RAW_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/geo+json": "geojson",
    "application/json": "geojson",
}

ReaderDep = Annotated[Caller, Depends(require_roles(Role.PLANNER, Role.POLICE))]
LoaderDep = Annotated[Caller, Depends(require_roles(Role.POLICE))]


# --- query parameters --------------------------------------------------------------------------


def _problem(field: str, reason: str) -> InvalidInput:
    return InvalidInput(
        f"Parámetro inválido: {field}.",
        errors=[{"field": field, "location": "query", "reason": reason}],
    )


def _codes(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for value in values or [] for v in value.split(",") if v.strip())


def _local(value: datetime | None) -> datetime | None:
    return as_chile(value) if value else value


def complaint_filter(
    category: Annotated[
        list[CodeList] | None,
        Query(description="Códigos de categoría (repetido o separados por coma)."),
    ] = None,
    family: Annotated[
        list[CodeList] | None,
        Query(description="Códigos de familia CEAD (p. ej. 4 = drogas)."),
    ] = None,
    dmcs: Annotated[
        bool | None, Query(description="Solo DMCS (true) o solo no DMCS (false).")
    ] = None,
    occurred_from: Annotated[
        IsoDatetime | None,
        Query(description="Desde (incluido), ISO 8601; sin desfase = hora de Chile."),
    ] = None,
    occurred_to: Annotated[
        IsoDatetime | None,
        Query(description="Hasta (excluido), ISO 8601; sin desfase = hora de Chile."),
    ] = None,
    comuna: ComunaFilter = None,
    barrio: Annotated[str | None, Query(max_length=40, description="Código de barrio.")] = None,
    micro_barrio: Annotated[
        str | None, Query(max_length=40, description="Código de micro-barrio.")
    ] = None,
    bbox: BboxQuery = None,
) -> ComplaintFilter:
    """Filters shared by the list and the statistics."""
    start, end = _local(occurred_from), _local(occurred_to)
    if start and end and start >= end:
        raise _problem("occurred_to", "debe ser posterior a occurred_from")
    return ComplaintFilter(
        categories=_codes(category),
        families=_codes(family),
        dmcs=dmcs,
        occurred_from=start,
        occurred_to=end,
        comuna=comuna,
        barrio=barrio,
        micro_barrio=micro_barrio,
        bbox=bbox,
    )


FilterDep = Annotated[ComplaintFilter, Depends(complaint_filter)]


def group_by_param(
    group_by: Annotated[
        str | None,
        Query(
            description="Agrupar por cualquier combinación de barrio, micro_barrio, month "
            "(mes en hora de Chile) y category, separadas por coma.",
            examples=["barrio,month"],
        ),
    ] = None,
) -> list[str]:
    names = [n.strip() for n in (group_by or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in GROUPS]
    if unknown or len(set(names)) != len(names):
        raise _problem(
            "group_by",
            f"se acepta una combinación sin repetir de: {', '.join(GROUPS)}",
        )
    return names


# --- routes ------------------------------------------------------------------------------------


@router.get(
    "/complaints",
    operation_id="listComplaints",
    response_model=ComplaintCollection,
    response_class=GeoJSONResponse,
    responses=problem_responses(401, 403, 422),
)
def list_complaints(
    request: Request,
    session: SessionDep,
    caller: ReaderDep,
    where: FilterDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Máximo por página.")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=200, description="Cursor opaco del enlace `next`.")
    ] = None,
) -> Response:
    """Denuncias como FeatureCollection GeoJSON, de la más reciente a la más antigua."""

    def links(next_cursor: str | None) -> list[dict[str, str]]:
        found = [{"rel": "self", "href": str(request.url), "type": "application/geo+json"}]
        if next_cursor:
            href = str(request.url.include_query_params(cursor=next_cursor))
            found.append({"rel": "next", "href": href, "type": "application/geo+json"})
        return found

    page = complaints_page(session, where, caller, limit=limit, cursor=cursor, links=links)
    headers = {}
    if page.next_cursor:
        next_url = request.url.include_query_params(cursor=page.next_cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return GeoJSONResponse(page.geojson, headers=headers)


@router.get(
    "/complaints/stats",
    operation_id="complaintStats",
    response_model=ComplaintStats,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **problem_responses(401, 403, 422),
    },
)
def complaint_stats(
    session: SessionDep,
    caller: ReaderDep,
    where: FilterDep,
    group_by: Annotated[list[str], Depends(group_by_param)],
    format: Annotated[
        Literal["json", "csv"], Query(description="json (por defecto) o csv con encabezado.")
    ] = "json",
) -> ComplaintStats | Response:
    """Cantidad de denuncias agrupadas por barrio, micro-barrio, mes y/o categoría."""
    rows = complaint_counts(session, where, group_by, caller)
    if format == "csv":
        audit.record(session, "complaint.export", "complaint_stats", detail={"group_by": group_by})
        return Response(counts_csv(group_by, rows), media_type="text/csv; charset=utf-8")
    return ComplaintStats(
        group_by=group_by,
        total=sum(r["count"] for r in rows),
        groups=rows,
    )


@router.post(
    "/complaints",
    operation_id="createComplaint",
    response_model=ComplaintRead,
    status_code=201,
    responses={
        200: {"model": ComplaintRead, "description": "Ya existía (misma fuente y external_ref)."},
        **problem_responses(401, 403, 413, 422),
    },
)
def create_complaint(
    session: SessionDep, caller: LoaderDep, body: ComplaintCreate
) -> ComplaintRead | JSONResponse:
    """Registra una denuncia; si ya existe (fuente + external_ref) la actualiza (200)."""
    sources = complaint_sources(caller)
    if sources is not None and body.source not in sources:
        raise Forbidden(
            f"Su clave solo carga denuncias de: {', '.join(sorted(sources)) or 'ninguna'}.",
            errors=[{"field": "source", "location": "body", "reason": "otra institución"}],
        )
    report = import_complaints(session, [body.model_dump()], loaded_by=caller.actor)
    stored = ComplaintRead.model_validate(
        complaint_read(session, caller, source=body.source, external_ref=body.external_ref)
    )
    if report.inserted:
        return stored
    return JSONResponse(stored.model_dump(mode="json"), status_code=200)


_IMPORT_BODY = {
    "description": (
        "El archivo como cuerpo de la solicitud (`text/csv`, `application/geo+json` o "
        "`application/json`) o como campo `file` de un `multipart/form-data`. Máximo 100 MB."
        "\n\nCSV (UTF-8, coma, con encabezado): "
        "`external_ref,source,category,occurred_at,lon,lat,precision[,address]`. GeoJSON: "
        "FeatureCollection de Point con esas propiedades (sin lon/lat). `occurred_at` ISO 8601; "
        "sin desfase horario se interpreta como hora de Chile (America/Santiago). "
        "Columnas o propiedades desconocidas se rechazan."
    ),
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/geo+json": {"schema": {"type": "object"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


async def _upload(request: Request, fmt: Format | None) -> tuple[IO[bytes], Format]:
    """The uploaded file, spooled to disk past 8 MB, with its format.

    Its size is bounded by VIGIA_LIMIT_IMPORT_BYTES in the shell (app.api.limits), which
    answers 413 before or while the body streams in.
    """
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        parser = MultiPartParser(request.headers, request.stream(), max_files=1, max_fields=5)
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise InvalidInput(
                f"Formulario multipart mal formado: {exc.message}",
                errors=[{"field": "file", "location": "body", "reason": "formulario inválido"}],
            ) from exc
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "Falta el archivo: envíelo en el campo `file`.",
                errors=[{"field": "file", "location": "body", "reason": "campo obligatorio"}],
            )
        name = (upload.filename or "").lower()
        guessed: Format = "geojson" if name.endswith((".geojson", ".json")) else "csv"
        return upload.file, fmt or _RAW_TYPES.get(upload.content_type or "", guessed)
    if media not in _RAW_TYPES:
        raise UnsupportedMediaType(
            "Envíe text/csv, application/geo+json, application/json o multipart/form-data."
        )
    # closed by the route once the import has read it
    spooled: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115
    async for chunk in request.stream():
        spooled.write(chunk)
    spooled.seek(0)
    return spooled, fmt or _RAW_TYPES[media]


@router.post(
    "/complaints/import",
    operation_id="importComplaints",
    response_model=ImportReportRead,
    responses=problem_responses(401, 403, 413, 415, 422),
    openapi_extra={"requestBody": _IMPORT_BODY},
)
async def import_complaints_file(
    request: Request,
    session: SessionDep,
    caller: LoaderDep,
    mode: Annotated[
        ImportMode,
        Query(
            description="all-or-nothing (por defecto: una fila mala rechaza todo, 422 con "
            "cada fila) o skip-invalid (importa las buenas e informa las malas)."
        ),
    ] = ImportMode.ALL_OR_NOTHING,
    format: Annotated[
        Literal["csv", "geojson"] | None,
        Query(description="Formato; por defecto se deduce del Content-Type o del nombre."),
    ] = None,
    geocode: Annotated[
        bool,
        Query(
            description="Geocodifica las filas con `address` y sin lon/lat con el nomenclátor "
            "local; las que no se ubican se guardan sin ubicación y quedan en "
            "GET /complaints/unplaced."
        ),
    ] = False,
    comuna: Annotated[
        str | None,
        Query(max_length=5, description="Comuna cuyo nomenclátor usar (por defecto, la única)."),
    ] = None,
) -> ImportReportRead:
    """Importa denuncias desde un CSV o GeoJSON (hasta 100 MB); reimportar no duplica."""
    stream, fmt = await _upload(request, format)
    try:
        report: ImportReport = await run_in_threadpool(
            lambda: import_complaints(
                session,
                stream,
                fmt=fmt,
                mode=mode,
                loaded_by=caller.actor,
                allowed_sources=complaint_sources(caller),
                geocode=geocode,
                comuna=comuna,
            )
        )
    finally:
        stream.close()
    return ImportReportRead(
        rows=report.rows,
        inserted=report.inserted,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=report.rejected,
        geocoded=report.geocoded,
        unplaced=report.unplaced,
        errors=problems_out(report.errors),
        errors_omitted=report.errors_omitted,
    )
