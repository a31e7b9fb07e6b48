"""A simulated Lensa device, for the plugin's tests (and anyone trying the plugin without a camera).

Built on the hub's ``DeviceSimulator``, which brings the server on
127.0.0.1, the token check (``auth="token"``) and the faults the
conformance suite asks for (garbage, truncation, hangs, 500s).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hub.testing.sim import DeviceSimulator, picture
from pantau_lensa.client import TOKEN_HEADER


@dataclass
class SimChannel:
    channel: int
    name: str
    online: bool = True


@dataclass
class SimEvent:
    id: int
    channel: int
    type: str
    state: str
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


class LensaSimulator(DeviceSimulator):
    """A Lensa camera (one channel) or NVR (``channels`` of them)."""

    public_paths = frozenset({"/api/v1/login"})

    def __init__(self, channels: int = 1, serial: str = "LX24A0001234", token_lifetime: float = 3600.0,
                 **kw: Any) -> None:
        super().__init__(auth="token", **kw)
        self.serial = serial
        self.model = "LX-NVR8" if channels > 1 else "LX-200"
        self.channels = [SimChannel(n, f"Kamera {n}") for n in range(1, channels + 1)]
        self.token_lifetime = token_lifetime
        self.happened: list[SimEvent] = []
        self._news = asyncio.Event()

    def token_of(self, request: web.Request) -> str | None:
        return request.headers.get(TOKEN_HEADER)

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v1/login", self.login), web.post("/api/v1/logout", self.logout),
                web.get("/api/v1/device", self.device), web.get("/api/v1/snapshot", self.snapshot),
                web.get("/api/v1/events", self.events)]

    def trigger(self, channel: int, type: str = "motion", state: str = "start") -> None:
        """Something happens on ``channel`` (safe from any thread)."""

        def record() -> None:
            self.happened.append(SimEvent(len(self.happened) + 1, channel, type, state))
            self._news.set()

        self.on_loop(record)

    async def login(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            username, password = str(body["username"]), str(body["password"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "bad request"}, status=400)
        if not self.credentials_ok(username, password):
            return web.json_response({"error": "bad credentials"}, status=401)
        return web.json_response({"token": self.issue_token(), "expires_in": self.token_lifetime})

    async def logout(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def device(self, request: web.Request) -> web.Response:
        def streams(n: int) -> list[dict[str, Any]]:
            return [{"role": "main", "codec": "H.265", "width": 2560, "height": 1440, "fps": 20, "kbps": 3072,
                     "rtsp_path": f"/live/{n}/main"},
                    {"role": "sub", "codec": "H.264", "width": 640, "height": 360, "fps": 10, "kbps": 384,
                     "rtsp_path": f"/live/{n}/sub"}]

        return web.json_response({
            "model": self.model, "serial": self.serial, "firmware": "2.4.1",
            "kind": "nvr" if len(self.channels) > 1 else "camera",
            "channels": [{"channel": c.channel, "name": c.name, "online": c.online, "streams": streams(c.channel)}
                         for c in self.channels],
        })

    async def snapshot(self, request: web.Request) -> web.Response:
        channel = request.query.get("channel", "")
        if not any(str(c.channel) == channel for c in self.channels):
            return web.json_response({"error": "no such channel"}, status=404)
        return web.Response(body=picture(f"{self.model} ch{channel}"), content_type="image/jpeg")

    async def events(self, request: web.Request) -> web.Response:
        try:
            since, wait = int(request.query.get("since", "0")), min(float(request.query.get("wait", "10")), 30.0)
        except ValueError:
            return web.json_response({"error": "bad request"}, status=400)
        if not any(e.id > since for e in self.happened):
            self._news.clear()
            try:
                await asyncio.wait_for(self._news.wait(), wait)
            except TimeoutError:
                pass
        fresh = [e.__dict__ for e in self.happened if e.id > since]
        return web.Response(text=json.dumps({"events": fresh, "next": self.happened[-1].id if self.happened else 0}),
                            content_type="application/json")
