"""The collections Vigía publishes through OGC API - Features, and who may read each.

A collection is a SELECT whose columns are labelled `id`, `geom`, optionally `datetime`,
and one column per published property. Items, queryables, CQL2 filters and vector tiles
are all built from that one description, so adding a layer means adding a `Collection`.

Row scope is not declared by hand: a collection whose SELECT reads a table listed in
`access.ROW_SCOPES` (complaints, risk factors) is narrowed by that table's rule on every
surface (items, single items, tiles), and the statements built for it are cached per scope.
Only a public collection may opt out, and it has to say why (`unscoped`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, String, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Alias, TableClause
from sqlalchemy.sql.util import find_tables

from app.models import (
    Barrio,
    Complaint,
    CrimeCategory,
    MicroBarrio,
    RiskFactorReport,
    RiskFactorType,
    Role,
)
from app.models.ranking import RankingSnapshot, RankingUnitResult
from app.services import access
from app.services.access import AuditedRead, RowScope
from app.services.api_keys import Caller
from app.services.risk_factors import public
from app.services.risk_factors.reports import overdue


@dataclass(frozen=True)
class Queryable:
    name: str
    type: str  # JSON Schema type: string, integer, number, boolean; or "date-time"
    description: str

    def json_schema(self) -> dict[str, Any]:
        if self.type == "date-time":
            return {"type": "string", "format": "date-time", "description": self.description}
        return {"type": self.type, "description": self.description}


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    source: Callable[[], Select]
    properties: tuple[Queryable, ...]
    geometry_type: str  # GeoJSON type; "Point" collections are aggregated/capped in tiles
    datetime_property: str | None = None  # name the `datetime` column is published under
    roles: frozenset[Role] | None = None  # None: public
    keywords: tuple[str, ...] = field(default_factory=tuple)
    # RFC 7946 wants counter-clockwise exterior rings; applied on output only, so filters
    # on `geom` keep using the GiST index.
    force_ccw: bool = False
    # Why a public collection reading scoped tables shows every row (it must generalise them).
    unscoped: str | None = None
    # Reads of rows flagged by `audited.flag` leave one audit event per request.
    audited: AuditedRead | None = None
    # Derived from `source`: the row-scope rules of the tables it reads (access.ROW_SCOPES).
    row_scopes: tuple[RowScope, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        scopes = _row_scopes(self.id, self.source())
        if self.unscoped is not None:
            if not scopes or self.roles is not None:
                raise ValueError(f"{self.id}: `unscoped` is for public layers of scoped tables")
            scopes = ()
        elif scopes and self.roles is None:
            raise ValueError(f"{self.id}: a public layer of scoped tables must say `unscoped`")
        if self.audited is not None and self.audited.flag not in self.source().selected_columns:
            raise ValueError(f"{self.id}: the audited flag {self.audited.flag!r} is not a column")
        object.__setattr__(self, "row_scopes", scopes)

    def readable_by(self, role: Role | None) -> bool:
        return self.roles is None or (
            role is not None and (role in self.roles or role == Role.ADMIN)
        )

    @property
    def is_public(self) -> bool:
        return self.roles is None

    def scope_key(self, caller: Caller) -> Caller | None:
        """What the caller's view of this collection depends on (None: the same for all).

        Prebuilt statements are cached under this key, never under less.
        """
        return access.scope_key(caller) if self.row_scopes else None

    def scoped_source(self, key: Caller | None) -> Select:
        """The source narrowed to the rows the scope `key` (from `scope_key`) may see."""
        stmt = self.source()
        if not self.row_scopes:
            return stmt
        if key is None:  # fail closed: a scoped collection is never read without a scope
            raise ValueError(f"the collection {self.id} needs the caller's scope")
        return stmt.where(*(scope(key) for scope in self.row_scopes))


def _row_scopes(collection_id: str, stmt: Select) -> tuple[RowScope, ...]:
    """The scope rules of the scoped tables `stmt` reads, anywhere (joins, subqueries)."""
    scopes: dict[str, RowScope] = {}
    for table in find_tables(stmt, include_aliases=True):
        if isinstance(table, Alias):
            element = table.element
            if isinstance(element, TableClause) and element.name in access.ROW_SCOPES:
                # the rule is written on the table itself and would not narrow the alias
                raise ValueError(f"{collection_id}: scoped table {element.name} read via alias")
        elif isinstance(table, TableClause) and table.name in access.ROW_SCOPES:
            scopes[table.name] = access.ROW_SCOPES[table.name]
    return tuple(scopes[name] for name in sorted(scopes))


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

REGISTRY: dict[str, Collection] = {}


def register(collection: Collection) -> None:
    REGISTRY[collection.id] = collection


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
        .join(CrimeCategory, CrimeCategory.code == Complaint.category_code)
        .outerjoin(Barrio, Barrio.id == Complaint.barrio_id)
        .outerjoin(micro, micro.id == Complaint.micro_barrio_id)
    )


register(
    Collection(
        id="complaints",
        title="Denuncias",
        description=(
            "Denuncias georreferenciadas con su ubicación exacta (solo personal con clave: "
            "planificación, policías, administración). Sin dirección ni referencia del caso."
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
