"""Loading a checked gazetteer source into PostGIS as a new version of the comuna's gazetteer.

All or nothing, inside the caller's transaction: every feature must fall in the comuna
(within the territory tolerance) or the load is refused listing each one, writing nothing.
A source is known by (comuna, source name): loading identical content again changes
nothing (same SHA-256); new content becomes a new current version, and the previous
version's features are removed (its row stays, because complaints name the version that
placed them). Street intersections are computed here once, set-based.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, INTEGER, TEXT
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import FieldProblem, InvalidInput
from app.geocoding.parse import STREET_TYPES, fold, name_key
from app.geocoding.reader import GazetteerContent, GazetteerFileError
from app.models.gazetteer import GazetteerVersion
from app.settings import get_territory_settings
from app.territory.service import resolve_comuna

SOURCE_NAME_MAX_CHARS = 100
INVALID_GAZETTEER = "nomenclator_invalido"


@dataclass
class GazetteerLoadReport:
    comuna: str
    source_name: str
    version: int
    unchanged: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def invalid_file(name: str, error: GazetteerFileError) -> InvalidInput:
    return InvalidInput(
        f"El nomenclátor {name} tiene {len(error.problems)} problema(s); no se escribió nada.",
        errors=error.problems,
        code=INVALID_GAZETTEER,
    )


_OUTSIDE = text(
    """
    SELECT t.i, t.sid FROM unnest(:idx, :sid, :wkb) AS t(i, sid, w), comuna c
     WHERE c.code = :comuna
       AND NOT ST_Intersects(c.geom, ST_GeomFromWKB(t.w, 4326))
       AND NOT ST_DWithin(c.geom::geography, ST_GeomFromWKB(t.w, 4326)::geography, :tolerance)
     ORDER BY t.i
    """
).bindparams(
    bindparam("idx", type_=ARRAY(INTEGER)),
    bindparam("sid", type_=ARRAY(TEXT)),
    bindparam("wkb", type_=ARRAY(BYTEA)),
)
_STREETS = text(
    """
    INSERT INTO gazetteer_street (version_id, name, key, street_type)
    SELECT :version, n, k, t FROM unnest(:names, :keys, :types) AS u(n, k, t)
    RETURNING id, key
    """
).bindparams(
    bindparam("names", type_=ARRAY(TEXT)),
    bindparam("keys", type_=ARRAY(TEXT)),
    bindparam("types", type_=ARRAY(TEXT)),
)
_SEGMENTS = text(
    """
    INSERT INTO gazetteer_segment
        (street_id, source_id, geom, left_from, left_to, right_from, right_to, length_m)
    SELECT s, sid, g, lf, lt, rf, rt, ST_Length(g::geography)
      FROM (SELECT s, sid, ST_GeomFromWKB(w, 4326) AS g, lf, lt, rf, rt
              FROM unnest(:street, :sid, :wkb, :lf, :lt, :rf, :rt)
                   AS u(s, sid, w, lf, lt, rf, rt)) x
    """
).bindparams(
    *(bindparam(n, type_=ARRAY(INTEGER)) for n in ("street", "lf", "lt", "rf", "rt")),
    bindparam("sid", type_=ARRAY(TEXT)),
    bindparam("wkb", type_=ARRAY(BYTEA)),
)
_ADDRESSES = text(
    """
    INSERT INTO gazetteer_address (street_id, source_id, number, geom)
    SELECT s, sid, n, ST_GeomFromWKB(w, 4326)
      FROM unnest(:street, :sid, :number, :wkb) AS u(s, sid, n, w)
    """
).bindparams(
    bindparam("street", type_=ARRAY(INTEGER)),
    bindparam("sid", type_=ARRAY(TEXT)),
    bindparam("number", type_=ARRAY(INTEGER)),
    bindparam("wkb", type_=ARRAY(BYTEA)),
)
_PLACES = text(
    """
    INSERT INTO gazetteer_place (version_id, source_id, name, key, kind, geom)
    SELECT :version, sid, n, k, kind, ST_GeomFromWKB(w, 4326)
      FROM unnest(:sid, :names, :keys, :kinds, :wkb) AS u(sid, n, k, kind, w)
    """
).bindparams(
    *(bindparam(n, type_=ARRAY(TEXT)) for n in ("sid", "names", "keys", "kinds")),
    bindparam("wkb", type_=ARRAY(BYTEA)),
)
# Two streets cross where any of their segments meet; one point per pair (the westernmost
# when they meet more than once, so a reload gives the same point).
_INTERSECTIONS = text(
    """
    INSERT INTO gazetteer_intersection (street_a, street_b, geom)
    SELECT DISTINCT ON (a, b) a, b, p
      FROM (SELECT sa.street_id AS a, sb.street_id AS b,
                   ST_ClosestPoint(sa.geom, sb.geom) AS p
              FROM gazetteer_segment sa
              JOIN gazetteer_street ta ON ta.id = sa.street_id AND ta.version_id = :version
              JOIN gazetteer_segment sb ON sb.street_id > sa.street_id
                   AND ST_DWithin(sa.geom, sb.geom, 1e-6)
              JOIN gazetteer_street tb ON tb.id = sb.street_id AND tb.version_id = :version) x
     ORDER BY a, b, ST_X(p), ST_Y(p)
    """
)


def _check_containment(session: Session, content: GazetteerContent, comuna: str) -> None:
    items = content.items()
    outside: list[FieldProblem] = []
    tolerance = get_territory_settings().comuna_tolerance_m
    for start in range(0, len(items), 5_000):
        batch = items[start : start + 5_000]
        rows = session.execute(
            _OUTSIDE,
            {
                "idx": [i.index for i in batch],
                "sid": [i.source_id for i in batch],
                "wkb": [i.geom.wkb for i in batch],
                "comuna": comuna,
                "tolerance": tolerance,
            },
        )
        outside += [
            {
                "field": "geometry",
                "index": i,
                "code": sid,
                "reason": f"queda fuera de la comuna {comuna}",
            }
            for i, sid in rows
        ]
    if outside:
        raise InvalidInput(
            f"{len(outside)} feature(s) quedan fuera de la comuna {comuna}; no se escribió nada.",
            errors=outside,
            code="fuera_del_territorio",
        )


def _street_rows(content: GazetteerContent) -> tuple[list[str], list[str], list[str | None]]:
    """One street per name key; its name is the spelling most features use."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for item in content.streets:
        spellings[name_key(item.name)][item.name] += 1
    for address in content.addresses:
        spellings[name_key(address.street)][address.street] += 1
    names, keys, types = [], [], []
    for key, counter in sorted(spellings.items()):
        if not key:
            continue
        name = counter.most_common(1)[0][0]
        first = fold(name).split()[:1]
        names.append(name)
        keys.append(key)
        types.append(STREET_TYPES.get(first[0]) if first else None)
    return names, keys, types


