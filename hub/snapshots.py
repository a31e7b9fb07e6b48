"""Snapshots of cameras, as cheap for the devices as they can be.

From the latest keyframe of a stream the hub already receives when it can (no
extra connection to the device); else from the device, with every request for
the same camera that comes while one is on its way, or within ``REUSE_SECONDS``
of its answer, served by that one answer.  A motion storm over a thousand
cameras then asks each device at most once a second, not once per event and
per notifier (measured with ``bench/events.py``: at 5,000 Start/Stop events/s
every motion start asked its NVR for a picture).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from hub.core.errors import DeviceNotReady
from hub.inventory import Inventory

#: Seconds a device's answer serves later requests for the same camera.
REUSE_SECONDS = 1.0
#: Answers kept at most (older ones go first): a city's cameras' pictures would not fit in memory.
KEEP = 256


class Snapshots:
    def __init__(self, inventory: Callable[[], Inventory], graph: Callable[[], Any]) -> None:
        self._inventory = inventory  # the hub's, as it is now (made anew at start)
        self._graph = graph  # the stream graph, once the hub has one
        self._recent: dict[str, tuple[float, bytes]] = {}
        self._coming: dict[str, asyncio.Task[bytes]] = {}
        #: Pictures asked of devices so far (the rest came from keyframes, in flight or recent).
        self.device_requests = 0

    async def get(self, camera_id: str, limit: float = 10.0) -> bytes:
        camera = self._inventory().camera(camera_id)
        graph = self._graph()
        if graph is not None:
            jpeg = await asyncio.to_thread(graph.snapshot, camera_id)
            if jpeg is not None:
                return jpeg  # type: ignore[no-any-return]
        recent = self._recent.get(camera_id)
        if recent is not None and time.monotonic() - recent[0] < REUSE_SECONDS:
            return recent[1]
        coming = self._coming.get(camera_id)
        if coming is None:
            coming = asyncio.create_task(self._ask(camera_id, camera, limit), name=f"snapshot:{camera_id}")
            self._coming[camera_id] = coming
            coming.add_done_callback(lambda _: self._coming.pop(camera_id, None))
        return await asyncio.shield(coming)

    async def _ask(self, camera_id: str, camera: Any, limit: float) -> bytes:
        self.device_requests += 1
        try:
            async with asyncio.timeout(limit):
                jpeg: bytes = await self._inventory().source_of(camera_id).snapshot(camera)
        except TimeoutError:
            raise DeviceNotReady(f"camera {camera_id}: no snapshot within {limit:g} s") from None
        self._recent[camera_id] = (time.monotonic(), jpeg)
        if len(self._recent) > KEEP:
            for stale in sorted(self._recent, key=lambda c: self._recent[c][0])[: len(self._recent) - KEEP]:
                del self._recent[stale]
        return jpeg
