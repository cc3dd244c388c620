"""Webhooks for responsible units: a stored outbox, HMAC-signed deliveries, back-off retries.

A delivery row is written in the same transaction as the change it announces, so nothing is
lost if the receiver (or Vigía) is down; `deliver_pending` sends what is due and records the
outcome. Receivers verify `X-Vigia-Signature: sha256=HMAC(secret, timestamp + "." + body)`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import trail as audit
from app.errors import Forbidden, InvalidInput, NotFound
from app.identity.caller import Caller
from app.models import DeliveryStatus, Role, WebhookDelivery, WebhookSubscription
from app.risk_factors.webhooks.targets import Resolver, Target, vet
from app.settings import WebhookSettings

log = logging.getLogger("vigia.webhooks")

EVENTS = ("factor.derivado", "factor.en_gestion", "factor.resuelto", "factor.reabierto")
SIGNATURE_HEADER = "X-Vigia-Signature"

# (vetted target, body, headers) -> HTTP status; raises httpx.HTTPError/OSError on failure
HttpPost = Callable[[Target, bytes, dict[str, str]], int]

# what a subscriber reads when a delivery did not reach its server: no connection, port or
# TLS details (they would turn the delivery log into a network scanner); the log keeps them
UNREACHABLE = "sin conexión: el receptor no respondió o rechazó la conexión"
REFUSED_TARGET = "destino no permitido: la URL ya no resuelve a una dirección pública"


def httpx_post(timeout_s: float, *, verify: ssl.SSLContext | bool = True) -> HttpPost:
    """POST to the vetted address, keeping the URL's Host header and TLS name (SNI).

    The certificate is checked against the URL's host name, not the address connected to.
    """

    def post(target: Target, body: bytes, headers: dict[str, str]) -> int:
        url = httpx.URL(target.url)
        pinned = url.copy_with(host=target.address)
        extensions = {"sni_hostname": target.host} if url.scheme == "https" else {}
        with httpx.Client(
            timeout=timeout_s, verify=verify, trust_env=False, follow_redirects=False
        ) as client:
            response = client.post(
                pinned,
                content=body,
                headers={**headers, "Host": url.netloc.decode("ascii")},
                extensions=extensions,
            )
        return response.status_code

    return post


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (documented in the README); used by the tests."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


# --- subscriptions -----------------------------------------------------------------------


def create_subscription(
    session: Session,
    caller: Caller,
    *,
    comuna: str,
    url: str,
    unit: str | None,
    events: list[str] | None,
    settings: WebhookSettings,
    resolve: Resolver,
) -> WebhookSubscription:
    target = vet(url, http_allowed_hosts=settings.http_allowed_hosts, resolve=resolve)
    if caller.role == Role.UNIT:
        if unit not in (None, caller.unit):
            raise Forbidden("Una unidad solo puede suscribirse a sus propios factores.")
        unit = caller.unit
    if not unit:
        raise InvalidInput(
            "Indique la unidad responsable a notificar.",
            errors=[{"field": "unit", "location": "body", "reason": "obligatorio"}],
        )
    unknown = sorted(set(events or []) - set(EVENTS))
    if unknown:
        raise InvalidInput(
            "Eventos desconocidos.",
            errors=[
                {
                    "field": "events",
                    "location": "body",
                    "reason": f"no existen: {', '.join(unknown)}; se aceptan: {', '.join(EVENTS)}",
                }
            ],
        )
    subscription = WebhookSubscription(
        comuna_code=comuna,
        unit=unit,
        url=target.url,
        secret="whsec_" + secrets.token_urlsafe(32),
        events=list(events or EVENTS),
        created_by_key_id=caller.key_id,
    )
    session.add(subscription)
    session.flush()
    audit.record(session, "webhook.create", "webhook_subscription", subscription.id)
    return subscription


def _visible(caller: Caller) -> Any:
    if caller.role == Role.ADMIN:
        return WebhookSubscription.id.is_not(None)
    return WebhookSubscription.unit == (caller.unit or "")


def list_subscriptions(session: Session, caller: Caller) -> list[WebhookSubscription]:
    return list(
        session.scalars(
            select(WebhookSubscription).where(_visible(caller)).order_by(WebhookSubscription.id)
        )
    )


def get_subscription(session: Session, caller: Caller, sub_id: int) -> WebhookSubscription:
    found = session.scalar(
        select(WebhookSubscription).where(WebhookSubscription.id == sub_id, _visible(caller))
    )
    if found is None:
        raise NotFound(f"No existe la suscripción {sub_id}.", code="suscripcion_no_encontrada")
    return found


def deactivate(session: Session, caller: Caller, sub_id: int) -> WebhookSubscription:
    subscription = get_subscription(session, caller, sub_id)
    subscription.active = False
    session.flush()
    audit.record(session, "webhook.deactivate", "webhook_subscription", sub_id)
    return subscription


def list_deliveries(
    session: Session, caller: Caller, sub_id: int, *, limit: int = 100
) -> list[WebhookDelivery]:
    get_subscription(session, caller, sub_id)
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == sub_id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
            .limit(limit)
        )
    )


# --- outbox ------------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    comuna: str,
    unit: str | None,
    event: str,
    report_id: uuid.UUID | None,
    payload: dict[str, Any],
    now: datetime,
) -> int:
    """Write one pending delivery per active subscription of `unit` to `event`."""
    if not unit:
        return 0
    subscriptions = session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.comuna_code == comuna,
            WebhookSubscription.unit == unit,
            WebhookSubscription.active,
            WebhookSubscription.events.any_() == event,
        )
    ).all()
    for subscription in subscriptions:
        session.add(
            WebhookDelivery(
                comuna_code=comuna,
                subscription_id=subscription.id,
                event=event,
                report_id=report_id,
                payload={"event": event, "sent_for": now.isoformat(), **payload},
                status=DeliveryStatus.PENDIENTE,
                next_attempt_at=now,
            )
        )
    session.flush()
    return len(subscriptions)


@dataclass
class DeliveryRun:
    delivered: int = 0
    failed: int = 0
    exhausted: int = 0


def backoff(attempts: int, settings: WebhookSettings) -> timedelta:
    """30 s, 60 s, 2 min, 4 min, ... capped at backoff_max_s."""
    seconds = settings.backoff_base_s * 2 ** min(attempts - 1, 20)
    return timedelta(seconds=min(seconds, settings.backoff_max_s))


def deliver_pending(
    session: Session,
    now: datetime,
    http_post: HttpPost,
    settings: WebhookSettings,
    resolve: Resolver,
    *,
    checkpoint: Callable[[], None] | None = None,
) -> DeliveryRun:
    """Send every due delivery once, one row at a time.

    Each row is claimed alone (FOR UPDATE SKIP LOCKED: another worker skips it) and, when the
    caller passes `checkpoint` (the CLI passes its commit), its outcome is committed before
    the next is claimed: a worker killed mid-run re-sends at most the one in flight.
    """
    run = DeliveryRun()
    for _ in range(settings.batch_size):
        due = session.execute(
            select(WebhookDelivery, WebhookSubscription)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDIENTE,
                WebhookDelivery.next_attempt_at <= now,
                WebhookSubscription.active,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(1)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        ).first()
        if due is None:
            break
        _attempt(due[0], due[1], now, http_post, settings, resolve, run)
        session.flush()
        if checkpoint is not None:
            checkpoint()
    return run


def _attempt(
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    now: datetime,
    http_post: HttpPost,
    settings: WebhookSettings,
    resolve: Resolver,
    run: DeliveryRun,
) -> None:
    body = orjson.dumps({"delivery_id": str(delivery.id), **delivery.payload})
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Vigia-Webhooks/1",
        "X-Vigia-Event": delivery.event,
        "X-Vigia-Delivery": str(delivery.id),
        "X-Vigia-Timestamp": timestamp,
        SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = now
    status: int | None = None
    try:
        # vetted again now: the name may resolve elsewhere than at subscription
        target = vet(
            subscription.url, http_allowed_hosts=settings.http_allowed_hosts, resolve=resolve
        )
    except InvalidInput:
        log.warning("webhook %s: destino rechazado (%s)", delivery.id, subscription.url)
        delivery.last_error = REFUSED_TARGET
    else:
        try:
            status = http_post(target, body, headers)
            delivery.last_error = None if 200 <= status < 300 else f"respuesta HTTP {status}"
        except (httpx.HTTPError, OSError) as exc:
            log.info("webhook %s sin conexión: %s: %s", delivery.id, type(exc).__name__, exc)
            delivery.last_error = UNREACHABLE
    delivery.last_status = status
    if status is not None and 200 <= status < 300:
        delivery.status = DeliveryStatus.ENTREGADA
        delivery.delivered_at = now
        run.delivered += 1
    elif delivery.attempts >= settings.max_attempts:
        delivery.status = DeliveryStatus.AGOTADA
        run.exhausted += 1
        log.warning("webhook %s agotado tras %s intentos", delivery.id, delivery.attempts)
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts, settings)
        run.failed += 1


def retry_delivery(
    session: Session, caller: Caller, sub_id: int, delivery_id: uuid.UUID, now: datetime
) -> WebhookDelivery:
    """Put an exhausted (or failing) delivery back in the queue, due now."""
    get_subscription(session, caller, sub_id)
    delivery = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == sub_id
        )
    )
    if delivery is None:
        raise NotFound(f"No existe la entrega {delivery_id}.", code="entrega_no_encontrada")
    if delivery.status != DeliveryStatus.ENTREGADA:
        delivery.status = DeliveryStatus.PENDIENTE
        delivery.next_attempt_at = now
        session.flush()
        audit.record(session, "webhook.retry", "webhook_delivery", delivery_id)
    return delivery


def utcnow() -> datetime:
    return datetime.now(UTC)
