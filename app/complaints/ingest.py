"""Loading complaints: one from the API, or hundreds of thousands from a CSV or GeoJSON file.

Every path goes through the same pipeline, so the rules are identical:

1. rows are parsed and checked in Python as they stream in (fields, types, ranges, NaN,
   dates, known category); every row that parses goes straight into a TEMP staging table
   with psycopg's COPY (the ones that failed a check marked as rejected), and the staging
   table names the `external_ref` repeated within the file, so memory stays flat whatever
   the file's size;
2. PostGIS gives each staged point its comuna (inside the polygon, or within the
   tolerance), barrio and micro-barrio by point-in-polygon (lowest code on shared
   boundaries, as `territory.locate` does) in one set-based pass, and names the rows
   outside every comuna, recognising swapped lat/lon pairs;
3. one INSERT ... SELECT upserts on (source, external_ref), touching only rows whose data
   changed.

All-or-nothing (default) raises `InvalidInput` with every bad row before step 3, so nothing
is written; skip-invalid writes the good rows and reports the bad ones.
"""

from __future__ import annotations

import enum
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import ValidationError
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.categories.catalog import category_versions
from app.complaints import staging
from app.complaints.files import (
    Record,
    csv_records,
    file_error,
    geojson_records,
    mapping_records,
    problem,
    validation_problems,
)
from app.complaints.schemas import ComplaintCreate
from app.errors import FieldProblem, InvalidInput
from app.geocoding.staged import FORGET as geocoding_forget
from app.geocoding.staged import RECORD as geocoding_record
from app.geocoding.staged import StageGeocoder, geocoding_comuna, staged_counts
from app.settings import get_territory_settings

MAX_LISTED_ERRORS = 1_000

Format = Literal["csv", "geojson"]
Progress = Callable[[str, int, int | None], None]
"""progress(stage, rows_done, rows_total_or_None); stages: leyendo, validando, guardando."""


class ImportMode(enum.StrEnum):
    ALL_OR_NOTHING = "all-or-nothing"
    SKIP_INVALID = "skip-invalid"


@dataclass
class ImportReport:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    geocoded: int = 0  # address-only rows the geocoder placed
    unplaced: int = 0  # address-only rows stored without a point, queued for review
    errors: list[FieldProblem] = field(default_factory=list)
    errors_total: int = 0

    @property
    def errors_omitted(self) -> int:
        return self.errors_total - len(self.errors)


def _connection(target: Session | Connection) -> Connection:
    return target.connection() if isinstance(target, Session) else target


# Settings for the import's own statements (SET LOCAL, restored when it ends; a rollback
# restores them too). A bulk load is bounded by its input (the API caps uploads at 100 MB),
# not by the per-statement timeout that protects interactive queries: with it, the
# set-based insert of a large file would be cut halfway. Its few statements are long and
# their estimated costs (one subquery per row) huge, so PostgreSQL JIT-compiled each one,
# ~1 s per 100,000 rows that the compiled code never won back. The geometry-ordered insert
# sorts in memory instead of on disk. Not changed: synchronous_commit (a committed import
# must survive a crash) and the staging table, which is TEMP already (no WAL).
BULK_SETTINGS = {"statement_timeout": "0", "jit": "off", "work_mem": "64MB"}


def _set_local(conn: Connection, settings: Mapping[str, str]) -> dict[str, str]:
    """SET LOCAL each setting; returns the values they had."""
    previous = {}
    for name, value in settings.items():
        previous[name] = conn.scalar(text("SELECT current_setting(:name)"), {"name": name})
        conn.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})
    return previous


# --- the pipeline ------------------------------------------------------------------------------


