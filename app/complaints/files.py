"""Reading complaint files: CSV and GeoJSON rows as records, with per-row problems in Spanish.

A file of any size is read a row (or a feature) at a time; nothing here touches the database
(`ingest` stages the records and resolves them in PostGIS). The tabular readers take the
allowed columns as arguments, so other imports (prevention activities, from CSV or from the
XLSX sheets municipalities keep) read rows with the same rules and the same messages.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import orjson
from pydantic import ValidationError

from app.api.validation_messages import spanish_reason
from app.errors import FieldProblem, InvalidInput

CSV_COLUMNS = ("external_ref", "source", "category", "occurred_at", "lon", "lat", "precision")
OPTIONAL_COLUMNS = ("address",)
LOCATION_COLUMNS = ("lon", "lat", "precision")
GEOJSON_PROPERTIES = frozenset(CSV_COLUMNS + OPTIONAL_COLUMNS) - {"lon", "lat"}


def validation_problems(exc: ValidationError, row: int, index: int | None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for error in exc.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in error["loc"]) or "fila"
        problems.append(problem(row, index, name, spanish_reason(error)))
    return problems


def problem(row: int, index: int | None, name: str, reason: str) -> FieldProblem:
    problem: FieldProblem = {"row": row, "field": name, "reason": reason}
    if index is not None:
        problem["index"] = index
    return problem


Record = tuple[int, int | None, Mapping[str, Any] | None, list[FieldProblem]]
"""(row, feature index or None, fields for ComplaintCreate or None, problems so far)."""


def check_header(
    header: list[str],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    *,
    kind: str = "CSV",
) -> None:
    """Refuse (nothing written) a header with unknown, missing or repeated columns."""
    unknown = [n for n in header if n not in required + optional]
    missing = [n for n in required if n not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = [header_problem(n, "columna no permitida") for n in unknown]
        problems += [header_problem(n, "falta la columna") for n in missing]
        if len(set(header)) != len(header):
            problems.append(header_problem("encabezado", "columnas repetidas"))
        extra = "".join(f"[,{n}]" for n in optional) if len(optional) <= 3 else ", y opcionales "
        extra += "" if len(optional) <= 3 else ",".join(optional)
        raise InvalidInput(
            f"El encabezado del {kind} debe tener las columnas "
            f"{','.join(required)}{extra}; no se escribió nada.",
            errors=problems,
            code="importacion_rechazada",
        )


def header_key(name: str) -> str:
    """A column title as typed in a sheet, reduced for matching: "Grupo objetivo" and
    "grupo_objetivo", "Institución" and "institucion" give the same key."""
    plain = unicodedata.normalize("NFKD", name.strip().lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return "_".join(plain.replace("-", " ").split())


def renamed(header: list[str], aliases: Mapping[str, str] | None) -> list[str]:
    """The header with every title an import accepts in Spanish put as its column name."""
    if not aliases:
        return header
    return [aliases.get(header_key(name), name) for name in header]


def table_rows(header: list[str], rows: Iterable[tuple[int, list[str]]]) -> Iterator[Record]:
    """Records from (row number, cells) against a checked header; empty cells are absent."""
    for row, cells in rows:
        if not any(cells):
            continue
        if len(cells) != len(header):
            reason = f"la fila tiene {len(cells)} valores y el encabezado {len(header)}"
            yield row, None, None, [problem(row, None, "fila", reason)]
            continue
        yield row, None, {k: v for k, v in zip(header, cells, strict=True) if v != ""}, []


def csv_records(
    stream: IO[bytes],
    columns: tuple[str, ...] = CSV_COLUMNS,
    optional: tuple[str, ...] = OPTIONAL_COLUMNS,
    aliases: Mapping[str, str] | None = None,
) -> Iterator[Record]:
    text_stream = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text_stream)
    try:
        header = renamed([name.strip() for name in next(reader, [])], aliases)
        required, allowed = columns, optional
        if "address" in header and "address" in optional:
            # an address-only file (imported with geocode) may leave out the point's columns
            required = tuple(n for n in columns if n not in LOCATION_COLUMNS)
            allowed = optional + tuple(n for n in columns if n in LOCATION_COLUMNS)
        check_header(header, required, allowed)
        yield from table_rows(header, enumerate(reader, start=1))
    except UnicodeDecodeError as exc:
        raise file_error("El archivo no está en UTF-8.") from exc
    except csv.Error as exc:
        raise file_error(f"CSV mal formado cerca de la línea {reader.line_num}: {exc}.") from exc
    finally:
        text_stream.detach()


def header_problem(name: str, reason: str) -> FieldProblem:
    return {"field": name, "reason": reason, "location": "file"}


def file_error(detail: str) -> InvalidInput:
    return InvalidInput(
        detail + " No se escribió nada.",
        errors=[{"field": "archivo", "reason": detail, "location": "file"}],
        code="importacion_rechazada",
    )


def geojson_records(stream: IO[bytes]) -> tuple[Iterator[Record], int]:
    try:
        document = orjson.loads(stream.read())
    except orjson.JSONDecodeError as exc:
        reason = f"El archivo no es JSON válido (NaN e Infinity no lo son): {exc}."
        raise file_error(reason) from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise file_error("Se esperaba un FeatureCollection GeoJSON.")
    if "crs" in document:
        raise file_error("El miembro 'crs' no existe en RFC 7946: use WGS 84 (lon, lat).")
    features = document.get("features")
    if not isinstance(features, list):
        raise file_error("'features' debe ser una lista.")
    return _features(features), len(features)


def _features(features: list[Any]) -> Iterator[Record]:
    for index, feature in enumerate(features):
        row = index + 1
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            yield row, index, None, [problem(row, index, "type", "se esperaba un Feature")]
            continue
        properties = feature.get("properties")
        if not isinstance(properties, dict):
            yield row, index, None, [problem(row, index, "properties", "debe ser un objeto")]
            continue
        problems = [
            problem(row, index, f"properties.{name}", "campo no permitido")
            for name in properties
            if name not in GEOJSON_PROPERTIES
        ]
        geometry = feature.get("geometry")
        position, reason = (None, None), None
        if geometry is not None or not properties.get("address"):  # null: an address to geocode
            position, reason = _point(geometry)
        if reason:
            problems.append(problem(row, index, "geometry", reason))
        if problems:
            yield row, index, None, problems
            continue
        lon, lat = position
        yield row, index, {**properties, "lon": lon, "lat": lat}, []


def _point(geometry: Any) -> tuple[tuple[Any, Any], str | None]:
    nowhere = (None, None)
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return nowhere, "debe ser una geometría Point"
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return nowhere, "un Point necesita [longitud, latitud]"
    if len(coordinates) > 2:
        return nowhere, "solo se aceptan coordenadas 2-D [longitud, latitud], sin altura"
    if any(isinstance(c, bool) or not isinstance(c, int | float) for c in coordinates):
        return nowhere, "las coordenadas deben ser números"
    return (coordinates[0], coordinates[1]), None


def mapping_records(rows: Iterable[Mapping[str, Any]]) -> Iterator[Record]:
    for row, values in enumerate(rows, start=1):
        yield row, None, values, []


def xlsx_records(
    stream: IO[bytes],
    columns: tuple[str, ...],
    optional: tuple[str, ...] = (),
    aliases: Mapping[str, str] | None = None,
) -> Iterator[Record]:
    """The first sheet of an XLSX workbook, read as `csv_records` reads a CSV: values (not
    formulas) as text, dates as AAAA-MM-DD, whole numbers without ".0".
    """
    import zipfile  # noqa: PLC0415

    from openpyxl import load_workbook  # noqa: PLC0415  (only when a workbook arrives)
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise file_error("El archivo no es una planilla XLSX válida.") from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [_cell_text(v) for v in next(rows, ())]
        while header and header[-1] == "":
            header.pop()
        header = renamed(header, aliases)
        check_header(header, columns, optional, kind="XLSX")
        width = len(header)

        def cells() -> Iterator[tuple[int, list[str]]]:
            for row, values in enumerate(rows, start=1):
                texts = [_cell_text(v) for v in values]
                extra = texts[width:]
                yield row, texts[:width] + ([] if not any(extra) else extra)

        yield from table_rows(header, cells())
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    import datetime as dt  # noqa: PLC0415

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
