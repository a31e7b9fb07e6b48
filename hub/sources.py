"""The running hub's camera sources: hub.yaml's and those plugins add, and what follows a change.

``HubSources`` keeps the inventory's sources while the hub runs.  ``refresh``
probes them all (at the start and every 15 minutes); ``changed`` is what
follows any change of the inventory: what the probed sources hold is kept in
the store, new cameras' first status recorded, plugins (``inventory_changed``)
and notifiers told, recording brought in step.

A plugin adds sources of its own (a partner's approved device) with ``add``:
its settings are checked against its type's model (the one hub.yaml's
``sources:`` use), the source is built and probed alone, and from then on it
is one of the hub's: in the inventory, recorded as ``recording`` says,
checked by the health monitor, its events read in the hub's own process.
``remove`` undoes it: the live views of its cameras end, their recorders
stop, its events are no longer read, the source is closed; what it recorded
stays.  ``probe`` says what a source would bring without adding it.  A
plugin's source is not written into hub.yaml: the plugin adds it again when
the hub starts (from ``hub_startup``).  Plugins reach these as
``HubContext.add_source``, ``probe_source`` and ``remove_source``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hub.core.context import HubContext
from hub.core.errors import DeviceNotReady, InvalidInput, NotFound, PluginError
from hub.core.models import Camera, DeviceInventory, Event, utcnow
from hub.core.notify import Notifier
from hub.core.plugins import Plugins
from hub.core.scheduler import Scheduler
from hub.event_workers import emits_events, follow
from hub.inventory import Inventory, InventoryChange, build_source

if TYPE_CHECKING:
    from hub.health import HealthMonitor
    from hub.live import LiveViews
    from hub.recording import Recording
    from hub.store import Store

log = logging.getLogger(__name__)


class HubSources:
    """The running hub's sources, and the work that follows each change of the inventory."""

    def __init__(self, inventory: Inventory, store: Store, plugins: Plugins, data_dir: Path, scheduler: Scheduler,
                 publish: Callable[[Event], None], context: Callable[[], HubContext],
                 notifiers: Mapping[str, Notifier]) -> None:
        self.inventory = inventory
        self.store = store
        self.plugins = plugins
        self.data_dir = data_dir
        self.scheduler = scheduler
        self.publish = publish
        self._context = context
        self.notifiers = notifiers
        #: What the hub starts after its first probe, given here as it starts them.
        self.recording: Recording | None = None
        self.live: LiveViews | None = None
        self.health: HealthMonitor | None = None
        self._followers: dict[str, asyncio.Task[None]] = {}
        #: With several nodes: the sources whose events this node reads (those of the devices it owns).
        self.reading: Callable[[], set[str]] | None = None
        #: Names of the sources plugins added (hub.yaml's are never removed through this).
        self.names: set[str] = set()

    async def refresh(self) -> None:
        """Probe every source and follow what changed."""
        change = await self.inventory.probe()
        await self.changed(change, list(self.inventory.sources))

    async def adopt(self) -> None:
        """Take the inventory another node probed and kept (with several nodes, the assigner probes
        the devices every 15 minutes; the others read what it found rather than ask each device too)."""
        devices = {d.id: d for d in await self.store.cameras.known_devices()}
        found: dict[str, dict[str, DeviceInventory]] = {}
        for camera, _, _ in await self.store.cameras.known_cameras():
            device = devices.get(camera.device_id)
            if device is None or device.source not in self.inventory.sources:
                continue
            inventory = found.setdefault(device.source, {}).setdefault(
                device.id, DeviceInventory(device=device, cameras=[]))
            inventory.cameras.append(camera)
        change = self.inventory.adopt({name: list(held.values()) for name, held in found.items()})
        await self.changed(change, [], keep=False)

    async def changed(self, change: InventoryChange, probed: list[str], keep: bool = True) -> None:
        """Keep what the ``probed`` sources hold (unless it came from the store: ``keep``), and tell
        whoever follows the inventory what changed."""
        if keep:
            await self.store.cameras.save_inventory(
                list(self.inventory.devices.values()), list(self.inventory.cameras.values()),
                {n for n in probed if n not in self.inventory.errors},
            )
        if change.added and keep:
            await self._first_status(change.added)
        if not change:
            return
        await self.plugins.acall("inventory_changed", context=self._context(), added=change.added,
                                 removed=change.removed, changed=change.changed)
        for name, notifier in self.notifiers.items():
            try:
                await notifier.cameras_changed(list(self.inventory.cameras.values()))
            except Exception:
                log.exception("notifier failed on an inventory change", extra={"notifier": name})
        if self.recording is not None:
            await self.recording.sync()

    async def _first_status(self, cameras: list[Camera]) -> None:
        """Keep the status new cameras were probed with, where the history has none or another:
        availability counts from the start, not from the health monitor's first change."""
        known = await self.store.status.current_status()
        fresh = {c.id: c.status.value for c in cameras
                 if c.status.value != "unknown" and known.get(c.id, ("",))[0] != c.status.value}
        await self.store.status.record_statuses(fresh, utcnow(), "probed at start")

    async def add(self, settings: dict[str, Any]) -> list[Camera]:
        """Add a plugin's source from its settings (``type``, ``name`` and its type's fields); its cameras.
        ``InvalidInput`` for settings its type does not take, ``PluginError`` for a name in use."""
        config = self._config(settings)
        name = str(config.name)
        if name in self.inventory.sources:
            raise PluginError(f"a source named {name!r} is in the hub already")
        source = build_source(config, self.plugins, self.data_dir)
        self.inventory.sources[name] = source
        self.names.add(name)
        change = await self.inventory.probe(only=[name])
        await self.changed(change, [name])
        if self.health is not None:
            self.health.watch(self.scheduler, name)
        if self.reading is not None:
            await self.refollow()
        elif emits_events(source):
            self._followers[name] = asyncio.create_task(follow(name, source, self.publish))
        log.info("source added by a plugin", extra={"source": name, "cameras": len(self.inventory.cameras_of(name))})
        return self.inventory.cameras_of(name)

    async def refollow(self) -> None:
        """With several nodes: read the events of the sources ``reading`` names, and stop reading the
        others' (an NVR's event stream is one more session of its cap: one node reads it)."""
        if self.reading is None:
            return
        wanted = {n for n in self.reading() if n in self.inventory.sources and emits_events(self.inventory.sources[n])}
        for name in [n for n in self._followers if n not in wanted]:
            task = self._followers.pop(name)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for name in sorted(wanted - self._followers.keys()):
            self._followers[name] = asyncio.create_task(follow(name, self.inventory.sources[name], self.publish))

    async def probe(self, settings: dict[str, Any], limit: float = 20.0) -> list[DeviceInventory]:
        """What a source would bring, without adding it: built, probed once (``limit`` seconds),
        closed.  The device's errors come as they are (``DeviceAuthFailed``, ``DeviceNotReady``, ...)."""
        config = self._config(settings)
        source = build_source(config, self.plugins, self.data_dir / "probes")
        try:
            found = await asyncio.wait_for(source.probe(), limit)
            drift = source.diagnostics.get("clock_drift_seconds")
            return [f.model_copy(update={"clock_drift_seconds": drift}) for f in found] if drift is not None else found
        except TimeoutError:
            raise DeviceNotReady(f"{getattr(config, 'host', config.name)}: no answer within {limit:g} s") from None
        finally:
            with contextlib.suppress(Exception):
                await source.close()

    def _config(self, settings: dict[str, Any]) -> Any:
        kind = str(settings.get("type", ""))
        registered = self.plugins.source_types.get(kind)
        if registered is None:
            raise InvalidInput(f"no plugin provides source type {kind[:40]!r}")
        try:
            return registered.config_model.model_validate(settings)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise InvalidInput(f"source settings: {where}: {first.get('msg')}") from None  # never the input itself

    async def remove(self, name: str) -> list[Camera]:
        """Take a source added here out of the running hub; the cameras it had."""
        if name not in self.names:
            raise NotFound(f"no source {name[:100]!r} added by a plugin")
        self.names.discard(name)
        if self.health is not None:
            self.health.unwatch(self.scheduler, name)
        follower = self._followers.pop(name, None)
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower
        cameras = self.inventory.cameras_of(name)
        source, change = self.inventory.forget(name)
        if self.live is not None:
            gone = {c.id for c in cameras}
            await self.live.end([v.id for v in self.live.viewers.values() if v.camera_id in gone])
        await self.changed(change, [name])
        if source is not None:
            try:
                await source.close()
            except Exception:
                log.exception("closing source failed", extra={"source": name})
        log.info("source removed by a plugin", extra={"source": name, "cameras": len(cameras)})
        return cameras

    async def close(self) -> None:
        """Stop reading the plugins' sources' events and close every source."""
        for task in self._followers.values():
            task.cancel()
        await asyncio.gather(*self._followers.values(), return_exceptions=True)
        self._followers.clear()
        for source in self.inventory.sources.values():
            try:
                await source.close()
            except Exception:
                log.exception("closing source failed", extra={"source": source.name})
