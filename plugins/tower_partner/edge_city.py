"""The city's side of a partner's edge: the link it dialled, and the source type its cameras are.

``serve`` runs one edge's WebSocket (``routes.edge_link`` authenticates it:
the partner's own account, its agreement in force) as an ``EdgeLink`` in
``LINKS``; ``Sharing`` adds a source of type ``edge`` for it once the edge
said hello, tagged and capped like any device of the partner, so its cameras
obey the same agreement.  ``EdgeSource`` answers the hub from the link: its
probe is the edge's last hello (the device and camera ids prefixed
``edge:<partner>:`` so no partner can name a city camera), its streams come
over the link (``EdgeMedia``: the stream graph reads the channel's MPEG-TS as
it would a camera's), its pictures and events too.  With the link down, the
probe says the edge is not connected (its cameras go offline on the health
board) and a stream waits for the edge to dial again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import av
from pydantic import Field, ValidationError

from hub import (
    Camera,
    CameraSource,
    DeviceInventory,
    DeviceNotReady,
    Event,
    MediaInput,
    SourceConfig,
    SourceContext,
    Stream,
)
from plugins.tower_partner.tunnel import (
    MAX_MESSAGE,
    MOST_CAMERAS,
    ChannelReader,
    EdgeEvent,
    EdgeMessage,
    Failed,
    Hello,
    Opened,
    Picture,
    unframe,
)

log = logging.getLogger(__name__)

#: Seconds a stream or a picture waits for the edge's answer.
ANSWER_SECONDS = 10.0


def city_id(partner: str, edge_id: str) -> str:
    """A device or camera id of the edge as the city knows it: under the partner's own prefix."""
    return f"edge:{partner}:{edge_id}"


@dataclass
class LinkState:
    """What the city knows of a partner's edge, for its pages and ``GET /api/v1/partners/{id}``."""

    connected: bool
    edge: str | None
    since: float | None
    cameras: int
    last_error: str | None = None


