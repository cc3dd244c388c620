"""Webhook deliveries survive a receiver that is down, and are signed."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.risk_factors.webhooks import service as webhooks
from app.settings import WebhookSettings, get_webhook_settings
from tests import fake_dns
from tests.factories.keys import Keys
from tests.factories.risk import make_report, move
from tests.helpers import assert_problem


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent."""

    def __init__(self, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def receiver_later(port: int) -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for r in started:
        r.stop()


def test_delivery_after_the_receiver_comes_back(
    app: Any,
    client: TestClient,
    db: Session,
    keys: Keys,
    port: int,
    receiver_later: list[Receiver],
) -> None:
    # a receiver on loopback is only reachable because the operator allow-listed it
    settings = WebhookSettings(backoff_base_s=30, http_allowed_hosts=["127.0.0.1"])
    app.dependency_overrides[get_webhook_settings] = lambda: settings
    created = client.post(
        "/api/v1/webhooks",
        json={"comuna": "14103", "url": f"http://127.0.0.1:{port}/vigia"},
        headers=keys.h("unit"),
    )
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["unit"] == "Alumbrado público"
    secret = sub["secret"]

    rid = make_report(client, keys)["id"]
    move(client, keys, rid, "validado")
    assert move(client, keys, rid, "derivado").status_code == 200

    post = webhooks.httpx_post(2.0)
    now = datetime.now(UTC) + timedelta(seconds=1)

    def deliver(at: datetime) -> webhooks.DeliveryRun:
        return webhooks.deliver_pending(db, at, post, settings, fake_dns.default_resolver)

    # receiver down: the delivery fails and is kept, due again after the back-off
    run = deliver(now)
    assert (run.delivered, run.failed) == (0, 1)
    deliveries = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=keys.h("unit"))
    [state] = deliveries.json()
    assert state["status"] == "pendiente"
    assert state["attempts"] == 1
    assert state["last_error"] == webhooks.UNREACHABLE  # no port or errno for the subscriber
    next_at = datetime.fromisoformat(state["next_attempt_at"])
    assert next_at - now == timedelta(seconds=30)
    assert deliver(now + timedelta(seconds=10)).failed == 0

    receiver_later.append(Receiver(port))
    run = deliver(now + timedelta(seconds=31))
    assert (run.delivered, run.failed) == (1, 0)
    [(headers, body)] = receiver_later[0].received
    assert headers["X-Vigia-Event"] == "factor.derivado"
    assert webhooks.verify(secret, headers["X-Vigia-Timestamp"], body, headers["X-Vigia-Signature"])
    assert not webhooks.verify(
        "otro", headers["X-Vigia-Timestamp"], body, headers["X-Vigia-Signature"]
    )
    payload = orjson.loads(body)
    assert payload["report"]["id"] == rid
    assert payload["report"]["responsible_unit"] == "Alumbrado público"
    assert "officer_id" not in payload["report"]
    assert payload["transition"] == {
        "from": "validado",
        "to": "derivado",
        "at": payload["transition"]["at"],
    }

    [state] = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=keys.h("unit")).json()
    assert state["status"] == "entregada"
    assert state["attempts"] == 2
    assert state["last_status"] == 204
    # delivered once: nothing more to send
    assert deliver(now + timedelta(hours=1)).delivered == 0


def test_backoff_doubles_up_to_the_cap() -> None:
    settings = WebhookSettings(backoff_base_s=30, backoff_max_s=600, max_attempts=3)
    assert [webhooks.backoff(n, settings).total_seconds() for n in (1, 2, 3, 6)] == [
        30,
        60,
        120,
        600,
    ]


def test_only_the_units_own_subscriptions(client: TestClient, keys: Keys) -> None:
    bad = client.post(
        "/api/v1/webhooks",
        json={"comuna": "14103", "url": "https://aseo.example/x", "unit": "Aseo y ornato"},
        headers=keys.h("unit"),
    )
    assert_problem(bad, 403)
    assert_problem(
        client.post(
            "/api/v1/webhooks",
            json={"comuna": "14103", "url": "ftp://x"},
            headers=keys.h("unit"),
        ),
        422,
    )
    assert_problem(client.get("/api/v1/webhooks", headers=keys.h("police")), 403)
    made = client.post(
        "/api/v1/webhooks",
        json={"comuna": "14103", "url": "https://aseo.example/x", "unit": "Aseo y ornato"},
        headers=keys.h("admin"),
    ).json()
    assert "secret" in made
    listed = client.get("/api/v1/webhooks", headers=keys.h("unit")).json()
    assert made["id"] not in [s["id"] for s in listed]
    assert all("secret" not in s for s in listed)
    assert_problem(
        client.get(f"/api/v1/webhooks/{made['id']}/deliveries", headers=keys.h("unit")), 404
    )
