"""The ONVIF source against the simulated camera (onvif-zeep-async end to end)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from hub.core.errors import DeviceAuthFailed, DeviceNotReady, DeviceUnsupported
from hub.core.models import DeviceKind, EventKind, EventState, PtzAction, PtzCommand, StreamRole
from hub.core.sources import SourceContext
from hub.testing.sim import OnvifSimulator
from plugins.onvif import OnvifConfig, OnvifSource


@pytest.fixture
async def camera():
    sim = await OnvifSimulator(sources=1, rtsp_base="rtsp://127.0.0.1:8554").start()
    yield sim
    await sim.stop()


def source(sim: OnvifSimulator, tmp_path: Path, **kw) -> OnvifSource:  # noqa: ANN003
    cfg = OnvifConfig(name="onvif-cam", host="127.0.0.1", port=sim.port, password=kw.pop("password", sim.password),
                      **{"timeout": 5.0, **kw})
    return OnvifSource(cfg, SourceContext(tmp_path, logging.getLogger("test.onvif")))


async def test_probe_profiles_as_main_and_sub_with_credentials_in_the_rtsp_url(camera, tmp_path: Path) -> None:
    camera.clock_offset = timedelta(seconds=95)  # a drifting clock: requests are signed with the device's time
    src = source(camera, tmp_path)
    (inv,) = await src.probe()
    jpeg = await src.snapshot(inv.cameras[0])
    await src.close()
    assert (inv.device.vendor, inv.device.serial, inv.device.kind) == ("Bosch", camera.serial, DeviceKind.CAMERA)
    (cam,) = inv.cameras
    assert cam.id == f"onvif:{camera.serial}:1"
    main, sub = cam.stream(StreamRole.MAIN), cam.stream(StreamRole.SUB)
    assert (main.width, main.height, main.fps, main.bitrate) == (1920, 1080, 25.0, 6_000_000)
    assert (sub.width, sub.height) == (640, 360)
    assert main.url.get_secret_value() == f"rtsp://admin:{camera.password}@127.0.0.1:8554/main"
    assert 85 <= src.diagnostics["clock_drift_seconds"] <= 105
    assert src.diagnostics["ptz"] and src.diagnostics["pullpoint"]
    assert jpeg[:3] == b"\xff\xd8\xff"


async def test_an_encoder_with_two_video_sources_gives_two_cameras(tmp_path: Path) -> None:
    sim = await OnvifSimulator(sources=2).start()
    try:
        src = source(sim, tmp_path)
        (inv,) = await src.probe()
        await src.close()
    finally:
        await sim.stop()
    assert inv.device.kind == DeviceKind.ENCODER
    assert [(c.channel, len(c.streams)) for c in inv.cameras] == [(1, 2), (2, 2)]


async def test_pullpoint_events_and_a_lost_subscription(camera, tmp_path: Path) -> None:
    src = source(camera, tmp_path)
    await src.probe()
    events = src.events()

    async def push(**kw) -> None:  # noqa: ANN003
        while not camera.subscriptions:  # noqa: ASYNC110 - polling the simulator's state
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        camera.push_event(**kw)

    asyncio.create_task(push())
    first = await asyncio.wait_for(events.__anext__(), 15)
    assert (first.kind, first.state, first.camera_id) == (EventKind.MOTION, EventState.START,
                                                          f"onvif:{camera.serial}:1")
    await camera.drop_streams()  # the camera reboots and forgets the subscription
    asyncio.create_task(push(topic="tns1:RuleEngine/TamperDetector/Tamper", data=("IsTamper", "true")))
    second = await asyncio.wait_for(events.__anext__(), 20)
    assert second.kind == EventKind.TAMPER
    await events.aclose()
    await src.close()


async def test_ptz(camera, tmp_path: Path) -> None:
    src = source(camera, tmp_path)
    (inv,) = await src.probe()
    cam = inv.cameras[0]
    await src.ptz(cam, PtzCommand(action=PtzAction.MOVE, pan=0.5, tilt=-0.25))
    await src.ptz(cam, PtzCommand(action=PtzAction.STOP))
    await src.ptz(cam, PtzCommand(action=PtzAction.GOTO_PRESET, preset="2"))
    presets = await src.ptz_presets(cam)
    await src.close()
    assert [c[0] for c in camera.ptz_calls] == ["ContinuousMove", "Stop", "GotoPreset"]
    assert camera.ptz_calls[0][1]["PanTilt.x"] == "0.5" and camera.ptz_calls[0][1]["PanTilt.y"] == "-0.25"
    assert camera.ptz_calls[2][1]["PresetToken"] == "2"
    assert [(p.token, p.name) for p in presets] == [("1", "Gerbang"), ("2", "Parkir")]


async def test_no_ptz_is_unsupported(tmp_path: Path) -> None:
    sim = await OnvifSimulator(ptz=False).start()
    try:
        src = source(sim, tmp_path)
        (inv,) = await src.probe()
        with pytest.raises(DeviceUnsupported):
            await src.ptz(inv.cameras[0], PtzCommand(action=PtzAction.STOP))
        await src.close()
    finally:
        await sim.stop()


async def test_wrong_password_and_a_device_that_is_down(camera, tmp_path: Path) -> None:
    src = source(camera, tmp_path, password="Salah-123")
    with pytest.raises(DeviceAuthFailed) as info:
        await src.probe()
    await src.close()
    assert str(info.value) == f"127.0.0.1:{camera.port}: the device refused the credentials"
    down = OnvifSimulator()
    src = source(down, tmp_path)
    with pytest.raises(DeviceNotReady) as err:
        await src.probe()
    await src.close()
    assert f"127.0.0.1:{down.port}" in str(err.value)


async def test_a_hanging_or_garbled_device_is_a_clear_error(camera, tmp_path: Path) -> None:
    from hub.core.errors import DeviceError

    camera.faults.garbage = True
    src = source(camera, tmp_path)
    with pytest.raises(DeviceError) as info:
        await src.probe()
    await src.close()
    assert f"127.0.0.1:{camera.port}" in str(info.value)
    camera.faults.garbage, camera.faults.hang = False, True
    src = source(camera, tmp_path, timeout=1.0)
    with pytest.raises(DeviceNotReady, match="timed out"):
        await src.probe()
    await src.close()