def import_complaints(
    target: Session | Connection,
    rows_or_file: str | os.PathLike[str] | IO[bytes] | Iterable[Mapping[str, Any]],
    *,
    fmt: Format | None = None,
    mode: ImportMode | str = ImportMode.ALL_OR_NOTHING,
    loaded_by: str,
    allowed_sources: frozenset[str] | None = None,
    progress: Progress | None = None,
    geocode: bool = False,
    comuna: str | None = None,
) -> ImportReport:
    """Validate and upsert complaints; flushes, never commits (the caller owns the transaction).

    With `geocode`, rows with an address and no lon/lat are geocoded against the gazetteer
    of `comuna` (default: the only comuna with one); those it cannot place are stored
    without a point and queued for review. Without it such rows are refused.

    `rows_or_file` is a path, a binary stream (CSV or GeoJSON, see `fmt`; a path's suffix
    decides when `fmt` is None) or an iterable of dicts with the CSV fields (lon/lat as
    numbers or text). Raises `InvalidInput` (nothing written) when mode is all-or-nothing and
    any row is bad, or when the file itself is unreadable. `allowed_sources` (None = any)
    limits which institutions' complaints this load may create or change.
    """
    mode = ImportMode(mode)
    if isinstance(rows_or_file, str | os.PathLike):
        path = Path(rows_or_file)
        with path.open("rb") as opened:
            return import_complaints(
                target,
                opened,
                fmt=fmt or ("geojson" if path.suffix.lower() in {".geojson", ".json"} else "csv"),
                mode=mode,
                loaded_by=loaded_by,
                allowed_sources=allowed_sources,
                progress=progress,
                geocode=geocode,
                comuna=comuna,
            )
    geocode_in = geocoding_comuna(target, comuna) if geocode else None
    total: int | None = None
    records: Iterator[Record]
    if isinstance(rows_or_file, Mapping):
        records = mapping_records([rows_or_file])
    elif isinstance(rows_or_file, io.IOBase) or hasattr(rows_or_file, "read"):
        stream = rows_or_file
        if fmt == "geojson":
            records, total = geojson_records(stream)  # type: ignore[arg-type]
        elif fmt == "csv":
            records = csv_records(stream)  # type: ignore[arg-type]
        else:
            raise ValueError("fmt must be 'csv' or 'geojson' for a stream")
    else:
        records = mapping_records(rows_or_file)

    # A savepoint makes a rejection leave the caller's transaction exactly as it was, even
    # when the rejection interrupts the COPY (which aborts the transaction on the server).
    savepoint = target.begin_nested()
    conn = _connection(target)
    try:
        previous = _set_local(conn, BULK_SETTINGS)
        conn.execute(staging.DROP_STAGE)
        conn.execute(staging.DROP_PLACE)
        conn.execute(staging.CREATE_STAGE)
        conn.execute(staging.CREATE_PLACE)
        report = _run(
            conn, records, total, fmt, mode, loaded_by, progress, allowed_sources, geocode_in
        )
        conn.execute(staging.DROP_PLACE)
        conn.execute(staging.DROP_STAGE)
        _set_local(conn, previous)
        if isinstance(target, Session):
            audit.record(
                target,
                "complaint.import",
                "complaint",
                detail={
                    "rows": report.rows,
                    "inserted": report.inserted,
                    "updated": report.updated,
                    "rejected": report.rejected,
                    "geocoded": report.geocoded,
                    "unplaced": report.unplaced,
                },
            )
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return report


def _run(
    conn: Connection,
    records: Iterator[Record],
    total: int | None,
    fmt: Format | None,
    mode: ImportMode,
    loaded_by: str,
    progress: Progress | None,
    allowed_sources: frozenset[str] | None = None,
    geocode_in: str | None = None,
) -> ImportReport:
    report = ImportReport()
    geocoder = StageGeocoder(conn, geocode_in) if geocode_in is not None else None
    problems, refused_sources = _stage(
        conn, records, report, total, progress, allowed_sources, geocoder
    )
    if progress:
        progress("validando", report.rows, report.rows)
    repeated = _repeated(conn, index=fmt == "geojson")
    tolerance_m = get_territory_settings().comuna_tolerance_m
    if geocode_in is not None:
        geocoded = staged_counts(conn)
        report.geocoded, report.unplaced = geocoded.placed, geocoded.unplaced
    outside = _outside_comuna(conn, geojson=fmt == "geojson", tolerance_m=tolerance_m)
    problems += outside
    # A row's problems in the order they are checked: fields and category, then repetition,
    # then the caller's sources (a stable sort keeps each group's own order).
    ranked = [(0, p) for p in problems] + [(1, p) for p in repeated]
    ranked += [(2, p) for p in refused_sources]
    ranked.sort(key=lambda rp: (rp[1].get("row", 0), rp[0]))
    settle(report, [p for _, p in ranked], mode)
    if outside:
        conn.execute(staging.DROP_OUTSIDE)
    if progress:
        progress("guardando", 0, report.rows - report.rejected)
    params = {"tolerance": tolerance_m, "loaded_by": loaded_by}
    conn.execute(staging.MARK_EXISTING)
    report.inserted = conn.execute(staging.INSERT_NEW, params).rowcount
    report.updated = conn.execute(staging.UPDATE_EXISTING, params).rowcount
    if geocode_in is not None:
        conn.execute(geocoding_record, {"loaded_by": loaded_by})
    if conn.scalar(text("SELECT EXISTS (SELECT 1 FROM complaint_geocode)")):
        conn.execute(geocoding_forget)
    report.unchanged = report.rows - report.rejected - report.inserted - report.updated
    if progress:
        progress("guardando", report.rows - report.rejected, report.rows - report.rejected)
    return report


