"""The Hikvision source against the simulated devices: what a probe, a
snapshot and the event stream give, and how faults come out."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hub.core.errors import DeviceAuthFailed, DeviceError, DeviceNotReady
from hub.core.models import CameraStatus, DeviceKind, EventKind, StreamRole
from hub.core.sources import SourceContext
from hub.testing.sim import HikvisionSimulator
from plugins.hikvision import HikvisionConfig, HikvisionSource


@pytest.fixture
async def nvr():
    sim = await HikvisionSimulator(kind="nvr", channels=32, heartbeat=0.2).start()
    yield sim
    await sim.stop()


def source(sim: HikvisionSimulator, tmp_path: Path, **kw) -> HikvisionSource:  # noqa: ANN003
    cfg = HikvisionConfig(name="dev", host="127.0.0.1", port=sim.port, password=kw.pop("password", sim.password),
                          **{"timeout": 2.0, **kw})
    return HikvisionSource(cfg, SourceContext(tmp_path, logging.getLogger("test.hikvision")))


async def test_a_32_channel_nvr_lists_every_camera_with_main_and_sub(nvr, tmp_path: Path) -> None:
    nvr.channels[4].online = False
    src = source(nvr, tmp_path)
    (inv,) = await src.probe()
    await src.close()
    assert inv.device.kind == DeviceKind.NVR and inv.device.vendor == "Hikvision"
    assert inv.device.serial == nvr.serial and inv.device.model == "DS-7732NI-M4"
    assert [c.channel for c in inv.cameras] == list(range(1, 33))
    assert all([s.role for s in c.streams] == [StreamRole.MAIN, StreamRole.SUB] for c in inv.cameras)
    main = inv.cameras[0].stream(StreamRole.MAIN)
    assert (main.codec, main.width, main.height, main.fps, main.bitrate) == ("h264", 1920, 1080, 25.0, 4_096_000)
    assert main.url.get_secret_value() == \
        f"rtsp://admin:{nvr.password}@127.0.0.1:554/Streaming/Channels/101"
    assert inv.cameras[4].status == CameraStatus.OFFLINE and inv.cameras[0].status == CameraStatus.ONLINE
    assert inv.cameras[0].id == f"hikvision:{nvr.serial}:1"
    assert src.diagnostics["storage"][0].status == "ok" and src.diagnostics["time"] is not None


async def test_ids_do_not_depend_on_the_address(tmp_path: Path) -> None:
    a = await HikvisionSimulator(kind="dvr", channels=4, serial="DVR-SAME-SERIAL").start()
    b = await HikvisionSimulator(kind="dvr", channels=4, serial="DVR-SAME-SERIAL").start()
    try:
        ids = []
        for sim in (a, b):
            src = source(sim, tmp_path)
            ids.append([c.id for c in (await src.probe())[0].cameras])
            await src.close()
    finally:
        await a.stop()
        await b.stop()
    assert a.port != b.port and ids[0] == ids[1]


async def test_a_camera_without_nvr_endpoints_still_probes(tmp_path: Path) -> None:
    sim = await HikvisionSimulator(kind="camera").start()
    try:
        src = source(sim, tmp_path)
        (inv,) = await src.probe()
        jpeg = await src.snapshot(inv.cameras[0])
        await src.close()
    finally:
        await sim.stop()
    assert inv.device.kind == DeviceKind.CAMERA and len(inv.cameras) == 1
    assert src.diagnostics["storage"] is None  # 500 + ResponseStatus: no storage, not a broken camera
    assert jpeg[:3] == b"\xff\xd8\xff"


async def test_events_skip_heartbeats_and_survive_a_reboot(nvr, tmp_path: Path) -> None:
    src = source(nvr, tmp_path)
    await src.probe()
    events = src.events()

    async def next_event():  # noqa: ANN202
        return await asyncio.wait_for(events.__anext__(), 10)

    async def push_when_listening(channel: int, kind: str) -> None:
        while not nvr.listeners:  # noqa: ASYNC110 - polling the simulator's state
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a few heartbeats first
        nvr.push_alert(channel, kind)

    asyncio.create_task(push_when_listening(3, "VMD"))
    first = await next_event()
    assert (first.kind, first.camera_id) == (EventKind.MOTION, f"hikvision:{nvr.serial}:3")
    await nvr.drop_streams()  # a reboot mid-stream
    asyncio.create_task(push_when_listening(9, "tamperdetection"))
    second = await next_event()
    assert (second.kind, second.camera_id) == (EventKind.TAMPER, f"hikvision:{nvr.serial}:9")
    await events.aclose()
    await src.close()


async def test_a_wrong_password_is_auth_failed_naming_host_and_port_only(nvr, tmp_path: Path) -> None:
    src = source(nvr, tmp_path, password="Wr0ng-Secret")
    with pytest.raises(DeviceAuthFailed) as info:
        await src.probe()
    await src.close()
    assert str(info.value) == f"127.0.0.1:{nvr.port}: the device refused the credentials"
    assert "Wr0ng-Secret" not in str(info.value)


async def test_basic_auth_fallback(tmp_path: Path) -> None:
    sim = await HikvisionSimulator(kind="camera", basic_only=True).start()
    try:
        src = source(sim, tmp_path)
        (inv,) = await src.probe()
        await src.close()
    finally:
        await sim.stop()
    assert inv.device.serial == sim.serial


@pytest.mark.parametrize("fault, error, message", [
    ({"status": 500}, DeviceNotReady, r"device error \(HTTP 500\)"),
    ({"garbage": True}, DeviceError, "invalid XML"),
    ({"truncate": True}, DeviceError, "cut short|invalid XML"),
    ({"hang": True}, DeviceNotReady, "timed out"),
    ({"delay": 5}, DeviceNotReady, "timed out"),
])
async def test_faults_become_device_errors_with_host_and_port(nvr, tmp_path: Path, fault, error, message) -> None:
    for name, value in fault.items():
        setattr(nvr.faults, name, value)
    nvr.faults.paths = {"/ISAPI/System/deviceInfo"}
    src = source(nvr, tmp_path, timeout=0.5)
    with pytest.raises(error, match=message) as info:
        await src.probe()
    await src.close()
    assert f"127.0.0.1:{nvr.port}" in str(info.value) and nvr.password not in str(info.value)


async def test_an_offline_device_is_not_ready(tmp_path: Path) -> None:
    sim = HikvisionSimulator(kind="camera")  # never started: nothing listens
    src = source(sim, tmp_path)
    with pytest.raises(DeviceNotReady, match=f"127.0.0.1:{sim.port}: cannot connect"):
        await src.probe()
    await src.close()


async def test_repeated_active_alerts_become_one_start_and_one_stop(nvr, tmp_path: Path) -> None:
    src = source(nvr, tmp_path, event_hold_seconds=1.0)
    await src.probe()
    got: list = []

    async def collect() -> None:
        async for event in src.events():
            got.append(event)

    reader = asyncio.create_task(collect())
    try:
        while not nvr.listeners:  # noqa: ASYNC110 - polling the simulator's state
            await asyncio.sleep(0.05)
        for _ in range(6):  # motion lasting 3 s, as the camera tells it: "active" twice a second
            nvr.push_alert(2, "VMD")
            await asyncio.sleep(0.5)
        nvr.push_alert(5, "linedetection")  # a crossing is a one-off: passed as it comes
        for _ in range(40):
            if len([e for e in got if e.kind == EventKind.MOTION]) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await src.close()
    motion = [(e.state.value, e.camera_id) for e in got if e.kind == EventKind.MOTION]
    cam = f"hikvision:{nvr.serial}:2"
    assert motion == [("start", cam), ("stop", cam)]
    crossings = [e for e in got if e.kind == EventKind.LINE_CROSSING]
    assert len(crossings) == 1 and crossings[0].state.value == "pulse"


async def test_one_slow_optional_endpoint_is_taken_as_absent_not_a_failed_probe(nvr, tmp_path: Path) -> None:
    import time

    nvr.faults.paths = {"/ISAPI/ContentMgmt/Storage"}
    nvr.faults.delay = 30  # a busy NVR's disk report that never comes in time
    src = source(nvr, tmp_path, timeout=60.0)
    began = time.monotonic()
    try:
        (inv,) = await src.probe()
    finally:
        await src.close()
    assert time.monotonic() - began < 10, "the probe waited for the slow endpoint"
    assert len(inv.cameras) == 32 and src.diagnostics["storage"] is None
    assert src.diagnostics["time"] is not None, "the other optional endpoints still answered"
