"""Reusable dependencies: the database session and the caller."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.errors import Forbidden, InvalidCredentials, NotAuthenticated
from app.models import Role
from app.services.api_keys import PUBLIC, Caller, authenticate


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed once here when the route succeeds."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with unit_of_work(factory) as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is reported.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(
    auto_error=False,
    description="Clave de acceso de Vigía: `Authorization: Bearer vga_...`. Sin clave = público.",
)


def get_caller(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    request: Request,
) -> Caller:
    """The caller behind the request's key, or the anonymous public when there is none."""
    header = request.headers.get("authorization")
    if credentials is None:
        if header:
            raise InvalidCredentials(
                "La cabecera Authorization debe tener la forma 'Bearer <clave>'."
            )
        return PUBLIC
    return authenticate(session, credentials.credentials)


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: Role) -> Callable[[Caller], Caller]:
    """Dependency factory: the caller must hold one of `roles` (admins always pass)."""
    allowed = {*roles, Role.ADMIN}
    names = ", ".join(sorted(r.value for r in allowed))

    def dependency(caller: CallerDep) -> Caller:
        if caller.is_public:
            raise NotAuthenticated(f"Esta operación requiere una clave con rol: {names}.")
        if caller.role not in allowed:
            raise Forbidden(
                f"El rol {caller.role} no puede hacer esta operación; se requiere: {names}."
            )
        return caller

    return dependency
