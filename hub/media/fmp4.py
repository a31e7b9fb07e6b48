"""Low-latency live view: fragmented MP4 for Media Source Extensions, one fragment per frame.

``Fmp4Live`` is a live output of the stream graph like ``HlsOutput``, and on
the same timeline (``LiveRemux``), but its muxer writes into memory, not
files: an init segment (``ftyp`` and ``moov``), then a fragment (``moof``
and ``mdat``) per frame, handed to every ``Feed`` (a WebSocket of the API)
as soon as it is complete.  Packets are copied, never transcoded: the
delay the hub adds is one frame (FFmpeg's MP4 muxer closes a fragment when
the next frame comes).  A feed that joins gets the init segment and the
fragments since the last keyframe, so its first picture comes at once; one
that falls behind (a thin link) loses fragments up to the next keyframe
instead of making the hub hold seconds of video for it.

``mime_type`` reads the codec string a browser asks for
(``video/mp4; codecs="avc1.64001f"``) out of the init segment itself, so it
holds for whatever the camera sends.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import av

from hub.core.models import GraphNode, NodeKind, StreamRole
from hub.core.streams import LiveRemux

#: One fragment per frame, the init segment first and apart (what MSE wants), and no seeking back.
MOVFLAGS = "empty_moov+default_base_moof+frag_every_frame"


@dataclass(frozen=True, slots=True)
class Chunk:
    """What a feed sends: an init segment (``mime`` set) or a media fragment."""

    data: bytes
    keyframe: bool
    mime: str | None = None


class Feed:
    """The chunks waiting for one subscriber; filled in the relay's thread, read on the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_bytes: int) -> None:
        self._loop = loop
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: deque[Chunk | None] = deque()
        self._bytes = 0
        self._ready = asyncio.Event()
        self._skipping = False

    def offer(self, chunk: Chunk | None) -> None:
        """Queue ``chunk`` (None: the output ended).  Called with the output's lock held."""
        with self._lock:
            if chunk is not None and chunk.mime is None:
                if self._skipping and not chunk.keyframe:
                    return
                if self._bytes + len(chunk.data) > self._max_bytes:
                    self._skipping = True  # behind: go on from the next keyframe that fits
                    return
                self._skipping = False
            self._items.append(chunk)
            self._bytes += len(chunk.data) if chunk is not None else 0
        self._loop.call_soon_threadsafe(self._ready.set)

    async def next(self, within: float) -> list[Chunk | None]:
        """The chunks queued, waiting up to ``within`` seconds for one; [] when none came."""
        try:
            await asyncio.wait_for(self._ready.wait(), within)
        except TimeoutError:
            return []
        with self._lock:
            self._ready.clear()
            items = list(self._items)
            self._items.clear()
            self._bytes = 0
        return items


class Fmp4Live(LiveRemux):
    """A camera stream as fragmented MP4 in memory, for every subscribed feed."""

    #: Fragments kept for a newcomer: those since the last keyframe (at most this many).
    MAX_GOP = 600

    def __init__(self, camera_id: str, role: StreamRole, feed_bytes: int = 4 << 20) -> None:
        super().__init__(camera_id, role, f"live-mse:{camera_id}:{role.value}")
        self.feed_bytes = feed_bytes
        self._lock = threading.Lock()
        self._feeds: set[Feed] = set()
        self._ftyp = b""
        self._moof = b""
        self._init: Chunk | None = None
        self._gop: list[Chunk] = []
        self._keys: deque[bool] = deque()  # keyframe or not, of each packet muxed and not yet out

    def subscribe(self, loop: asyncio.AbstractEventLoop) -> Feed:
        """A new feed, given the init segment and the fragments since the last keyframe."""
        feed = Feed(loop, self.feed_bytes)
        with self._lock:
            if self._init is not None:
                for chunk in (self._init, *self._gop):
                    feed.offer(chunk)
            self._feeds.add(feed)
        return feed

    def unsubscribe(self, feed: Feed) -> None:
        with self._lock:
            self._feeds.discard(feed)

    def close(self) -> None:
        """End the muxer and every feed (blocking)."""
        self._close_muxer()
        with self._lock:
            for feed in self._feeds:
                feed.offer(None)
            self._feeds.clear()
            self._init, self._gop = None, []

    def _open(self, generation: int) -> Any:
        self._keys.clear()
        return av.open(_Boxes(self._box), "w", format="mp4", options={"movflags": MOVFLAGS, "flush_packets": "1"})

    def _mux(self, packet: av.Packet) -> None:
        self._keys.append(bool(packet.is_keyframe))
        super()._mux(packet)

    def _box(self, kind: bytes, box: bytes) -> None:
        """A whole top-level box from the muxer (in the relay's thread, inside ``mux``)."""
        if kind == b"ftyp":
            self._ftyp = box
        elif kind == b"moov":
            init = self._ftyp + box
            self._publish(Chunk(init, True, mime_type(init)), first=True)
        elif kind == b"moof":
            self._moof = box
        elif kind == b"mdat" and self._moof:
            samples = max(1, sample_count(self._moof))
            keyframe = self._keys[0] if self._keys else False
            for _ in range(min(samples, len(self._keys))):
                self._keys.popleft()
            self._publish(Chunk(self._moof + box, keyframe))
            self._moof = b""
        # anything else (the trailer's mfra) is no use to a live player

    def _publish(self, chunk: Chunk, first: bool = False) -> None:
        with self._lock:
            if first:
                self._init, self._gop = chunk, []
            elif chunk.keyframe or len(self._gop) >= self.MAX_GOP:
                self._gop = [chunk] if chunk.keyframe else []
            else:
                self._gop.append(chunk)
            for feed in self._feeds:
                feed.offer(chunk)

    def node(self) -> GraphNode:
        return GraphNode(id=self.node_id, kind=NodeKind.LIVE, camera_id=self.camera_id,
                         stream_role=self.role, stats=self.stats.model())


