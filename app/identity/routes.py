"""Who am I, and (for admins) which keys exist. Keys are issued with `vigia apikey create`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.deps import SessionDep, require_roles
from app.api.schemas import problem_responses
from app.identity import api_keys
from app.identity.caller import Caller
from app.identity.schemas import ApiKeyRead, CallerRead
from app.models import Role

router = APIRouter(tags=["acceso"])

AnyKeyDep = Annotated[Caller, Depends(require_roles(*Role))]
AdminDep = Annotated[Caller, Depends(require_roles(Role.ADMIN))]


@router.get(
    "/me", operation_id="whoAmI", response_model=CallerRead, responses=problem_responses(401)
)
async def who_am_i(caller: AnyKeyDep) -> CallerRead:
    """Rol e institución de la clave presentada (para probar una clave desde terreno)."""
    assert caller.role is not None
    assert caller.institution is not None
    return CallerRead(
        role=caller.role,
        institution=caller.institution,
        unit=caller.unit,
        key_name=caller.key_name or "",
    )


@router.get(
    "/api-keys",
    operation_id="listApiKeys",
    response_model=list[ApiKeyRead],
    responses=problem_responses(401, 403),
)
def list_api_keys(
    session: SessionDep,
    _: AdminDep,
    include_revoked: Annotated[bool, Query(description="Incluir claves revocadas.")] = False,
) -> list[ApiKeyRead]:
    """Claves emitidas, sin secretos (solo administradores)."""
    keys = api_keys.list_keys(session, include_revoked=include_revoked)
    return [ApiKeyRead.model_validate(k) for k in keys]