class EdgeLink:
    """One partner's edge, connected: its devices, its open channels, its pending pictures."""

    def __init__(self, partner: str, websocket: Any,
                 hello: Callable[[EdgeLink], Awaitable[None]] | None = None) -> None:
        self.partner = partner
        self._on_hello = hello
        self.websocket = websocket
        self.loop = asyncio.get_running_loop()
        self.edge: str | None = None
        #: The edge's devices as the city knows them (ids prefixed), once it said hello.
        self.devices: list[DeviceInventory] | None = None
        #: City camera id -> the edge's own id for it.
        self.ids: dict[str, str] = {}
        self.since = time.time()
        self._channels: dict[int, ChannelReader] = {}
        self._opened: dict[int, asyncio.Future[None]] = {}
        self._pictures: dict[int, asyncio.Future[bytes]] = {}
        self._events: asyncio.Queue[Event | None] = asyncio.Queue(1000)
        self._next = 0
        self._send = asyncio.Lock()
        self.hello_seen = asyncio.Event()

    # -- what the edge sends --------------------------------------------------------------------

    async def run(self) -> None:
        """Read the edge's messages until it goes; a message that is not one of the wire's ends the link."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await self._stream(message["bytes"])
                continue
            text = message.get("text") or ""
            if len(text) > MAX_MESSAGE:
                raise ValueError("a message larger than the link allows")
            try:
                said = EdgeMessage.validate_python(json.loads(text))
            except (ValueError, ValidationError) as err:
                first = err.errors()[0] if isinstance(err, ValidationError) else None
                where = ".".join(str(p) for p in first["loc"]) + f": {first['msg']}" if first else "not JSON"
                raise ValueError(f"the edge sent a message the link does not carry ({where[:200]})") from None
            self._heard(said)
            if isinstance(said, Hello) and self._on_hello is not None:
                await self._on_hello(self)

    def _heard(self, said: Hello | Opened | Failed | Picture | EdgeEvent) -> None:
        if isinstance(said, Hello):
            self._hello(said)
        elif isinstance(said, Opened):
            if (waiting := self._opened.pop(said.channel, None)) is not None and not waiting.done():
                waiting.set_result(None)
        elif isinstance(said, Failed):
            if (waiting := self._opened.pop(said.channel, None)) is not None and not waiting.done():
                waiting.set_exception(DeviceNotReady(f"the edge of {self.partner}: {said.reason}"))
            if (reader := self._channels.pop(said.channel, None)) is not None:
                reader.feed(None)
        elif isinstance(said, Picture):
            if (asked := self._pictures.pop(said.request, None)) is not None and not asked.done():
                try:
                    if said.jpeg is None:
                        raise DeviceNotReady(f"the edge of {self.partner}: {said.error or 'no picture'}")
                    asked.set_result(base64.b64decode(said.jpeg, validate=True))
                except (DeviceNotReady, binascii.Error) as err:
                    asked.set_exception(err if isinstance(err, DeviceNotReady) else DeviceNotReady(
                        f"the edge of {self.partner} sent a picture that is not base64"))
        elif isinstance(said, EdgeEvent):
            camera = said.event.camera_id
            if camera is not None and city_id(self.partner, camera) in self.ids:  # only its own cameras
                with contextlib.suppress(asyncio.QueueFull):  # a flood is the edge's loss, not the city's
                    self._events.put_nowait(said.event.model_copy(update={
                        "camera_id": city_id(self.partner, camera)}))

    def _hello(self, hello: Hello) -> None:
        devices, ids = [], {}
        for inventory in hello.devices:
            device = inventory.device.model_copy(update={"id": city_id(self.partner, inventory.device.id),
                                                         "host": None, "owner": None})
            cameras = []
            for camera in inventory.cameras:
                made = camera.model_copy(update={
                    "id": city_id(self.partner, camera.id), "device_id": device.id, "owner": None,
                    "tags": [f"partner:{self.partner}"],  # whoever adds the source: the agreement governs
                    "streams": [s.model_copy(update={"url": None}) for s in camera.streams]})
                ids[made.id] = camera.id
                cameras.append(made)
            devices.append(DeviceInventory(device=device, cameras=cameras))
        if len(ids) > MOST_CAMERAS:
            raise ValueError(f"the edge carries {len(ids)} cameras, more than {MOST_CAMERAS}")
        self.edge, self.devices, self.ids = hello.edge, devices, ids
        self.hello_seen.set()
        log.info("a partner's edge said hello", extra={"partner": self.partner, "edge": hello.edge,
                                                       "cameras": len(ids)})

    async def _stream(self, message: bytes) -> None:
        channel, data = unframe(message)
        reader = self._channels.get(channel)
        if reader is not None:  # a channel closed a moment ago may still get a chunk or two
            reader.feed(data or None)
            if not data:
                self._channels.pop(channel, None)

    # -- what the city asks ---------------------------------------------------------------------

    async def _say(self, message: dict[str, Any]) -> None:
        async with self._send:
            await self.websocket.send_text(json.dumps(message))

    async def open(self, camera_id: str, role: str) -> tuple[int, ChannelReader]:
        """A channel carrying the camera's stream; ``DeviceNotReady`` when the edge cannot."""
        edge_id = self.ids.get(camera_id)
        if edge_id is None:
            raise DeviceNotReady(f"the edge of {self.partner} has no camera {camera_id[:100]}")
        self._next += 1
        channel, reader = self._next, ChannelReader()
        self._channels[channel] = reader
        answered = self._opened[channel] = self.loop.create_future()
        await self._say({"type": "open", "channel": channel, "camera": edge_id, "role": role})
        try:
            await asyncio.wait_for(answered, ANSWER_SECONDS)
        except TimeoutError:
            self._channels.pop(channel, None)
            raise DeviceNotReady(f"the edge of {self.partner} did not open {camera_id[:100]} in time") from None
        return channel, reader

    async def close(self, channel: int) -> None:
        if (reader := self._channels.pop(channel, None)) is not None:
            reader.feed(None)
            with contextlib.suppress(Exception):  # the link may be gone already
                await self._say({"type": "close", "channel": channel})

    async def snapshot(self, camera_id: str) -> bytes:
        edge_id = self.ids.get(camera_id)
        if edge_id is None:
            raise DeviceNotReady(f"the edge of {self.partner} has no camera {camera_id[:100]}")
        self._next += 1
        asked = self._pictures[self._next] = self.loop.create_future()
        await self._say({"type": "snapshot", "request": self._next, "camera": edge_id})
        try:
            return await asyncio.wait_for(asked, ANSWER_SECONDS)
        except TimeoutError:
            raise DeviceNotReady(f"the edge of {self.partner} sent no picture in time") from None
        finally:
            self._pictures.pop(self._next, None)

    async def events(self) -> AsyncIterator[Event]:
        while (event := await self._events.get()) is not None:
            yield event

    def ended(self) -> None:
        """The link is gone: every channel ends, every question fails, the events stop."""
        for reader in self._channels.values():
            reader.feed(None)
        self._channels.clear()
        pending: list[asyncio.Future[Any]] = [*self._opened.values(), *self._pictures.values()]
        for waiting in pending:
            if not waiting.done():
                waiting.set_exception(DeviceNotReady(f"the edge of {self.partner} went away"))
        self._opened.clear()
        self._pictures.clear()
        with contextlib.suppress(asyncio.QueueFull):
            self._events.put_nowait(None)

    def state(self) -> LinkState:
        return LinkState(connected=True, edge=self.edge, since=self.since, cameras=len(self.ids))


