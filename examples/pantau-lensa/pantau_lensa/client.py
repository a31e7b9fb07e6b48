"""Lensa's JSON API over HTTP: the only module of the plugin that does I/O.

Lensa devices do not check HTTP auth on each request: a login call
(``POST /api/v1/login`` with JSON) hands out a session token, sent back in
an ``X-Lensa-Token`` header.  ``LensaLogin`` tells the hub's HTTP helper
how; the helper logs in before the first request, again before the token's
``expires_in`` runs out, and once more when the device answers 401.
"""

from __future__ import annotations

from hub import DeviceAuthFailed, DeviceError, DeviceNotReady
from hub.devices.http import DeviceHttp, Reply, Token, TokenLogin
from pantau_lensa import parse

TOKEN_HEADER = "X-Lensa-Token"


class LensaLogin(TokenLogin):
    async def login(self, http: DeviceHttp, username: str, password: str) -> Token:
        reply = await http.request("POST", "/api/v1/login", json={"username": username, "password": password},
                                   authenticated=False)
        if reply.status in (401, 403):
            raise DeviceAuthFailed(f"{http.where}: the device refused the credentials")
        answer = parse.login(_ok(reply), f"{http.where}: /api/v1/login")
        return Token(headers={TOKEN_HEADER: answer.token}, lifetime=answer.expires_in)

    async def logout(self, http: DeviceHttp, token: Token) -> None:
        await http.request("POST", "/api/v1/logout", headers=token.headers, authenticated=False)


class LensaClient:
    def __init__(self, http: DeviceHttp) -> None:
        self.http = http
        self.where = http.where

    async def device(self) -> parse.LensaDevice:
        reply = await self.http.get("/api/v1/device")
        return parse.device(_ok(reply), f"{self.where}: /api/v1/device")

    async def snapshot(self, channel: int) -> bytes:
        reply = await self.http.get(f"/api/v1/snapshot?channel={channel}")
        if reply.status != 200 or not reply.body.startswith(b"\xff\xd8"):
            raise DeviceError(f"{self.where}: channel {channel} gave no picture (HTTP {reply.status})")
        return reply.body

    async def events(self, cursor: int, wait: float) -> parse.LensaEvents:
        """Events after ``cursor``; the device holds the request up to ``wait`` seconds when there are none."""
        reply = await self.http.get(f"/api/v1/events?since={cursor}&wait={wait:g}")
        return parse.events(_ok(reply), f"{self.where}: /api/v1/events")


def _ok(reply: Reply) -> object:
    """The JSON of a successful answer; a device error otherwise (5xx: retry later)."""
    if reply.status >= 500:
        raise DeviceNotReady(f"{reply.where}: {reply.path}: device error (HTTP {reply.status})")
    if reply.status != 200:
        raise DeviceError(f"{reply.where}: {reply.path}: HTTP {reply.status}")
    return reply.json()
