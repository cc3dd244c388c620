"""Webhook subscriptions of responsible units, and the state of their deliveries."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.api.deps import SessionDep, require_roles
from app.api.schemas import problem_responses
from app.identity.caller import Caller
from app.models import Role
from app.risk_factors.webhooks import service as webhooks
from app.risk_factors.webhooks import targets as webhook_targets
from app.risk_factors.webhooks.schemas import (
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from app.settings import WebhookSettings, get_webhook_settings

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

ManagerDep = Annotated[Caller, Depends(require_roles(Role.UNIT))]
SubscriptionId = Annotated[int, Path(description="Identificador de la suscripción.")]


def webhook_resolver() -> webhook_targets.Resolver:
    """The resolver that vets webhook hosts (looked up per call, so tests can replace it)."""
    return webhook_targets.resolve_host


ResolverDep = Annotated[webhook_targets.Resolver, Depends(webhook_resolver)]
WebhookSettingsDep = Annotated[WebhookSettings, Depends(get_webhook_settings)]


@router.post(
    "",
    operation_id="createWebhook",
    response_model=WebhookCreated,
    status_code=201,
    responses=problem_responses(401, 403, 422),
)
def create_webhook(
    session: SessionDep,
    caller: ManagerDep,
    data: WebhookCreate,
    settings: WebhookSettingsDep,
    resolve: ResolverDep,
) -> WebhookCreated:
    """Suscribe una URL https pública a los factores de una unidad. El secreto se ve una vez."""
    sub = webhooks.create_subscription(
        session,
        caller,
        comuna=data.comuna,
        url=data.url,
        unit=data.unit,
        events=data.events,
        settings=settings,
        resolve=resolve,
    )
    session.refresh(sub)
    return WebhookCreated(**WebhookRead.model_validate(sub).model_dump(), secret=sub.secret)


@router.get(
    "",
    operation_id="listWebhooks",
    response_model=list[WebhookRead],
    responses=problem_responses(401, 403),
)
def list_webhooks(session: SessionDep, caller: ManagerDep) -> list[WebhookRead]:
    """Suscripciones visibles para la clave (una unidad ve las suyas)."""
    return [WebhookRead.model_validate(s) for s in webhooks.list_subscriptions(session, caller)]


@router.delete(
    "/{subscription_id}",
    operation_id="deactivateWebhook",
    response_model=WebhookRead,
    responses=problem_responses(401, 403, 404),
)
def deactivate_webhook(
    session: SessionDep, caller: ManagerDep, subscription_id: SubscriptionId
) -> WebhookRead:
    """Desactiva una suscripción (sus entregas quedan para consulta)."""
    return WebhookRead.model_validate(webhooks.deactivate(session, caller, subscription_id))


@router.get(
    "/{subscription_id}/deliveries",
    operation_id="listWebhookDeliveries",
    response_model=list[DeliveryRead],
    responses=problem_responses(401, 403, 404),
)
def list_deliveries(
    session: SessionDep, caller: ManagerDep, subscription_id: SubscriptionId
) -> list[DeliveryRead]:
    """Estado de las últimas entregas: intentos, último código HTTP, próximo intento."""
    found = webhooks.list_deliveries(session, caller, subscription_id)
    return [DeliveryRead.model_validate(d) for d in found]


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/retry",
    operation_id="retryWebhookDelivery",
    response_model=DeliveryRead,
    responses=problem_responses(401, 403, 404),
)
def retry_delivery(
    session: SessionDep,
    caller: ManagerDep,
    subscription_id: SubscriptionId,
    delivery_id: Annotated[uuid.UUID, Path(description="Identificador de la entrega.")],
) -> DeliveryRead:
    """Vuelve a poner en cola una entrega agotada o fallida."""
    delivery = webhooks.retry_delivery(
        session, caller, subscription_id, delivery_id, webhooks.utcnow()
    )
    return DeliveryRead.model_validate(delivery)
