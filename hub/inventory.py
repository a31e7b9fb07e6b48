"""The live camera inventory: every configured source probed into one list.

Sources are probed concurrently with a time limit each; a source that fails
is reported by name and keeps the cameras it had (a device that is down is
not a device that was removed).  While the health monitor runs, a probe sets
the status of new cameras only: the monitor confirms changes and owns it.  Source-level defaults from hub.yaml (owner,
site, area, tags) are applied here so plugins need not.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.core.errors import DeviceError, NotFound, PluginError
from hub.core.models import Camera, Device, DeviceInventory, Stream
from hub.core.plugins import Plugins
from hub.core.selectors import CameraIndex
from hub.core.sources import CameraSource, SourceContext

log = logging.getLogger(__name__)


def build_source(src_cfg: Any, plugins: Plugins, data_dir: Path) -> CameraSource:
    """The source object for one ``sources:`` entry (the hub's and event workers' way alike)."""
    reg = plugins.source_types.get(src_cfg.type)
    if reg is None:
        raise PluginError(f"source {src_cfg.name}: no plugin provides source type {src_cfg.type!r}")
    context = SourceContext(data_dir=data_dir / "sources" / src_cfg.name,
                            log=logging.getLogger(f"pantau.source.{src_cfg.name}"))
    source = reg.implementation(src_cfg, context)
    source.source_type = reg.name
    return source  # type: ignore[no-any-return]


def build_sources(config: Any, plugins: Plugins, data_dir: Path) -> dict[str, CameraSource]:
    return {src_cfg.name: build_source(src_cfg, plugins, data_dir) for src_cfg in config.sources
            if src_cfg.enabled}


@dataclass
class InventoryChange:
    added: list[Camera] = field(default_factory=list)
    removed: list[Camera] = field(default_factory=list)
    changed: list[Camera] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


class Inventory:
    """Devices and cameras of every source, keyed by stable id."""

    def __init__(self, sources: dict[str, CameraSource], keep_status: bool = False) -> None:
        self.sources = sources
        #: A camera already known keeps its status when probed again: the health monitor
        #: owns it (a status it confirmed is not undone by the device's own raw answer).
        self.keep_status = keep_status
        self.devices: dict[str, Device] = {}
        self.cameras: dict[str, Camera] = {}
        self._camera_source: dict[str, str] = {}
        self._by_source: dict[str, list[str]] = {}  # source -> its camera ids, in probe order
        self.errors: dict[str, str] = {}
        #: Goes up whenever cameras come, go or change (``index`` is rebuilt then).
        self.version = 0
        self._index: tuple[int, CameraIndex] | None = None

    @property
    def index(self) -> CameraIndex:
        """The cameras by tag, site and area (``hub.core.selectors``), as of the last change."""
        if self._index is None or self._index[0] != self.version:
            self._index = (self.version, CameraIndex.of(self.cameras))
        return self._index[1]

    def camera(self, camera_id: str) -> Camera:
        try:
            return self.cameras[camera_id]
        except KeyError:
            raise NotFound(f"no camera {camera_id!r}") from None

    def source_name(self, camera_id: str) -> str:
        self.camera(camera_id)
        return self._camera_source[camera_id]

    def cameras_of(self, source: str) -> list[Camera]:
        """The cameras a source holds now (kept by source, so no scan of the whole city)."""
        return [self.cameras[c] for c in self._by_source.get(source, ())]

    def source_of(self, camera_id: str) -> CameraSource:
        return self.sources[self.source_name(camera_id)]

    async def probe(self, limit: float = 20.0, only: list[str] | None = None) -> InventoryChange:
        """Probe every source (or ``only`` these; ``limit`` seconds each) and update the inventory;
        returns what changed."""
        names = list(self.sources) if only is None else [n for n in only if n in self.sources]
        results = await asyncio.gather(
            *(asyncio.wait_for(self.sources[n].probe(), limit) for n in names), return_exceptions=True
        )
        change = InventoryChange()
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                self.errors[name] = _describe(result)
                log.warning("probing source failed", extra={"source": name, "error": self.errors[name]})
                continue
            self.errors.pop(name, None)
            self._apply(name, result, change)
        if change:
            self.version += 1
        return change

    def adopt(self, found: dict[str, list[DeviceInventory]]) -> InventoryChange:
        """Take what each of these sources holds as another node found it (kept in the store), as if
        probed here; sources not named keep what they have."""
        change = InventoryChange()
        for name, held in found.items():
            if name in self.sources and name not in self.errors:
                self._apply(name, held, change)
        if change:
            self.version += 1
        return change

    def forget(self, name: str) -> tuple[CameraSource | None, InventoryChange]:
        """Take source ``name`` out with its devices and cameras (they are ``removed``); the source
        is returned for its owner to close."""
        source = self.sources.pop(name, None)
        change = InventoryChange()
        self._apply(name, [], change)
        self._by_source.pop(name, None)
        self.errors.pop(name, None)
        if change:
            self.version += 1
        return source, change

    def _apply(self, name: str, found: list[DeviceInventory], change: InventoryChange) -> None:
        cfg: Any = self.sources[name].config if found else None  # a source forgotten has found nothing
        seen: dict[str, None] = {}  # ordered set
        for inv in found:
            device = inv.device.model_copy(update={
                "source": name, "owner": inv.device.owner or cfg.owner, "site": inv.device.site or cfg.site})
            self.devices[device.id] = device
            for cam in inv.cameras:
                cam = cam.model_copy(update={
                    "owner": cam.owner or cfg.owner,
                    "site": cam.site or cfg.site,
                    "area": cam.area or cfg.area,
                    "location": cam.location or getattr(cfg, "location", None),
                    "tags": list(dict.fromkeys([*cfg.tags, *cam.tags])),
                    "streams": _usable(cam, cfg),
                })
                seen[cam.id] = None
                old = self.cameras.get(cam.id)
                if old is not None and self.keep_status:
                    cam = cam.model_copy(update={"status": old.status})
                if old is None:
                    change.added.append(cam)
                elif old.model_dump() != cam.model_dump() or old.streams != cam.streams:
                    change.changed.append(cam)
                self.cameras[cam.id] = cam
                self._camera_source[cam.id] = name
        for cam_id in self._by_source.get(name, ()):
            if cam_id not in seen:
                change.removed.append(self.cameras.pop(cam_id))
                del self._camera_source[cam_id]
        self._by_source[name] = list(seen)
        device_ids = {inv.device.id for inv in found}
        for dev_id in [d for d, dev in self.devices.items() if dev.source == name and d not in device_ids]:
            del self.devices[dev_id]


def _usable(camera: Camera, cfg: Any) -> list[Stream]:
    """The camera's streams the source's settings let the hub use (``streams``, ``max_kbps``)."""
    roles = getattr(cfg, "streams", None)
    cap = getattr(cfg, "max_kbps", None)
    return [s for s in camera.streams if (roles is None or s.role in roles)
            and (cap is None or s.bitrate is None or s.bitrate <= cap * 1000)]


def _describe(err: BaseException) -> str:
    if isinstance(err, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    if isinstance(err, DeviceError):
        return str(err)
    return f"{type(err).__name__}"
