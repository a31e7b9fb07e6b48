"""Snapshots ask a device once for everyone who wants its picture at the same time."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from hub.core.sources import SourceContext
from hub.inventory import Inventory
from hub.snapshots import REUSE_SECONDS, Snapshots
from hub.testing.sim import HikvisionSimulator
from plugins.hikvision import HikvisionConfig, HikvisionSource


async def test_a_motion_storm_asks_each_camera_once_not_once_per_request(tmp_path: Path) -> None:
    sim = await HikvisionSimulator(kind="nvr", channels=4).start()
    source = HikvisionSource(HikvisionConfig(name="nvr", host=sim.host, port=sim.port, password=sim.password),
                             SourceContext(tmp_path, logging.getLogger("test.snapshots")))
    inventory = Inventory({"nvr": source})
    try:
        await inventory.probe(limit=10)
        snapshots = Snapshots(lambda: inventory, lambda: None)
        cameras = sorted(inventory.cameras)
        before = len([r for r in sim.requests if r.endswith("/picture")])
        pictures = await asyncio.gather(*(snapshots.get(c) for c in cameras for _ in range(25)))
        again = await snapshots.get(cameras[0])  # within REUSE_SECONDS: the same answer
        asked = len([r for r in sim.requests if r.endswith("/picture")]) - before
        await asyncio.sleep(REUSE_SECONDS + 0.1)
        fresh = await snapshots.get(cameras[0])
    finally:
        await source.close()
        await sim.stop()
    assert all(p[:3] == b"\xff\xd8\xff" for p in pictures) and again == pictures[0]
    assert asked == len(cameras) == snapshots.device_requests - 1, (asked, snapshots.device_requests)
    assert fresh[:3] == b"\xff\xd8\xff"  # asked anew once the answer was old
