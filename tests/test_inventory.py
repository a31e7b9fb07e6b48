"""Re-probing a device updates the inventory without losing a camera's history."""

from __future__ import annotations

import logging
from pathlib import Path

from hub.core.sources import SourceContext
from hub.inventory import Inventory
from hub.store import Store, database_url
from hub.testing.sim import HikvisionSimulator
from plugins.hikvision import HikvisionConfig, HikvisionSource


async def test_channels_added_removed_and_renamed(tmp_path: Path) -> None:
    sim = await HikvisionSimulator(kind="nvr", channels=4).start()
    cfg = HikvisionConfig(name="nvr", host="127.0.0.1", port=sim.port, password=sim.password, owner=None)
    source = HikvisionSource(cfg, SourceContext(tmp_path, logging.getLogger("test")))
    inventory = Inventory({"nvr": source})
    store = Store(database_url(None, tmp_path))
    await store.migrate()
    try:
        first = await inventory.probe()
        await store.cameras.save_inventory(list(inventory.devices.values()), list(inventory.cameras.values()), {"nvr"})
        assert len(first.added) == 4 and not first.removed
        ids = sorted(inventory.cameras)

        from hub.testing.sim.hikvision import SimChannel

        sim.channels[1].name = "Pintu Masuk"              # renamed on the NVR
        sim.channels.pop(2)                               # channel 3 unplugged
        sim.channels.append(SimChannel(5, "Kamera Baru"))  # a camera added
        change = await inventory.probe()
        await store.cameras.save_inventory(list(inventory.devices.values()), list(inventory.cameras.values()), {"nvr"})
    finally:
        await source.close()
        await sim.stop()
    assert [c.channel for c in change.added] == [5]
    assert [c.channel for c in change.removed] == [3]
    assert [(c.channel, c.name) for c in change.changed] == [(2, "Pintu Masuk")]
    assert inventory.cameras[ids[1]].name == "Pintu Masuk"
    kept = {c.id: removed for c, _, removed in await store.cameras.known_cameras(include_removed=True)}
    assert kept[ids[2]] is not None, "the removed camera keeps its record (and so its recordings)"
    assert all(kept[i] is None for i in ids if i != ids[2])
    await store.close()


async def test_a_failing_source_keeps_its_cameras_and_reports_the_error(tmp_path: Path) -> None:
    sim = await HikvisionSimulator(kind="nvr", channels=4).start()
    cfg = HikvisionConfig(name="nvr", host="127.0.0.1", port=sim.port, password=sim.password, timeout=1)
    source = HikvisionSource(cfg, SourceContext(tmp_path, logging.getLogger("test")))
    inventory = Inventory({"nvr": source})
    try:
        await inventory.probe()
        sim.faults.garbage = True
        change = await inventory.probe()
    finally:
        await source.close()
        await sim.stop()
    assert not change and len(inventory.cameras) == 4
    assert inventory.errors["nvr"].startswith(f"127.0.0.1:{sim.port}: ")
