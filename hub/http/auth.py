"""Authentication (a bearer token, or a web session's cookie) and policy checks for HTTP routes.

Every ``/api/v1`` route depends on ``principal``: the caller is the bearer
token of the ``Authorization`` header or, without one, the session of the
``pantau_session`` cookie (``POST /api/v1/session``); an unsafe request
(``POST``, ``PUT``, ``PATCH``, ``DELETE``) made with the cookie must carry
the session's ``X-CSRF-Token``.  No credentials, or unknown, expired or
revoked ones, are a 401.  What a principal may do with a camera is the
policy engine's answer (``Hub.authorize``), a 403 when it says no.

A failed authentication is logged (the token's id and the address, never
the secret) and counted, per address and per token id: past
``http.auth_failures_per_minute`` in a minute the answer is 429 with
``Retry-After`` until the minute has passed, so guessing a token's secret
costs a minute per ten guesses.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections import deque
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.core.models import Action, Principal
from hub.http.services import hub_of, served_hub

log = logging.getLogger("pantau.auth")

_bearer = HTTPBearer(auto_error=False, description="A token from `pantau token create`.")

#: The web session's cookie, and the header an unsafe request made with it carries.
SESSION_COOKIE = "pantau_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

WINDOW = 60.0  # seconds over which failures are counted


class FailureLimiter:
    """Failed authentications in the last minute, by key (an address, a token id)."""

    def __init__(self, per_minute: int, keys: int = 100_000) -> None:
        self.per_minute = per_minute
        self.keys = keys
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, *keys: str) -> int | None:
        """Seconds to wait when any of ``keys`` failed too often in the window; None when it may try."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            times = self._seen.get(key)
            while times and now - times[0] >= WINDOW:
                times.popleft()
            if times is not None and len(times) >= self.per_minute:
                wait = max(wait, WINDOW - (now - times[0]))
        return max(1, round(wait)) if wait > 0 else None

    def hit(self, *keys: str) -> int | None:
        """Count a request of each of ``keys``: seconds to wait when one is past the limit (the
        request is then not counted), else None."""
        wait = self.retry_after(*keys)
        if wait is None:
            self.failed(*keys)
        return wait

    def failed(self, *keys: str) -> None:
        if len(self._seen) >= self.keys:  # a flood of made-up keys: start afresh rather than grow
            self._seen.clear()
        now = time.monotonic()
        for key in keys:
            self._seen.setdefault(key, deque()).append(now)


def session_cookie(cookie_header: str | None) -> str | None:
    """The session id of a ``Cookie`` header, or None."""
    if not cookie_header:
        return None
    try:
        jar: SimpleCookie = SimpleCookie(cookie_header)
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


async def authenticate(scope: Any, headers: dict[str, str]) -> Principal:
    """Who the request is: its bearer token when it sends one, else its session cookie;
    ``HTTPException`` 401 (none, or not valid), 403 (an unsafe request with the cookie and a
    missing or wrong CSRF token) or 429 (too many failures)."""
    if headers.get("authorization") or not (session_id := session_cookie(headers.get("cookie"))):
        return await check_bearer(scope, headers.get("authorization"))
    app = scope["app"]
    client = scope.get("client")
    address = client[0] if client else "?"
    session = await hub_of(app).store.users.session(session_id)
    if session is None:
        log.info("a session cookie that is not (or no longer) valid", extra={"address": address})
        raise HTTPException(401, "the session has ended; sign in again", headers={"WWW-Authenticate": "Bearer"})
    if scope.get("method") in UNSAFE:
        check_csrf(headers, session.csrf_token)
    scope.setdefault("state", {})["principal"] = session.principal
    return session.principal


def check_csrf(headers: Mapping[str, str], csrf_token: str) -> None:
    """403 unless an unsafe request made with the session cookie carries the session's CSRF token."""
    if not hmac.compare_digest(headers.get(CSRF_HEADER, ""), csrf_token):
        raise HTTPException(403, f"a request made with the session cookie needs its {CSRF_HEADER} header")


async def websocket_principal(websocket: Any) -> Principal | None:
    """Who opens a WebSocket (its bearer token, else its session cookie), or None once the refusal is
    in the audit log: the route then closes it with 4401.  For the hub's WebSocket routes and plugins'."""
    try:
        return await authenticate(websocket.scope, request_headers(websocket.scope))
    except HTTPException as refusal:
        await hub_of(websocket.app).store.audit.record("anonymous", f"http_{refusal.status_code}", None, False,
                                                       f"WEBSOCKET {websocket.url.path[:200]}", coalesce=True)
        return None


def request_headers(scope: Any) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def check_bearer(scope: Any, authorization: str | None) -> Principal:
    """Who ``authorization`` (a bearer token) is; ``HTTPException`` 401, or 429 while the address or
    the token id failed too often.  The guard asks before a request's body is read; ``principal``
    asks for the rest, and what is found is kept in the request's state for both."""
    app = scope["app"]
    client = scope.get("client")
    address = client[0] if client else "?"
    challenge = {"WWW-Authenticate": "Bearer"}
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "a bearer token is required", headers=challenge)
    token = token.strip()
    parts = token.split("_", 2)
    token_id = parts[1][:40] if len(parts) == 3 else None
    limiter: FailureLimiter = app.state.auth_failures
    keys = [f"address:{address}"] + ([f"token:{token_id}"] if token_id else [])
    wait = limiter.retry_after(*keys)
    tokens = hub_of(app).store.tokens
    # A token that checked out a moment ago goes on working while its address is held back:
    # behind a reverse proxy every user shares one address, and a stranger's guesses there
    # must not lock them all out.  A guess is never in that memory.
    if wait is not None and not tokens.recently_verified(token):
        raise HTTPException(429, "too many failed authentications; try again later",
                            headers={"Retry-After": str(wait)})
    found = await tokens.principal_for_token(token)
    if found is None:
        limiter.failed(*keys)
        log.warning("authentication failed", extra={"address": address, "token_id": token_id,
                                                    "path": scope.get("path", "")[:200]})
        raise HTTPException(401, "invalid, expired or revoked token", headers=challenge)
    scope.setdefault("state", {})["principal"] = found
    return found


async def principal(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The caller (plugin routes read it with ``hub.request_principal(request)``)."""
    known = getattr(request.state, "principal", None)
    if known is not None:  # the guard checked it already (a request with a body)
        return known  # type: ignore[no-any-return]
    return await authenticate(request.scope, request_headers(request.scope))


CurrentPrincipal = Annotated[Principal, Depends(principal)]


def require(action: Action):  # type: ignore[no-untyped-def]
    """Dependency for routes that act on no particular camera."""

    async def check(request: Request, who: CurrentPrincipal) -> Principal:
        await served_hub(request).authorize(who, action)
        return who

    return Depends(check)
