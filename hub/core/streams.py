"""The stream graph: one upstream connection per camera stream, many consumers.

A ``Relay`` opens a camera stream once (through the source's ``MediaInput``)
in its own thread, demuxes packets and hands each to every consumer: the
``Recorder``, ``KeyframeSnapshots`` (JPEGs from the latest keyframe, so a
snapshot opens no connection of its own) and ``HlsOutput`` (live view);
analysers attach the same way.  PyAV work never runs on the event loop.  A
failed or ended upstream is reopened with exponential backoff and jitter.
Media is packet-copied, never transcoded.

The ``Recorder`` remuxes into fragmented MP4 segments (``empty_moov`` plus a
fragment per keyframe) so a file cut short by a crash still plays up to its
last fragment.  Segments start on a keyframe and are cut at the first
keyframe after ``segment_seconds``.  A finished segment is handed to the
event loop, which stores it through the storage backend and indexes it.
Each spooled segment has a JSON sidecar (camera, stream, start), so after a
crash ``recover_spool`` can store what was being written.
"""

from __future__ import annotations

import collections
import hashlib
import io
import json
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av

from hub.core.errors import DeviceAuthFailed, DeviceError
from hub.core.models import GraphNode, NodeKind, NodeStats, StreamRole
from hub.core.retry import Backoff
from hub.core.sources import MediaInput

log = logging.getLogger(__name__)

# Fragmented MP4, and each fragment handed to the OS as soon as it is complete
# (flush_packets), so a killed hub loses at most the fragment being written.
FMP4_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


class PacketConsumer(Protocol):
    """A node fed by a relay.  Every method runs in the relay's thread."""

    node_id: str
    stats: Figures

    def begin(self, stream: Any) -> None:
        """The upstream (re)opened; ``stream`` is the PyAV video stream."""

    def packet(self, packet: av.Packet, arrived: float) -> None:
        """One video packet; ``arrived`` is its wall-clock arrival time."""

    def end(self) -> None:
        """The upstream ended or the relay is stopping."""


class Figures:
    """A node's running figures, bumped per packet in the relay's thread.

    Plain slots, not a pydantic model: assigning to a model costs several
    times more, and a recorded stream brings 25 packets a second.  The API
    sees them as ``NodeStats`` (``model()``).  fps and bitrate are measured
    over windows of about five seconds.
    """

    __slots__ = ("packets", "bytes", "fps", "bitrate", "last_packet", "reconnects", "errors", "last_error",
                 "_window_start", "_frames", "_bits")

    WINDOW = 5.0

    def __init__(self) -> None:
        self.packets = self.bytes = self.bitrate = self.reconnects = self.errors = 0
        self.fps = 0.0
        self.last_packet: float | None = None  # wall-clock arrival of the last packet
        self.last_error: str | None = None
        self._window_start: float | None = None
        self._frames = self._bits = 0

    def count(self, size: int, arrived: float) -> None:
        """One packet of ``size`` bytes that arrived at ``arrived`` (time.time())."""
        self.packets += 1
        self.bytes += size
        self.last_packet = arrived
        self._frames += 1
        self._bits += size * 8
        start = self._window_start
        if start is None or arrived < start:
            self._window_start, self._frames, self._bits = arrived, 0, 0
        elif arrived - start >= self.WINDOW:
            span = arrived - start
            self.fps = round(self._frames / span, 2)
            self.bitrate = int(self._bits / span)
            self._window_start, self._frames, self._bits = arrived, 0, 0

    def model(self) -> NodeStats:
        last = datetime.fromtimestamp(self.last_packet, UTC) if self.last_packet is not None else None
        return NodeStats(packets=self.packets, bytes=self.bytes, fps=self.fps, bitrate=self.bitrate,
                         last_packet_at=last, reconnects=self.reconnects, errors=self.errors,
                         last_error=self.last_error)


#: Refusals of the credentials in a row after which a relay asks only every ``AUTH_RETRY`` seconds:
#: devices lock an account after a few failures, and asking again at once will not help.
AUTH_REFUSALS = 3
AUTH_RETRY = 600.0


