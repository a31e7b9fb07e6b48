"""Recording: recorders per camera as hub.yaml's rules say, storage, retention.

Recorders are consumers on the stream graph (``hub.graph``), sharing the
relay of a camera stream with live viewers and snapshots.  Segments finished
by a ``Recorder`` (in its relay's thread) come here on the event loop: the
file is moved into the storage backend and indexed in the metadata store.
Retention runs as a scheduled job and deletes unlocked segments older than
their camera's ``retain_days`` (rules match cameras by id, tag, owner or
area), oldest first; a second job relieves storage pressure (a quota, a
volume running full) by deleting the oldest unlocked segments of any camera.
Locked segments (evidence) are never deleted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fnmatch
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.core.bus import Subscription
from hub.core.config import RecordingConfig, RecordingRule
from hub.core.errors import StorageKeyTaken
from hub.core.models import Camera, EventKind, EventState, utcnow
from hub.core.storage import StorageBackend, segment_key
from hub.core.streams import EventRecorder, Figures, FinishedSegment, PacketConsumer, Recorder, recover_spool
from hub.graph import StreamGraph, StreamKey
from hub.inventory import Inventory
from hub.store import Store
from hub.store.cluster import Fenced

if TYPE_CHECKING:
    from hub.cluster import Cluster

log = logging.getLogger(__name__)


def rule_for(recording: RecordingConfig, camera: Camera) -> RecordingRule:
    """The recording rule of a camera: the default, then the last matching override."""
    rule: RecordingRule = recording.default
    for override in recording.rules:
        if any(fnmatch.fnmatchcase(camera.id, pat) for pat in override.cameras) or \
                set(override.tags) & set(camera.tags) or \
                (camera.owner is not None and camera.owner in override.owners) or \
                (camera.area is not None and any(camera.area == a or camera.area.startswith(a + "/")
                                                 for a in override.areas)):
            rule = override
    return rule


#: Seconds between attempts to store a segment that could not be (the database or storage away).
RETRY_SECONDS = 5.0


class Recording:
    """Recorders for the cameras that hub.yaml says to record, on the stream graph."""

    def __init__(self, config: RecordingConfig, inventory: Inventory, graph: StreamGraph, storage: StorageBackend,
                 store: Store, spool: Path) -> None:
        self.config = config
        self.inventory = inventory
        self.graph = graph
        self.storage = storage
        self.store = store
        self.spool = spool
        self.recorders: dict[StreamKey, Recorder] = {}  # EventRecorder for mode 'events'
        self._pending: set[concurrent.futures.Future[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        #: With several nodes: this node's part (only what it owns is recorded) and the epoch each
        #: recorder started under (its segments are indexed as that epoch's owner's).
        self.cluster: Cluster | None = None
        #: Segments (and their bytes) stored and indexed since the start (``/metrics``); refused: fenced.
        self.written = 0
        self.written_bytes = 0
        self.refused = 0
        self._epochs: dict[StreamKey, int] = {}
        #: Streams opened ahead of a hand-over to this node (``warm``), until their recorders take them.
        self._warming: dict[StreamKey, _Warming] = {}
        #: Segments that could not be stored or indexed, tried again (``_try_again``); and the object
        #: each one already stored has (its file may be gone into storage).
        self._again: dict[Path, FinishedSegment] = {}
        self._stored: dict[Path, tuple[str, int]] = {}
        self._retrying: asyncio.Task[None] | None = None
        self._failing = False
        self._syncing = asyncio.Lock()

    async def sync(self) -> None:
        """Start recorders for cameras that should record and stop the others (one sync at a time:
        the inventory and, with several nodes, the cluster both ask)."""
        async with self._syncing:
            await self._sync()

    async def _sync(self) -> None:
        self._loop = asyncio.get_running_loop()
        wanted: dict[StreamKey, Any] = {}
        owned = self.cluster.owned if self.cluster is not None else None
        for cam in self.inventory.cameras.values():
            if owned is not None and cam.id not in owned:
                continue  # another node's
            rule = rule_for(self.config, cam)
            if rule.mode != "off" and cam.stream(rule.stream) is not None:
                wanted[(cam.id, rule.stream)] = rule
        for key in [k for k, r in self.recorders.items()
                    if k not in wanted or isinstance(r, EventRecorder) != (wanted[k].mode == "events")
                    or (owned is not None and self._epochs.get(k) != owned.get(k[0]))]:
            await self.graph.detach(key[0], key[1], self.recorders.pop(key))
        for key, rule in wanted.items():
            if key not in self.recorders:
                spool = self.spool / key[0].replace(":", "_")
                recorder = (EventRecorder(key[0], key[1], spool, rule.segment_seconds, self._finished,
                                          rule.pre_roll_seconds)
                            if rule.mode == "events" else
                            Recorder(key[0], key[1], spool, rule.segment_seconds, self._finished))
                self.recorders[key] = recorder
                if owned is not None:
                    self._epochs[key] = owned[key[0]]
                self.graph.attach(key[0], key[1], recorder)
        for key in [k for k in self._warming if k in self.recorders]:  # the recorder holds the stream now
            await self.graph.detach(key[0], key[1], self._warming.pop(key))

    async def warm(self, cameras: Collection[str]) -> set[str]:
        """Open the recorded streams of ``cameras`` (being handed to this node) without recording them,
        and close those of cameras no longer coming; which of them bring packets (or record nothing)."""
        wanted: set[StreamKey] = set()
        ready = set()
        for camera_id in cameras:
            cam = self.inventory.cameras.get(camera_id)
            if cam is None:
                continue
            rule = rule_for(self.config, cam)
            if rule.mode == "off" or cam.stream(rule.stream) is None:
                ready.add(camera_id)  # nothing to record: nothing to open first
            elif (camera_id, rule.stream) in self.recorders:
                ready.add(camera_id)
            else:
                wanted.add((camera_id, rule.stream))
        async with self._syncing:
            for key in [k for k in self._warming if k not in wanted]:
                await self.graph.detach(key[0], key[1], self._warming.pop(key))
            for key in wanted:
                if key not in self._warming:
                    self._warming[key] = _Warming(key)
                    self.graph.attach(key[0], key[1], self._warming[key])
                elif self._warming[key].stats.last_packet is not None:
                    ready.add(key[0])
        return ready

    async def follow_events(self, sub: Subscription) -> None:
        """Start and stop event recorders as their cameras' events come and go; runs until cancelled.

        A camera records while any of its rule's ``event_kinds`` is active
        (started and not yet stopped, at most ``max_event_seconds``) and
        ``post_roll_seconds`` after the last one ends; a pulse counts as an
        event that ends at once."""
        active: dict[str, dict[EventKind, float]] = {}  # camera -> kind -> when its start came
        async for event in sub:
            camera = self.inventory.cameras.get(event.camera_id or "")
            if camera is None:
                continue
            rule = rule_for(self.config, camera)
            if rule.mode != "events" or event.kind not in rule.event_kinds:
                continue
            recorder = self.recorders.get((camera.id, rule.stream))
            if not isinstance(recorder, EventRecorder):
                continue
            now = time.time()
            kinds = active.setdefault(camera.id, {})
            if event.state == EventState.START:
                kinds[event.kind] = now
            else:
                kinds.pop(event.kind, None)
            ends = [started + rule.max_event_seconds for started in kinds.values()]
            ends.append(now + rule.post_roll_seconds)
            recorder.trigger(max(max(ends), recorder.until if event.state == EventState.PULSE else 0.0))
            log.debug("event recording", extra={"camera": camera.id, "event": event.kind.value,
                                                 "state": event.state.value, "until": round(max(ends) - now, 1)})

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
            if self.cluster is not None:  # the epoch it was recorded under: the latest this node held
                held = await self.cluster.records.held(seg.camera_id, self.cluster.node)
                if held is not None:
                    self._epochs[(seg.camera_id, seg.role)] = held
            await self._commit(seg)
        if found:
            log.info("recovered segments left by an unclean stop", extra={"segments": len(found)})
        return len(found)

    async def _commit(self, seg: FinishedSegment) -> None:
        epoch = self._epochs.get((seg.camera_id, seg.role)) if self.cluster is not None else None
        fence = (self.cluster.node, epoch) if self.cluster is not None and epoch is not None else None
        key = None
        try:
            # Stored once: a retry after the file was stored and indexing failed indexes that object.
            key, size = self._stored.get(seg.path) or await self._put(seg, epoch)
            self._stored[seg.path] = (key, size)
            # Indexed once: a retry after indexing worked but cleaning up did not adds nothing.
            await self.store.recordings.add_segment(seg.camera_id, seg.role.value, seg.start, seg.end, seg.duration,
                                                    size, seg.sha256, key, fence)
            await asyncio.to_thread(seg.sidecar.unlink, missing_ok=True)
            self._stored.pop(seg.path, None)
            self.written += 1
            self.written_bytes += size
        except Fenced as refused:  # another node owns the camera now: this one stops it, and sweeps
            log.warning("a segment was refused: the camera has another owner; stopped here",
                        extra={"camera": seg.camera_id, "error": str(refused)[:200]})
            if key is not None:
                with contextlib.suppress(Exception):
                    await self.storage.delete(key)
            for path in (seg.path, seg.sidecar):
                await asyncio.to_thread(path.unlink, missing_ok=True)
            self._stored.pop(seg.path, None)
            self.refused += 1
            if self.cluster is not None:
                await self.cluster.lost(seg.camera_id)
            return
        except Exception as err:
            self._try_again(seg, err)
            return
        log.debug("segment stored", extra={"camera": seg.camera_id, "key": key, "seconds": round(seg.duration, 2)})

    def _try_again(self, seg: FinishedSegment, err: Exception) -> None:
        """A segment not stored or not indexed (the database restarting, storage away): kept in the
        spool and tried again every ``RETRY_SECONDS``, in order, until it goes (or the hub stops: the
        next start recovers it).  Logged once per outage, and once when they went."""
        if not self._failing:
            self._failing = True
            log.warning("storing a segment failed; it stays in the spool and is tried again",
                        extra={"camera": seg.camera_id, "file": seg.path.name, "error": type(err).__name__,
                               "retry_seconds": RETRY_SECONDS})
        self._again[seg.path] = seg
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.create_task(self._retry())

    async def _retry(self) -> None:
        while self._again:
            await asyncio.sleep(RETRY_SECONDS)
            waiting, self._again = list(self._again.values()), {}
            for seg in waiting:
                await self._commit(seg)
            if not self._again:
                self._failing = False
                log.info("the segments that waited are stored", extra={"segments": len(waiting)})

    async def _put(self, seg: FinishedSegment, epoch: int | None = None) -> tuple[str, int]:
        """Store a segment's file under a key of its own; returns the key and the size.

        Storage never replaces an object: when the key of the segment's start is
        taken (two recorders of one camera, a segment recovered beside one stored
        already), the next free suffix is used and the footage of both is kept."""
        for taken in range(100):
            key = segment_key(seg.camera_id, seg.role.value, seg.start, taken, epoch)
            try:
                size = await self.storage.put_file(key, seg.path)
            except StorageKeyTaken:
                continue
            if taken:
                log.warning("a segment with the same start is stored already; kept both",
                            extra={"camera": seg.camera_id, "key": key})
            return key, size
        raise StorageKeyTaken(f"storage: 100 segments of {seg.camera_id} start at {seg.start.isoformat()}")

    async def stop(self) -> None:
        """Finish the open segments and wait for them to be stored."""
        recorders: list[tuple[StreamKey, PacketConsumer]] = [*self.recorders.items(), *self._warming.items()]
        self.recorders.clear()
        self._warming.clear()
        # All at once: each detach may wait for its relay's thread, and SIGTERM gives 10 s in all.
        await asyncio.gather(*(self.graph.detach(key[0], key[1], recorder) for key, recorder in recorders))
        pending = [asyncio.wrap_future(f) for f in list(self._pending)]
        if pending:
            await asyncio.wait(pending, timeout=5)
        if self._retrying is not None:  # what still waits stays in the spool for the next start
            self._retrying.cancel()

    #: Plugins' caps on a camera's retention in days (``recording_retention``); the app sets it.
    retention_caps: Callable[[str, Camera | None], Awaitable[list[Any]]] | None = None

    async def apply_retention(self) -> int:
        """Delete unlocked segments past their camera's retention (hub.yaml's rule or a plugin's
        shorter cap); returns how many."""
        deleted = 0
        for camera_id in await self.store.recordings.recorded_cameras():
            cam = self.inventory.cameras.get(camera_id)
            rule = rule_for(self.config, cam) if cam else self.config.default
            days = float(rule.retain_days)
            caps = [float(c) for c in await self.retention_caps(camera_id, cam)] if self.retention_caps else []
            capped = bool(caps) and min(caps) < days
            days = min([days, *caps])
            before = utcnow() - timedelta(days=max(days, 0))
            while batch := await self.store.recordings.expired_segments(camera_id, before):
                for _, key in batch:
                    await self.storage.delete(key)
                await self.store.recordings.delete_segments([i for i, _ in batch])
                deleted += len(batch)
            if capped and (kept := await self.store.recordings.locked_before(camera_id, before)):
                log.info("evidence locks keep segments past a camera's retention cap", extra={
                    "camera": camera_id, "segments": kept, "days": days})
        if deleted:
            log.info("retention deleted segments", extra={"segments": deleted})
        return deleted

    async def relieve_pressure(self) -> int:
        """Delete the oldest unlocked segments, of any camera, while recordings exceed
        ``max_storage_gb`` or the volume has less than ``min_free_percent`` free; returns
        how many went.  Locked (evidence) segments are never touched."""
        settings = self.config
        need = 0.0
        if settings.max_storage_gb is not None:
            need = await self.store.recordings.segment_bytes() - settings.max_storage_gb * 1e9
        space = await self.storage.free_space() if settings.min_free_percent else None
        if space is not None:
            free, total = space
            if free < total * settings.min_free_percent / 100:
                # Free a percent more than the floor, so this does not run again a minute later.
                need = max(need, total * (settings.min_free_percent + 1) / 100 - free)
        deleted = freed = 0
        while need > 0:
            batch = await self.store.recordings.oldest_segments(200)
            if not batch:
                log.error("storage is full and every segment left is locked; recordings will fail",
                          extra={"needed_bytes": int(need)})
                break
            taken = []
            for segment_id, key, size in batch:
                await self.storage.delete(key)
                taken.append(segment_id)
                need -= size
                freed += size
                if need <= 0:
                    break
            await self.store.recordings.delete_segments(taken)
            deleted += len(taken)
        if deleted:
            log.warning("storage pressure: deleted the oldest unlocked segments",
                        extra={"segments": deleted, "bytes": freed})
        return deleted


class _Warming:
    """A consumer that only keeps a stream open (and counts its packets) ahead of a hand-over."""

    def __init__(self, key: StreamKey) -> None:
        self.node_id = f"warming:{key[0]}:{key[1].value}"
        self.stats = Figures()

    def begin(self, stream: Any) -> None:
        return

    def packet(self, packet: Any, arrived: float) -> None:
        self.stats.count(packet.size, arrived)

    def end(self) -> None:
        return
