"""Parameters every capability shares: the CUT code of a comuna and the bbox of a map view.

One definition each, so a second regex or a second bbox wrapper is not written again (a test
in tests/test_one_place_per_rule.py looks for copies). Parsing lives in pure code
(app/geo/bbox.py, app/geo/territory.py); this module turns it into FastAPI parameters and
domain errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query
from pydantic import StringConstraints

from app.errors import BadRequest, FieldProblem, InvalidInput
from app.geo.bbox import Bbox, BboxError, parse_bbox
from app.geo.territory import CUT_PATTERN

# A comuna's CUT (Código Único Territorial), e.g. 14103: for query parameters and body fields.
CutCode = Annotated[str, StringConstraints(pattern=CUT_PATTERN)]
# A catalog code list in a query: one code (letters, digits, "_", ".", "-"; at most 10, the
# width of the catalog's code columns) or several separated by commas; empty means "none".
CODE_LIST_PATTERN = r"^([A-Za-z0-9_.\-]{1,10}(,[A-Za-z0-9_.\-]{1,10})*)?$"
CodeList = Annotated[str, StringConstraints(pattern=CODE_LIST_PATTERN, max_length=400)]

ComunaFilter = Annotated[
    CutCode | None,
    Query(description="Código CUT de la comuna (p. ej. 14103).", examples=["14103"]),
]
ComunaChoice = Annotated[
    CutCode | None,
    Query(
        description="Código CUT de la comuna (p. ej. 14103); opcional si hay una sola cargada.",
        examples=["14103"],
    ),
]

_BBOX_HELP = "minlon,minlat,maxlon,maxlat en WGS 84 (CRS84)."


def _bbox_problem(reason: str, *, ogc: bool) -> BadRequest | InvalidInput:
    problem: FieldProblem = {"field": "bbox", "location": "query", "reason": reason}
    detail = f"Parámetro bbox no válido: {reason}."
    return BadRequest(detail, errors=[problem]) if ogc else InvalidInput(detail, errors=[problem])


def _bbox_dependency(*, ogc: bool) -> Callable[[str | None], Awaitable[Bbox | None]]:
    """The REST lists answer a bad bbox with 422 (like any bad input); OGC API answers 400
    and also takes a 3D bbox (heights dropped), as OGC API - Features part 1 says.

    Async (it only parses) so FastAPI resolves it inline instead of in the thread pool: a
    hop to a worker thread per request costs more than the parsing, and much more on a
    loaded machine."""

    async def bbox_query(
        bbox: Annotated[
            str | None, Query(description=_BBOX_HELP, examples=["-72.8,-39.47,-72.75,-39.44"])
        ] = None,
    ) -> Bbox | None:
        if bbox is None:
            return None
        try:
            return parse_bbox(bbox, allow_3d=ogc)
        except BboxError as exc:
            raise _bbox_problem(exc.reason, ogc=ogc) from None

    return bbox_query


BboxQuery = Annotated[Bbox | None, Depends(_bbox_dependency(ogc=False))]
OgcBboxQuery = Annotated[Bbox | None, Depends(_bbox_dependency(ogc=True))]

# How many features one GeoJSON list answers at most (the REST layer lists, not OGC API,
# which pages with its own limit and offset).
MAX_FEATURES_PER_RESPONSE = 10_000
FeatureLimit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_FEATURES_PER_RESPONSE,
        description=f"Máximo de elementos (hasta {MAX_FEATURES_PER_RESPONSE}), por id.",
    ),
]

# A point in query parameters (`?lon=&lat=`), WGS 84.
Longitude = Annotated[
    float, Query(ge=-180, le=180, allow_inf_nan=False, description="Longitud WGS 84 (grados).")
]
Latitude = Annotated[
    float, Query(ge=-90, le=90, allow_inf_nan=False, description="Latitud WGS 84 (grados).")
]