class Relay:
    """One upstream connection to a camera stream, fanned out to consumers.

    A camera that refuses the credentials ``AUTH_REFUSALS`` times in a row is
    ``auth_failed`` (stream health raises an ``auth_failed`` event and the
    camera is degraded) and is asked again only every ``AUTH_RETRY`` seconds,
    until it takes them.
    """

    def __init__(self, camera_id: str, role: StreamRole, open_input: Callable[[], MediaInput],
                 backoff_max: float = 60.0, sessions: threading.Semaphore | None = None) -> None:
        self.camera_id = camera_id
        self.role = role
        self.node_id = f"relay:{camera_id}:{role.value}"
        self.stats = Figures()
        self._open_input = open_input
        self._consumers: list[PacketConsumer] = []
        self._started: set[int] = set()  # ids of consumers that had ``begin`` on this connection
        self._lock = threading.Lock()  # held while a packet is handed out
        self._stop = threading.Event()
        self._input: MediaInput | None = None
        self._thread = threading.Thread(target=self._run, name=self.node_id, daemon=True)
        # A stream that ran 30 s before it broke starts the backoff afresh.
        self._retry = Backoff(log, "stream", cap=backoff_max, steady_after=30, extra={"node": self.node_id})
        self.refusals = 0  # the credentials refused in a row
        self.auth_retry = AUTH_RETRY
        #: Shared by the relays of one device: at most so many open at once.
        self._sessions = sessions
        self.waiting = False

    @property
    def auth_failed(self) -> bool:
        """The camera refused the credentials ``AUTH_REFUSALS`` times in a row, and not yet taken them."""
        return self.refusals >= AUTH_REFUSALS

    def add(self, consumer: PacketConsumer) -> None:
        """Attach a consumer; it gets ``begin`` before its first packet."""
        with self._lock:
            self._consumers.append(consumer)

    def remove(self, consumer: PacketConsumer) -> None:
        """Detach a consumer and end it.  Blocks while a packet is being handed out
        (consumers never see two threads at once), and while the consumer ends."""
        with self._lock:
            if consumer not in self._consumers:
                return
            self._consumers.remove(consumer)
            self._started.discard(id(consumer))
            _guard(consumer, consumer.end)

    @property
    def consumers(self) -> list[PacketConsumer]:
        with self._lock:
            return list(self._consumers)

    def start(self) -> None:
        self.started_at = time.time()
        self._thread.start()

    def idle_seconds(self, now: float) -> float:
        """Seconds since the last packet (or since the relay started, before the first)."""
        last = self.stats.last_packet
        return now - (last if last is not None else getattr(self, "started_at", now))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the relay and wait (up to ``timeout`` s) for its consumers to end."""
        self.close()
        self._thread.join(timeout)

    def close(self) -> None:
        """Ask the relay to stop, without waiting: its thread ends its consumers."""
        self._stop.set()
        current = self._input
        if current is not None:
            current.interrupt()

    def _run(self) -> None:
        retry = self._retry
        while not self._stop.is_set():
            retry.started()
            try:
                self._pump()
                reason = "the stream ended"
            except DeviceAuthFailed as err:
                self.stats.errors += 1
                self.stats.last_error = reason = str(err)
                self.refusals += 1
                if self.refusals == AUTH_REFUSALS:
                    log.error("the camera refused the credentials; asking again only now and then",
                              extra={"node": self.node_id, "refusals": self.refusals,
                                     "retry_seconds": self.auth_retry})
            except (DeviceError, av.error.FFmpegError, OSError) as err:
                self.stats.errors += 1
                # FFmpeg messages may echo a URL: log the error class, not its text.
                self.stats.last_error = reason = str(err) if isinstance(err, DeviceError) else type(err).__name__
            except Exception:
                self.stats.errors += 1
                self.stats.last_error = reason = "internal error"
                log.exception("relay crashed; will reconnect", extra={"node": self.node_id})
            finally:
                with self._lock:
                    for consumer in self._consumers:
                        _guard(consumer, consumer.end)
                    self._started.clear()
            if self._stop.is_set():
                break
            self.stats.reconnects += 1
            wait = retry.failed(reason)
            self._stop.wait(self.auth_retry if self.auth_failed else wait)

    def _pump(self) -> None:
        if self._sessions is None:
            self._pump_open()
            return
        self.waiting = True
        self.stats.last_error = "waiting for a free session on the device"
        while not self._sessions.acquire(timeout=0.5):
            if self._stop.is_set():
                return
        self.waiting = False
        self.stats.last_error = None
        self.started_at = time.time()
        try:
            self._pump_open()
        finally:
            self._sessions.release()

    def _pump_open(self) -> None:
        media = self._open_input()
        self._input = media
        try:
            container = media.open()
            self._retry.succeeded()
            self.refusals = 0
            try:
                stream = container.streams.video[0]
                started = self._started
                for packet in container.demux(stream):
                    if self._stop.is_set():
                        break
                    if packet.dts is None or packet.size == 0:
                        continue
                    now = time.time()
                    self.stats.count(packet.size, now)
                    with self._lock:
                        for consumer in self._consumers:
                            if id(consumer) not in started:  # new on this connection
                                started.add(id(consumer))
                                _guard(consumer, consumer.begin, stream)
                            try:  # _guard inlined: this runs for every packet of every consumer
                                consumer.packet(packet, now)
                            except Exception as err:
                                _failed(consumer, err)
            finally:
                container.close()
        finally:
            self._input = None
            media.close()

    def node(self) -> GraphNode:
        return GraphNode(id=self.node_id, kind=NodeKind.RELAY, camera_id=self.camera_id,
                         stream_role=self.role, stats=self.stats.model())


def _mux_shifted(out: Any, stream: Any, packet: av.Packet, shift: int, time_base: Fraction) -> None:
    """Mux ``packet`` into ``stream`` of ``out`` with its timestamps shifted by ``shift``,
    then put the packet back as it was: the relay hands the same packet to every consumer.

    ``time_base`` is the relay stream's (the consumer kept it at ``begin``): reading the
    packet's own makes a new ``Fraction`` per packet, a third of this function's cost.
    """
    dts, pts = packet.dts, packet.pts
    start = int(dts or 0)  # the relay hands out only packets with a dts
    packet.stream = stream
    packet.dts = start + shift
    packet.pts = (pts if pts is not None else start) + shift
    try:
        out.mux(packet)
    finally:
        packet.time_base = time_base  # mux rebases to the output's time base in place
        packet.dts, packet.pts = dts, pts


def _guard(consumer: PacketConsumer, method: Callable[..., None], *args: Any) -> None:
    """A failing consumer is counted and logged; the relay and the others go on."""
    try:
        method(*args)
    except Exception as err:
        _failed(consumer, err)


def _failed(consumer: PacketConsumer, err: Exception) -> None:
    consumer.stats.errors += 1
    consumer.stats.last_error = type(err).__name__
    log.error("stream consumer failed", exc_info=err, extra={"node": consumer.node_id})


@dataclass
class FinishedSegment:
    """A closed segment file in the spool, ready to be stored and indexed."""

    camera_id: str
    role: StreamRole
    path: Path
    start: datetime
    duration: float
    size: int
    sha256: str

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration)

    @property
    def sidecar(self) -> Path:
        """The JSON next to a spooled segment saying whose it is and when it started."""
        return self.path.with_suffix(".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def recover_spool(spool: Path) -> list[FinishedSegment]:
    """Segments a crash left in the spool, ready to be stored and indexed.

    A fragmented MP4 cut short plays up to its last whole fragment, so what
    decodes is kept and its duration measured; a file with nothing playable
    is removed.  Runs in a worker thread (it demuxes every file).
    """
    found = []
    for sidecar in sorted(spool.rglob("*.json")):
        path = sidecar.with_suffix(".mp4")
        try:
            meta = json.loads(sidecar.read_text())
        except (ValueError, OSError) as err:
            log.warning("unreadable spool sidecar left in place", extra={"file": sidecar.name, "error": str(err)})
            continue
        try:
            duration = _playable_seconds(path) if path.exists() else 0.0
        except av.error.FFmpegError:
            duration = 0.0  # cut before its first fragment: nothing in it plays
        if duration <= 0:
            log.info("spooled segment with nothing playable removed",
                     extra={"file": path.name, "bytes": path.stat().st_size if path.exists() else 0})
            path.unlink(missing_ok=True)
            sidecar.unlink()
            continue
        found.append(FinishedSegment(meta["camera_id"], StreamRole(meta["role"]), path,
                                     datetime.fromisoformat(meta["start"]), duration,
                                     path.stat().st_size, _sha256(path)))
    return found


def _playable_seconds(path: Path) -> float:
    first = last = None
    step = 0
    tb = Fraction(1, 90000)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base or tb
        try:
            for packet in container.demux(stream):
                if packet.dts is None or packet.size == 0:
                    continue
                if first is None:
                    first = packet.dts
                if last is not None and packet.dts > last:
                    step = packet.dts - last
                last = packet.dts
        except av.error.FFmpegError:
            pass  # the torn end of a file cut short
    if first is None or last is None:
        return 0.0
    return float((last - first + step) * tb)


class Recorder:
    """Continuous recording of one camera stream into fMP4 segments."""

    def __init__(self, camera_id: str, role: StreamRole, spool: Path, segment_seconds: float,
                 on_segment: Callable[[FinishedSegment], None]) -> None:
        self.camera_id = camera_id
        self.role = role
        self.node_id = f"recorder:{camera_id}:{role.value}"
        self.stats = Figures()
        self.spool = spool
        self.segment_seconds = segment_seconds
        self.on_segment = on_segment
        self._template: Any = None
        self._out: Any = None
        self._ost: Any = None
        self._path: Path | None = None
        self._first_dts = 0
        self._last_dts = 0
        self._frame_ticks = 0
        # (arrival time, dts) of the packet that came soonest after its own timestamp:
        # wall-clock times of the recording are told from it, so a late first packet
        # (a burst after connecting) does not push the whole recording late.
        self._anchor: tuple[float, int] | None = None
        self._seen_dts = 0  # dts of the last packet the anchor saw
        # Where the last stored segment ended: the next starts no earlier, whatever the
        # camera's timestamps do (two segments with one start would share a storage key).
        self._last_end: datetime | None = None
        self._tbf = 1 / 90000
        self._start: datetime | None = None
        self._tb = Fraction(1, 90000)

    def begin(self, stream: Any) -> None:
        self._close()
        self._template = stream
        self._tb = stream.time_base
        self._tbf = float(stream.time_base)
        self._anchor = None

    def packet(self, packet: av.Packet, arrived: float) -> None:
        if self._template is None:
            return
        dts = int(packet.dts or 0)  # the relay passes only packets with a dts
        anchor = self._anchor
        went_back = anchor is not None and dts < self._seen_dts
        if went_back:  # the open segment is told by the clock it was recorded on, before that one goes
            self._close()
        # Timestamps that went back (a camera reboot or encoder restart, a shared-media
        # server restarting its clock for a new client) start the anchor afresh: the old
        # one would label the new frames with times that are already recorded.
        if anchor is None or went_back or arrived < anchor[0] + (dts - anchor[1]) * self._tbf:
            self._anchor = (arrived, dts)
        self._seen_dts = dts
        if self._out is not None:
            elapsed = (dts - self._first_dts) * self._tbf
            if packet.is_keyframe and elapsed >= self.segment_seconds:
                self._close(end_dts=dts)
            elif dts < self._last_dts:  # timestamps jumped back (camera restart): start afresh
                self._close()
        if self._out is None:
            if not packet.is_keyframe:
                return  # a segment must start on a keyframe
            self._open(dts)
        if dts > self._last_dts:
            self._frame_ticks = dts - self._last_dts
        self._last_dts = dts
        _mux_shifted(self._out, self._ost, packet, -self._first_dts, self._tb)
        self.stats.count(packet.size, arrived)

    def end(self) -> None:
        self._close()
        self._template = None

    def _wall(self, dts: int) -> datetime:
        """When the frame with ``dts`` was taken, as well as arrivals tell."""
        assert self._anchor is not None
        wall, anchor_dts = self._anchor
        return datetime.fromtimestamp(wall + float((dts - anchor_dts) * self._tb), UTC)

    def _wall_start(self, dts: int) -> datetime:
        """When a segment whose first frame has ``dts`` starts: its frame's time, but never
        before the end of the segment stored last."""
        start = self._wall(dts)
        return max(start, self._last_end) if self._last_end is not None else start

    def _open(self, dts: int) -> None:
        self._start = self._wall_start(dts)  # provisional (the spool's sidecar); told again at the close
        self.spool.mkdir(parents=True, exist_ok=True)
        self._path = self.spool / f"{uuid.uuid4().hex}.mp4"
        self._path.with_suffix(".json").write_text(json.dumps(
            {"camera_id": self.camera_id, "role": self.role.value, "start": self._start.isoformat()}))
        self._out = av.open(str(self._path), "w", format="mp4", options=FMP4_OPTIONS)
        self._ost = self._out.add_stream_from_template(self._template)
        self._first_dts = self._last_dts = dts
        self._frame_ticks = 0

    def _close(self, end_dts: int | None = None) -> None:
        if self._out is None:
            return
        out, path = self._out, self._path
        start = self._wall_start(self._first_dts) if self._start is not None else None
        self._out = self._ost = self._path = None
        try:
            out.close()
        except av.error.FFmpegError as err:
            log.warning("closing segment failed", extra={"node": self.node_id, "error": type(err).__name__})
        if path is None or start is None:
            return
        if end_dts is None:
            end_dts = self._last_dts + self._frame_ticks
        duration = float((end_dts - self._first_dts) * self._tb)
        if duration <= 0:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
            return
        self._last_end = start + timedelta(seconds=duration)
        self.on_segment(FinishedSegment(self.camera_id, self.role, path, start, duration,
                                        path.stat().st_size, _sha256(path)))

    def node(self) -> GraphNode:
        return GraphNode(id=self.node_id, kind=NodeKind.RECORDER, camera_id=self.camera_id,
                         stream_role=self.role, stats=self.stats.model())


class EventRecorder(Recorder):
    """Recording while events say so, with the seconds before the event as pre-roll.

    Between events it keeps the last ``pre_roll`` seconds in memory, as whole
    GOPs from a keyframe (packets are references, not copies).  ``trigger``
    (from any thread) says until when to record: when that moment lies ahead,
    the buffered GOPs go into a new segment first, so the recording starts
    on the keyframe at or before ``pre_roll`` seconds before the event; once
    it has passed, the open segment is closed and buffering resumes.
    Segments are still cut every ``segment_seconds`` while recording.
    """

    def __init__(self, camera_id: str, role: StreamRole, spool: Path, segment_seconds: float,
                 on_segment: Callable[[FinishedSegment], None], pre_roll: float) -> None:
        super().__init__(camera_id, role, spool, segment_seconds, on_segment)
        self.node_id = f"event-recorder:{camera_id}:{role.value}"
        self.pre_roll = pre_roll
        self.until = 0.0  # record packets that arrive before this time.time()
        self._gops: collections.deque[list[tuple[av.Packet, float]]] = collections.deque()

    def trigger(self, until: float) -> None:
        """Record packets arriving up to ``until`` (a time.time()); 0 stops at once."""
        self.until = until

    def begin(self, stream: Any) -> None:
        self._gops.clear()
        super().begin(stream)

    def packet(self, packet: av.Packet, arrived: float) -> None:
        if self._template is None:
            return
        wanted = arrived <= self.until
        if wanted:
            if self._out is None and self._gops:  # the event starts: its pre-roll first
                self._prune(arrived)
                for gop in self._gops:
                    for old, when in gop:
                        super().packet(old, when)
                self._gops.clear()
            super().packet(packet, arrived)
            return
        if self._out is not None:
            self._close()
        self._keep(packet, arrived)

    def _keep(self, packet: av.Packet, arrived: float) -> None:
        if packet.is_keyframe:
            self._gops.append([(packet, arrived)])
            self._prune(arrived)
        elif self._gops:
            self._gops[-1].append((packet, arrived))

    def _prune(self, now: float) -> None:
        """Drop GOPs the pre-roll no longer reaches: the next one starts early enough."""
        while len(self._gops) > 1 and self._gops[1][0][1] <= now - self.pre_roll:
            self._gops.popleft()

    def end(self) -> None:
        self._gops.clear()
        super().end()

    def node(self) -> GraphNode:
        return GraphNode(id=self.node_id, kind=NodeKind.RECORDER, camera_id=self.camera_id,
                         stream_role=self.role, stats=self.stats.model())


class KeyframeSnapshots:
    """Keeps a stream's latest keyframe; decodes it into a JPEG when asked.

    A consumer of a relay that already runs (for recording, say), so a
    snapshot costs no upstream connection: cameras and NVRs allow few RTSP
    sessions and partner links are thin.  Only keyframes are decoded, each
    at most once per ``cache_seconds``.  ``packet`` runs in the relay's
    thread; ``jpeg`` in any other (it blocks while it decodes).
    """

    def __init__(self, camera_id: str, role: StreamRole, cache_seconds: float = 2.0, quality: int = 80) -> None:
        self.camera_id = camera_id
        self.role = role
        self.node_id = f"snapshotter:{camera_id}:{role.value}"
        self.stats = Figures()
        self.cache_seconds = cache_seconds
        self.quality = quality
        self._lock = threading.Lock()
        self._codec: tuple[str, bytes | None] | None = None
        self._keyframe: tuple[bytes, float] | None = None  # packet data, when it arrived
        self._cached: tuple[float, bytes] | None = None  # the keyframe's arrival, its JPEG

    def begin(self, stream: Any) -> None:
        ctx = stream.codec_context
        with self._lock:
            self._codec = (ctx.name, bytes(ctx.extradata) if ctx.extradata else None)
            self._keyframe = None

    def packet(self, packet: av.Packet, arrived: float) -> None:
        if packet.is_keyframe:
            data = bytes(packet)
            with self._lock:
                self._keyframe = (data, arrived)
            self.stats.count(len(data), arrived)

    def end(self) -> None:
        with self._lock:
            self._keyframe = None  # the stream stopped: its last picture is no longer "now"

    def jpeg(self, max_age: float = 10.0) -> bytes | None:
        """A JPEG of the latest keyframe, or None when there is none younger than ``max_age`` s."""
        with self._lock:
            keyframe, codec, cached = self._keyframe, self._codec, self._cached
        if keyframe is None or codec is None or time.time() - keyframe[1] > max_age:
            return None
        if cached is not None and cached[0] == keyframe[1]:
            return cached[1]
        if cached is not None and time.time() - cached[0] < self.cache_seconds:
            return cached[1]
        frame = self._decode(keyframe[0], codec)
        if frame is None:
            return None
        out = io.BytesIO()
        frame.to_image().save(out, format="JPEG", quality=self.quality)
        jpeg = out.getvalue()
        with self._lock:
            self._cached = (keyframe[1], jpeg)
        return jpeg

    def thumbnail(self, width: int = 64, height: int = 36) -> tuple[float, Any] | None:
        """The latest keyframe as a small grey picture (a NumPy array) with its arrival
        time, for picture checks (frozen, black); None before the first keyframe."""
        with self._lock:
            keyframe, codec = self._keyframe, self._codec
        if keyframe is None or codec is None:
            return None
        frame = self._decode(keyframe[0], codec)
        if frame is None:
            return None
        return keyframe[1], frame.reformat(width=width, height=height, format="gray").to_ndarray()

    def _decode(self, data: bytes, codec: tuple[str, bytes | None]) -> Any:
        try:
            decoder: Any = av.CodecContext.create(codec[0], "r")
            if codec[1]:
                decoder.extradata = codec[1]
            frames = list(decoder.decode(av.Packet(data))) + list(decoder.decode(None))
        except av.error.FFmpegError as err:
            self.stats.errors += 1
            self.stats.last_error = type(err).__name__
            return None
        return frames[0] if frames else None

    def node(self) -> GraphNode:
        return GraphNode(id=self.node_id, kind=NodeKind.SNAPSHOTTER, camera_id=self.camera_id,
                         stream_role=self.role, stats=self.stats.model())


class LiveRemux:
    """A live output that copies packets (never transcodes) onto one timeline that runs on.

    The timeline continues across upstream reconnects (the next connection
    resumes on a keyframe, right after the last frame written) so a player
    keeps playing; timestamps that jump back (a camera restart) re-anchor on
    the next keyframe; a new codec or picture size closes the muxer, and the
    next ``_open`` starts a new generation.  Subclasses say where the muxer
    writes (``_open``) and what they do with its output.  ``packet`` runs in
    the relay's thread.
    """

    def __init__(self, camera_id: str, role: StreamRole, node_id: str) -> None:
        self.camera_id = camera_id
        self.role = role
        self.node_id = node_id
        self.stats = Figures()
        self._template: Any = None
        self._params: tuple[Any, ...] | None = None
        self._tb = Fraction(1, 90000)  # the relay stream's time base
        self._out: Any = None
        self._ost: Any = None
        self._generation = 0
        self._offset: int | None = None  # output dts minus input dts on this connection
        self._last_dts: int | None = None
        self._frame_ticks = 1

    def begin(self, stream: Any) -> None:
        ctx = stream.codec_context
        params = (ctx.name, bytes(ctx.extradata or b""), ctx.width, ctx.height, stream.time_base)
        if self._out is not None and params != self._params:
            self._close_muxer()  # a new codec or picture size needs a new init segment
        self._template, self._params, self._offset, self._tb = stream, params, None, params[4]

    def packet(self, packet: av.Packet, arrived: float) -> None:
        if self._template is None:
            return
        dts = int(packet.dts or 0)
        if self._offset is not None and self._last_dts is not None and dts + self._offset <= self._last_dts:
            self._offset = None  # timestamps jumped back (camera restart): re-anchor on a keyframe
        if self._offset is None:
            if not packet.is_keyframe:
                return
            resume = 0 if self._last_dts is None else self._last_dts + self._frame_ticks
            self._offset = resume - dts
        if self._out is None:
            self._start()
        out_dts = dts + self._offset
        if self._last_dts is not None and out_dts > self._last_dts:
            self._frame_ticks = out_dts - self._last_dts
        self._last_dts = out_dts
        self._mux(packet)
        self.stats.count(packet.size, arrived)

    def _mux(self, packet: av.Packet) -> None:
        _mux_shifted(self._out, self._ost, packet, self._offset or 0, self._tb)

    def end(self) -> None:
        # The upstream ended: keep the muxer; a reconnect carries on.
        self._template, self._offset = None, None

    def _start(self) -> None:
        generation = self._generation
        self._generation += 1
        self._out = self._open(generation)
        self._ost = self._add_stream(self._out)

    def _open(self, generation: int) -> Any:
        """A new output container for generation ``generation`` (0, 1, ...)."""
        raise NotImplementedError

    def _add_stream(self, out: Any) -> Any:
        """The output's video stream: the relay stream's, its packets copied."""
        return out.add_stream_from_template(self._template)

    def _close_muxer(self) -> None:
        out, self._out, self._ost = self._out, None, None
        self._last_dts, self._offset = None, None
        if out is not None:
            try:
                out.close()
            except av.error.FFmpegError as err:
                log.warning("closing live output failed", extra={"node": self.node_id, "error": type(err).__name__})


class HlsOutput(LiveRemux):
    """Live HLS of one camera stream: a playlist and fMP4 segments in a directory.

    Packets are copied by FFmpeg's HLS muxer onto ``LiveRemux``'s timeline; a
    new generation of files starts with a discontinuity.
    """

    PLAYLIST = "index.m3u8"

    def __init__(self, camera_id: str, role: StreamRole, directory: Path, segment_seconds: float = 2.0,
                 playlist_segments: int = 6) -> None:
        super().__init__(camera_id, role, f"live:{camera_id}:{role.value}")
        self.directory = directory
        self.segment_seconds = segment_seconds
        self.playlist_segments = playlist_segments

    @property
    def playlist(self) -> Path:
        return self.directory / self.PLAYLIST

    def close(self) -> None:
        """Finish writing and remove the files (blocking)."""
        self._close_muxer()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _open(self, generation: int) -> Any:
        self.directory.mkdir(parents=True, exist_ok=True)
        flags = "delete_segments+independent_segments+temp_file+omit_endlist"
        options = {
            "hls_time": f"{self.segment_seconds:g}",
            "hls_list_size": str(self.playlist_segments),
            "hls_segment_type": "fmp4",
            "hls_flags": flags + ("+discont_start" if generation else ""),
            "hls_fmp4_init_filename": f"init{generation}.mp4",
            "hls_segment_filename": str(self.directory / f"s{generation}_%06d.m4s"),
            "start_number": str(generation * 1_000_000),
        }
        return av.open(str(self.playlist), "w", format="hls", options=options)

    def node(self) -> GraphNode:
        return GraphNode(id=self.node_id, kind=NodeKind.LIVE, camera_id=self.camera_id,
                         stream_role=self.role, stats=self.stats.model())
