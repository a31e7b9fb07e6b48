"""``pantau edge``: the hub's small mode at a partner's site, carrying its cameras to the city.

Most shop cameras have no address the city could reach: they sit behind the
shop's router.  The edge runs there with a hub.yaml of its own (the local
cameras, as any hub.yaml names them: Hikvision, Dahua, ONVIF, RTSP), probes
them, and dials out to the city hub with the partner's token, over one
WebSocket (``wss://`` when the hub is served over https), carrying
everything on it (``tunnel``): the cameras it found, their streams when the
city asks (read from the camera once each, remuxed to MPEG-TS, never
transcoded), their pictures and events.  The cameras' addresses and
passwords never leave the site.  It records nothing of its own.

A broken link is dialled again with backoff (1 s doubling to 60 s, with
jitter); the state (connected, or retrying: since when, why, next attempt)
is written to ``edge-status.json`` in the data folder and printed by
``pantau edge --status``; the city's side shows the link on the partner's
pages and the cameras offline on its health board.

A WebSocket rather than HTTP/2: the hub serves WebSockets already (uvicorn,
``websockets``), a WebSocket passes the proxies and firewalls a city puts in
front of its hub as HTTPS does, and one connection carries messages both
ways with no request per chunk; HTTP/2 would need a server of its own beside
uvicorn for a stream that runs for days.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av
import click
import websockets

from hub import (
    Backoff,
    HubError,
    InvalidInput,
    LocalCameras,
    config_option,
    data_dir_option,
    fail_on_errors,
    local_cameras,
)
from plugins.tower_partner.tunnel import MAX_MESSAGE, ChunkWriter, frame

log = logging.getLogger(__name__)

#: Bytes a stream may have waiting for the link before the edge drops packets to the next keyframe.
MOST_QUEUED = 8 << 20
#: How often the edge probes its cameras again (and says hello again when they changed).
REPROBE_SECONDS = 300.0
TOKEN_ENV = "PANTAU_EDGE_TOKEN"
STATUS_FILE = "edge-status.json"


def link_url(hub_url: str, partner: str, insecure: bool) -> str:
    """The WebSocket address of the partner's link on the city hub (``InvalidInput`` for plain http
    to another machine without ``insecure``: the token would travel readable)."""
    parts = urlsplit(hub_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"--hub {hub_url[:100]!r}: the city hub's address, e.g. https://cctv.kota.go.id")
    if parts.scheme == "http" and not insecure:
        try:
            local = ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            local = parts.hostname == "localhost"
        if not local:
            raise InvalidInput(f"--hub {parts.hostname}: plain http would carry the partner's token readable; "
                               "use https, or --insecure on a network you trust")
    path = parts.path.rstrip("/") + f"/api/v1/partners/{partner}/edge"
    return urlunsplit(("wss" if parts.scheme == "https" else "ws", parts.netloc, path, "", ""))


class Pump:
    """One camera stream to the city: read in a thread, remuxed to MPEG-TS, sent on ``channel``."""

    def __init__(self, cameras: LocalCameras, camera: str, role: str, channel: int,
                 send: asyncio.Queue[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.cameras, self.camera, self.role, self.channel = cameras, camera, role, channel
        self.send, self.loop = send, loop
        self.queued = 0
        self._stop = threading.Event()
        self._media: Any = None
        self.thread = threading.Thread(target=self._run, name=f"edge:{camera}", daemon=True)

    def start(self) -> None:
        self._media = self.cameras.media(self.camera, self.role)
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._media is not None:
            with contextlib.suppress(Exception):
                self._media.interrupt()

    def _emit(self, data: bytes) -> None:
        self.queued += len(data)
        self.loop.call_soon_threadsafe(self.send.put_nowait, frame(self.channel, data))

    def sent(self, size: int) -> None:
        self.queued -= size

    def _run(self) -> None:
        container = None
        try:
            container = self._media.open()
            video = container.streams.video[0]
            writer = ChunkWriter()
            out = av.open(writer, "w", format="mpegts", options={"flush_packets": "1"})
            ostream = out.add_stream_from_template(video)
            waiting_key = False
            for packet in container.demux(video):
                if self._stop.is_set():
                    break
                if packet.dts is None or packet.size == 0:
                    continue
                if self.queued > MOST_QUEUED:
                    waiting_key = True  # the link is slower than the camera: skip to the next keyframe
                if waiting_key and not packet.is_keyframe:
                    continue
                waiting_key = False
                packet.stream = ostream
                out.mux(packet)
                if chunk := writer.take():
                    self._emit(chunk)
            with contextlib.suppress(Exception):
                out.close()
        except Exception as err:
            log.warning("an edge stream ended", extra={"camera": self.camera, "error": type(err).__name__})
        finally:
            if container is not None:
                with contextlib.suppress(Exception):
                    container.close()
            with contextlib.suppress(Exception):
                self._media.close()
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self.send.put_nowait, frame(self.channel, b""))


class Edge:
    """The edge's link to the city hub, dialled again whenever it breaks."""

    def __init__(self, cameras: LocalCameras, name: str, url: str, token: str, status_file: Path) -> None:
        self.cameras, self.name, self.url, self.token = cameras, name, url, token
        self.status_file = status_file
        self.backoff = Backoff(log, "edge link to the city hub", base=1.0, cap=60.0, steady_after=30.0)

    def _status(self, state: str, **more: Any) -> None:
        body = {"state": state, "at": time.time(), "hub": self.url, "cameras": len(self.cameras.cameras), **more}
        self.status_file.write_text(json.dumps(body))

    async def run(self) -> None:
        while True:
            reason: str
            try:
                async with websockets.connect(self.url, additional_headers={"Authorization": f"Bearer {self.token}"},
                                              max_size=MAX_MESSAGE, open_timeout=15, ping_interval=20,
                                              ping_timeout=20) as link:
                    self.backoff.started()
                    self._status("connected")
                    log.info("edge connected to the city hub", extra={"cameras": len(self.cameras.cameras)})
                    await self.session(link)
                    reason = "the city hub closed the link"
            except websockets.InvalidStatus as err:
                reason = f"the city hub refused the link ({err.response.status_code})"
            except websockets.ConnectionClosed as err:
                reason = f"the link closed ({err.rcvd.code if err.rcvd else 'no close frame'}" \
                         f"{': ' + err.rcvd.reason if err.rcvd and err.rcvd.reason else ''})"
            except (OSError, TimeoutError, websockets.WebSocketException) as err:
                reason = f"cannot reach the city hub ({type(err).__name__})"
            wait = self.backoff.failed(reason)
            self._status("retrying", error=reason, retry_in=round(wait, 1))
            await asyncio.sleep(wait)

    async def _hello(self, link: Any) -> None:
        devices = [d.model_copy(update={"cameras": [c.model_copy(update={"streams": [
            s.model_copy(update={"url": None}) for s in c.streams]}) for c in d.cameras]})
            for d in self.cameras.devices]
        await link.send(json.dumps({"type": "hello", "edge": self.name,
                                    "devices": [d.model_dump(mode="json") for d in devices]}))

    async def session(self, link: Any) -> None:
        loop = asyncio.get_running_loop()
        out: asyncio.Queue[bytes] = asyncio.Queue()
        pumps: dict[int, Pump] = {}
        tasks: set[asyncio.Task[Any]] = set()

        async def sender() -> None:
            while True:
                data = await out.get()
                channel = int.from_bytes(data[:4], "big")
                await link.send(data)
                if (pump := pumps.get(channel)) is not None:
                    pump.sent(len(data) - 4)
                if len(data) == 4:
                    pumps.pop(channel, None)

        async def events() -> None:
            async for event in self.cameras.events():
                await link.send(json.dumps({"type": "event", "event": event.model_dump(mode="json")}))

        async def reprobe() -> None:
            while True:
                await asyncio.sleep(REPROBE_SECONDS)
                if await self.cameras.probe():
                    await self._hello(link)

        async def picture(request: int, camera: str) -> None:
            try:
                jpeg = await asyncio.wait_for(self.cameras.snapshot(camera), 8)
                answer = {"type": "snapshot", "request": request, "jpeg": base64.b64encode(jpeg).decode()}
            except (HubError, TimeoutError) as err:
                answer = {"type": "snapshot", "request": request, "error": str(err)[:300] or "no picture"}
            await link.send(json.dumps(answer))

        await self._hello(link)
        for job in (sender(), events(), reprobe()):
            tasks.add(asyncio.create_task(job))
        try:
            async for message in link:
                if isinstance(message, bytes):
                    continue  # the city sends no stream
                asked = json.loads(message)
                kind, channel = asked.get("type"), asked.get("channel")
                if kind == "open" and isinstance(channel, int):
                    pump = Pump(self.cameras, str(asked.get("camera")), str(asked.get("role", "main")), channel,
                                out, loop)
                    try:
                        pump.start()
                    except HubError as err:
                        await link.send(json.dumps({"type": "failed", "channel": channel, "reason": str(err)[:300]}))
                        continue
                    pumps[channel] = pump
                    await link.send(json.dumps({"type": "opened", "channel": channel}))
                elif kind == "close" and isinstance(channel, int):
                    if (running := pumps.get(channel)) is not None:
                        running.stop()
                elif kind == "snapshot" and isinstance(asked.get("request"), int):
                    task = asyncio.create_task(picture(asked["request"], str(asked.get("camera"))))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            for pump in pumps.values():
                pump.stop()
            for task in tasks:
                task.cancel()


