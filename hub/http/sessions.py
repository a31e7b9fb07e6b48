"""Signing in and out of the web: ``POST /api/v1/session`` and ``DELETE /api/v1/session``.

A right username and password give a server-side session: its id in an
``HttpOnly``, ``SameSite=Lax`` cookie (``Secure`` when the hub is reached over
HTTPS), and a CSRF token in the answer that the page sends back as
``X-CSRF-Token`` on unsafe requests.  A wrong one is a 401 that never says
which part was wrong; failures are counted per address and per username
(``http.auth_failures_per_minute``), then 429 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from hub.core.models import Principal, Role
from hub.http import problems
from hub.http.auth import SESSION_COOKIE, FailureLimiter, check_csrf, session_cookie
from hub.http.services import served_hub

log = logging.getLogger("pantau.auth")

router = APIRouter(tags=["session"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="The user's name.")
    password: str = Field(min_length=1, max_length=1024, description="The user's password.")


class SessionInfo(BaseModel):
    """Who signed in, the CSRF token for unsafe requests, and when the session ends at the latest."""

    username: str
    name: str | None
    role: Role
    csrf_token: str = Field(description="Send it back as X-CSRF-Token on POST, PUT, PATCH and DELETE.")
    expires_at: datetime


def _secure(request: Request) -> bool:
    public = served_hub(request).config.http.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


@router.post("/session", response_model=SessionInfo, responses=problems.responses(401, 413, 429))
async def sign_in(body: Login, request: Request, response: Response) -> SessionInfo:
    """Sign in with a username and password; the answer sets the session cookie."""
    hub = served_hub(request)
    limiter: FailureLimiter = request.app.state.login_failures
    address = request.client.host if request.client else "?"
    keys = (f"address:{address}", f"user:{body.username.lower()}")
    if (wait := limiter.retry_after(*keys)) is not None:
        raise HTTPException(429, "too many failed sign-ins; try again later", headers={"Retry-After": str(wait)})
    who = await hub.store.users.verify(body.username, body.password)
    if who is None:
        limiter.failed(*keys)
        log.warning("sign-in failed", extra={"address": address, "username": body.username[:64]})
        await hub.store.audit.record(Principal(id=f"user:{body.username[:64]}", role=Role.VIEWER), "sign_in",
                                     None, False, "wrong username or password", coalesce=True)
        request.state.audited = True
        raise HTTPException(401, "wrong username or password")
    session = await hub.store.users.start_session(who)
    await hub.store.audit.record(who, "sign_in", None, True, "")
    response.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="lax", secure=_secure(request),
                        path="/", max_age=int(hub.store.users.lifetime.total_seconds()))
    return SessionInfo(username=who.id.removeprefix("user:"), name=who.name, role=who.role,
                       csrf_token=session.csrf_token, expires_at=session.expires_at)


@router.delete("/session", status_code=204, response_class=Response)
async def sign_out(request: Request) -> Response:
    """End the session of the cookie (it needs the session's X-CSRF-Token, as every unsafe request does)."""
    hub = served_hub(request)
    session_id = session_cookie(request.headers.get("cookie"))
    if session_id is not None:
        session = await hub.store.users.session(session_id)
        if session is not None:
            check_csrf(request.headers, session.csrf_token)
            await hub.store.users.end_session(session_id)
            await hub.store.audit.record(session.principal, "sign_out", None, True, "")
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
    return response
