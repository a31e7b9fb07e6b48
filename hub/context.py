"""The running hub's ``HubContext``: what hooks, notifiers and plugin routes are handed.

A thin view over the running hub's parts: it reads through to the live
inventory (so a plugin never holds a stale copy) and exposes nothing a
plugin could use to reach into the stream graph, the outbox or the store.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from hub.core.context import SharedLinks, SqlDatabase
from hub.core.errors import HubError, PluginError
from hub.core.models import Action, Area, Camera, DeviceInventory, Event, Principal, PrivacyMask, Site, utcnow
from hub.core.notify import Notifier
from hub.core.storage import StorageBackend
from hub.store.audit import WATCHING
from hub.store.status import uptime_percent

if TYPE_CHECKING:
    from hub.inventory import Inventory
    from hub.links import LinkSigner
    from hub.sources import HubSources
    from hub.store import Store


class RunningHubContext:
    """``HubContext`` of one running hub, made of the hub's parts (never the hub itself)."""

    def __init__(self, config: Any, data_dir: Path, inventory: Inventory, store: Store, storage: StorageBackend,
                 links: LinkSigner, notifiers: Mapping[str, Notifier], publish: Callable[[Event], None],
                 snapshot: Callable[[str, float], Awaitable[bytes]], authorize: Callable[..., Awaitable[Any]],
                 may: Callable[..., Awaitable[bool]], visible: Callable[..., Awaitable[list[str]]],
                 masks: Callable[[str], list[PrivacyMask]]) -> None:
        self._config = config
        self._data_dir = data_dir
        self._inventory = inventory
        self._store = store
        self._storage = storage
        self._links = links
        self._notifiers = notifiers
        self._publish = publish
        self._snapshot = snapshot
        self._authorize = authorize
        self._may = may
        self._visible = visible
        self._masks = masks
        self._sites = MappingProxyType({s.id: s for s in config.sites})
        self._areas = MappingProxyType({a.path: a for a in config.areas})
        #: With several nodes: this node's part (``hub.cluster.Cluster``).
        self.cluster: Any = None

    @property
    def hub_name(self) -> str:
        return str(self._config.hub.name)

    @property
    def node(self) -> str | None:
        return self.cluster.node if self.cluster is not None else None

    @property
    def cameras(self) -> Mapping[str, Camera]:
        return MappingProxyType(self._inventory.cameras)

    def camera(self, camera_id: str) -> Camera:
        return self._inventory.camera(camera_id)

    @property
    def sites(self) -> Mapping[str, Site]:
        return self._sites

    @property
    def areas(self) -> Mapping[str, Area]:
        return self._areas

    def publish(self, event: Event) -> None:
        self._publish(event)

    async def snapshot(self, camera_id: str, limit: float = 10.0) -> bytes:
        return await self._snapshot(camera_id, limit)

    @property
    def storage(self) -> StorageBackend:
        return self._storage

    @property
    def links(self) -> SharedLinks:
        return self._links

    def notifier(self, name: str) -> object | None:
        return self._notifiers.get(name)

    def privacy_masks(self, camera_id: str) -> list[PrivacyMask]:
        return list(self._masks(camera_id))

    async def camera_statuses(self, since_for: set[str] | None = None) -> dict[str, tuple[str, datetime]]:
        return await self._store.status.current_status(since_for)

    async def uptime(self, camera_ids: list[str], hours: float = 24) -> dict[str, float | None]:
        end = utcnow()
        spans = await self._store.status.availability(end - timedelta(hours=hours), end)
        return {camera_id: uptime_percent(spans.get(camera_id, {})) for camera_id in camera_ids}

    async def watched(self, camera_ids: list[str], limit: int = 100) -> list[dict[str, Any]]:
        if not camera_ids:
            return []
        rows = await self._store.audit.entries(limit, cameras=camera_ids, actions=WATCHING)
        return [{k: r[k] for k in ("at", "principal", "camera_id", "action", "allowed", "reason")} for r in rows]

    async def authorize(self, principal: Principal, action: Action, camera: Camera | None = None,
                        context: dict[str, Any] | None = None) -> None:
        await self._authorize(principal, action, camera, context)

    async def may(self, principal: Principal, action: Action, camera: Camera | None = None) -> bool:
        return await self._may(principal, action, camera)

    async def visible_cameras(self, principal: Principal, action: Action) -> list[str]:
        return await self._visible(principal, action)

    async def audit(self, principal: Principal | str, action: str, camera_id: str | None, allowed: bool,
                    reason: str) -> None:
        await self._store.audit.record(principal, action[:40], camera_id, allowed, reason[:500])

    #: The hub's sources, once it has built them (``hub.sources``).
    sources: HubSources | None = None

    async def add_source(self, settings: dict[str, Any]) -> list[Camera]:
        return await self._sources().add(settings)

    async def probe_source(self, settings: dict[str, Any], limit: float = 20.0) -> list[DeviceInventory]:
        return await self._sources().probe(settings, limit)

    async def remove_source(self, name: str) -> list[Camera]:
        return await self._sources().remove(name)

    def _sources(self) -> HubSources:
        if self.sources is None:
            raise HubError("the hub has not started its sources yet")
        return self.sources

    def plugin_dir(self, plugin: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", plugin):
            raise PluginError(f"plugin name {plugin[:60]!r} cannot name a folder")
        path = self._data_dir / "plugins" / plugin
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    @property
    def database(self) -> SqlDatabase:
        return self._store.db
