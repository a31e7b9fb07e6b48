"""The Dahua source against the simulated devices."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hub.core.errors import DeviceAuthFailed, DeviceError, DeviceNotReady
from hub.core.models import CameraStatus, DeviceKind, EventKind, EventState, StreamRole
from hub.core.sources import SourceContext
from hub.testing.sim import DahuaSimulator
from hub.testing.waiting import until
from plugins.dahua import DahuaConfig, DahuaSource


@pytest.fixture
async def nvr():
    sim = await DahuaSimulator(kind="nvr", channels=16).start()
    yield sim
    await sim.stop()


def source(sim: DahuaSimulator, tmp_path: Path, **kw) -> DahuaSource:  # noqa: ANN003
    cfg = DahuaConfig(name="dev", host="127.0.0.1", port=sim.port, password=kw.pop("password", sim.password),
                      **{"timeout": 2.0, "heartbeat": 1, **kw})
    return DahuaSource(cfg, SourceContext(tmp_path, logging.getLogger("test.dahua")))


async def test_an_nvr_lists_its_channels_with_rtsp_urls_and_states(nvr, tmp_path: Path) -> None:
    nvr.offline = {3}
    src = source(nvr, tmp_path)
    (inv,) = await src.probe()
    await src.close()
    assert (inv.device.kind, inv.device.model, inv.device.serial) == (DeviceKind.NVR, nvr.model, nvr.serial)
    assert [c.name for c in inv.cameras] == [f"Kanal {i}" for i in range(1, 17)]
    assert inv.cameras[2].status == CameraStatus.OFFLINE and inv.cameras[0].status == CameraStatus.ONLINE
    sub = inv.cameras[4].stream(StreamRole.SUB)
    assert (sub.codec, sub.width, sub.height) == ("h264", 704, 480)
    assert sub.url.get_secret_value().endswith("@127.0.0.1:554/cam/realmonitor?channel=5&subtype=1")
    assert src.diagnostics["storage"][0].total_bytes == 4 * 10**12


async def test_events_start_stop_skip_heartbeats_and_survive_a_reboot(nvr, tmp_path: Path) -> None:
    src = source(nvr, tmp_path)
    await src.probe()
    events = src.events()

    async def push_when_attached(channel: int, code: str, action: str) -> None:
        beats = nvr.heartbeats
        await until(lambda: nvr.listeners and nvr.heartbeats > beats)  # at least one heartbeat first
        nvr.push_event(channel, code, action, {"RegionName": ["gerbang"]})

    asyncio.create_task(push_when_attached(2, "VideoMotion", "Start"))
    first = await asyncio.wait_for(events.__anext__(), 10)
    assert (first.kind, first.state, first.camera_id) == (EventKind.MOTION, EventState.START,
                                                          f"dahua:{nvr.serial}:2")
    await nvr.drop_streams()
    asyncio.create_task(push_when_attached(2, "VideoMotion", "Stop"))
    second = await asyncio.wait_for(events.__anext__(), 10)
    assert (second.kind, second.state) == (EventKind.MOTION, EventState.STOP)
    await events.aclose()
    await src.close()


async def test_wrong_password_and_faults(nvr, tmp_path: Path) -> None:
    src = source(nvr, tmp_path, password="bukan-ini")
    with pytest.raises(DeviceAuthFailed, match=f"^127.0.0.1:{nvr.port}: the device refused the credentials$"):
        await src.probe()
    await src.close()
    nvr.faults.garbage = True
    nvr.faults.paths = {"/cgi-bin/configManager.cgi"}
    src = source(nvr, tmp_path)
    with pytest.raises(DeviceError, match="ChannelTitle") as info:
        await src.probe()
    assert nvr.password not in str(info.value)
    nvr.faults.garbage, nvr.faults.hang = False, True
    with pytest.raises(DeviceNotReady, match="timed out"):
        await src.probe()
    await src.close()
