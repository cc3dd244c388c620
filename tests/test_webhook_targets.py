"""Webhooks cannot be aimed at the inside (SSRF), a rebinding name is caught at delivery,
the delivery connects to the vetted address, errors say nothing about the network, and a
killed worker re-sends at most the one delivery in flight."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from app.risk_factors.webhooks import service as webhooks
from app.risk_factors.webhooks.routes import webhook_resolver
from app.risk_factors.webhooks.targets import Target
from app.settings import WebhookSettings, get_webhook_settings
from tests.factories.keys import Keys
from tests.factories.risk import make_report, move
from tests.fake_dns import PUBLIC_ADDRESS, FakeDns
from tests.helpers import assert_problem
from tests.test_webhooks import Receiver, free_port

REFUSED = {
    # scheme and userinfo
    "plain http": "http://hooks.example/h",
    "ftp": "ftp://hooks.example/h",
    "userinfo": "https://user:clave@hooks.example/h",
    "userinfo hiding the host": "https://hooks.example@169.254.169.254/h",
    # loopback, in every spelling a resolver accepts
    "loopback": "https://127.0.0.1/h",
    "loopback, database port": "https://127.0.0.1:5432/",
    "decimal IPv4": "https://2130706433/",
    "hex IPv4": "https://0x7f.1/",
    "octal IPv4": "https://017700000001/",
    "short IPv4": "https://127.1/",
    "IPv6 loopback": "https://[::1]/",
    "IPv4-mapped IPv6": "https://[::ffff:127.0.0.1]/",
    "localhost": "https://localhost/",
    # private, CGNAT, link-local and metadata
    "private 10/8": "https://10.1.2.3/",
    "private 172.16/12": "https://172.16.0.1/",
    "private 192.168/16": "https://192.168.1.1/",
    "CGNAT": "https://100.64.0.1/",
    "metadata": "https://169.254.169.254/latest/meta-data/",
    "AWS IPv6 metadata": "https://[fd00:ec2::254]/",
    "IPv6 unique local": "https://[fc00::1]/",
    "IPv6 link-local": "https://[fe80::1]/",
    "6to4 of loopback": "https://[2002:7f00:1::]/",
    "NAT64 of metadata": "https://[64:ff9b::a9fe:a9fe]/",
    # multicast, reserved, unspecified
    "multicast": "https://224.0.0.1/",
    "IPv6 multicast": "https://[ff02::1]/",
    "reserved": "https://240.0.0.1/",
    "broadcast": "https://255.255.255.255/",
    "unspecified": "https://0.0.0.0/",
    "IPv6 unspecified": "https://[::]/",
    "documentation range": "https://192.0.2.10/",
    # names: every address is checked, and a name must resolve
    "name with one private address": "https://mixed.test/h",
    "name resolving to metadata": "https://metadata.test/h",
    "name that does not resolve": "https://nowhere.test/h",
}

DNS = FakeDns(
    {
        "mixed.test": [[PUBLIC_ADDRESS, "10.0.0.5"]],
        "metadata.test": [["169.254.169.254"]],
        "hooks.example": [[PUBLIC_ADDRESS]],
    }
)


def subscriptions(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(WebhookSubscription)) or 0


def subscribe(client: TestClient, keys: Keys, url: str) -> httpx.Response:
    return client.post(
        "/api/v1/webhooks", json={"comuna": "14103", "url": url}, headers=keys.h("unit")
    )


def derive(client: TestClient, keys: Keys) -> str:
    rid = str(make_report(client, keys)["id"])
    move(client, keys, rid, "validado")
    assert move(client, keys, rid, "derivado").status_code == 200
    return rid


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_refused_target(app: Any, client: TestClient, db: Session, keys: Keys, url: str) -> None:
    app.dependency_overrides[webhook_resolver] = lambda: DNS
    before = subscriptions(db)
    for role in ("unit", "admin"):
        body = {"comuna": "14103", "url": url, "unit": "Alumbrado público"}
        problem = assert_problem(
            client.post("/api/v1/webhooks", json=body, headers=keys.h(role)), 422
        )
        [error] = problem["errors"]
        assert error["field"] == "url"
        assert error["reason"]
    assert subscriptions(db) == before


def test_plain_http_only_for_allow_listed_hosts(app: Any, client: TestClient, keys: Keys) -> None:
    app.dependency_overrides[get_webhook_settings] = lambda: WebhookSettings(
        http_allowed_hosts=["receptor.muni.example"]
    )
    assert subscribe(client, keys, "http://receptor.muni.example/h").status_code == 201
    assert_problem(subscribe(client, keys, "http://otro.example/h"), 422)
    assert subscribe(client, keys, "https://otro.example/h").status_code == 201


def test_rebinding_is_caught_at_delivery(
    app: Any, client: TestClient, db: Session, keys: Keys
) -> None:
    # public when subscribed, the metadata service when the delivery resolves it again
    dns = FakeDns({"rebind.example": [[PUBLIC_ADDRESS], ["169.254.169.254"]]})
    app.dependency_overrides[webhook_resolver] = lambda: dns
    assert subscribe(client, keys, "https://rebind.example/h").status_code == 201
    derive(client, keys)
    sent: list[Target] = []

    def post(target: Target, body: bytes, headers: dict[str, str]) -> int:
        sent.append(target)
        return 204

    now = datetime.now(UTC) + timedelta(seconds=1)
    run = webhooks.deliver_pending(db, now, post, WebhookSettings(), dns)
    assert (run.delivered, run.failed) == (0, 1)
    assert sent == []
    assert dns.asked == ["rebind.example", "rebind.example"]
    [delivery] = db.scalars(select(WebhookDelivery))
    assert delivery.status == DeliveryStatus.PENDIENTE
    assert delivery.last_error == webhooks.REFUSED_TARGET
    assert "169.254" not in (delivery.last_error or "")


def test_delivery_uses_the_vetted_address(
    app: Any, client: TestClient, db: Session, keys: Keys
) -> None:
    app.dependency_overrides[webhook_resolver] = lambda: DNS
    assert subscribe(client, keys, "https://hooks.example/h").status_code == 201
    derive(client, keys)
    sent: list[Target] = []

    def post(target: Target, body: bytes, headers: dict[str, str]) -> int:
        sent.append(target)
        return 204

    now = datetime.now(UTC) + timedelta(seconds=1)
    assert webhooks.deliver_pending(db, now, post, WebhookSettings(), DNS).delivered == 1
    [target] = sent
    assert (target.host, target.address) == ("hooks.example", PUBLIC_ADDRESS)


def test_httpx_post_connects_to_the_pinned_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """The name is never resolved again: the request goes to the address, Host kept."""
    real_getaddrinfo = socket.getaddrinfo

    def numeric_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", b"127.0.0.1"):
            raise AssertionError(f"se resolvió {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    port = free_port()
    receiver = Receiver(port)
    try:
        target = Target(
            url=f"http://hooks.muni.test:{port}/h", host="hooks.muni.test", address="127.0.0.1"
        )
        assert webhooks.httpx_post(2.0)(target, b"{}", {"Content-Type": "application/json"}) == 204
    finally:
        receiver.stop()
    [(headers, body)] = receiver.received
    assert headers["Host"] == f"hooks.muni.test:{port}"
    assert body == b"{}"


def test_connection_errors_shown_are_generic(
    app: Any, client: TestClient, db: Session, keys: Keys
) -> None:
    app.dependency_overrides[webhook_resolver] = lambda: DNS
    sub = subscribe(client, keys, "https://hooks.example/h").json()
    derive(client, keys)

    def refused(target: Target, body: bytes, headers: dict[str, str]) -> int:
        raise httpx.ConnectError(f"[Errno 111] Connection refused ({target.address}:443)")

    now = datetime.now(UTC) + timedelta(seconds=1)
    assert webhooks.deliver_pending(db, now, refused, WebhookSettings(), DNS).failed == 1
    [state] = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=keys.h("unit")).json()
    assert state["last_error"] == webhooks.UNREACHABLE
    for detail in ("111", "refused", "Errno", "443", PUBLIC_ADDRESS, "ConnectError"):
        assert detail not in state["last_error"]


class Killed(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs."""