class _Boxes:
    """A file PyAV writes into, which cuts what it is given into top-level ISO BMFF boxes."""

    def __init__(self, whole: Any) -> None:
        self._whole = whole
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) >= 8:
            size = int.from_bytes(self._buffer[:4], "big")
            if size == 1 and len(self._buffer) >= 16:
                size = int.from_bytes(self._buffer[8:16], "big")
            if size < 8 or len(self._buffer) < size:
                break  # the rest of the box is still to come (size 0, to the end, never in fragments)
            box = bytes(self._buffer[:size])
            del self._buffer[:size]
            self._whole(box[4:8], box)
        return len(data)


def _children(box: bytes, start: int = 8) -> list[tuple[bytes, bytes]]:
    """The boxes inside ``box`` (its payload from ``start``)."""
    found = []
    at = start
    while at + 8 <= len(box):
        size = int.from_bytes(box[at:at + 4], "big")
        if size < 8 or at + size > len(box):
            break
        found.append((box[at + 4:at + 8], box[at:at + size]))
        at += size
    return found


def sample_count(moof: bytes) -> int:
    """How many samples (frames) a ``moof`` describes: the sum of its ``trun`` boxes' counts."""
    total = 0
    for kind, traf in _children(moof):
        if kind == b"traf":
            for inner, trun in _children(traf):
                if inner == b"trun" and len(trun) >= 16:
                    total += int.from_bytes(trun[12:16], "big")
    return total


def mime_type(init: bytes) -> str:
    """``video/mp4; codecs="..."`` of an init segment, with the codec string RFC 6381 gives."""
    for entry in (b"avc1", b"avc3"):
        at = init.find(b"avcC")
        if init.find(entry) >= 0 and at >= 0 and at + 8 <= len(init):
            profile, compatibility, level = init[at + 5:at + 8]
            return f'video/mp4; codecs="{entry.decode()}.{profile:02x}{compatibility:02x}{level:02x}"'
    for entry in (b"hvc1", b"hev1"):
        at = init.find(b"hvcC")
        if init.find(entry) >= 0 and at >= 0 and at + 17 <= len(init):
            return f'video/mp4; codecs="{entry.decode()}.{_hevc(init[at + 4:at + 17])}"'
    return "video/mp4"


def _hevc(config: bytes) -> str:
    """The part after ``hvc1.`` of an ``hvcC`` record's first 13 bytes (ISO/IEC 14496-15 annex E)."""
    space, tier, profile = config[1] >> 6, (config[1] >> 5) & 1, config[1] & 0x1F
    flags = int.from_bytes(config[2:6], "big")
    reversed_flags = int(f"{flags:032b}"[::-1], 2)
    constraints = bytearray(config[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    parts = [f"{'' if space == 0 else 'ABC'[space - 1]}{profile}", f"{reversed_flags:x}",
             f"{'HL'[tier == 0]}{config[12]}", *(f"{b:x}" for b in constraints)]
    return ".".join(parts)
