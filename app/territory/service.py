"""Territory: loading a comuna's file, reading its units as GeoJSON, locating points."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import (
    Boolean,
    Label,
    Select,
    Text,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.geo.territory import Territory, TerritoryFileError, Unit, validate_territory
from app.geojson import feature, feature_collection
from app.models import Barrio, Comuna, MicroBarrio
from app.models.base import SRID
from app.settings import TerritorySettings

# ---------------------------------------------------------------------------------------
# Loading

# Every load announces itself here, in its own transaction (delivered on commit): the
# processes serving the territory from memory drop what they hold (app.ogc.response_cache).
CHANNEL = "vigia_territory"  # payload: the code of the comuna loaded


@dataclass
class LevelReport:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    comuna: str
    levels: dict[str, LevelReport]

    @property
    def changed(self) -> bool:
        return any(r.inserted or r.updated for r in self.levels.values())


def parse_territory(document: Any, settings: TerritorySettings) -> Territory:
    try:
        return validate_territory(
            document,
            containment_tolerance_m=settings.containment_tolerance_m,
            overlap_tolerance_m2=settings.overlap_tolerance_m2,
        )
    except TerritoryFileError as exc:
        raise InvalidInput(
            f"El archivo de territorio tiene {len(exc.problems)} problema(s); no se escribió nada.",
            errors=exc.problems,
            code="territorio_invalido",
        ) from exc


def _geom(unit: Unit) -> Any:
    return from_shape(unit.geom, srid=SRID)


# xmax = 0 only for a freshly inserted tuple: the usual upsert idiom to tell them apart.
WAS_INSERTED: Label[bool] = literal_column("(xmax = 0)", Boolean).label("inserted")


def _upsert(
    session: Session,
    model: type[Comuna] | type[Barrio] | type[MicroBarrio],
    rows: list[dict[str, Any]],
    key: list[str],
    report: LevelReport,
) -> None:
    """Insert or update in place; rows identical to what is stored are not touched."""
    if not rows:
        return
    stmt: Any = insert(model).values(rows)
    compared = [c for c in rows[0] if c not in key]
    table = model.__table__
    changed = or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared])
    stmt = stmt.on_conflict_do_update(
        index_elements=key,
        set_={c: stmt.excluded[c] for c in compared},
        where=changed,
    ).returning(table.c.code, WAS_INSERTED)
    touched = {row.code: row.inserted for row in session.execute(stmt)}
    for row in rows:
        code = row["code"]
        if code not in touched:
            report.unchanged.append(code)
        elif touched[code]:
            report.inserted.append(code)
        else:
            report.updated.append(code)


def _common(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "population": unit.population,
        "attributes": unit.attributes,
        "geom": _geom(unit),
    }


def load_territory(session: Session, territory: Territory) -> LoadReport:
    """Upsert a validated territory. Loading the same file twice changes nothing."""
    comuna = territory.comuna
    levels = {level: LevelReport() for level in ("comuna", "barrio", "micro_barrio")}
    _upsert(
        session,
        Comuna,
        [
            {
                **_common(comuna),
                "region": comuna.region,
                "region_code": comuna.region_code,
                "province": comuna.province,
            }
        ],
        ["code"],
        levels["comuna"],
    )
    _upsert(
        session,
        Barrio,
        [
            {
                **_common(b),
                "comuna_code": comuna.code,
                "population_estimated": b.population_estimated,
            }
            for b in territory.barrios
        ],
        ["comuna_code", "code"],
        levels["barrio"],
    )
    barrio_ids = {
        row.code: row.id
        for row in session.execute(
            select(Barrio.code, Barrio.id).where(Barrio.comuna_code == comuna.code)
        )
    }
    _upsert(
        session,
        MicroBarrio,
        [
            {
                **_common(m),
                "comuna_code": comuna.code,
                "barrio_id": barrio_ids[m.parent or ""],
                "population_estimated": m.population_estimated,
            }
            for m in territory.micro_barrios
        ],
        ["comuna_code", "code"],
        levels["micro_barrio"],
    )
    for level, model, units in (
        ("barrio", Barrio, territory.barrios),
        ("micro_barrio", MicroBarrio, territory.micro_barrios),
    ):
        in_file = {u.code for u in units}
        stored = session.scalars(select(model.code).where(model.comuna_code == comuna.code))
        levels[level].not_in_file = sorted(set(stored) - in_file)
    session.flush()
    # even when nothing changed: a load is rare, and a reader may hold a hand-made change
    session.execute(select(func.pg_notify(CHANNEL, comuna.code)))
    return LoadReport(comuna=comuna.code, levels=levels)


# ---------------------------------------------------------------------------------------
# Reading


UNKNOWN_COMUNA = "comuna_no_encontrada"
COMUNA_REQUIRED = "comuna_obligatoria"


def resolve_comuna(session: Session, comuna: str | None) -> Comuna:
    """The comuna a request names, or the only one loaded when it names none.

    The one resolver of every surface that works on one comuna (rankings, public statistics
    and rankings, reports): an unknown comuna is bad input naming the field `comuna` (422,
    code `comuna_no_encontrada`), not a 404, because what the request asks for (a ranking,
    the statistics) exists and the parameter choosing it is wrong; the same holds whether
    the comuna travels in the query or in a body. Naming none with zero or several comunas
    loaded is a 422 with code `comuna_obligatoria`. A comuna used as a *filter* of a list
    (complaints, barrios, risk factors) is not resolved: an unknown one filters to nothing.
    """
    if comuna is not None:
        found = session.get(Comuna, comuna)
        if found is None:
            raise InvalidInput(
                f"La comuna {comuna} no está cargada.",
                errors=[{"field": "comuna", "reason": f"la comuna {comuna} no está cargada"}],
                code=UNKNOWN_COMUNA,
            )
        return found
    loaded = session.scalars(select(Comuna).order_by(Comuna.code).limit(2)).all()
    if len(loaded) != 1:
        reason = "no hay comunas cargadas" if not loaded else "hay varias comunas: indique cuál"
        raise InvalidInput(
            f"Indique la comuna (código CUT): {reason}.",
            errors=[{"field": "comuna", "reason": reason}],
            code=COMUNA_REQUIRED,
        )
    return loaded[0]


def _comuna_filter(model: type[Barrio] | type[MicroBarrio], comuna: str | None) -> Any:
    return model.comuna_code == comuna if comuna else literal(True)


def _barrio_features(comuna: str | None) -> Select:
    return select(
        feature(
            id_=Barrio.code,
            geom=func.ST_ForcePolygonCCW(Barrio.geom),
            properties={
                "code": Barrio.code,
                "name": Barrio.name,
                "comuna": Barrio.comuna_code,
                "population": Barrio.population,
                "population_estimated": Barrio.population_estimated,
                "micro_barrios": select(func.count())
                .where(MicroBarrio.barrio_id == Barrio.id)
                .scalar_subquery(),
            },
        ).label("feature"),
        Barrio.code.label("code"),
    ).where(_comuna_filter(Barrio, comuna))


def barrios_geojson(session: Session, *, comuna: str | None = None) -> str:
    return session.execute(
        feature_collection(_barrio_features(comuna), order_by="code")
    ).scalar_one()


def barrio_feature(session: Session, code: str, *, comuna: str | None = None) -> str:
    rows = (
        session.execute(
            _barrio_features(comuna)
            .with_only_columns(cast(_barrio_features(comuna).selected_columns.feature, Text))
            .where(Barrio.code == code)
        )
        .scalars()
        .all()
    )
    if not rows:
        raise NotFound(f"No existe el barrio {code!r}.", code="barrio_no_encontrado")
    if len(rows) > 1:
        raise InvalidInput(
            f"El código {code!r} existe en varias comunas; indique cuál con ?comuna=.",
            errors=[{"field": "comuna", "location": "query", "reason": "obligatorio aquí"}],
        )
    return rows[0]


def micro_barrios_geojson(
    session: Session, *, comuna: str | None = None, barrio: str | None = None
) -> str:
    stmt: Select = (
        select(
            feature(
                id_=MicroBarrio.code,
                geom=func.ST_ForcePolygonCCW(MicroBarrio.geom),
                properties={
                    "code": MicroBarrio.code,
                    "name": MicroBarrio.name,
                    "comuna": MicroBarrio.comuna_code,
                    "barrio": Barrio.code,
                    "population": MicroBarrio.population,
                    "population_estimated": MicroBarrio.population_estimated,
                },
            ).label("feature"),
            MicroBarrio.code.label("code"),
        )
        .join(Barrio, Barrio.id == MicroBarrio.barrio_id)
        .where(_comuna_filter(MicroBarrio, comuna))
    )
    if barrio is not None:
        stmt = stmt.where(Barrio.code == barrio)
    return session.execute(feature_collection(stmt, order_by="code")).scalar_one()


@dataclass
class Location:
    comuna: dict[str, str]
    barrio: dict[str, str]
    micro_barrio: dict[str, str] | None
    on_boundary: bool


def locate(session: Session, lon: float, lat: float) -> Location:
    """The barrio and micro-barrio containing a point; on a shared edge the lowest code wins."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), SRID)
    barrio_row = session.execute(
        select(
            Comuna.code,
            Comuna.name,
            Barrio.id,
            Barrio.code,
            Barrio.name,
            func.ST_Touches(Barrio.geom, point),
        )
        .join(Comuna, Comuna.code == Barrio.comuna_code)
        .where(func.ST_Intersects(Barrio.geom, point))
        .order_by(func.ST_Touches(Barrio.geom, point), Barrio.code)
        .limit(1)
    ).first()
    if barrio_row is None:
        swapped = session.scalar(
            select(func.count())
            .select_from(Comuna)
            .where(
                func.ST_Intersects(Comuna.geom, func.ST_SetSRID(func.ST_MakePoint(lat, lon), SRID))
            )
        )
        hint = (
            " Con latitud y longitud intercambiadas el punto sí cae en el territorio: "
            "¿están invertidas?"
            if swapped
            else ""
        )
        raise NotFound(
            f"El punto ({lon}, {lat}) queda fuera de todas las comunas cargadas.{hint}",
            code="fuera_del_territorio",
            swapped_coordinates=bool(swapped),
        )
    comuna_code, comuna_name, barrio_id, barrio_code, barrio_name, barrio_touch = barrio_row
    micro_row = session.execute(
        select(MicroBarrio.code, MicroBarrio.name, func.ST_Touches(MicroBarrio.geom, point))
        .where(MicroBarrio.barrio_id == barrio_id, func.ST_Intersects(MicroBarrio.geom, point))
        .order_by(func.ST_Touches(MicroBarrio.geom, point), MicroBarrio.code)
        .limit(1)
    ).first()
    on_boundary = bool(barrio_touch) or bool(micro_row and micro_row[2])
    if not on_boundary:
        # Inside one barrio but on the edge it shares with a neighbour?
        on_boundary = bool(
            session.scalar(
                select(func.count())
                .select_from(Barrio)
                .where(Barrio.id != barrio_id, func.ST_Intersects(Barrio.geom, point))
            )
        )
    return Location(
        comuna={"code": comuna_code, "name": comuna_name},
        barrio={"code": barrio_code, "name": barrio_name},
        micro_barrio={"code": micro_row[0], "name": micro_row[1]} if micro_row else None,
        on_boundary=on_boundary,
    )
