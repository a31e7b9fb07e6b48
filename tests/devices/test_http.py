"""Event streams over HTTP: a stream that goes quiet or breaks is a clear, retryable error."""

from __future__ import annotations

import asyncio
import time

import pytest

from hub.core.errors import DeviceNotReady
from hub.devices.http import DeviceHttp
from hub.testing.sim import DahuaSimulator

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
