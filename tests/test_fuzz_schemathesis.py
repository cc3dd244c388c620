"""Fuzzing Vigía with schemathesis against its own OpenAPI document, as every role.

Each generated request (valid and deliberately invalid) is sent as the public and as each
role's key. Checks: no 5xx, every response matches the published schema, and invalid input
is never accepted. Writes land in the test's rolled-back transaction. VIGIA_FUZZ_EXAMPLES
sets the examples per operation and mode (default 6: about 3,000 requests a run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
)
from sqlalchemy.orm import Session

from app.api.limits import SlidingWindow
from app.main import create_app
from app.models import Role
from app.settings import DatabaseSettings
from tests.conftest import bearer, make_key

EXAMPLES = int(os.environ.get("VIGIA_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]


@pytest.fixture
def api_schema(app: Any) -> Iterator[Any]:
    app.state.public_limiter = SlidingWindow(10**9, 60)
    app.state.auth_failure_limiter = SlidingWindow(10**9, 60)
    with TestClient(app):  # runs the lifespan: engine and sessions exist
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        schema.config.generation.update(
            modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            max_examples=EXAMPLES,
            database="none",
            # optional-key routes (the public sees less) are not "missing a required header";
            # who may call what is tests/test_authz_matrix.py's job
            with_security_parameters=False,
        )
        yield schema


@pytest.fixture
def role_headers(db: Session) -> dict[str, dict[str, str]]:
    return {
        "public": {},
        "police": bearer(make_key(db, role=Role.POLICE, institution="carabineros")),
        "unit": bearer(make_key(db, role=Role.UNIT, unit="Alumbrado público")),
        "planner": bearer(make_key(db, role=Role.PLANNER)),
        "admin": bearer(make_key(db, role=Role.ADMIN)),
    }


def _labels() -> list[str]:
    """Operation labels from the published schema (built without a database)."""
    spec = create_app(DatabaseSettings()).openapi()
    return [f"{m.upper()} {path}" for path, ops in spec["paths"].items() for m in ops]


# schemathesis' own pytest plugin does not run under pytest 9 yet: hypothesis is driven
# here directly, one pytest case per operation and generation mode.
@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
@pytest.mark.parametrize("label", _labels())
def test_fuzz(
    label: str, mode: GenerationMode, api_schema: Any, role_headers: dict[str, dict[str, str]]
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for headers in role_headers.values():
            merged = {**(case.headers or {}), **headers}
            case.call_and_validate(headers=merged, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE:
            pytest.skip("la operación no tiene entradas que se puedan invalidar")
        raise
