"""Health checks: outages become events once confirmed; flapping stays bounded."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from hub.app import Hub
from hub.core.config import load_config
from hub.core.models import CameraStatus, Event, EventKind, utcnow
from hub.core.plugins import Plugins
from hub.testing.sim import HikvisionSimulator
from hub.testing.waiting import collect_events, until


@pytest.fixture
async def nvr():
    sim = await HikvisionSimulator(kind="nvr", channels=4).start()
    yield sim
    await sim.stop()


async def running_hub(tmp_path: Path, sim: HikvisionSimulator) -> tuple[Hub, list[Event]]:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"""\
version: 1
http: {{port: 0}}
recording: {{default: {{mode: "off"}}}}
health: {{interval_seconds: 1, confirm_checks: 2, timeout_seconds: 2, flap_window_seconds: 30}}
sources:
  - {{type: hikvision, name: nvr, host: 127.0.0.1, port: {sim.port}, password: {sim.password}, timeout: 1,
     events: false}}
""")
    plugins = Plugins().load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    return hub, collect_events(hub, lambda e: e.source == "health")


async def checks(hub: Hub, more: int, source: str = "nvr") -> None:
    """Wait until the health monitor has finished ``more`` further checks of ``source``."""
    assert hub.health is not None
    done = hub.health.checks_done.get(source, 0)
    await until(lambda: hub.health is not None and hub.health.checks_done.get(source, 0) >= done + more, 15)


async def test_an_outage_is_reported_once_per_camera_and_so_is_the_recovery(nvr, tmp_path: Path) -> None:
    hub, seen = await running_hub(tmp_path, nvr)
    start = utcnow()
    try:
        await nvr.stop()
        await until(lambda: len([e for e in seen if e.kind == EventKind.OFFLINE]) == 4, 15)
        assert all(c.status == CameraStatus.OFFLINE for c in hub.inventory.cameras.values())
        assert "cannot connect" in seen[0].data["reason"]
        await asyncio.sleep(1.5)
        await nvr.start()
        await until(lambda: len([e for e in seen if e.kind == EventKind.ONLINE]) == 4, 15)
        await checks(hub, 3)  # nothing more once it is steady
        uptime = await hub.store.status.availability(start, utcnow() + timedelta(seconds=1))
    finally:
        await hub.stop()
    assert sorted(e.kind.value for e in seen) == ["offline"] * 4 + ["online"] * 4
    for spans in uptime.values():
        assert spans["offline"] >= 1.5 and spans["online"] > 0


async def test_one_channel_going_offline_concerns_only_that_camera(nvr, tmp_path: Path) -> None:
    hub, seen = await running_hub(tmp_path, nvr)
    try:
        nvr.channels[2].online = False
        await until(lambda: seen, 15)
        await checks(hub, 3)  # and nothing about the other channels
    finally:
        await hub.stop()
    assert [(e.kind, e.camera_id) for e in seen] == [(EventKind.OFFLINE, f"hikvision:{nvr.serial}:3")]


async def test_a_flapping_device_yields_a_bounded_number_of_events(nvr, tmp_path: Path) -> None:
    hub, seen = await running_hub(tmp_path, nvr)
    try:
        for _ in range(4):  # down and up, each long enough for two checks to agree, for 20 s
            await nvr.stop()
            await asyncio.sleep(2.6)
            await nvr.start()
            await asyncio.sleep(2.6)
    finally:
        await hub.stop()
    per_camera = {c: [e.kind.value for e in seen if e.camera_id == c] for c in hub.inventory.cameras}
    assert all(len(kinds) <= 3 for kinds in per_camera.values()), per_camera
    flapped = [c for c, kinds in per_camera.items() if kinds and kinds[-1] == "degraded"]
    assert sorted(flapped) == sorted(hub.inventory.cameras), f"flapping was not seen: {per_camera}"
    for camera_id in flapped:
        assert hub.inventory.cameras[camera_id].status == CameraStatus.DEGRADED
        assert "flapping" in [e for e in seen if e.camera_id == camera_id][-1].data["reason"]


async def test_a_failing_disk_and_a_drifting_clock(nvr, tmp_path: Path) -> None:
    hub, seen = await running_hub(tmp_path, nvr)
    try:
        nvr.disk_status = "error"
        await until(lambda: any(e.kind == EventKind.STORAGE_FAULT for e in seen), 15)
        nvr.disk_status = "ok"
        await until(lambda: sum(e.kind == EventKind.STORAGE_FAULT for e in seen) == 2, 15)
        nvr.clock_offset = timedelta(minutes=20)
        await until(lambda: sum(e.kind == EventKind.DEGRADED for e in seen) == 4, 15)
    finally:
        await hub.stop()
    faults = [e for e in seen if e.kind == EventKind.STORAGE_FAULT]
    assert [e.state.value for e in faults] == ["start", "stop"] and faults[0].device_id == f"hikvision:{nvr.serial}"
    degraded = [e for e in seen if e.kind == EventKind.DEGRADED]
    assert all("clock" in e.data["reason"] for e in degraded)
    assert all(c.status == CameraStatus.DEGRADED for c in hub.inventory.cameras.values())


async def test_the_periodic_re_probe_keeps_what_the_checks_found(nvr, tmp_path: Path) -> None:
    hub, seen = await running_hub(tmp_path, nvr)
    try:
        nvr.clock_offset = timedelta(minutes=20)
        await until(lambda: sum(e.kind == EventKind.DEGRADED for e in seen) == 4, 15)
        before = dict(hub.inventory.cameras)
        await hub.sources.refresh()  # the inventory job, every 15 minutes
        assert hub.inventory.cameras == before, "the device's own answer does not undo a confirmed status"
        await asyncio.sleep(3)  # several checks
    finally:
        await hub.stop()
    assert sum(e.kind == EventKind.DEGRADED for e in seen) == 4, "no second round of 'degraded' events"
    assert all(c.status == CameraStatus.DEGRADED for c in hub.inventory.cameras.values())


async def test_a_received_rtsp_camera_is_judged_by_its_stream_not_probed_with_a_session_of_its_own(
        rtsp_server, tmp_path: Path) -> None:
    from hub.testing.fixtures import running
    from hub.testing.rtsp import RtspServer, RtspUnavailable

    spare_server = running(lambda: RtspServer(credentials=("kamera", "Rahasia-99")), RtspUnavailable)
    spare = next(spare_server)
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"""\
version: 1
http: {{port: 0}}
recording:
  default: {{mode: continuous, segment_seconds: 2}}
  rules: [{{cameras: ["rtsp:spare:*"], mode: "off"}}]
health: {{interval_seconds: 1, confirm_checks: 1, timeout_seconds: 5}}
sources:
  - {{type: rtsp, name: gate, url: "rtsp://kamera:Rahasia-99@127.0.0.1:{rtsp_server.port}/main"}}
  - {{type: rtsp, name: spare, url: "rtsp://kamera:Rahasia-99@127.0.0.1:{spare.port}/main"}}
""")
    plugins = Plugins().load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    try:
        gate = "rtsp:gate:1"
        await until(lambda: hub.graph.receiving(gate, 1.0), 20)
        recorded, unrecorded = rtsp_server.connections, spare.connections
        await asyncio.sleep(4.5)  # four or five health intervals: what did each camera see?
        assert rtsp_server.connections == recorded, "the health check opened sessions to a received camera"
        assert spare.connections >= unrecorded + 2, "a camera the hub does not receive is still probed"
        assert hub.inventory.cameras[gate].status == CameraStatus.ONLINE
        assert hub.inventory.cameras["rtsp:spare:1"].status == CameraStatus.ONLINE
    finally:
        await hub.stop()
        next(spare_server, None)
