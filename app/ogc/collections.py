"""The collections Vigía publishes through OGC API - Features, and who may read each.

What a collection is, and how its row scope is found, is in `app.ogc.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, Select, String, func, select
from sqlalchemy.orm import aliased

from app.errors import NotAuthenticated, NotFound
from app.identity import access
from app.identity.api_keys import Caller
from app.models import (
    Barrio,
    CensusBlock,
    Complaint,
    CrimeCategory,
    MicroBarrio,
    RiskFactorReport,
    RiskFactorType,
    Role,
)
from app.models.complaint import located
from app.models.ranking import RankingSnapshot, RankingUnitResult
from app.ogc.registry import REGISTRY, Collection, Queryable, register
from app.privacy import public_risk_factors as public
from app.risk_factors.field_reports import overdue

__all__ = [
    "REGISTRY",
    "Collection",
    "Queryable",
    "readable_collection",
    "territory_bbox",
    "territory_extent",
]


def _barrios() -> Select:
    return select(
        Barrio.code.label("id"),
        Barrio.geom.label("geom"),
        Barrio.code.label("code"),
        Barrio.name.label("name"),
        Barrio.comuna_code.label("comuna"),
        Barrio.population.label("population"),
    )


def _micro_barrios() -> Select:
    return select(
        MicroBarrio.code.label("id"),
        MicroBarrio.geom.label("geom"),
        MicroBarrio.code.label("code"),
        MicroBarrio.name.label("name"),
        MicroBarrio.comuna_code.label("comuna"),
        Barrio.code.label("barrio"),
        MicroBarrio.population.label("population"),
    ).join(Barrio, Barrio.id == MicroBarrio.barrio_id)


_UNIT_PROPERTIES = (
    Queryable("code", "string", "Código de la unidad"),
    Queryable("name", "string", "Nombre descriptivo"),
    Queryable("comuna", "string", "Código CUT de la comuna"),
    Queryable("population", "integer", "Población (Censo 2017 o estimada)"),
)

register(
    Collection(
        id="barrios",
        title="Barrios",
        description="Barrios de cada comuna cargada, con su población.",
        source=_barrios,
        properties=_UNIT_PROPERTIES,
        geometry_type="MultiPolygon",
        keywords=("territorio", "barrio"),
        force_ccw=True,
    )
)
register(
    Collection(
        id="micro-barrios",
        title="Micro-barrios",
        description="Micro-barrios (grupos de manzanas censales) dentro de cada barrio.",
        source=_micro_barrios,
        properties=(
            *_UNIT_PROPERTIES,
            Queryable("barrio", "string", "Código del barrio que lo contiene"),
        ),
        geometry_type="MultiPolygon",
        keywords=("territorio", "micro-barrio"),
        force_ccw=True,
    )
)


def _census_blocks() -> Select:
    return select(
        CensusBlock.id.label("id"),
        CensusBlock.geom.label("geom"),
        CensusBlock.source_id.label("code"),
        CensusBlock.comuna_code.label("comuna"),
    )


register(
    Collection(
        id="manzanas",
        title="Manzanas censales",
        description=(
            "Manzanas censales de cada comuna que las cargó (`vigia territory blocks`): "
            "geometría pública del censo, sin cifras. El mapa web las dibuja como fondo claro "
            "cuando no hay mapa base."
        ),
        source=_census_blocks,
        properties=(
            Queryable("code", "string", "Identificador de la manzana en su fuente (INE)"),
            Queryable("comuna", "string", "Código CUT de la comuna"),
        ),
        geometry_type="MultiPolygon",
        keywords=("territorio", "manzana", "censo"),
        force_ccw=True,
    )
)


# --- complaints (staff only: exact points) ------------------------------------------------------


def _complaints() -> Select:
    micro = aliased(MicroBarrio)
    return (
        select(
            Complaint.id.label("id"),
            Complaint.geom.label("geom"),
            Complaint.occurred_at.label("datetime"),
            Complaint.category_code.label("category"),
            CrimeCategory.name.label("category_name"),
            CrimeCategory.family_code.label("family"),
            CrimeCategory.dmcs.label("dmcs"),
            CrimeCategory.sensitive.label("sensitive"),
            # enums as text: CQL2 comparisons with unknown values then match nothing
            Complaint.location_precision.cast(String).label("precision"),
            Complaint.source.cast(String).label("source"),
            Complaint.comuna_code.label("comuna"),
            Barrio.code.label("barrio"),
            micro.code.label("micro_barrio"),
        )
        # Outer joins, though every complaint has its category (NOT NULL foreign key) and the
        # rows are the same: PostgreSQL drops an outer join to a unique key whose columns a
        # statement does not use, so `numberMatched` of an unfiltered page counts complaints
        # alone (an inner join kept crime_category in it: twice the time).
        .outerjoin(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .outerjoin(Barrio, Barrio.id == Complaint.barrio_id)
        .outerjoin(micro, micro.id == Complaint.micro_barrio_id)
        .where(located())
    )


register(
    Collection(
        id="complaints",
        title="Denuncias",
        description=(
            "Denuncias georreferenciadas con su ubicación exacta (solo personal con clave: "
            "planificación y administración ven todas; cada policía, las de su institución). "
            "Sin dirección ni referencia del caso."
        ),
        source=_complaints,
        properties=(
            Queryable("category", "string", "Código de la categoría (CEAD 2024 o Vigía)"),
            Queryable("category_name", "string", "Nombre de la categoría"),
            Queryable("family", "string", "Familia CEAD 2024"),
            Queryable("dmcs", "boolean", "Delito de mayor connotación social"),
            Queryable("sensitive", "boolean", "Categoría sensible (nunca pública bajo la comuna)"),
            Queryable("precision", "string", "Precisión: exact, street, block, approximate"),
            Queryable("source", "string", "Institución: carabineros, pdi, fiscalia, municipal"),
            Queryable("comuna", "string", "Código CUT de la comuna"),
            Queryable("barrio", "string", "Código del barrio"),
            Queryable("micro_barrio", "string", "Código del micro-barrio"),
        ),
        geometry_type="Point",
        datetime_property="occurred_at",
        roles=frozenset({Role.PLANNER, Role.POLICE}),
        keywords=("denuncias", "delitos"),
        audited=access.SENSITIVE_COMPLAINTS,
    )
)


# --- risk factors: exact for staff, generalised for the public ---------------------------------

_R = RiskFactorReport
_T = RiskFactorType


def _risk_factors() -> Select:
    micro = aliased(MicroBarrio)
    return (
        select(
            _R.id.label("id"),
            _R.geom.label("geom"),
            _R.received_at.label("datetime"),
            _T.code.label("type"),
            _T.label.label("type_label"),
            _T.typology.cast(String).label("typology"),
            _R.status.cast(String).label("status"),
            _R.severity.label("severity"),
            overdue(func.now()).label("overdue"),
            _R.responsible_unit.label("responsible_unit"),
            _R.comuna_code.label("comuna"),
            Barrio.code.label("barrio"),
            micro.code.label("micro_barrio"),
        )
        .select_from(_R)
        .join(_T, _T.id == _R.type_id)
        .outerjoin(Barrio, Barrio.id == _R.barrio_id)
        .outerjoin(micro, micro.id == _R.micro_barrio_id)
    )


_RISK_COMMON = (
    Queryable("type", "string", "Código del tipo de factor"),
    Queryable("type_label", "string", "Nombre del tipo de factor"),
    Queryable("typology", "string", "Tipología SPD que lo resuelve: IL, REP, AC, EQUIP, CTV"),
    Queryable("status", "string", "Estado del ciclo de vida"),
    Queryable("overdue", "boolean", "Abierto y con el plazo vencido"),
    Queryable("barrio", "string", "Código del barrio"),
    Queryable("micro_barrio", "string", "Código del micro-barrio"),
)

register(
    Collection(
        id="risk-factors",
        title="Factores de riesgo urbano",
        description=(
            "Factores de riesgo informados por las policías, con su geometría exacta. Policías "
            "ven los de su institución; unidades, lo derivado a ellas; planificación, todos."
        ),
        source=_risk_factors,
        properties=(
            *_RISK_COMMON,
            Queryable("severity", "integer", "Severidad 1 a 5"),
            Queryable("responsible_unit", "string", "Unidad responsable"),
            Queryable("comuna", "string", "Código CUT de la comuna"),
        ),
        geometry_type="Geometry",
        datetime_property="received_at",
        roles=frozenset({Role.PLANNER, Role.POLICE, Role.UNIT}),
        keywords=("factores de riesgo", "prevención situacional"),
        force_ccw=True,
    )
)


def _risk_factors_public() -> Select:
    R = public.R
    columns: Select[Any] = select(
        R.id.label("id"),
        public.generalised_point().label("geom"),
        public.T.code.label("type"),
        public.T.label.label("type_label"),
        public.T.typology.cast(String).label("typology"),
        R.status.cast(String).label("status"),
        public.status_label().label("status_label"),
        overdue(func.now()).label("overdue"),
        Barrio.code.label("barrio"),
        public.Micro.code.label("micro_barrio"),
        public.location_precision().label("location_precision"),
        public.month(R.received_at).label("reported_month"),
        public.month(R.resolved_at).label("resolved_month"),
    )
    return public.public_base(columns)


register(
    Collection(
        id="risk-factors-public",
        title="Factores de riesgo urbano (público)",
        description=(
            "Factores de riesgo generalizados: punto del micro-barrio (o barrio), mes, sin "
            "texto libre ni funcionario. Los tipos no públicos no aparecen."
        ),
        source=_risk_factors_public,
        properties=(
            *_RISK_COMMON,
            Queryable("status_label", "string", "Estado en palabras"),
            Queryable("location_precision", "string", "micro_barrio o barrio"),
            Queryable("reported_month", "string", "Mes de recepción (AAAA-MM)"),
            Queryable("resolved_month", "string", "Mes de resolución (AAAA-MM)"),
        ),
        geometry_type="Point",
        keywords=("factores de riesgo", "datos abiertos"),
        unscoped="punto del micro-barrio, mes y sin texto libre: es el mismo feed público",
    )
)


# --- rankings: the latest stored snapshot per comuna and level -----------------------------------


def _ranking(level: str, unit: type[Barrio] | type[MicroBarrio]) -> Callable[[], Select]:
    """Units coloured by their latest stored ranking: read from the snapshot, never recomputed."""

    def source() -> Select:
        latest = (
            select(RankingSnapshot.id)
            .where(
                RankingSnapshot.comuna_code == unit.comuna_code,
                RankingSnapshot.level == level,
            )
            .order_by(RankingSnapshot.computed_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        return select(
            unit.code.label("id"),
            unit.geom.label("geom"),
            unit.code.label("code"),
            unit.name.label("name"),
            unit.comuna_code.label("comuna"),
            RankingUnitResult.rank.label("rank"),
            RankingUnitResult.score.label("score"),
            RankingUnitResult.class_.label("class"),
            RankingUnitResult.top_variables.label("top_variables"),
            RankingUnitResult.snapshot_id.cast(String).label("snapshot"),
        ).join(
            RankingUnitResult,
            (RankingUnitResult.unit_code == unit.code) & (RankingUnitResult.snapshot_id == latest),
        )

    return source


_RANKING_PROPERTIES = (
    Queryable("code", "string", "Código de la unidad"),
    Queryable("name", "string", "Nombre descriptivo"),
    Queryable("comuna", "string", "Código CUT de la comuna"),
    Queryable("rank", "integer", "Lugar (1 = más crítico)"),
    Queryable("score", "number", "Índice compuesto, 0 a 100"),
    Queryable("class", "string", "crítico, alto, medio o bajo"),
    Queryable("top_variables", "string", "Variables que más aportan (lista)"),
    Queryable("snapshot", "string", "Id del ranking guardado (para citarlo)"),
)

for _level, _unit, _title in (
    ("barrio", Barrio, "barrios"),
    ("micro_barrio", MicroBarrio, "micro-barrios"),
):
    register(
        Collection(
            id=f"ranking-{_title}",
            title=f"Ranking de {_title}",
            description=(
                f"Último ranking guardado de {_title} de cada comuna: índice, clase, lugar y "
                "variables principales (ver docs/metodologia.md). Se lee del ranking guardado."
            ),
            source=_ranking(_level, _unit),
            properties=_RANKING_PROPERTIES,
            geometry_type="MultiPolygon",
            roles=frozenset({Role.PLANNER, Role.POLICE, Role.UNIT}),
            keywords=("ranking", "priorización"),
            force_ccw=True,
        )
    )


def territory_extent() -> Select:
    """[minx, miny, maxx, maxy] of every loaded comuna: the spatial extent we advertise."""
    from app.models import Comuna

    extent = func.ST_Extent(Comuna.geom)
    return select(
        func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent)
    )


def territory_bbox(engine: Engine) -> list[float] | None:
    """The advertised extent, rounded to 6 decimals (about 10 cm); None with no comuna loaded."""
    with engine.connect() as connection:
        row = connection.execute(territory_extent()).one()
    return None if row[0] is None else [round(float(v), 6) for v in row]


def readable_collection(collection_id: str, caller: Caller) -> Collection:
    """The collection, if `caller` may read it; a hidden one is answered as missing."""
    collection = REGISTRY.get(collection_id)
    if collection is None:
        raise NotFound(f"No existe la colección {collection_id!r}.", code="coleccion_no_encontrada")
    if not collection.readable_by(caller.role):
        if caller.is_public:
            raise NotAuthenticated(f"La colección {collection_id} requiere una clave de acceso.")
        raise NotFound(f"No existe la colección {collection_id!r}.", code="coleccion_no_encontrada")
    return collection


from app.risk_terrain import ogc as _risk_terrain  # noqa: E402, F401  (registers its collection)