#: Each partner's edge that is connected now.
LINKS: dict[str, EdgeLink] = {}
#: Each partner's edge link that ended: when and why (its pages show it).
LOST: dict[str, LinkState] = {}


async def serve(partner: str, websocket: Any, hello: Callable[[EdgeLink], Awaitable[None]]) -> None:
    """Run an accepted edge WebSocket until it ends (a newer link of the same partner replaces it);
    ``hello`` after each hello of the edge's."""
    link = EdgeLink(partner, websocket, hello)
    older = LINKS.get(partner)
    LINKS[partner] = link
    if older is not None:
        older.ended()
        with contextlib.suppress(Exception):
            await older.websocket.close(4409, "a newer link of this edge replaced this one")
    error = None
    try:
        await link.run()
    except ValueError as err:
        error = str(err)
        log.warning("a partner's edge sent what the link does not carry; link closed",
                    extra={"partner": partner, "error": error[:300]})
        with contextlib.suppress(Exception):
            await websocket.close(1003, error[:120])
    except Exception as err:  # the connection broke
        error = type(err).__name__
    finally:
        link.ended()
        if LINKS.get(partner) is link:
            del LINKS[partner]
            LOST[partner] = LinkState(connected=False, edge=link.edge, since=time.time(), cameras=len(link.ids),
                                      last_error=error or "the edge closed the link")
            log.warning("a partner's edge link ended", extra={"partner": partner, "error": error or "closed"})


def link_state(partner: str) -> LinkState | None:
    link = LINKS.get(partner)
    return link.state() if link is not None else LOST.get(partner)


# -- the source type ------------------------------------------------------------------------------


class EdgeConfig(SourceConfig):
    """The cameras a partner's edge carries over its link (added by the partner plugin, not in hub.yaml)."""

    type: Literal["edge"] = "edge"
    partner: str = Field(description="The partner whose edge it is.")


def _link(partner: str) -> EdgeLink:
    link = LINKS.get(partner)
    if link is None or link.devices is None:
        raise DeviceNotReady(f"the edge of {partner} is not connected")
    return link


class EdgeSource(CameraSource):
    config: EdgeConfig

    def __init__(self, config: EdgeConfig, context: SourceContext) -> None:
        super().__init__(config, context)

    async def probe(self) -> list[DeviceInventory]:
        devices = _link(self.config.partner).devices
        return [d.model_copy(update={"device": d.device.model_copy(update={"source": self.name})})
                for d in devices or []]

    async def snapshot(self, camera: Camera) -> bytes:
        return await _link(self.config.partner).snapshot(camera.id)

    def open_media(self, camera: Camera, stream: Stream) -> MediaInput:
        return EdgeMedia(self.config.partner, camera.id, stream.role.value)

    async def events(self) -> AsyncIterator[Event]:
        while True:  # across links: the edge dials again after a break
            link = LINKS.get(self.config.partner)
            if link is None:
                await asyncio.sleep(1)
                continue
            async for event in link.events():
                yield event
            await asyncio.sleep(0.5)


class EdgeMedia(MediaInput):
    """A camera's stream over its edge's link, opened in the stream graph's thread."""

    def __init__(self, partner: str, camera_id: str, role: str) -> None:
        self.partner, self.camera_id, self.role = partner, camera_id, role
        self.label = f"{camera_id}/{role} over the edge of {partner}"
        self._opened: tuple[EdgeLink, int, ChannelReader] | None = None

    def open(self) -> av.container.InputContainer:
        link = _link(self.partner)
        try:
            channel, reader = asyncio.run_coroutine_threadsafe(link.open(self.camera_id, self.role), link.loop) \
                .result(ANSWER_SECONDS + 2)
        except TimeoutError:
            raise DeviceNotReady(f"the edge of {self.partner} did not answer") from None
        self._opened = (link, channel, reader)
        try:
            return av.open(reader, "r", format="mpegts",
                           options={"analyzeduration": "500000", "probesize": "65536"})
        except av.error.FFmpegError as err:
            self.close()
            raise DeviceNotReady(f"{self.label}: {type(err).__name__}") from None

    def interrupt(self) -> None:
        if self._opened is not None:
            self._opened[2].feed(None)

    def close(self) -> None:
        if self._opened is not None:
            link, channel, _ = self._opened
            self._opened = None
            if not link.loop.is_closed():
                asyncio.run_coroutine_threadsafe(link.close(channel), link.loop)

