"""What every request meets before any route runs: the host, the body, who asks.

An ASGI middleware in front of the whole app (``Guard``):

- the ``Host`` header must be one the hub serves (``http.allowed_hosts``),
  so a page on another site that points its own name at 127.0.0.1 (DNS
  rebinding) reaches nothing;
- a request with a body to the API must carry a token that checks out
  before one byte of the body is read (a stranger's 300 MB costs nothing),
  and the body may be ``http.max_body_kb`` at most: announced larger, it is
  refused at once; streamed larger, it is cut off where it crosses the cap;
- a WebSocket must name a served host too, and one opened by a page (its
  ``Origin``) only from a page of the same host: a page of another site
  would otherwise ride on the visitor's session cookie;
- every answer says ``X-Content-Type-Options: nosniff``, and JSON answers
  ``Cache-Control: no-store`` unless the route set its own;
- every 401 and 403 is in the audit log with the caller's address
  (``refused``; those the policy engine refused are there already), repeats
  counted rather than written one by one, and the address of each request
  is where the audit log finds it (``hub.store.audit.request_address``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException

from hub.core.config import HttpConfig
from hub.http.auth import authenticate
from hub.http.problems import http_problem
from hub.store.audit import request_address

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK = ("localhost", "127.0.0.1", "::1")
WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}
#: API paths a request with a body may reach unauthenticated: signing in, and (by its prefix)
#: setting a password with an invitation, whose token is the authority.
OPEN = {"/api/v1/session"}
OPEN_PREFIXES = ("/api/v1/invites/",)


def allowed_hosts(http: HttpConfig) -> set[str]:
    """The host names the hub answers to: hub.yaml's list, else loopback, public_url's host, http.host."""
    if http.allowed_hosts is not None:
        return {h.lower() for h in http.allowed_hosts}
    hosts = set(LOOPBACK)
    if http.public_url:
        hosts.add((urlsplit(http.public_url).hostname or "").lower())
    if http.host not in ("0.0.0.0", "::", ""):
        hosts.add(http.host.lower())
    return hosts


def host_of(header: str) -> str:
    """``example.org`` of ``example.org:8080``, ``::1`` of ``[::1]:8080``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class _TooLarge(HTTPException):
    """A streamed body crossed the cap.  An ``HTTPException``: FastAPI turns any other error
    while it reads a body into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body may be {limit // 1024} KiB at most")


#: What the guard calls with a refused request's scope and status (401 or 403).
Refused = Callable[[Scope, int], Awaitable[None]]


class Guard:
    def __init__(self, app: ASGIApp, hosts: set[str], max_body: int, refused: Refused | None = None,
                 bulk: dict[str, int] | None = None) -> None:
        self.app = app
        self.hosts = hosts
        self.max_body = max_body
        self.refused = refused
        #: Paths that take a larger body (a CSV of thousands of accounts), with their cap.
        self.bulk = bulk or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            refusal = self._websocket_refusal(scope)
            if refusal is not None:
                await send({"type": "websocket.close", "code": 4400, "reason": refusal})
                return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = request_address.set(client[0][:64] if client else None)
        try:
            await self._serve(scope, receive, send)
        finally:
            request_address.reset(address)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        seen = 0
        cap = self.bulk.get(scope["path"], self.max_body)

        async def marked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                status = message.get("status", 200)
                if status in (401, 403) and self.refused is not None \
                        and not scope.get("state", {}).get("audited"):
                    await self.refused(scope, status)
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(b"x-content-type-options", b"nosniff")]
                kind = next((v for k, v in message.get("headers", []) if k.lower() == b"content-type"), b"")
                if b"json" in kind and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise _TooLarge(cap)
            return message

        try:
            has_body = await self._admit(scope, cap)
            await self.app(scope, counted if has_body else receive, marked)
        except HTTPException as refusal:  # refused here, or a streamed body that crossed the cap
            if not started:
                await http_problem(refusal)(scope, receive, marked)

    def _websocket_refusal(self, scope: Scope) -> str | None:
        """Why a WebSocket must not reach a route, or None: a host the hub does not serve, or a page
        of another site (its ``Origin``) that would ride on the visitor's session cookie."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = host_of(headers.get("host", ""))
        if "*" not in self.hosts and host not in self.hosts:
            return f"this hub does not answer to the host {host[:60]!r}"
        origin = headers.get("origin")
        if origin is not None and (urlsplit(origin).hostname or "").lower() != host:
            return "a WebSocket from a page of another site"
        return None

    async def _admit(self, scope: Scope, cap: int) -> bool:
        """Refuse (``HTTPException``) what must not reach a route; whether the request has a body."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = host_of(headers.get("host", ""))
        if "*" not in self.hosts and host not in self.hosts:
            raise HTTPException(400, f"this hub does not answer to the host {host[:100]!r}; "
                                     "add it to http.allowed_hosts")
        length = headers.get("content-length")
        has_body = scope["method"] in WITH_BODY and (length not in (None, "0") or "transfer-encoding" in headers)
        path = scope["path"]
        if has_body and path.startswith("/api/") and path not in OPEN and not path.startswith(OPEN_PREFIXES):
            await authenticate(scope, headers)
        if length is not None and length.isascii() and length.isdigit() and int(length) > cap:
            raise _TooLarge(cap)
        return has_body