def test_a_killed_worker_resends_at_most_the_one_in_flight(
    app: Any, client: TestClient, db: Session, keys: Keys
) -> None:
    app.dependency_overrides[webhook_resolver] = lambda: DNS
    for name in ("a", "b", "c"):
        assert subscribe(client, keys, f"https://hooks.example/{name}").status_code == 201
    derive(client, keys)
    db.commit()
    sent: list[str] = []

    def dies_on_the_second(target: Target, body: bytes, headers: dict[str, str]) -> int:
        sent.append(target.url)
        if len(sent) == 2:
            raise Killed
        return 204

    now = datetime.now(UTC) + timedelta(seconds=1)
    settings = WebhookSettings()
    with pytest.raises(Killed):
        webhooks.deliver_pending(db, now, dies_on_the_second, settings, DNS, checkpoint=db.commit)
    db.rollback()  # the worker's open transaction dies with it
    states = sorted(d.status for d in db.scalars(select(WebhookDelivery)))
    assert states == [DeliveryStatus.ENTREGADA, DeliveryStatus.PENDIENTE, DeliveryStatus.PENDIENTE]

    def ok(target: Target, body: bytes, headers: dict[str, str]) -> int:
        sent.append(target.url)
        return 204

    run = webhooks.deliver_pending(db, now, ok, settings, DNS, checkpoint=db.commit)
    assert run.delivered == 2
    # the first was sent once; only the one in flight when the worker died went twice
    assert len(sent) == 4
    assert sent[2] == sent[1]
    assert sent.count(sent[0]) == 1


def _self_signed(tmp_path: Path, host: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_https_to_the_pinned_address_checks_the_certificate_of_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS goes to 127.0.0.1 with SNI and the certificate check for the URL's host name."""
    cert_file, key_file = _self_signed(tmp_path, "hooks.muni.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_file, key_file)
    names: list[str | None] = []

    def record_sni(sock: Any, name: str | None, context: Any) -> None:
        names.append(name)

    server_tls.sni_callback = record_sni
    port = free_port()
    receiver = Receiver(port, tls=server_tls)
    real_getaddrinfo = socket.getaddrinfo

    def numeric_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", b"127.0.0.1"):
            raise AssertionError(f"se resolvió {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    client_tls = ssl.create_default_context(cafile=str(cert_file))
    post = webhooks.httpx_post(2.0, verify=client_tls)
    try:
        good = Target(
            url=f"https://hooks.muni.test:{port}/h", host="hooks.muni.test", address="127.0.0.1"
        )
        assert post(good, b"{}", {}) == 204
        # the same address under another name: the certificate does not match, no request
        other = Target(
            url=f"https://otro.muni.test:{port}/h", host="otro.muni.test", address="127.0.0.1"
        )
        with pytest.raises(httpx.ConnectError):
            post(other, b"{}", {})
    finally:
        receiver.stop()
    assert names[0] == "hooks.muni.test"
    assert len(receiver.received) == 1
