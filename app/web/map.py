"""The planners' web map: a static page plus Leaflet, vendored from the npm registry.

The libraries are copied into `app/static/vendor/` by `scripts/bootstrap.sh` (from
`web/package-lock.json`), never fetched from a CDN: the map must work on a municipal
network with no internet.
"""

from __future__ import annotations

import functools
from html import escape
from pathlib import Path

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Barrio, Comuna, MicroBarrio
from app.scoring import VARIABLES
from app.settings import BasemapSettings
from app.territory.blocks import block_counts
from app.web.schemas import BasemapRead, ComunaViewRead, MapConfigRead, VariableRead

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
INDEX_FILE = STATIC_DIR / "index.html"
DOCS_FILE = STATIC_DIR / "docs.html"
REVIEW_FILE = STATIC_DIR / "geocodificacion.html"
REDOC_FILE = STATIC_DIR / "redoc.html"
# What index.html loads from vendor/ (the bootstrap copies exactly these, plus Leaflet's images).
VENDOR_FILES = (
    "leaflet/leaflet.css",
    "leaflet/leaflet.js",
    "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
)


def redoc_html(nonce: str) -> str:
    """/redoc's page with the nonce its injected styles must carry (read by redoc.js)."""
    return REDOC_FILE.read_text(encoding="utf-8").replace("{{nonce}}", nonce)


def missing_vendor_files() -> list[str]:
    return [name for name in VENDOR_FILES if not (VENDOR_DIR / name).is_file()]


def setup_needed_page(missing: list[str]) -> str:
    """A plain Spanish page telling the operator how to install the map's libraries."""
    items = "".join(f"<li><code>app/static/vendor/{escape(m)}</code></li>" for m in missing)
    return f"""<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Vigía · falta preparar el mapa</title>
<link rel="stylesheet" href="/static/paginas.css"></head>
<body class="aviso">
<h1>El mapa todavía no está instalado</h1>
<p>Faltan las bibliotecas del mapa (Leaflet), que Vigía sirve desde el propio servidor:</p>
<ul>{items}</ul>
<p>Ejecute la preparación desde la raíz del repositorio y vuelva a cargar esta página:</p>
<pre>scripts/bootstrap.sh</pre>
<p>(la corre también <code>make run</code>; necesita <code>npm</code> y acceso al registro npm).
La API sigue disponible en <a href="/docs">/docs</a>.</p>
</body></html>
"""


# Micro-barrios closer than this (degrees, about 1 km at Chile's latitudes) are one settlement.
SETTLEMENT_GAP_DEG = 0.01
# The comuna outline is drawn at town and comuna scale: ~20 m of simplification is invisible.
OUTLINE_TOLERANCE_DEG = 0.0002


def settled_extents(session: Session) -> dict[str, list[float]]:
    """Per comuna, the extent of its most populated settlement: micro-barrios grouped by
    distance (DBSCAN, any two closer than SETTLEMENT_GAP_DEG join), the group with the most
    people wins (ties: the widest). Micro-barrios cover the towns, not the rural remainder,
    so this is the town a first view should show."""
    clusters = select(
        MicroBarrio.comuna_code.label("comuna"),
        MicroBarrio.geom.label("geom"),
        func.coalesce(MicroBarrio.population, 0).label("people"),
        func.ST_ClusterDBSCAN(MicroBarrio.geom, SETTLEMENT_GAP_DEG, 1)
        .over(partition_by=MicroBarrio.comuna_code)
        .label("cluster"),
    ).subquery()
    groups = (
        select(
            clusters.c.comuna,
            func.sum(clusters.c.people).label("people"),
            func.ST_Extent(clusters.c.geom).label("extent"),
            func.sum(func.ST_Area(clusters.c.geom)).label("area"),
        )
        .group_by(clusters.c.comuna, clusters.c.cluster)
        .subquery()
    )
    ranked = select(
        groups.c.comuna,
        func.ST_XMin(groups.c.extent),
        func.ST_YMin(groups.c.extent),
        func.ST_XMax(groups.c.extent),
        func.ST_YMax(groups.c.extent),
    ).order_by(groups.c.comuna, groups.c.people.desc(), groups.c.area.desc())
    best: dict[str, list[float]] = {}
    for code, w, s, e, n in session.execute(ranked):  # a few settlements per comuna
        best.setdefault(code, [w, s, e, n])
    return best


def comuna_views(session: Session) -> list[ComunaViewRead]:
    """Each loaded comuna with its extent, the most populated first (then the widest, the code).

    The page fits its first view to one comuna's settled area, so the complaint tiles it asks
    for cover that comuna only, however many comunas the database holds.
    """
    barrios = (
        select(func.sum(Barrio.population))
        .where(Barrio.comuna_code == Comuna.code)
        .correlate(Comuna)
        .scalar_subquery()
    )
    population = func.coalesce(Comuna.population, barrios)
    extent = func.ST_Envelope(Comuna.geom)
    outline = func.ST_AsGeoJSON(
        func.ST_SimplifyPreserveTopology(Comuna.geom, OUTLINE_TOLERANCE_DEG), 5
    )
    rows = session.execute(
        select(
            Comuna.code,
            Comuna.name,
            population.label("population"),
            func.ST_XMin(extent),
            func.ST_YMin(extent),
            func.ST_XMax(extent),
            func.ST_YMax(extent),
            outline,
        ).order_by(population.desc().nulls_last(), func.ST_Area(Comuna.geom).desc(), Comuna.code)
    )
    settled = settled_extents(session)
    blocks = block_counts(session)
    return [
        ComunaViewRead(
            code=code,
            name=name,
            population=pop,
            bbox=[west, south, east, north],
            settled_bbox=settled.get(code, [west, south, east, north]),
            outline=orjson.loads(shape),
            census_blocks=blocks.get(code, 0),
        )
        for code, name, pop, west, south, east, north, shape in rows
    ]


CONFIG_HOLDER = '<script type="application/json" id="mapa-config"></script>'
# JSON inside <script>: no "</script>" nor "<!--" can end or change the element
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


@functools.cache
def _index_page() -> str:
    """index.html, read once per process (it ships with the code), not once per request."""
    return INDEX_FILE.read_text(encoding="utf-8")


def map_page_html(config: MapConfigRead) -> str:
    """index.html with map-config's body written into it: the page's first requests can
    leave before any script has run (mapa-inicio.js), with no round trip for the config."""
    data = config.model_dump_json().translate(_SCRIPT_SAFE)
    return _index_page().replace(CONFIG_HOLDER, CONFIG_HOLDER.replace("></", f">{data}</"), 1)


def map_config(session: Session, basemap: BasemapSettings) -> MapConfigRead:
    return MapConfigRead(
        basemap=(
            BasemapRead(url=basemap.url, attribution=basemap.attribution, max_zoom=basemap.max_zoom)
            if basemap.url
            else None
        ),
        variables={
            name: VariableRead(label=v.label, unit=v.unit, description=v.description, plain=v.plain)
            for name, v in VARIABLES.items()
        },
        comunas=comuna_views(session),
    )
