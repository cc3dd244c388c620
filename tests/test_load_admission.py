"""Under load: bounded turns, 503 with Retry-After (never 500), nothing committed for a client
that is gone, and a /health that answers while the pool is exhausted (issue #13).

These tests need committed data and real connections, so they do not use the rolled-back
`db` fixture: they commit their key and clean every row they made (as test_risk_concurrency).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from starlette.types import Message, Receive, Scope, Send

from app.api.admission import AdmissionMiddleware, Gate
from app.api.limits import SlidingWindow
from app.identity import api_keys
from app.main import create_app
from app.models import ApiKey, RiskFactorReport, Role
from app.settings import AdmissionSettings, DatabaseSettings
from tests.factories.risk import make_report_body
from tests.helpers import assert_problem

RISK = "/api/v1/risk-factors"


@pytest.fixture
def police(engine: Engine) -> Iterator[tuple[str, int]]:
    """A committed police key (secret, id); its reports and itself are removed afterwards."""
    with Session(engine) as session:
        key, secret = api_keys.create_key(
            session, name="carga", role=Role.POLICE, institution="carabineros"
        )
        session.commit()
        key_id = key.id
    yield secret, key_id
    with Session(engine) as session:
        session.execute(delete(RiskFactorReport).where(RiskFactorReport.reporter_key_id == key_id))
        session.execute(delete(ApiKey).where(ApiKey.id == key_id))  # cascades idempotency
        session.commit()


def reports_by(engine: Engine, key_id: int) -> int:
    with Session(engine) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(RiskFactorReport)
                .where(RiskFactorReport.reporter_key_id == key_id)
            )
            or 0
        )


def tiny_app(database_url: str, *, concurrency: int, queue: int, wait_s: float) -> FastAPI:
    """One pooled connection and no overflow: the pool is exhausted by a second request."""
    app = create_app(
        DatabaseSettings(
            database_url=database_url, pool_size=1, pool_max_overflow=0, pool_timeout_s=0.3
        ),
        admission=AdmissionSettings(concurrency=concurrency, queue=queue, wait_s=wait_s),
    )
    app.state.public_limiter = SlidingWindow(10**6, 60)  # not what these tests are about
    return app


def assert_busy(response: httpx.Response) -> None:
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1


# --- the gate on its own -----------------------------------------------------------------


def _scope(path: str = "/api/v1/barrios") -> Scope:
    return {"type": "http", "method": "GET", "path": path, "headers": [], "state": {}}


def test_turns_then_a_short_queue_then_an_immediate_503() -> None:
    async def scenario() -> list[Any]:
        release = asyncio.Event()

        async def slow(scope: Scope, receive: Receive, send: Send) -> None:
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        gate = Gate(concurrency=1, queue=1, wait_s=60)
        middleware = AdmissionMiddleware(slow, gate=gate, retry_after_s=3)

        async def call() -> list[Message]:
            sent: list[Message] = []

            async def receive() -> Message:
                await asyncio.Event().wait()  # the client stays
                raise AssertionError

            async def send(message: Message) -> None:
                sent.append(message)

            await middleware(_scope(), receive, send)
            return sent

        first = asyncio.ensure_future(call())
        second = asyncio.ensure_future(call())
        while not (gate.running == 1 and gate.waiting == 1):
            await asyncio.sleep(0)
        third = await call()  # no turn and no room to wait: answered at once
        release.set()
        return [await first, await second, third, gate.running, gate.waiting]

    first, second, third, running, waiting = asyncio.run(scenario())
    assert first[0]["status"] == second[0]["status"] == 200
    assert third[0]["status"] == 503
    headers = dict(third[0]["headers"])
    assert headers[b"retry-after"] == b"3"
    assert headers[b"content-type"] == b"application/problem+json"
    assert orjson.loads(third[1]["body"])["code"] == "servicio_ocupado"
    assert (running, waiting) == (0, 0)  # every turn given back


def test_a_wait_that_runs_out_is_a_503_and_frees_its_place() -> None:
    async def scenario() -> tuple[int, int, int]:
        gate = Gate(concurrency=1, queue=5, wait_s=0.05)
        gate.running = 1  # every turn taken, for good

        async def never(scope: Scope, receive: Receive, send: Send) -> None:
            raise AssertionError("a request without a turn must not run")

        sent: list[Message] = []

        async def receive() -> Message:
            await asyncio.Event().wait()
            raise AssertionError

        async def send(message: Message) -> None:
            sent.append(message)

        await AdmissionMiddleware(never, gate=gate, retry_after_s=2)(_scope(), receive, send)
        return sent[0]["status"], gate.waiting, gate.running

    assert asyncio.run(scenario()) == (503, 0, 1)


# --- the service ---------------------------------------------------------------------------


def _post_scope(secret: str, body: bytes, key: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": RISK,
        "raw_path": RISK.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {secret}".encode()),
            (b"idempotency-key", key.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


async def _abandoning_post(app: FastAPI, secret: str, key: str) -> list[Message]:
    """POST a report whose client hangs up right after sending the body."""
    body = orjson.dumps(make_report_body())
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(_post_scope(secret, body, key), receive, send)
    return sent


def test_a_client_gone_before_its_turn_writes_nothing(
    engine: Engine, database_url: str, police: tuple[str, int]
) -> None:
    secret, key_id = police
    app = tiny_app(database_url, concurrency=1, queue=5, wait_s=30)
    with TestClient(app) as client:
        gate: Gate = app.state.admission
        gate.running = gate.concurrency  # every turn busy: the request queues
        assert client.portal is not None
        sent = client.portal.call(_abandoning_post, app, secret, "abandonada-en-cola")
        assert (gate.running, gate.waiting) == (gate.concurrency, 0)
        gate.running = 0
    assert sent == []  # nobody to answer
    assert reports_by(engine, key_id) == 0


def test_a_client_gone_mid_request_is_rolled_back(
    engine: Engine, database_url: str, police: tuple[str, int]
) -> None:
    secret, key_id = police
    app = tiny_app(database_url, concurrency=2, queue=5, wait_s=30)
    with TestClient(app) as client:
        assert client.portal is not None
        sent = client.portal.call(_abandoning_post, app, secret, "abandonada-en-curso")
    assert sent[0]["status"] == 499  # written to a closed connection: nobody reads it
    assert reports_by(engine, key_id) == 0


def test_an_exhausted_pool_is_a_503_and_health_still_answers(database_url: str) -> None:
    app = tiny_app(database_url, concurrency=3, queue=5, wait_s=5)
    with TestClient(app, raise_server_exceptions=False) as client:
        with app.state.engine.connect():  # the only pooled connection, held
            response = client.get("/api/v1/barrios")
            health = client.get("/health")
        assert_busy(response)
        assert response.json()["code"] == "servicio_ocupado"
        assert health.status_code == 200, health.text
        assert client.get("/api/v1/barrios").status_code == 200  # and back once it is free


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn on loopback, in a thread."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn no arrancó")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


CLIENTS = 40


def test_beyond_a_tiny_pool_answers_are_2xx_or_503_and_only_acknowledged_writes_land(
    engine: Engine, database_url: str, police: tuple[str, int]
) -> None:
    secret, key_id = police
    # more turns than connections, so both refusals happen: no turn, and no connection
    app = tiny_app(database_url, concurrency=3, queue=4, wait_s=0.5)
    barrier = threading.Barrier(CLIENTS)

    def post(url: str, i: int) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=60) as client:
            barrier.wait(timeout=30)
            return client.post(
                RISK,
                json=make_report_body(description=f"Luminaria apagada, informe de carga {i}."),
                headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": f"carga-{i:04d}"},
            )

    with served(app) as url, ThreadPoolExecutor(CLIENTS) as pool:
        responses = list(pool.map(lambda i: post(url, i), range(CLIENTS)))
    statuses = sorted(r.status_code for r in responses)
    unexpected = [r.text for r in responses if r.status_code not in (201, 503)]
    assert not unexpected, unexpected
    for response in responses:
        if response.status_code == 503:
            assert_busy(response)
    acknowledged = statuses.count(201)
    assert acknowledged >= 1
    assert reports_by(engine, key_id) == acknowledged


def test_health_repeats_its_last_result_while_its_probe_cannot_run(database_url: str) -> None:
    app = tiny_app(database_url, concurrency=1, queue=1, wait_s=1)
    with TestClient(app) as client:
        engine = app.state.health_engine
        with engine.connect(), engine.connect():  # both probe connections busy
            warmed = client.get("/health")  # the start-up probe's result is repeated
        assert warmed.status_code == 200
        assert "Comprobación lenta" in warmed.json()["detail"]
        app.state.health_last = None  # as a worker whose database was down at start
        with engine.connect(), engine.connect():
            never_probed = client.get("/health")
        assert never_probed.status_code == 503
        assert "no respondió" in never_probed.json()["detail"]
        assert client.get("/health").status_code == 200
        with engine.connect(), engine.connect():
            repeated = client.get("/health")
    assert repeated.status_code == 200
    assert repeated.json()["status"] == "ok"
    assert "Comprobación lenta" in repeated.json()["detail"]
