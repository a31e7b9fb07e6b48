"""Lifecycle, listener, job and route hooks, with the hub running in-process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from fastapi import APIRouter

from hub import hookimpl
from hub.app import Hub
from hub.core.config import load_config
from hub.core.models import Role
from hub.core.plugins import Plugins
from tests.conftest import demo_hub_yaml


class Recorder:
    """A plugin that notes every call it gets."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.added: list[str] = []
        self.events: list[str] = []
        self.ticks = 0

    @hookimpl
    async def hub_startup(self, context):  # noqa: ANN001
        self.calls.append(f"startup:{len(context.cameras)}")

    @hookimpl
    def hub_shutdown(self, context):  # noqa: ANN001
        self.calls.append("shutdown")

    @hookimpl
    def inventory_changed(self, added, removed, changed):  # noqa: ANN001
        self.added.extend(c.id for c in added)

    @hookimpl
    async def event_published(self, event):  # noqa: ANN001
        self.events.append(event.kind.value)

    @hookimpl
    def register_jobs(self, register):  # noqa: ANN001
        def tick(context) -> None:  # noqa: ANN001
            assert context.hub_name
            self.ticks += 1

        register("test-tick", tick, "interval", seconds=0.2, jitter=0)

    @hookimpl
    def register_routes(self, register):  # noqa: ANN001
        router = APIRouter()

        @router.get("/recorder/calls")
        async def calls() -> list[str]:
            return self.calls

        register(router)


async def test_hooks_are_called_in_order(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(demo_hub_yaml(extra="http: {port: 0}", motion_every=0.1))
    plugin = Recorder()
    plugins = Plugins()
    plugins.add(plugin, "recorder")
    plugins.load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    try:
        token = await hub.store.tokens.create_token(Role.VIEWER)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{hub.port}") as client:
            assert (await client.get("/api/v1/plugins/recorder/calls")).status_code == 401
            got = await client.get("/api/v1/plugins/recorder/calls", headers={"Authorization": f"Bearer {token}"})
            assert got.json() == ["startup:2"]
        for _ in range(50):
            if plugin.ticks >= 2 and len(plugin.events) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await hub.stop()
    assert plugin.calls == ["startup:2", "shutdown"]
    assert sorted(plugin.added) == sorted(hub.inventory.cameras)
    assert plugin.ticks >= 2
    assert set(plugin.events) == {"motion"}
