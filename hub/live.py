"""Live view: HLS, or fragmented MP4 for Media Source Extensions, while someone watches.

A viewer joins through the API (an audited ``view_live`` decision) and gets
a playlist address of its own (``transport="hls"``) or a WebSocket to read
fragments from (``transport="mse"``, ``hub.media.fmp4``: a frame's delay
instead of a few segments').  The first viewer of a camera stream and
transport attaches an output to the stream graph, so live view shares the
relay (the one upstream RTSP session) with the recorder and every other
viewer.  HTTP has no "left": a viewer who fetches nothing for
``live.idle_seconds`` has left (or says so with a DELETE; a WebSocket's
viewer leaves when it closes), and the output stops with the last viewer.
Substreams are the default: they are what a phone on a thin link can play.
A camera with privacy masks plays over HLS only: burning masks in is
transcoding, which the MSE path never does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from hub.core.config import LiveConfig
from hub.core.errors import LimitReached, NotFound
from hub.core.models import Camera, Principal, PrivacyMask, StreamRole
from hub.core.streams import HlsOutput
from hub.graph import StreamGraph, StreamKey
from hub.masks import MaskedHlsOutput
from hub.media.fmp4 import Feed, Fmp4Live

#: How a viewer gets the picture: HLS playlists and segments, or MP4 fragments over a WebSocket.
TRANSPORTS = ("hls", "mse")

log = logging.getLogger(__name__)

#: What a viewer may fetch: the playlist, init segments and media segments.
_FILE = re.compile(r"index\.m3u8|init\d{1,9}\.mp4|s\d{1,9}_\d{1,9}\.m4s")
MEDIA_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".mp4": "video/mp4", ".m4s": "video/iso.segment"}


#: (camera, stream, the masks burned in, transport) -> its live output.
OutputKey = tuple[str, StreamRole, tuple[str, ...], str]


@dataclass
class Viewer:
    """One person (or player) watching one camera stream."""

    id: str
    principal: Principal
    camera_id: str
    role: StreamRole
    seen: float  # time.monotonic() of the last request
    #: The privacy masks burned into the output watched (``hub.masks``), by name; none: the stream as it is.
    masked: tuple[str, ...] = ()
    transport: str = "hls"

    @property
    def output_key(self) -> OutputKey:
        return self.camera_id, self.role, self.masked, self.transport

    @property
    def principal_id(self) -> str:
        return self.principal.id


class LiveViews:
    """The HLS outputs being watched, and who watches them."""

    def __init__(self, config: LiveConfig, graph: StreamGraph, directory: Path) -> None:
        self.config = config
        self.graph = graph
        self.directory = directory
        self.viewers: dict[str, Viewer] = {}
        #: Starts every viewer id (with several nodes, ``NODE~``: any node passes its requests here).
        self.prefix = ""
        self.outputs: dict[OutputKey, HlsOutput | Fmp4Live] = {}

    def role_for(self, camera: Camera, asked: StreamRole | None) -> StreamRole:
        """The stream a viewer gets: the one asked for, else ``live.stream``, else main."""
        role = asked or self.config.stream
        if camera.stream(role) is not None:
            return role  # type: ignore[no-any-return]
        if asked is None and camera.streams:
            return StreamRole.MAIN
        raise NotFound(f"camera {camera.id} has no {role} stream")

    def join(self, camera: Camera, principal: Principal, asked: StreamRole | None = None,
             shared: bool = False, masks: list[PrivacyMask] | None = None, transport: str = "hls") -> Viewer:
        """Add a viewer, starting the camera stream's live output for the first one; ``LimitReached``
        when the principal holds ``live.max_views_per_principal`` views already (a ``shared`` view,
        the public portal's one per camera for everyone, counts against no one).  A masked
        camera's viewer gets HLS whatever ``transport`` asks (see the module's note)."""
        held = sum(1 for v in self.viewers.values() if v.principal_id == principal.id)
        if not shared and held >= self.config.max_views_per_principal:
            raise LimitReached(f"{held} live views are open for this account, the most it may hold; "
                               "close one (or let it time out) first")
        role = self.role_for(camera, asked)
        names = tuple(m.name for m in masks or ())
        transport = "hls" if masks or transport not in TRANSPORTS else transport
        key = (camera.id, role, names, transport)
        if key not in self.outputs:
            where = self.directory / uuid.uuid4().hex
            output: HlsOutput | Fmp4Live
            if transport == "mse":
                output = Fmp4Live(camera.id, role)
            elif masks:
                output = MaskedHlsOutput(camera.id, role, where, masks, self.config.segment_seconds,
                                         self.config.playlist_segments)
            else:
                output = HlsOutput(camera.id, role, where, self.config.segment_seconds, self.config.playlist_segments)
            self.outputs[key] = output
            self.graph.attach(camera.id, role, output)
            log.info("live view started", extra={"camera": camera.id, "stream": role.value, "masked": bool(masks),
                                                 "transport": transport})
        viewer = Viewer(self.prefix + secrets.token_urlsafe(18), principal, camera.id, role, time.monotonic(),
                        names, transport)
        self.viewers[viewer.id] = viewer
        return viewer

    def viewer(self, viewer_id: str, principal: Principal) -> Viewer:
        """The caller's viewer, marked as still watching; NotFound once it has left or timed out."""
        found = self.viewers.get(viewer_id)
        if found is None or found.principal_id != principal.id:
            raise NotFound("no such live viewer (it may have timed out: join again)")
        found.seen = time.monotonic()
        return found

    def feed(self, viewer: Viewer, loop: asyncio.AbstractEventLoop) -> tuple[Fmp4Live, Feed]:
        """A feed of the MSE viewer's output (``unsubscribe`` it when done); NotFound for HLS."""
        output = self.outputs.get(viewer.output_key)
        if not isinstance(output, Fmp4Live):
            raise NotFound("this live view is HLS: fetch its playlist")
        return output, output.subscribe(loop)

    def path(self, viewer: Viewer, name: str) -> Path:
        """The file ``name`` of the viewer's live output (it may not exist yet, or any more)."""
        output = self.outputs.get(viewer.output_key)
        if not isinstance(output, HlsOutput) or not _FILE.fullmatch(name):
            raise NotFound(f"no live file {name[:80]!r}")
        return output.directory / name

    async def playlist(self, viewer: Viewer) -> Path | None:
        """The viewer's playlist, waiting up to ``live.start_timeout_seconds`` for the first segment."""
        deadline = time.monotonic() + self.config.start_timeout_seconds
        while True:
            path = self.path(viewer, HlsOutput.PLAYLIST)
            if path.exists():
                return path
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.2)

    async def leave(self, viewer_id: str, principal: Principal | None = None) -> None:
        """Remove a viewer (only the principal's own, when one is given)."""
        found = self.viewers.get(viewer_id)
        if found is None or (principal is not None and found.principal_id != principal.id):
            raise NotFound("no such live viewer")
        del self.viewers[viewer_id]
        await self._stop_unwatched()

    async def end(self, viewer_ids: list[str]) -> None:
        """End these views (their access ended) and the outputs nobody watches any more."""
        for viewer_id in viewer_ids:
            self.viewers.pop(viewer_id, None)
        await self._stop_unwatched()

    async def expire(self) -> None:
        """Drop viewers idle for ``live.idle_seconds`` (or of cameras gone from the inventory)
        and the outputs nobody watches any more."""
        cutoff = time.monotonic() - self.config.idle_seconds
        cameras = self.graph.inventory.cameras
        for viewer_id in [v.id for v in self.viewers.values() if v.seen < cutoff or v.camera_id not in cameras]:
            self.viewers.pop(viewer_id, None)
        await self._stop_unwatched()

    async def run(self) -> None:
        """Expire idle viewers until cancelled."""
        while True:
            await asyncio.sleep(min(5.0, self.config.idle_seconds / 4))
            try:
                await self.expire()
            except Exception:
                log.exception("expiring live viewers failed")

    async def _stop_unwatched(self) -> None:
        watched = {v.output_key for v in self.viewers.values()}
        unwatched = [(key, self.outputs.pop(key)) for key in [k for k in self.outputs if k not in watched]]
        await asyncio.gather(*(self._stop_output((key[0], key[1]), output) for key, output in unwatched))

    async def _stop_output(self, key: StreamKey, output: HlsOutput | Fmp4Live) -> None:
        await self.graph.detach(key[0], key[1], output)
        await asyncio.to_thread(output.close)
        log.info("live view stopped: no viewers left", extra={"camera": key[0], "stream": key[1].value})

    async def stop(self) -> None:
        self.viewers.clear()
        await self._stop_unwatched()

    async def clear_leftovers(self) -> None:
        """Remove live files an earlier run left behind (blocking work in a thread)."""
        if self.directory.exists():
            with contextlib.suppress(OSError):
                await asyncio.to_thread(shutil.rmtree, self.directory)
