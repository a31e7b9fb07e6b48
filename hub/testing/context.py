"""A ``HubContext`` for testing a plugin without a running hub.

``TestContext`` keeps what a hub would: cameras you hand it, the events a
plugin publishes (``published``), pictures from a function you give, local
storage in a folder of the test, shared links signed with a test key.  A
notifier under test gets it as a hub would hand it over::

    context = TestContext(tmp_path, cameras=[camera], snapshot=lambda cid: b"\\xff\\xd8...")
    notifier.context = context
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hub.core.context import SharedLinks, SqlDatabase
from hub.core.errors import AccessDenied, DeviceNotReady, NotFound, PluginError
from hub.core.models import Action, Area, Camera, DeviceInventory, Event, Principal, PrivacyMask, Site
from hub.core.notify import Notifier
from hub.core.storage import StorageBackend
from hub.links import LinkSigner


class TestContext:
    """An in-memory ``HubContext``: see the module's docstring."""

    __test__ = False  # not a pytest test class

    def __init__(self, folder: Path, cameras: Iterable[Camera] = (), *, hub_name: str = "Test Hub",
                 sites: Iterable[Site] = (), areas: Iterable[Area] = (),
                 snapshot: Callable[[str], bytes | Awaitable[bytes]] | None = None,
                 storage: StorageBackend | None = None, public_url: str | None = None,
                 allow: bool = True, database: SqlDatabase | None = None) -> None:
        from plugins.local_storage import LocalStorage, LocalStorageConfig

        self.folder = folder
        self._hub_name = hub_name
        self._cameras = {c.id: c for c in cameras}
        self._sites = {s.id: s for s in sites}
        self._areas = {a.path: a for a in areas}
        self._snapshot = snapshot
        self._storage = storage or LocalStorage(LocalStorageConfig(), folder)
        self._links = LinkSigner(b"test-link-secret", public_url)  # links a test can check
        self.allow = allow
        self._database = database
        #: Events the plugin published, in order.
        self.published: list[Event] = []
        #: Notifiers ``notifier(name)`` finds; add yours.
        self.notifiers: dict[str, Notifier] = {}
        #: What ``camera_statuses`` answers: camera id -> (status, since).
        self.statuses: dict[str, tuple[str, datetime]] = {}
        #: Rows the plugin wrote to the audit log: (principal, action, camera, allowed, reason).
        self.audited: list[tuple[str, str, str | None, bool, str]] = []
        #: Sources the plugin added (``add_source``), by name: their settings as given.
        self.sources: dict[str, dict[str, Any]] = {}
        #: What ``uptime`` answers: camera id -> percent online.
        self.uptimes: dict[str, float] = {}
        #: What ``watched`` answers, newest first.
        self.watches: list[dict[str, Any]] = []
        #: What ``privacy_masks`` answers: camera id -> its masks.
        self.masks: dict[str, list[PrivacyMask]] = {}

    @property
    def hub_name(self) -> str:
        return self._hub_name

    @property
    def node(self) -> str | None:
        return None  # one hub, not several nodes

    @property
    def cameras(self) -> Mapping[str, Camera]:
        return MappingProxyType(self._cameras)

    def camera(self, camera_id: str) -> Camera:
        try:
            return self._cameras[camera_id]
        except KeyError:
            raise NotFound(f"no camera {camera_id!r}") from None

    @property
    def sites(self) -> Mapping[str, Site]:
        return MappingProxyType(self._sites)

    @property
    def areas(self) -> Mapping[str, Area]:
        return MappingProxyType(self._areas)

    def publish(self, event: Event) -> None:
        self.published.append(event)

    async def snapshot(self, camera_id: str, limit: float = 10.0) -> bytes:
        self.camera(camera_id)
        if self._snapshot is None:
            raise DeviceNotReady(f"camera {camera_id}: no snapshot in this test")
        result = self._snapshot(camera_id)
        return await result if inspect.isawaitable(result) else result

    @property
    def storage(self) -> StorageBackend:
        return self._storage

    @property
    def links(self) -> SharedLinks:
        return self._links

    def notifier(self, name: str) -> object | None:
        return self.notifiers.get(name)

    async def uptime(self, camera_ids: list[str], hours: float = 24) -> dict[str, float | None]:
        return {c: self.uptimes.get(c) for c in camera_ids}

    async def watched(self, camera_ids: list[str], limit: int = 100) -> list[dict[str, Any]]:
        return [w for w in self.watches if w["camera_id"] in camera_ids][:limit]

    def privacy_masks(self, camera_id: str) -> list[PrivacyMask]:
        return list(self.masks.get(camera_id, []))

    async def camera_statuses(self, since_for: set[str] | None = None) -> dict[str, tuple[str, datetime]]:
        return dict(self.statuses)

    async def authorize(self, principal: Principal, action: Action, camera: Camera | None = None,
                        context: dict[str, Any] | None = None) -> None:
        if not self.allow:
            raise AccessDenied(f"{action.value}: refused in this test")

    async def add_source(self, settings: dict[str, Any]) -> list[Camera]:
        """Kept in ``sources`` (nothing is probed here: a real hub's test probes)."""
        name = str(settings.get("name", ""))
        if name in self.sources:
            raise PluginError(f"a source named {name!r} is in the hub already")
        self.sources[name] = dict(settings)
        return []

    async def audit(self, principal: Principal | str, action: str, camera_id: str | None, allowed: bool,
                    reason: str) -> None:
        who = principal if isinstance(principal, str) else principal.id
        self.audited.append((who, action, camera_id, allowed, reason))

    #: What ``probe_source`` answers (set it to what the device would bring).
    probed: list[DeviceInventory] = []

    async def probe_source(self, settings: dict[str, Any], limit: float = 20.0) -> list[DeviceInventory]:
        return list(self.probed)

    async def remove_source(self, name: str) -> list[Camera]:
        if self.sources.pop(name, None) is None:
            raise NotFound(f"no source {name[:100]!r} added by a plugin")
        return []

    def plugin_dir(self, plugin: str) -> Path:
        path = self.folder / "plugins" / plugin
        path.mkdir(parents=True, exist_ok=True)
        return path

    async def may(self, principal: Principal, action: Action, camera: Camera | None = None) -> bool:
        return self.allow

    async def visible_cameras(self, principal: Principal, action: Action) -> list[str]:
        return list(self.cameras) if self.allow else []

    @property
    def database(self) -> SqlDatabase:
        if self._database is None:
            raise NotImplementedError("give TestContext a database: TestContext(..., database=Database(url))")
        return self._database