def settle(report: ImportReport, problems: list[FieldProblem], mode: ImportMode) -> None:
    """The rule every import follows once its rows are checked: count the bad rows, and in
    all-or-nothing mode refuse the whole file (422 listing every bad row) if there is one;
    a file without data rows is refused in both modes. Complaints and prevention activities
    (app/activities/importer.py) both end their checks here.
    """
    report.rejected = len({p.get("row") for p in problems})
    report.errors_total = len(problems)
    report.errors = problems[:MAX_LISTED_ERRORS]
    if report.rows == 0:
        raise file_error("El archivo no tiene filas de datos.")
    if problems and mode is ImportMode.ALL_OR_NOTHING:
        raise InvalidInput(
            f"{report.rejected} de {report.rows} fila(s) tienen problemas; no se escribió "
            "nada. Corríjalas o importe con mode=skip-invalid.",
            errors=report.errors,
            code="importacion_rechazada",
            rows=report.rows,
            rejected=report.rejected,
            errors_omitted=report.errors_omitted,
        )


def _stage(
    conn: Connection,
    records: Iterator[Record],
    report: ImportReport,
    total: int | None,
    progress: Progress | None,
    allowed_sources: frozenset[str] | None = None,
    geocoder: StageGeocoder | None = None,
) -> tuple[list[FieldProblem], list[FieldProblem]]:
    """Parse and check every row, COPYing the ones that parse into the staging table (and,
    with a `geocoder`, geocoding the address-only ones a chunk at a time).

    Returns the problems found and, apart, the refusals of `allowed_sources` (listed after
    a repeated `external_ref` of the same row).
    """
    versions = category_versions(conn)
    problems: list[FieldProblem] = []
    refused_sources: list[FieldProblem] = []
    tolerance_m = get_territory_settings().comuna_tolerance_m
    with staging.StageWriter(conn, tolerance_m, geocoder) as staged:
        for row, index, values, row_problems in records:
            report.rows += 1
            if progress and report.rows % 5_000 == 0:
                progress("leyendo", report.rows, total)
            if values is not None:
                try:
                    complaint = ComplaintCreate.model_validate(values, strict=False)  # file text
                except ValidationError as exc:
                    row_problems = row_problems + validation_problems(exc, row, index)
                    category = values.get("category")
                    if isinstance(category, str) and category.strip() not in versions:
                        row_problems.append(_unknown_category(category, row, index))
                else:
                    if geocoder is None and not complaint.located:
                        row_problems = [*row_problems, _not_located(row, index)]
                    if complaint.category not in versions:
                        row_problems = [
                            *row_problems,
                            _unknown_category(complaint.category, row, index),
                        ]
                    rejected = bool(row_problems)
                    if allowed_sources is not None and complaint.source not in allowed_sources:
                        reason = "su clave solo carga denuncias de: " + ", ".join(
                            sorted(allowed_sources)
                        )
                        refused_sources.append(problem(row, index, "source", reason))
                        rejected = True
                    problems.extend(row_problems)
                    # staged even when rejected: a later row with its external_ref repeats it
                    staged.add(row, complaint, rejected)
                    continue
            problems.extend(row_problems)
    if progress:
        progress("leyendo", report.rows, report.rows)
    # The statistics the joins need; those of the geometry cost more than the rest together.
    conn.execute(text("ANALYZE complaint_stage (row_no, source, external_ref, category_code)"))
    return problems, refused_sources


def _not_located(row: int, index: int | None) -> FieldProblem:
    reason = "sin lon ni lat: importe con geocode=true (--geocode) para ubicar la dirección"
    return problem(row, index, "geometry" if index is not None else "lon,lat", reason)


def _unknown_category(category: str, row: int, index: int | None) -> FieldProblem:
    reason = f"categoría desconocida {category!r} (ver GET /api/v1/categories)"
    return problem(row, index, "category", reason)


def _repeated(conn: Connection, *, index: bool) -> list[FieldProblem]:
    """The rows whose (source, external_ref) an earlier row of the file already has."""
    return [
        problem(
            row,
            row - 1 if index else None,
            "external_ref",
            f"external_ref repetido en el archivo para {source}: ya aparece en la fila {first}",
        )
        for row, source, first in conn.execute(staging.REPEATED)
    ]


def _outside_comuna(conn: Connection, *, geojson: bool, tolerance_m: float) -> list[FieldProblem]:
    conn.execute(staging.ANALYZE_PLACE)
    problems: list[FieldProblem] = []
    for row, lon, lat, swapped_into in conn.execute(staging.OUTSIDE):
        if swapped_into:
            reason = (
                f"latitud y longitud parecen invertidas: ({lat}, {lon}) cae dentro de la "
                f"comuna {swapped_into}"
            )
        else:
            reason = (
                f"el punto ({lon}, {lat}) queda fuera de todas las comunas cargadas "
                f"(tolerancia {tolerance_m:g} m)"
            )
        where = ("geometry", row - 1) if geojson else ("lon,lat", None)
        problems.append(problem(row, where[1], where[0], reason))
    return problems
