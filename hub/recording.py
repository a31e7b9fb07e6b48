"""Recording: recorders per camera as hub.yaml's rules say, storage, retention.

Segments finished by a ``Recorder`` (in its relay's thread) come here on the
event loop: the file is moved into the storage backend and indexed in the
metadata store.  Retention runs as a scheduled job and deletes unlocked
segments older than their camera's ``retain_days``, oldest first.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fnmatch
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from hub.core.errors import HubError
from hub.core.models import Camera, Event, EventKind, EventState, GraphNode, StreamRole, utcnow
from hub.core.storage import StorageBackend, segment_key
from hub.core.store import Store
from hub.core.streams import FinishedSegment, KeyframeSnapshots, Recorder, Relay, recover_spool
from hub.inventory import Inventory

log = logging.getLogger(__name__)


def rule_for(recording: Any, camera: Camera) -> Any:
    """The recording rule of a camera: the default, then the last matching override."""
    rule = recording.default
    for override in recording.rules:
        if any(fnmatch.fnmatchcase(camera.id, pat) for pat in override.cameras) or \
                set(override.tags) & set(camera.tags):
            rule = override
    return rule


class Recording:
    """Relays and recorders for the cameras that hub.yaml says to record."""

    def __init__(self, config: Any, inventory: Inventory, storage: StorageBackend, store: Store,
                 spool: Path) -> None:
        self.config = config
        self.inventory = inventory
        self.storage = storage
        self.store = store
        self.spool = spool
        self.relays: dict[tuple[str, StreamRole], Relay] = {}
        self._device_sessions: dict[str, threading.BoundedSemaphore] = {}
        self._pending: set[concurrent.futures.Future[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def sync(self) -> None:
        """Start recorders for cameras that should record and stop the others."""
        self._loop = asyncio.get_running_loop()
        wanted: dict[tuple[str, StreamRole], Any] = {}
        for cam in self.inventory.cameras.values():
            rule = rule_for(self.config.recording, cam)
            if rule.mode == "continuous" and cam.stream(rule.stream) is not None:
                wanted[(cam.id, rule.stream)] = rule
        for key in [k for k in self.relays if k not in wanted]:
            self.relays.pop(key).stop()
        for key, rule in wanted.items():
            if key not in self.relays:
                self._start(key[0], key[1], rule)

    def _start(self, camera_id: str, role: StreamRole, rule: Any) -> None:
        source = self.inventory.source_of(camera_id)

        def open_input() -> Any:
            cam = self.inventory.camera(camera_id)
            stream = cam.stream(role)
            if stream is None:
                raise HubError(f"camera {camera_id} has no {role} stream")
            return source.open_media(cam, stream)

        relay = Relay(camera_id, role, open_input, sessions=self._sessions_of(camera_id, source))
        relay.add(Recorder(camera_id, role, self.spool / camera_id.replace(":", "_"),
                           rule.segment_seconds, self._finished))
        relay.add(KeyframeSnapshots(camera_id, role))
        self.relays[(camera_id, role)] = relay
        relay.start()

    def _sessions_of(self, camera_id: str, source: Any) -> threading.Semaphore | None:
        """The session slots of the camera's device, when its source caps them."""
        cap = getattr(source.config, "max_sessions", None)
        if cap is None:
            return None
        device = self.inventory.camera(camera_id).device_id
        return self._device_sessions.setdefault(device, threading.BoundedSemaphore(cap))

    def _finished(self, seg: FinishedSegment) -> None:
        # Called from a relay thread.
        assert self._loop is not None
        fut = asyncio.run_coroutine_threadsafe(self._commit(seg), self._loop)
        self._pending.add(fut)
        fut.add_done_callback(self._pending.discard)

    async def recover(self) -> int:
        """Store the segments a crash left in the spool; returns how many."""
        found = await asyncio.to_thread(recover_spool, self.spool) if self.spool.exists() else []
        for seg in found:
            await self._commit(seg)
        if found:
            log.info("recovered segments left by an unclean stop", extra={"segments": len(found)})
        return len(found)

    async def _commit(self, seg: FinishedSegment) -> None:
        key = segment_key(seg.camera_id, seg.role.value, seg.start)
        try:
            size = await self.storage.put_file(key, seg.path)
            if not await self.store.has_segment(key):  # a retry after indexing worked but cleanup did not
                await self.store.add_segment(seg.camera_id, seg.role.value, seg.start, seg.end, seg.duration,
                                             size, seg.sha256, key)
            await asyncio.to_thread(seg.sidecar.unlink, missing_ok=True)
        except Exception:
            log.exception("storing a segment failed; it stays in the spool for the next start",
                          extra={"camera": seg.camera_id, "file": seg.path.name})
            return
        log.debug("segment stored", extra={"camera": seg.camera_id, "key": key, "seconds": round(seg.duration, 2)})

    async def watch_stalls(self, publish: Callable[[Event], None], stall_seconds: float) -> None:
        """Publish ``stream_stall`` start when a relay brings nothing for ``stall_seconds``,
        and stop when packets flow again; runs until cancelled."""
        stalled: set[tuple[str, StreamRole]] = set()
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
        for relay in self.relays.values():
            out.append(relay.node())
            out.extend(c.node() for c in relay.consumers if hasattr(c, "node"))
        return out

    async def stop(self) -> None:
        """Stop every relay, finishing open segments, and wait for them to be stored."""
        relays = list(self.relays.values())
        self.relays.clear()
        await asyncio.gather(*(asyncio.to_thread(r.stop) for r in relays))
        pending = [asyncio.wrap_future(f) for f in list(self._pending)]
        if pending:
            await asyncio.wait(pending, timeout=5)

    async def apply_retention(self) -> int:
        """Delete unlocked segments past their camera's retention; returns how many."""
        deleted = 0
        for camera_id in await self.store.recorded_cameras():
            cam = self.inventory.cameras.get(camera_id)
            rule = rule_for(self.config.recording, cam) if cam else self.config.recording.default
            before = utcnow() - timedelta(days=rule.retain_days)
            while batch := await self.store.expired_segments(camera_id, before):
                for _, key in batch:
                    await self.storage.delete(key)
                await self.store.delete_segments([i for i, _ in batch])
                deleted += len(batch)
        if deleted:
            log.info("retention deleted segments", extra={"segments": deleted})
        return deleted
