"""Concurrent retries of one field submission produce exactly one row.

This test needs real, separate transactions, so it cannot use the rolled-back `db`
fixture: it commits its key and cleans every row it made afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from app.identity import api_keys
from app.identity.caller import Caller
from app.models import ApiKey, IdempotencyRecord, RiskFactorReport, Role
from app.risk_factors.schemas import RiskFactorCreate
from app.risk_factors.submission import submit as submit_field_report
from app.settings import RiskFactorSettings
from tests.factories.risk import make_report_body

THREADS = 8


@pytest.fixture
def committed_caller(engine: Engine) -> Iterator[Caller]:
    with Session(engine) as session:
        _, secret = api_keys.create_key(
            session, name="concurrencia", role=Role.POLICE, institution="carabineros"
        )
        session.commit()
        caller = api_keys.authenticate(session, secret)
        session.commit()
    yield caller
    with Session(engine) as session:
        ids = select(IdempotencyRecord.report_id).where(IdempotencyRecord.key_id == caller.key_id)
        session.execute(delete(RiskFactorReport).where(RiskFactorReport.id.in_(ids)))
        session.execute(delete(ApiKey).where(ApiKey.id == caller.key_id))  # cascades the records
        session.commit()


def test_concurrent_retries_make_one_row(engine: Engine, committed_caller: Caller) -> None:
    data = RiskFactorCreate.model_validate(
        make_report_body(observed_at=datetime(2026, 11, 20, 21, 30, tzinfo=UTC).isoformat())
    )
    barrier = threading.Barrier(THREADS)
    results: list[tuple[str, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            with Session(engine) as session:
                barrier.wait(timeout=10)
                outcome = submit_field_report(
                    session,
                    committed_caller,
                    data,
                    idempotency_key="concurrent-0001",
                    settings=RiskFactorSettings(),
                )
                session.commit()
            with lock:
                results.append((outcome.report_id, outcome.replayed))
        except BaseException as exc:  # reported below, in the main thread
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert len(results) == THREADS
    assert len({report_id for report_id, _ in results}) == 1
    assert sum(1 for _, replayed in results if not replayed) == 1
    with Session(engine) as session:
        rows = session.scalar(
            select(func.count())
            .select_from(RiskFactorReport)
            .where(RiskFactorReport.reporter_key_id == committed_caller.key_id)
        )
    assert rows == 1
