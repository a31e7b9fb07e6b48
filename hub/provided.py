"""Sources a plugin brings while the hub runs (a partner's approved device), beside hub.yaml's.

``ProvidedSources.add`` checks the source's settings against its type's
model (the same model hub.yaml's ``sources:`` use), builds the source,
probes it alone, and from then on it is one of the hub's: its cameras are in
the inventory (saved, their first status recorded, plugins and notifiers
told), recorded as ``recording`` says, checked by the health monitor on its
schedule, and its events read in the hub's own process.  ``remove`` undoes
it: the live views of its cameras end, their recorders stop, its events are
no longer read, the source is closed; what it recorded stays.  A provided
source is not written into hub.yaml: the plugin that keeps it adds it again
when the hub starts (from ``hub_startup``).  Plugins reach it as
``HubContext.add_source`` and ``HubContext.remove_source``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.core.errors import DeviceNotReady, InvalidInput, NotFound, PluginError
from hub.core.models import Camera, DeviceInventory
from hub.core.plugins import Plugins
from hub.core.scheduler import Scheduler
from hub.event_workers import emits_events, follow
from hub.inventory import Inventory, InventoryChange, build_source

log = logging.getLogger(__name__)


class ProvidedSources:
    """The sources plugins added to the running hub, by name."""

    def __init__(self, plugins: Plugins, data_dir: Path, inventory: Inventory, scheduler: Scheduler,
                 changed: Callable[[InventoryChange, list[str]], Awaitable[None]],
                 end_views: Callable[[list[str]], Awaitable[None]], publish: Callable[[Any], None],
                 health_check: Callable[[str], Awaitable[None]] | None, health_seconds: float) -> None:
        self.plugins = plugins
        self.data_dir = data_dir
        self.inventory = inventory
        self.scheduler = scheduler
        self._changed = changed
        self._end_views = end_views
        self._publish = publish
        self._health_check = health_check
        self._health_seconds = health_seconds
        self._followers: dict[str, asyncio.Task[None]] = {}
        #: Names of the sources added here (hub.yaml's are never removed through this).
        self.names: set[str] = set()

    async def add(self, settings: dict[str, Any]) -> list[Camera]:
        """Add a source from its settings (``type``, ``name`` and its type's fields); its cameras.
        ``InvalidInput`` for settings its type does not take, ``PluginError`` for a name in use."""
        config = self._config(settings)
        name = str(config.name)
        if name in self.inventory.sources:
            raise PluginError(f"a source named {name!r} is in the hub already")
        source = build_source(config, self.plugins, self.data_dir)
        self.inventory.sources[name] = source
        self.names.add(name)
        change = await self.inventory.probe(only=[name])
        await self._changed(change, [name])
        if self._health_check is not None:
            every = self._health_seconds
            self.scheduler.add(f"health:{name}", functools.partial(self._health_check, name), "interval",
                               seconds=every, jitter=max(0, int(every // 3)))
        if emits_events(source):
            self._followers[name] = asyncio.create_task(follow(name, source, self._publish))
        log.info("source added by a plugin", extra={"source": name, "cameras": len(self.inventory.cameras_of(name))})
        return self.inventory.cameras_of(name)

    async def probe(self, settings: dict[str, Any], limit: float = 20.0) -> list[DeviceInventory]:
        """What a source would bring, without adding it: built, probed once (``limit`` seconds),
        closed.  The device's errors come as they are (``DeviceAuthFailed``, ``DeviceNotReady``, ...)."""
        config = self._config(settings)
        source = build_source(config, self.plugins, self.data_dir / "probes")
        try:
            return await asyncio.wait_for(source.probe(), limit)
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
        self.scheduler.remove(f"health:{name}")
        follower = self._followers.pop(name, None)
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower
        cameras = self.inventory.cameras_of(name)
        source, change = self.inventory.forget(name)
        await self._end_views([c.id for c in cameras])
        await self._changed(change, [name])
        if source is not None:
            try:
                await source.close()
            except Exception:
                log.exception("closing source failed", extra={"source": name})
        log.info("source removed by a plugin", extra={"source": name, "cameras": len(cameras)})
        return cameras

    async def stop(self) -> None:
        for task in self._followers.values():
            task.cancel()
        await asyncio.gather(*self._followers.values(), return_exceptions=True)
        self._followers.clear()
