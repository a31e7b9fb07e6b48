"""The stream graph of a running hub: relays shared by every consumer of a stream.

Recording, live view and whatever else wants a camera's packets attach a
consumer here; the first consumer of a camera stream opens its relay (one
upstream RTSP session however many consumers follow), and the relay closes
when its last consumer leaves.  Every relay carries a ``KeyframeSnapshots``
so a snapshot of a received stream opens no connection of its own.  A
source that caps concurrent sessions per device (``max_sessions``) shares
one semaphore between the relays of that device.  Stream health is
watched here for every relay, recorded or live: a stall (nothing for
``health.stall_seconds``), a frame or bit rate far below the camera's own, and a
frozen or black picture (from the latest keyframe, decoded small every
``health.picture_check_seconds``); each is a start and a stop event, and
the health monitor marks the camera degraded while one lasts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy

from hub.core.config import HealthConfig
from hub.core.errors import HubError
from hub.core.models import Event, EventKind, EventState, GraphNode, StreamRole
from hub.core.streams import Figures, KeyframeSnapshots, PacketConsumer, Relay
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
        #: What is wrong with each received stream now, by event kind, in words.
        self.problems: dict[StreamKey, dict[EventKind, str]] = {}
        #: Passes of the stream-health watch so far (a test, or a stuck watch, shows here).
        self.health_passes = 0

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

    def receiving(self, camera_id: str, within: float) -> bool:
        """Whether a stream of the camera brought a packet in the last ``within`` seconds."""
        now = time.time()
        for role in StreamRole:  # by key: at city scale there are thousands of relays
            relay = self.relays.get((camera_id, role))
            if relay is not None and relay.stats.last_packet is not None and now - relay.stats.last_packet < within:
                return True
        return False

    def nodes(self) -> list[GraphNode]:
        out = []
        for key, relay in list(self.relays.items()):
            node = relay.node()
            node.problems = sorted(self.problems.get(key, {}).values())
            out.append(node)
            out.extend(c.node() for c in relay.consumers if hasattr(c, "node"))
        return out

    def problems_of(self, camera_id: str) -> list[str]:
        """What is wrong with the streams of a camera the hub receives, in words."""
        return sorted(f"{key[1].value} stream {detail}" for key, found in list(self.problems.items())
                      if key[0] == camera_id for detail in found.values())

    async def watch_health(self, publish: Callable[[Event], None], settings: HealthConfig) -> None:
        """Watch every relay until cancelled: stalls and a frame or bit rate far below the camera's own
        each second, frozen and black pictures every ``picture_check_seconds``.  Each problem is
        a start event when it appears and a stop event when it clears, and degrades the camera
        at its next health check (``problems_of``)."""
        pictures: dict[StreamKey, _Picture] = {}
        # Picture checks decode a keyframe per stream: at city scale a pass takes a while, so
        # it runs beside the stall checks rather than holding them up.
        checker = asyncio.create_task(self._check_pictures(pictures, settings))
        try:
            await self._watch(publish, settings, pictures)
        finally:
            checker.cancel()

    async def _watch(self, publish: Callable[[Event], None], settings: HealthConfig,
                     pictures: dict[StreamKey, _Picture]) -> None:
        while True:
            await asyncio.sleep(min(1.0, settings.stall_seconds / 4))
            self.health_passes += 1
            now = time.time()
            for key, relay in list(self.relays.items()):
                found: dict[EventKind, str] = {}
                idle = 0.0 if relay.waiting else relay.idle_seconds(now)
                if relay.auth_failed:
                    found[EventKind.AUTH_FAILED] = (f"refused the credentials {relay.refusals} times; asked again "
                                                    f"every {relay.auth_retry / 60:g} min")
                elif idle >= settings.stall_seconds:
                    found[EventKind.STREAM_STALL] = f"stalled (no packet for {idle:.0f} s)"
                else:
                    camera = self.inventory.cameras.get(key[0])
                    stream = camera.stream(key[1]) if camera else None
                    expected, fps = (stream.fps if stream else None), relay.stats.fps
                    receiving = now - relay.started_at > 2 * Figures.WINDOW
                    if expected and fps and receiving and fps < settings.low_fps_ratio * expected:
                        found[EventKind.STREAM_LOW_FPS] = f"at {fps:g} fps of the camera's {expected:g}"
                    # Only against a constant bit rate: with VBR the camera's figure is a ceiling.
                    rate = stream.bitrate if stream and stream.constant_bitrate else None
                    bits = relay.stats.bitrate
                    if rate and bits and receiving and bits < settings.low_bitrate_ratio * rate:
                        found[EventKind.STREAM_LOW_BITRATE] = (f"at {bits / 1000:.0f} kbit/s of the camera's "
                                                               f"{rate / 1000:.0f}")
                    if (picture := pictures.get(key)) is not None:
                        found.update(picture.found)
                self._update(key, found, publish, idle)
            for key in [k for k in self.problems if k not in self.relays]:
                del self.problems[key]  # nobody receives it any more: nothing to say about it
            for key in [k for k in pictures if k not in self.relays]:
                del pictures[key]

    async def _check_pictures(self, pictures: dict[StreamKey, _Picture], settings: HealthConfig) -> None:
        """Every ``picture_check_seconds``, a grey thumbnail of each received stream's latest keyframe."""
        if not settings.picture_check_seconds:
            return
        while True:
            await asyncio.sleep(settings.picture_check_seconds)
            for key, relay in list(self.relays.items()):
                snaps = next((c for c in relay.consumers if isinstance(c, KeyframeSnapshots)), None)
                thumb = await asyncio.to_thread(snaps.thumbnail) if snaps is not None else None
                if thumb is not None and key in self.relays:
                    pictures.setdefault(key, _Picture()).see(*thumb, settings)

    def _update(self, key: StreamKey, found: dict[EventKind, str], publish: Callable[[Event], None],
                idle: float) -> None:
        before = self.problems.get(key, {})
        if found:
            self.problems[key] = found
        else:
            self.problems.pop(key, None)
        camera = self.inventory.cameras.get(key[0])
        device = camera.device_id if camera else None
        for kind in found.keys() - before.keys():
            data: dict[str, Any] = {"stream": key[1].value, "detail": found[kind]}
            if kind == EventKind.STREAM_STALL:
                data["idle_seconds"] = round(idle, 1)
            publish(Event(camera_id=key[0], device_id=device, kind=kind, state=EventState.START,
                          source="streams", data=data))
        for kind in before.keys() - found.keys():
            publish(Event(camera_id=key[0], device_id=device, kind=kind, state=EventState.STOP,
                          source="streams", data={"stream": key[1].value}))

    async def stop(self) -> None:
        """Stop every relay, ending its consumers (recorders finish their segments)."""
        relays = list(self.relays.values()) + list(self._closing)
        self.relays.clear()
        await asyncio.gather(*(asyncio.to_thread(r.stop) for r in relays))


