"""Fixtures for the pure scoring tests: no database, no FastAPI app.

The top-level conftest defines PostGIS fixtures lazily; the guard below fails any scoring test
that would pull one in, so `pytest tests/scoring` runs without PostgreSQL.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from hypothesis import settings

from tests.scoring.factories import lanco_units

# CI must not fail at random: there the property tests replay a fixed set of examples
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

_DB_FIXTURES = {"database_url", "engine", "connection", "db", "app", "client", "openapi"}


@pytest.fixture(autouse=True)
def _no_database(request: pytest.FixtureRequest) -> None:
    used = _DB_FIXTURES & set(request.fixturenames)
    assert not used, f"scoring tests must not use database fixtures: {sorted(used)}"


@pytest.fixture(scope="session")
def lanco_micro() -> tuple[pd.Series, pd.Series]:
    return lanco_units("micro_barrio")


@pytest.fixture(scope="session")
def lanco_barrios() -> tuple[pd.Series, pd.Series]:
    return lanco_units("barrio")
