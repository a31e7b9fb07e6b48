"""Health monitoring: every source checked on a schedule, changes debounced.

Each source is checked every ``health.interval_seconds`` by a scheduled job
of its own, with jitter so thousands of devices are not polled in lockstep,
and at most ``health.concurrency`` checks at a time.  A check probes the
source (``CameraSource.probe``): reachable, the password still accepted,
each channel online; a source that refuses the credentials is left alone
for ``AUTH_RETRY`` seconds, as its relays are (devices lock accounts).  A source whose probe would open media sessions
(``probe_opens_streams``: a plain RTSP camera) is not probed while the hub
receives all its cameras' streams: their relays' figures tell.  A camera's new status counts
only once ``confirm_checks`` checks in a row agree, so a camera that flaps
every few seconds yields a bounded number of events.  Each confirmed change
updates the camera's status, is recorded (uptime and availability reports
read it) and is published as an ``online``, ``offline`` or ``degraded``
event.  A third change within ``flap_window_seconds`` marks the camera as
flapping: one ``degraded`` event, then silence until it has kept one status
for a whole window.  So however often a camera flaps, it yields at most four
events per window.  A failure to check is logged once, and the recovery once.

With several nodes (``mine``), each camera is checked by its owner only, which
alone records and publishes its changes; every node reads the others' cameras'
statuses from the store each interval (``follow_others``), so any node's
inventory, API and pages tell the same.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.core.errors import DeviceAuthFailed, DeviceError
from hub.core.models import CameraStatus, Event, EventKind, EventState, utcnow
from hub.core.streams import AUTH_RETRY

if TYPE_CHECKING:
    from hub.core.config import HealthConfig
    from hub.core.scheduler import Scheduler
    from hub.graph import StreamGraph
    from hub.inventory import Inventory
    from hub.store.status import StatusHistory

log = logging.getLogger(__name__)

#: A source's clock offset is kept this often (and whenever it moves by a second or more).
CLOCK_SAMPLE_SECONDS = 600.0

KIND = {CameraStatus.ONLINE: EventKind.ONLINE, CameraStatus.OFFLINE: EventKind.OFFLINE,
        CameraStatus.DEGRADED: EventKind.DEGRADED}


@dataclass
class _Pending:
    status: CameraStatus
    seen: int
    reason: str | None


@dataclass
class _Flapping:
    last: CameraStatus  # the last status observed
    since: float  # monotonic time it was first observed


class HealthMonitor:
    """Checks of every source of ``inventory``; confirmed changes recorded in ``store`` and
    published.  ``graph`` (the stream graph, when the hub receives streams) tells which
    cameras' pictures are wrong and which need no probe."""

    def __init__(self, inventory: Inventory, store: StatusHistory, publish: Callable[[Event], None],
                 settings: HealthConfig, graph: StreamGraph | None = None,
                 mine: Callable[[str], bool] | None = None) -> None:
        self.inventory = inventory
        #: With several nodes: whether this node owns a camera (and so checks it).
        self.mine = mine
        self.store = store
        self.publish = publish
        self.graph = graph
        self.settings = settings
        self._gate = asyncio.Semaphore(settings.concurrency)
        self._pending: dict[str, _Pending] = {}
        self._changes: dict[str, deque[float]] = {}
        self._flapping: dict[str, _Flapping] = {}
        self._failing: set[str] = set()
        #: Each source's last kept clock offset: (when, monotonic; seconds).
        self._clock_kept: dict[str, tuple[float, float]] = {}
        #: Sources that refused the credentials, and until when (monotonic) they are left alone:
        #: devices lock an account after a few failed logins.
        self._refused: dict[str, float] = {}
        self._storage_ok: dict[str, bool] = {}
        #: Checks finished per source since the start (a check paused for refused credentials is none).
        self.checks_done: dict[str, int] = {}

    def schedule(self, scheduler: Scheduler) -> None:
        for name in self.inventory.sources:
            self.watch(scheduler, name)
        if self.mine is not None:
            scheduler.add("health:others", self.follow_others, "interval", seconds=self.settings.interval_seconds)

    async def follow_others(self) -> None:
        """The statuses other nodes confirmed for the cameras they own, from the store."""
        mine = self.mine
        if mine is None:
            return
        for camera_id, (status, _) in (await self.store.current_status()).items():
            camera = self.inventory.cameras.get(camera_id)
            if camera is not None and not mine(camera_id) and camera.status.value != status:
                self.inventory.cameras[camera_id] = camera.model_copy(update={"status": CameraStatus(status)})

    def watch(self, scheduler: Scheduler, name: str) -> None:
        """Check source ``name`` every ``health.interval_seconds`` (with jitter) from now on."""
        every = self.settings.interval_seconds
        scheduler.add(f"health:{name}", functools.partial(self.check, name), "interval",
                      seconds=every, jitter=max(0, int(every // 3)))

    def unwatch(self, scheduler: Scheduler, name: str) -> None:
        """No more checks of source ``name`` (a source taken out of the running hub)."""
        scheduler.remove(f"health:{name}")

    async def check(self, name: str) -> None:
        source = self.inventory.sources[name]
        cameras = self.inventory.cameras_of(name)
        if self.mine is not None:
            cameras = [c for c in cameras if self.mine(c.id)]
            if not cameras:
                return  # their owners check them
        found: dict[str, tuple[CameraStatus, str | None]]
        if self._refused.get(name, 0.0) > time.monotonic():
            return  # refused the credentials: asked again when the pause is over
        if source.probe_opens_streams and cameras and all(self._received(c.id) for c in cameras):
            # Probing would open another session to each stream the hub already receives.
            for camera in cameras:
                await self._observe(camera.id, *self._by_stream(camera.id, CameraStatus.ONLINE, None))
            self.checks_done[name] = self.checks_done.get(name, 0) + 1
            return
        async with self._gate:
            try:
                async with asyncio.timeout(self.settings.timeout_seconds):
                    found = {c.id: (c.status, None) for inv in await source.probe() for c in inv.cameras}
                drift = source.diagnostics.get("clock_drift_seconds")
                if drift is not None:
                    await self._keep_clock_offset(name, float(drift))
                if drift is not None and abs(drift) > self.settings.max_clock_drift_seconds:
                    reason = f"device clock {drift:+.0f} s off"
                    found = {cid: ((CameraStatus.DEGRADED, reason) if st in (CameraStatus.ONLINE, CameraStatus.UNKNOWN)
                                   else (st, why)) for cid, (st, why) in found.items()}
                await self._storage(name, source.diagnostics.get("storage_ok"))
                self._refused.pop(name, None)
                if name in self._failing:
                    log.info("source reachable again", extra={"source": name})
                    self._failing.discard(name)
            except DeviceAuthFailed as err:
                found = {c.id: (CameraStatus.DEGRADED, str(err)) for c in cameras}
                self._note_failure(name, str(err))
                self._refused[name] = time.monotonic() + AUTH_RETRY  # as its relays wait
            except (DeviceError, TimeoutError) as err:
                limit = self.settings.timeout_seconds
                reason = str(err) if isinstance(err, DeviceError) else f"no answer within {limit:g} s"
                found = {c.id: (CameraStatus.OFFLINE, reason) for c in cameras}
                self._note_failure(name, reason)
        for camera in cameras:
            status, why = found.get(camera.id, (CameraStatus.OFFLINE, "channel gone from the device"))
            if status == CameraStatus.UNKNOWN:
                status = CameraStatus.ONLINE  # reachable, and the device says nothing against it
            await self._observe(camera.id, *self._by_stream(camera.id, status, why))
        self.checks_done[name] = self.checks_done.get(name, 0) + 1

    async def _keep_clock_offset(self, name: str, drift: float) -> None:
        """Keep the source's clock offset, once every ``CLOCK_SAMPLE_SECONDS`` (or when it moved by
        a second or more): an evidence bundle states it for the time of recording."""
        now = time.monotonic()
        last = self._clock_kept.get(name)
        if last is not None and now - last[0] < CLOCK_SAMPLE_SECONDS and abs(last[1] - drift) < 1:
            return
        self._clock_kept[name] = (now, drift)
        await self.store.record_clock_offset(name, utcnow(), drift)

    def _received(self, camera_id: str) -> bool:
        """Whether the hub receives a stream of the camera now (a packet within the stall limit)."""
        return self.graph is not None and self.graph.receiving(camera_id, self.settings.stall_seconds)

    def _by_stream(self, camera_id: str, status: CameraStatus,
                   why: str | None) -> tuple[CameraStatus, str | None]:
        """An online camera whose received picture is wrong (stalled, frozen, ...) is degraded."""
        graph = self.graph
        if status == CameraStatus.ONLINE and graph is not None and (problems := graph.problems_of(camera_id)):
            return CameraStatus.DEGRADED, "; ".join(problems)  # answers, but its picture is wrong
        return status, why

    async def _storage(self, name: str, ok: bool | None) -> None:
        """A storage fault of a source's device: one event when it starts, one when it ends."""
        if ok is None:
            return
        key = f"storage:{name}"
        was = self._storage_ok.get(name, True)
        if ok == was:
            self._pending.pop(key, None)
            return
        pending = self._pending.setdefault(key, _Pending(CameraStatus.UNKNOWN, 0, None))
        pending.seen += 1
        if pending.seen < self.settings.confirm_checks:
            return
        del self._pending[key]
        self._storage_ok[name] = ok
        devices = {c.device_id for c in self.inventory.cameras_of(name)}
        for device_id in sorted(devices):
            self.publish(Event(device_id=device_id, kind=EventKind.STORAGE_FAULT, source="health",
                                   state=EventState.STOP if ok else EventState.START,
                                   data={"source": name}))

    def _note_failure(self, name: str, reason: str) -> None:
        if name not in self._failing:
            log.warning("source check failed", extra={"source": name, "error": reason})
            self._failing.add(name)

    async def _observe(self, camera_id: str, status: CameraStatus, reason: str | None) -> None:
        camera = self.inventory.cameras.get(camera_id)
        if camera is None:
            return
        flap = self._flapping.get(camera_id)
        if flap is not None:
            now = time.monotonic()
            if status != flap.last:
                flap.last, flap.since = status, now
            elif now - flap.since >= self.settings.flap_window_seconds:
                del self._flapping[camera_id]  # steady for a whole window: trust it again
                self._changes.pop(camera_id, None)
                await self.confirm(camera_id, status, reason)
            return
        if status == camera.status:
            self._pending.pop(camera_id, None)
            return
        pending = self._pending.get(camera_id)
        if pending is None or pending.status != status:
            pending = self._pending[camera_id] = _Pending(status, 0, reason)
        pending.seen += 1
        if pending.seen < self.settings.confirm_checks and camera.status != CameraStatus.UNKNOWN:
            return
        del self._pending[camera_id]
        await self.confirm(camera_id, status, reason)

    async def confirm(self, camera_id: str, status: CameraStatus, reason: str | None) -> None:
        camera = self.inventory.cameras[camera_id]
        previous = camera.status
        if previous != CameraStatus.UNKNOWN and camera_id not in self._flapping:
            tick = time.monotonic()
            changes = self._changes.setdefault(camera_id, deque())
            changes.append(tick)
            while changes and tick - changes[0] > self.settings.flap_window_seconds:
                changes.popleft()
            if len(changes) >= 3:
                self._flapping[camera_id] = _Flapping(status, tick)
                status = CameraStatus.DEGRADED
                reason = f"flapping: {len(changes)} changes within {self.settings.flap_window_seconds:g} s"
        self.inventory.cameras[camera_id] = camera.model_copy(update={"status": status})
        now = utcnow()
        await self.store.record_status(camera_id, status.value, now, reason)
        if previous == CameraStatus.UNKNOWN and status == CameraStatus.ONLINE:
            return  # the first answer is not news
        self.publish(Event(camera_id=camera_id, device_id=camera.device_id, kind=KIND[status],
                               state=EventState.PULSE, at=now, source="health",
                               data={"previous": previous.value, **({"reason": reason} if reason else {})}))
