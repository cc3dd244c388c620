"""The OGC row scope is applied by construction: found from the tables a layer reads.

A layer over complaints gets the complaint rule without asking for it, a public layer over
them has to justify itself, an alias (which the rule would not reach) is refused, and
prebuilt statements are cached per scope (role, institution, unit), never per less.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.identity import access
from app.identity.caller import Caller
from app.models import Complaint, Role
from app.ogc.collections import REGISTRY, Collection, Queryable


def test_every_collection_reading_a_scoped_table_is_scoped_or_a_public_generalisation() -> None:
    for collection in REGISTRY.values():
        if collection.row_scopes:
            assert not collection.is_public, collection.id
        elif collection.unscoped is not None:
            assert collection.is_public, collection.id
    assert {c.id for c in REGISTRY.values() if c.row_scopes} == {"complaints", "risk-factors"}
    assert REGISTRY["complaints"].row_scopes == (access.complaint_scope,)
    assert REGISTRY["risk-factors"].row_scopes == (access.risk_factor_scope,)


def _layer(**overrides: Any) -> Collection:
    def source() -> Any:
        return select(Complaint.id.label("id"), Complaint.geom.label("geom"))

    fields: dict[str, Any] = {
        "id": "prueba",
        "title": "Prueba",
        "description": "Prueba",
        "source": source,
        "properties": (Queryable("id", "string", "x"),),
        "geometry_type": "Point",
        "roles": frozenset({Role.PLANNER}),
        **overrides,
    }
    return Collection(**fields)


def test_a_new_layer_over_complaints_gets_the_scope_without_asking() -> None:
    layer = _layer()
    assert layer.row_scopes == (access.complaint_scope,)
    sql = str(layer.scoped_source(access.scope_key(_police("pdi"))).compile())
    assert "complaint.source" in sql
    with pytest.raises(ValueError, match="scope"):
        layer.scoped_source(None)  # fails closed


def test_a_public_layer_over_complaints_must_justify_itself() -> None:
    with pytest.raises(ValueError, match="unscoped"):
        _layer(roles=None)
    with pytest.raises(ValueError, match="unscoped"):
        _layer(unscoped="no es público")  # only public layers may opt out


def test_reading_a_scoped_table_through_an_alias_is_refused() -> None:
    hidden = aliased(Complaint)
    with pytest.raises(ValueError, match="alias"):
        _layer(source=lambda: select(hidden.id.label("id"), hidden.geom.label("geom")))


def _police(institution: str) -> Caller:
    return Caller(role=Role.POLICE, institution=institution, key_id=7, key_prefix="vga_x")


def test_prebuilt_statements_are_keyed_by_scope_not_by_key() -> None:
    layer = REGISTRY["complaints"]
    first, second = _police("carabineros"), _police("pdi")
    same_institution = access.scope_key(first)
    assert layer.scope_key(first) == same_institution  # another key, same scope: shared
    assert layer.scope_key(first) != layer.scope_key(second)
    assert REGISTRY["barrios"].scope_key(first) is None  # unscoped: one for everybody