class _Picture:
    """What the picture checks of one stream have seen: when it last changed, since when it is black."""

    #: Mean absolute difference (0-255) of two 64x36 grey thumbnails under which they are "the same"
    #: (encoder noise on an unchanged picture stays well under it; a clock's seconds do not).
    STILL = 0.5
    #: Mean and spread of grey levels under which a picture is black.
    BLACK_MEAN, BLACK_SPREAD = 16.0, 6.0

    def __init__(self) -> None:
        self.previous: Any = None
        self.arrived = 0.0
        self.still_since: float | None = None
        self.black_since: float | None = None
        self.found: dict[EventKind, str] = {}

    def see(self, arrived: float, grey: Any, settings: HealthConfig) -> None:
        if arrived == self.arrived:
            return  # no new keyframe since the last check (the stall check speaks for that)
        pixels = grey.astype(numpy.int16)
        if self.previous is not None and float(numpy.abs(pixels - self.previous).mean()) < self.STILL:
            self.still_since = self.still_since or self.arrived
        else:
            self.still_since = None
        if float(pixels.mean()) < self.BLACK_MEAN and float(pixels.std()) < self.BLACK_SPREAD:
            self.black_since = self.black_since or arrived
        else:
            self.black_since = None
        self.previous, self.arrived = pixels, arrived
        self.found = {}
        if self.black_since is not None and arrived - self.black_since >= settings.black_seconds:
            self.found[EventKind.STREAM_BLACK] = f"black for {arrived - self.black_since:.0f} s"
        elif self.still_since is not None and arrived - self.still_since >= settings.frozen_seconds:
            self.found[EventKind.STREAM_FROZEN] = f"frozen (unchanged for {arrived - self.still_since:.0f} s)"


def _users(relay: Relay) -> list[PacketConsumer]:
    """The consumers that keep a relay open: all but its own snapshotter."""
    return [c for c in relay.consumers if not isinstance(c, KeyframeSnapshots)]