@click.command("edge")
@click.option("--hub", "hub_url", default=None, metavar="URL", help="The city hub, e.g. https://cctv.kota.go.id.")
@click.option("--partner", default=None, help="The partner id the city registered this site under.")
@click.option("--token-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help=f"A file holding the partner's token (default: ${TOKEN_ENV}).")
@click.option("--insecure", is_flag=True, help="Allow plain http to a hub that is not this machine.")
@click.option("--status", "show_status", is_flag=True, help="Print the link's state and exit.")
@config_option
@data_dir_option
@fail_on_errors
def edge(hub_url: str | None, partner: str | None, token_file: Path | None, insecure: bool, show_status: bool,
         config_file: Path, data_dir: Path | None) -> None:
    """Carry this site's cameras (its hub.yaml's sources) to the city hub over one outbound link."""
    if show_status:
        sys.exit(_show_status(config_file, data_dir))
    if not hub_url or not partner:
        raise click.UsageError("--hub and --partner are needed to connect")
    token = (token_file.read_text() if token_file else os.environ.get(TOKEN_ENV, "")).strip()
    if not token:
        raise click.UsageError(f"the partner's token: --token-file FILE or ${TOKEN_ENV}")
    url = link_url(hub_url, partner, insecure)

    async def run() -> None:
        async with local_cameras(config_file, data_dir) as cameras:
            click.echo(f"edge {cameras.name}: {len(cameras.cameras)} cameras"
                       + (f" ({len(cameras.errors)} sources failed: {', '.join(cameras.errors)})"
                          if cameras.errors else "") + f"; dialling {urlsplit(url).netloc}", err=True)
            await Edge(cameras, cameras.name, url, token, cameras.data_dir / STATUS_FILE).run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def _show_status(config_file: Path, data_dir: Path | None) -> int:
    async def folder() -> Path:
        async with local_cameras(config_file, data_dir, probe=False) as cameras:
            return cameras.data_dir

    status_file = asyncio.run(folder()) / STATUS_FILE
    if not status_file.exists():
        click.echo("the edge has not run here")
        return 1
    state = json.loads(status_file.read_text())
    click.echo(f"{state['state']} ({time.time() - state['at']:.0f} s ago), hub {state['hub']}, "
               f"{state['cameras']} cameras"
               + (f": {state['error']}, next attempt in {state['retry_in']} s" if "error" in state else ""))
    return 0 if state["state"] == "connected" else 3
