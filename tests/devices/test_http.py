"""Event streams over HTTP: a stream that goes quiet or breaks is a clear, retryable error."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from aiohttp import web

from hub.core.errors import DeviceAuthFailed, DeviceError, DeviceNotReady
from hub.devices.http import DeviceHttp, Reply, Token, TokenLogin
from hub.testing.sim import DahuaSimulator, DeviceSimulator

PATH = "/cgi-bin/eventManager.cgi?action=attach&codes=[All]&heartbeat=1"


@pytest.fixture
async def nvr():
    sim = await DahuaSimulator(kind="nvr", channels=4).start()
    yield sim
    await sim.stop()


async def read(http: DeviceHttp, idle: float, got: list[bytes]) -> None:
    async with http.stream(PATH) as resp:
        async for chunk in http.chunks(resp, "eventManager", idle=idle):
            got.append(chunk)


async def test_a_stream_that_goes_quiet_is_given_up_after_its_idle_time(nvr) -> None:
    http = DeviceHttp("127.0.0.1", nvr.port, "admin", nvr.password, timeout=2)
    got: list[bytes] = []
    reader = asyncio.create_task(read(http, 2.5, got))
    try:
        while len(got) < 3:  # noqa: ASYNC110 - heartbeats every second keep it alive past its idle time
            await asyncio.sleep(0.1)
        assert not reader.done()
        nvr.faults.mute = True
        muted = time.monotonic()
        with pytest.raises(DeviceNotReady, match=rf"^127.0.0.1:{nvr.port}: eventManager: nothing came for 2.5 s$"):
            await asyncio.wait_for(reader, 10)
        assert 2.0 < time.monotonic() - muted < 5.5
    finally:
        reader.cancel()
        await http.close()


async def test_a_stream_cut_by_the_device_is_a_retryable_error_naming_no_secret(nvr) -> None:
    http = DeviceHttp("127.0.0.1", nvr.port, "admin", nvr.password, timeout=2)
    got: list[bytes] = []
    reader = asyncio.create_task(read(http, 30, got))
    try:
        while not got:  # noqa: ASYNC110 - polling what the reader collected
            await asyncio.sleep(0.1)
        await nvr.drop_streams()
        with pytest.raises(DeviceNotReady) as info:
            await asyncio.wait_for(reader, 10)
        assert str(info.value).startswith(f"127.0.0.1:{nvr.port}: eventManager: the stream broke")
        assert nvr.password not in str(info.value)
    finally:
        reader.cancel()
        await http.close()


@pytest.mark.parametrize("vendor", ["dahua", "hikvision"])
async def test_digest_with_opaque_and_nonces_that_go_stale_keeps_working(vendor: str) -> None:
    """Real devices send ``opaque`` and renew nonces (``stale=true``); probing goes on through both."""
    import logging
    from pathlib import Path

    from hub.core.sources import SourceContext
    from hub.testing.sim import HikvisionSimulator
    from plugins.dahua import DahuaConfig, DahuaSource
    from plugins.hikvision import HikvisionConfig, HikvisionSource

    sim_cls, cfg_cls, src_cls = ((DahuaSimulator, DahuaConfig, DahuaSource) if vendor == "dahua"
                                 else (HikvisionSimulator, HikvisionConfig, HikvisionSource))
    sim = await sim_cls(kind="nvr", channels=4, nonce_uses=3).start()
    source = src_cls(cfg_cls(name="nvr", host="127.0.0.1", port=sim.port, password=sim.password),
                     SourceContext(Path("/tmp"), logging.getLogger("test")))
    try:
        for _ in range(3):
            (inventory,) = await source.probe()
            assert len(inventory.cameras) == 4
    finally:
        await source.close()
        await sim.stop()
    assert sim.stale_answers >= 2, "the nonces went stale and were renewed"


async def test_the_dahua_simulator_answers_an_unknown_action_every_time(nvr) -> None:
    http = DeviceHttp("127.0.0.1", nvr.port, "admin", nvr.password, timeout=2)
    try:
        for _ in range(3):
            reply = await asyncio.wait_for(http.get("/cgi-bin/magicBox.cgi?action=noSuchThing"), 5)
            assert reply.status == 400 and b"Bad Request" in reply.body
    finally:
        await http.close()


class _Device(DeviceSimulator):
    """A device with the endpoints the helper's own tests need."""

    def __init__(self, **kw) -> None:  # noqa: ANN003
        super().__init__(**kw)
        self.big = os.urandom(3 * 1024 * 1024)
        self.posted: list[object] = []

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/big", self.send_big), web.post("/echo", self.echo), web.get("/moved", self.moved),
                web.get("/flaky", self.flaky)]

    async def send_big(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await resp.prepare(request)
        for start in range(0, len(self.big), 64 * 1024):  # as a slow device sends: piece by piece
            await resp.write(self.big[start:start + 64 * 1024])
            await asyncio.sleep(0)
        return resp

    async def echo(self, request: web.Request) -> web.Response:
        self.posted.append(await request.json())
        return web.json_response({"got": self.posted[-1]})

    async def moved(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("http://127.0.0.1:9/elsewhere")

    async def flaky(self, request: web.Request) -> web.Response:
        return web.Response(body=b'{"unfinished": ', content_type="application/json")


@pytest.fixture
async def device():
    sim = await _Device().start()
    yield sim
    await sim.stop()


async def test_a_large_answer_is_read_to_its_end(device) -> None:
    http = DeviceHttp(device.host, device.port, "admin", device.password, timeout=5)
    try:
        reply = await http.get("/big")
    finally:
        await http.close()
    assert len(reply.body) == len(device.big) and reply.body == device.big


async def test_json_is_posted_and_a_broken_answer_is_a_device_error_naming_no_query(device) -> None:
    http = DeviceHttp(device.host, device.port, "admin", device.password, timeout=5)
    try:
        reply = await http.post("/echo", json={"channel": 3, "name": "Gerbang"})
        broken = await http.get("/flaky?token=s3cret-token")
    finally:
        await http.close()
    assert reply.json() == {"got": {"channel": 3, "name": "Gerbang"}}
    with pytest.raises(DeviceError, match=rf"^127.0.0.1:{device.port}: /flaky: the answer is not JSON") as info:
        broken.json()
    assert "s3cret" not in str(info.value)


async def test_a_redirect_is_not_followed_with_the_credentials(device) -> None:
    http = DeviceHttp(device.host, device.port, "admin", device.password, timeout=5)
    try:
        with pytest.raises(DeviceError, match="answered with a redirect \\(302\\); the hub does not follow") as info:
            await http.get("/moved")
    finally:
        await http.close()
    assert device.password not in str(info.value)


class _QueryLogin(TokenLogin):
    """A device that wants its token in the query and answers 200 with an error code when it expired."""

    def __init__(self) -> None:
        self.calls = 0

    async def login(self, http: DeviceHttp, username: str, password: str) -> Token:
        self.calls += 1
        return Token(params={"token": f"t{self.calls}"})

    def expired(self, reply: Reply) -> bool:
        return reply.status == 200 and reply.body.startswith(b'{"error"')


async def test_a_token_login_renews_when_the_device_says_the_token_expired() -> None:
    accepted = {"t2"}  # the first token has run out already

    class Device(DeviceSimulator):
        def routes(self) -> list[web.RouteDef]:
            return [web.get("/status", self.status)]

        async def status(self, request: web.Request) -> web.Response:
            if request.query.get("token") not in accepted:
                return web.json_response({"error": -6, "detail": "please login"})
            return web.json_response({"ok": True})

    sim = await Device(auth="none").start()
    login = _QueryLogin()
    http = DeviceHttp(sim.host, sim.port, "admin", sim.password, timeout=5, auth=login)
    try:
        reply = await http.get("/status")
        again = await http.get("/status")
        accepted.clear()  # from now on every token is refused: renewing once is all it tries
        with pytest.raises(DeviceAuthFailed) as info:
            await http.get("/status")
    finally:
        await http.close()
        await sim.stop()
    assert reply.json() == again.json() == {"ok": True}
    assert login.calls == 3  # t1 refused, t2 served two requests, t3 refused
    assert "t3" not in str(info.value)