def load_gazetteer(
    session: Session, content: GazetteerContent, *, comuna: str, source_name: str, loaded_by: str
) -> GazetteerLoadReport:
    """Load a checked source as the comuna's current version of it; flushes, never commits.
    Raises InvalidInput, writing nothing, on a bad comuna, source name or feature."""
    resolve_comuna(session, comuna)
    if not source_name.strip() or len(source_name) > SOURCE_NAME_MAX_CHARS:
        reason = f"obligatorio, hasta {SOURCE_NAME_MAX_CHARS} caracteres"
        raise InvalidInput(
            f"Nombre de fuente no válido: {reason}.", errors=[{"field": "source", "reason": reason}]
        )
    current = session.scalars(
        select(GazetteerVersion).where(
            GazetteerVersion.comuna_code == comuna,
            GazetteerVersion.source_name == source_name,
            GazetteerVersion.current.is_(True),
        )
    ).first()
    if current is not None and current.content_sha256 == content.sha256:
        return GazetteerLoadReport(comuna, source_name, current.id, True, dict(current.counts))
    _check_containment(session, content, comuna)
    counts = {
        "segments": len(content.streets),
        "addresses": len(content.addresses),
        "places": len(content.places),
    }
    version = GazetteerVersion(
        comuna_code=comuna,
        source_name=source_name,
        source_format=content.source_format,
        content_sha256=content.sha256,
        current=True,
        counts=counts,
        loaded_by=loaded_by,
    )
    if current is not None:
        session.execute(
            update(GazetteerVersion).where(GazetteerVersion.id == current.id).values(current=False)
        )
        session.execute(
            text("DELETE FROM gazetteer_street WHERE version_id = :v"), {"v": current.id}
        )
        session.execute(
            text("DELETE FROM gazetteer_place WHERE version_id = :v"), {"v": current.id}
        )
    session.add(version)
    session.flush()
    names, keys, types = _street_rows(content)
    street_ids = {
        key: sid
        for sid, key in session.execute(
            _STREETS, {"version": version.id, "names": names, "keys": keys, "types": types}
        )
    }
    streets = [s for s in content.streets if name_key(s.name) in street_ids]
    if streets:
        session.execute(
            _SEGMENTS,
            {
                "street": [street_ids[name_key(s.name)] for s in streets],
                "sid": [s.source_id for s in streets],
                "wkb": [s.geom.wkb for s in streets],
                **{
                    n: [s.ranges[i] for s in streets]
                    for i, n in enumerate(("lf", "lt", "rf", "rt"))
                },
            },
        )
    addresses = [a for a in content.addresses if name_key(a.street) in street_ids]
    if addresses:
        session.execute(
            _ADDRESSES,
            {
                "street": [street_ids[name_key(a.street)] for a in addresses],
                "sid": [a.source_id for a in addresses],
                "number": [a.number for a in addresses],
                "wkb": [a.geom.wkb for a in addresses],
            },
        )
    if content.places:
        session.execute(
            _PLACES,
            {
                "version": version.id,
                "sid": [p.source_id for p in content.places],
                "names": [p.name for p in content.places],
                "keys": [name_key(p.name) for p in content.places],
                "kinds": [p.kind for p in content.places],
                "wkb": [p.geom.wkb for p in content.places],
            },
        )
    counts["streets"] = len(street_ids)
    crossed: Any = session.execute(_INTERSECTIONS, {"version": version.id})
    counts["intersections"] = crossed.rowcount
    version.counts = dict(counts)
    session.flush()
    audit.record(
        session,
        "gazetteer.load",
        "gazetteer_version",
        version.id,
        detail={"comuna": comuna, "source": source_name, **counts},
    )
    return GazetteerLoadReport(comuna, source_name, version.id, False, counts)
