"""Bearer-token authentication and policy checks for HTTP routes.

Every ``/api/v1`` route depends on ``principal``: no token or an unknown,
expired or revoked token is a 401.  What a principal may do with a camera is
the policy engine's answer (``Hub.authorize``), a 403 when it says no.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.core.models import Action, Principal
from hub.http.services import served_hub

_bearer = HTTPBearer(auto_error=False, description="A token from `pantau token create`.")


async def principal(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    found = await served_hub(request).store.tokens.principal_for_token(creds.credentials)
    if found is None:
        raise HTTPException(401, "invalid, expired or revoked token", headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = found  # for plugin routes: hub.request_principal(request)
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]


def require(action: Action):  # type: ignore[no-untyped-def]
    """Dependency for routes that act on no particular camera."""

    async def check(request: Request, who: CurrentPrincipal) -> Principal:
        await served_hub(request).authorize(who, action)
        return who

    return Depends(check)
