"""Fuzzing Vigía with schemathesis against its own OpenAPI document, as every role.

Three phases per operation: positive and negative cases drawn by hypothesis (each sent as the
public and as each role's key) and schemathesis' coverage phase (boundary values, every
documented enum, wrong types, undeclared methods; deterministic; each case sent as one role,
taking the roles in turn). Every response check schemathesis has for a single response is on:
no 5xx, status code, content type and headers documented, body matching the published schema,
invalid input never accepted, and for the coverage phase a 405 with a complete `Allow` for an
undeclared method and a missing required header refused. Writes land in the test's
rolled-back transaction.

Not on: `positive_data_acceptance` (a valid but unknown id is rightly a 404) and the
stateful and authorization checks (`ignored_auth`, `use_after_free`, ...): who may call
what is tests/test_authz_matrix.py's job.

VIGIA_FUZZ_EXAMPLES sets the hypothesis examples per operation and mode (default 6) and
VIGIA_FUZZ_COVERAGE=0 skips the coverage phase; the number of requests sent is printed at the
end of the run. A failure names the operation, the phase, the role and the check, with a curl
line to reproduce it.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.generation.overrides import Override
from sqlalchemy.orm import Session

from app.api.limits import SlidingWindow
from app.main import create_app
from app.models import Role
from app.settings import DatabaseSettings
from tests.factories.keys import make_auth_headers, make_key

EXAMPLES = int(os.environ.get("VIGIA_FUZZ_EXAMPLES", "6"))
COVERAGE = os.environ.get("VIGIA_FUZZ_COVERAGE", "1") != "0"
RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
COVERAGE_CHECKS = [
    *RESPONSE_CHECKS,
    unsupported_method,
    allow_header_conformance,
    missing_required_header,
]
MAX_REPORTED = 8  # distinct failures listed per operation and phase
TIMEOUT_S = 120  # a PDF report on a busy CI machine takes more than schemathesis' 10 s


@dataclass
class Tally:
    """Requests sent per phase, printed at the end of the run (the figure for the notes)."""

    requests: dict[str, int] = field(default_factory=dict)

    def add(self, phase: str) -> None:
        self.requests[phase] = self.requests.get(phase, 0) + 1


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    counts = Tally()
    yield counts
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None and counts.requests:
        total = sum(counts.requests.values())
        parts = ", ".join(f"{phase} {n}" for phase, n in sorted(counts.requests.items()))
        reporter.write_line(f"schemathesis: {total} solicitudes ({parts})")


@pytest.fixture(scope="session")
def api_schema(openapi: dict[str, Any]) -> Any:
    """The published document loaded once: operations and their strategies are built once."""
    schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi))
    schema.location = "/openapi.json"  # as from_asgi would: the same base URL
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        database="none",
        # optional-key routes (the public sees less) are not "missing a required header";
        # who may call what is tests/test_authz_matrix.py's job
        with_security_parameters=False,
    )
    return schema


@pytest.fixture
def served_app(app: Any) -> Iterator[Any]:
    """The test's app (its rolled-back transaction), started, with no request budget."""
    app.state.public_limiter = SlidingWindow(10**9, 60)
    app.state.auth_failure_limiter = SlidingWindow(10**9, 60)
    with TestClient(app):  # runs the lifespan: engine and sessions exist
        yield app


@pytest.fixture
def role_headers(db: Session) -> dict[str, dict[str, str]]:
    return {
        "public": {},
        "police": make_auth_headers(make_key(db, role=Role.POLICE, institution="carabineros")),
        "unit": make_auth_headers(make_key(db, role=Role.UNIT, unit="Alumbrado público")),
        "planner": make_auth_headers(make_key(db, role=Role.PLANNER)),
        "admin": make_auth_headers(make_key(db, role=Role.ADMIN)),
    }


def _labels() -> list[str]:
    """Operation labels from the published schema (built without a database)."""
    spec = create_app(DatabaseSettings()).openapi()
    return [f"{m.upper()} {path}" for path, ops in spec["paths"].items() for m in ops]


ACCEPTED_INVALID = "Schema-violating request accepted"


def _lost_on_the_wire(case: Any) -> bool:
    """A negative case whose invalid query value cannot travel in a URL: null, an object or
    a nested list is sent as "" (or flattened), which is a valid request (an empty code list
    means "no filter", tests/test_strict_input.py); its acceptance is no finding."""

    def unsendable(value: Any) -> bool:
        return value is None or isinstance(value, dict | list)

    for value in (case.query or {}).values():
        items = value if isinstance(value, list) else [value]
        if any(unsendable(item) for item in items):
            return True
    return False


@dataclass
class Findings:
    """Distinct failures of one operation and phase, described for a person."""

    label: str
    phase: str
    lines: list[str] = field(default_factory=list)
    seen: set[tuple[str, str, str]] = field(default_factory=set)

    def send(self, case: Any, role: str, headers: dict[str, str], checks: list[Any]) -> None:
        merged = {**(case.headers or {}), **headers}
        try:
            case.call_and_validate(headers=merged, checks=checks, timeout=TIMEOUT_S)
        except (Failure, FailureGroup) as exc:
            failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            for failure in failures:
                if failure.title == ACCEPTED_INVALID and _lost_on_the_wire(case):
                    continue
                key = (failure.code, failure.title, role)
                if key in self.seen or len(self.lines) >= MAX_REPORTED:
                    continue
                self.seen.add(key)
                message = " / ".join(line for line in failure.message.splitlines() if line)
                self.lines.append(
                    f"{self.label} [{self.phase}] como {role}: {failure.code} {failure.title}: "
                    f"{message[:500]}\n    {case.as_curl_command(headers=merged)[:400]}"
                )

    def check(self) -> None:
        if self.lines:
            pytest.fail("\n".join(self.lines), pytrace=False)


# schemathesis' own pytest plugin does not run under pytest 9 yet: hypothesis is driven
# here directly, one pytest case per operation and phase.
@pytest.mark.parametrize("phase", ["positive", "negative", "coverage"])
@pytest.mark.parametrize("label", _labels())
def test_fuzz(
    label: str,
    phase: str,
    api_schema: Any,
    served_app: Any,
    role_headers: dict[str, dict[str, str]],
    tally: Tally,
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    operation.app = served_app  # the shared operation sends this test's requests to its app
    findings = Findings(label, phase)
    if phase == "coverage":
        if not COVERAGE:
            pytest.skip("VIGIA_FUZZ_COVERAGE=0")
        roles = list(role_headers.items())
        generator = CoverageGenerator(
            operation=operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=api_schema.config.generation_for(
                operation=operation, phase="coverage"
            ),
            auth_storage=None,
            override=Override(),
            feedback=NO_FEEDBACK,
        )
        for i, case in enumerate(generator):
            role, headers = roles[i % len(roles)]
            findings.send(case, role, headers, COVERAGE_CHECKS)
            tally.add(phase)
        findings.check()
        return

    mode = GenerationMode.POSITIVE if phase == "positive" else GenerationMode.NEGATIVE

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report what was found
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for role, headers in role_headers.items():
            findings.send(case, role, headers, RESPONSE_CHECKS)
            tally.add(phase)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE:
            pytest.skip("la operación no tiene entradas que se puedan invalidar")
        raise
    findings.check()
