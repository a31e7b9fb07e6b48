"""The edge link's wire: what a partner's edge and the city hub say over their one WebSocket.

The edge dials out (a shop's router lets a connection out, never one in) to
``/api/v1/partners/<partner>/edge`` with the partner's token, and everything
travels over that connection:

- text messages are JSON objects with a ``type``: the edge says ``hello``
  (its name and its devices with their cameras, stream URLs left out: the
  cameras' addresses and passwords stay at the partner's site) and again
  whenever they change, ``event`` (one of its cameras' events), ``opened`` /
  ``failed`` (a stream asked for), ``snapshot`` (a picture asked for, in
  base64, or why not); the city asks ``open`` (a camera's stream, on a
  channel number it chose), ``close`` and ``snapshot``;
- binary messages carry a stream: four bytes of channel number (big-endian)
  then MPEG-TS, the camera's packets remuxed as they came (never transcoded);
  an empty payload ends the channel.

MPEG-TS because it needs no header before the first packet and a reader may
start anywhere; the city's stream graph reads it like any camera's.
Everything the edge sends is checked here (``EdgeMessage``) before the city
uses it: an edge is a partner's machine, not the city's.
"""

from __future__ import annotations

import queue
import struct
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from hub import DeviceInventory, Event, HubModel

#: The channel number before a stream's bytes.
HEADER = struct.Struct(">I")
#: Most devices and cameras one edge may carry.
MOST_DEVICES, MOST_CAMERAS = 64, 256
#: Largest message either side accepts (a stream's chunk is one packet: a keyframe of a 4K camera fits).
MAX_MESSAGE = 4 << 20


def frame(channel: int, data: bytes) -> bytes:
    return HEADER.pack(channel) + data


def unframe(message: bytes) -> tuple[int, bytes]:
    if len(message) < HEADER.size:
        raise ValueError("a stream message shorter than its channel number")
    return HEADER.unpack_from(message)[0], message[HEADER.size:]


class Hello(HubModel):
    type: Literal["hello"]
    edge: str = Field(min_length=1, max_length=100, description="The edge's name (its hub.yaml's hub.name).")
    devices: list[DeviceInventory] = Field(max_length=MOST_DEVICES)


class Opened(HubModel):
    type: Literal["opened"]
    channel: int = Field(ge=1)


class Failed(HubModel):
    type: Literal["failed"]
    channel: int = Field(ge=1)
    reason: str = Field(max_length=300)


class Picture(HubModel):
    type: Literal["snapshot"]
    request: int = Field(ge=1)
    jpeg: str | None = Field(default=None, max_length=MAX_MESSAGE, description="Base64.")
    error: str | None = Field(default=None, max_length=300)


class EdgeEvent(HubModel):
    type: Literal["event"]
    event: Event


#: What an edge may send, checked before the city uses any of it.
EdgeMessage: TypeAdapter[Hello | Opened | Failed | Picture | EdgeEvent] = TypeAdapter(
    Annotated[Hello | Opened | Failed | Picture | EdgeEvent, Field(discriminator="type")])


class ChannelReader:
    """A channel's bytes as a file PyAV reads (``read`` blocks in the stream graph's thread until
    bytes come; an end, a closed link or ``timeout`` seconds of nothing read as the end of the file)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._buffer = bytearray()
        self._ended = False

    def feed(self, data: bytes | None) -> None:
        """More bytes (from the event loop); None or b"" ends the channel."""
        self._queue.put(data or None)

    def read(self, size: int = -1) -> bytes:
        while not self._buffer and not self._ended:
            try:
                chunk = self._queue.get(timeout=self.timeout)
            except queue.Empty:
                chunk = None
            if chunk is None:
                self._ended = True
            else:
                self._buffer += chunk
        size = len(self._buffer) if size < 0 else size
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out


class ChunkWriter:
    """A file PyAV muxes into: what one ``mux`` call wrote, taken whole by ``take``."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def write(self, data: bytes) -> int:
        self._pending += data
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = bytes(self._pending)
        self._pending.clear()
        return out
