"""Sources a plugin adds to the running hub (a partner's approved device) and takes out again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hub.app import Hub
from hub.core.config import load_config
from hub.core.errors import InvalidInput, NotFound, PluginError
from hub.core.models import Principal, Role
from hub.core.plugins import Plugins
from tests.conftest import demo_hub_yaml


async def until(check, seconds: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def test_a_source_added_while_the_hub_runs_is_recorded_and_checked_then_taken_out(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(demo_hub_yaml(extra="http: {port: 0}\nhealth: {interval_seconds: 1, confirm_checks: 1}"))
    plugins = Plugins()
    plugins.load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    try:
        before = set(hub.inventory.cameras)
        added = await hub.context.add_source({
            "type": "demo", "name": "mitra-toko-sinar", "cameras": [{"name": "Toko Sinar"}, {"name": "Gang"}],
            "width": 160, "height": 90, "sub_width": 160, "sub_height": 90, "keyframe_seconds": 1,
            "motion_every": 0, "tags": ["partner:toko-sinar"]})
        assert sorted(c.name for c in added) == ["Gang", "Toko Sinar"]
        assert set(hub.inventory.cameras) == before | {c.id for c in added}
        assert all("partner:toko-sinar" in c.tags for c in added), "hub.yaml-like source defaults apply"
        assert "health:mitra-toko-sinar" in hub.scheduler.jobs
        ids = {c.id for c in added}
        await until(lambda: {n.camera_id for n in hub.graph.nodes() if n.kind.value == "recorder"} >= ids,
                    20, "its cameras recorded")
        viewer = hub.live.join(added[0], Principal(id="user:op", role=Role.OPERATOR))
        known = {c.id for c, _, removed in await hub.store.cameras.known_cameras()}
        assert ids <= known, "kept in the store like any camera"

        with pytest.raises(PluginError):
            await hub.context.add_source({"type": "demo", "name": "mitra-toko-sinar"})
        with pytest.raises(InvalidInput) as refused:
            await hub.context.add_source({"type": "hikvision", "name": "nvr-x", "host": "10.20.0.7",
                                          "password": "Rahasia-Toko-1", "port": "bukan-port"})
        assert "port" in str(refused.value) and "Rahasia-Toko-1" not in str(refused.value)

        gone = await hub.context.remove_source("mitra-toko-sinar")
        assert {c.id for c in gone} == ids
        assert set(hub.inventory.cameras) == before
        assert viewer.id not in hub.live.viewers, "its live views ended"
        assert "health:mitra-toko-sinar" not in hub.scheduler.jobs
        await until(lambda: not {n.camera_id for n in hub.graph.nodes()} & ids, 20, "its recorders to stop")
        removed = {c.id: r for c, _, r in await hub.store.cameras.known_cameras(include_removed=True)}
        assert all(removed[i] is not None for i in ids), "marked removed; their recordings stay"
        with pytest.raises(NotFound):
            await hub.context.remove_source("demo")  # hub.yaml's sources are not a plugin's to remove
    finally:
        await hub.stop()
