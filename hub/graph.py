"""The stream graph of a running hub: relays shared by every consumer of a stream.

Recording, live view and whatever else wants a camera's packets attach a
consumer here; the first consumer of a camera stream opens its relay (one
upstream RTSP session however many consumers follow), and the relay closes
when its last consumer leaves.  Every relay carries a ``KeyframeSnapshots``
so a snapshot of a received stream opens no connection of its own.  A
source that caps concurrent sessions per device (``max_sessions``) shares
one semaphore between the relays of that device.  Stalls (a received
stream that brings nothing for ``health.stall_seconds``) become
``stream_stall`` events here, for every relay, recorded or live.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from hub.core.errors import HubError
from hub.core.models import Event, EventKind, EventState, GraphNode, StreamRole
from hub.core.streams import KeyframeSnapshots, PacketConsumer, Relay
from hub.inventory import Inventory

log = logging.getLogger(__name__)

StreamKey = tuple[str, StreamRole]


class StreamGraph:
    """Relays by camera stream, opened on the first consumer and closed after the last."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.relays: dict[StreamKey, Relay] = {}
        self._device_sessions: dict[str, threading.BoundedSemaphore] = {}
        self._closing: set[Relay] = set()

    def attach(self, camera_id: str, role: StreamRole, consumer: PacketConsumer) -> Relay:
        """Feed ``consumer`` with the packets of a camera stream, opening its relay if need be."""
        key = (camera_id, role)
        relay = self.relays.get(key)
        if relay is None:
            relay = self._open(camera_id, role)
        relay.add(consumer)
        return relay

    async def detach(self, camera_id: str, role: StreamRole, consumer: PacketConsumer) -> None:
        """Stop feeding ``consumer`` (it is ended in a worker thread); the relay
        closes when only its snapshotter is left."""
        relay = self.relays.get((camera_id, role))
        if relay is None:
            return
        await asyncio.to_thread(relay.remove, consumer)
        if self.relays.get((camera_id, role)) is relay and not _users(relay):
            del self.relays[(camera_id, role)]
            self._closing.add(relay)
            try:
                await asyncio.to_thread(relay.stop)
            finally:
                self._closing.discard(relay)

    def _open(self, camera_id: str, role: StreamRole) -> Relay:
        source = self.inventory.source_of(camera_id)

        def open_input() -> Any:
            cam = self.inventory.camera(camera_id)
            stream = cam.stream(role)
            if stream is None:
                raise HubError(f"camera {camera_id} has no {role} stream")
            return source.open_media(cam, stream)

        relay = Relay(camera_id, role, open_input, sessions=self._sessions_of(camera_id, source))
        relay.add(KeyframeSnapshots(camera_id, role))
        self.relays[(camera_id, role)] = relay
        relay.start()
        return relay

    def _sessions_of(self, camera_id: str, source: Any) -> threading.Semaphore | None:
        """The session slots of the camera's device, when its source caps them."""
        cap = getattr(source.config, "max_sessions", None)
        if cap is None:
            return None
        device = self.inventory.camera(camera_id).device_id
        return self._device_sessions.setdefault(device, threading.BoundedSemaphore(cap))

    def snapshot(self, camera_id: str) -> bytes | None:
        """A JPEG from a stream of the camera the hub already receives, or None (blocking: decodes)."""
        for (cam, _), relay in list(self.relays.items()):
            if cam != camera_id:
                continue
            for consumer in relay.consumers:
                if isinstance(consumer, KeyframeSnapshots) and (jpeg := consumer.jpeg()) is not None:
                    return jpeg
        return None

    def nodes(self) -> list[GraphNode]:
        out = []
        for relay in list(self.relays.values()):
            out.append(relay.node())
            out.extend(c.node() for c in relay.consumers if hasattr(c, "node"))
        return out

    async def watch_stalls(self, publish: Callable[[Event], None], stall_seconds: float) -> None:
        """Publish ``stream_stall`` start when a relay brings nothing for ``stall_seconds``,
        and stop when packets flow again; runs until cancelled."""
        stalled: set[StreamKey] = set()
        while True:
            await asyncio.sleep(min(1.0, stall_seconds / 4))
            now = time.time()
            for key, relay in list(self.relays.items()):
                idle = 0.0 if relay.waiting else relay.idle_seconds(now)
                if idle >= stall_seconds and key not in stalled:
                    stalled.add(key)
                    state, data = EventState.START, {"stream": key[1].value, "idle_seconds": round(idle, 1)}
                elif idle < stall_seconds and key in stalled:
                    stalled.discard(key)
                    state, data = EventState.STOP, {"stream": key[1].value}
                else:
                    continue
                camera = self.inventory.cameras.get(key[0])
                publish(Event(camera_id=key[0], device_id=camera.device_id if camera else None,
                              kind=EventKind.STREAM_STALL, state=state, source="streams", data=data))
            stalled &= set(self.relays)

    async def stop(self) -> None:
        """Stop every relay, ending its consumers (recorders finish their segments)."""
        relays = list(self.relays.values()) + list(self._closing)
        self.relays.clear()
        await asyncio.gather(*(asyncio.to_thread(r.stop) for r in relays))


def _users(relay: Relay) -> list[PacketConsumer]:
    """The consumers that keep a relay open: all but its own snapshotter."""
    return [c for c in relay.consumers if not isinstance(c, KeyframeSnapshots)]
