"""What every simulator shares: the server, the device's way of checking callers (digest,
basic, none or a token from a login endpoint) and faults."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from hub.testing.net import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PAIR = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def picture(label: str, size: tuple[int, int] = (320, 180), colour: tuple[int, int, int] = (30, 60, 90)) -> bytes:
    """A JPEG snapshot with ``label`` written on it, as a simulated device's picture endpoint serves."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, colour)
    ImageDraw.Draw(img).text((10, 10), label, fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return buf.getvalue()


def _md5(*parts: str) -> str:
    return hashlib.md5(":".join(parts).encode()).hexdigest()  # noqa: S324 - RFC 2617 digest


@dataclass
class Faults:
    """Misbehaviour on demand; change the fields while the simulator runs."""

    auth_fails: bool = False       # every request gets 401, whatever the credentials
    delay: float = 0.0             # seconds before each answer ("slow")
    status: int | None = None      # answer every request with this status (e.g. 500)
    garbage: bool = False          # answer 200 with random bytes
    truncate: bool = False         # send half the body, then drop the connection
    hang: bool = False             # accept the connection and never answer
    mute: bool = False             # open event streams send nothing, not even heartbeats
    paths: set[str] = field(default_factory=set)  # limit the faults to these paths (all when empty)

    def applies(self, path: str) -> bool:
        return not self.paths or path in self.paths


#: How a simulated device checks who calls: HTTP Digest (most cameras), Basic, nothing
#: (a device on a trusted network), or a token handed out by a login endpoint of the
#: vendor's own (``issue_token``).
SimAuth = Literal["digest", "basic", "none", "token"]


class DeviceSimulator:
    """Base of the vendor simulators: an aiohttp app on 127.0.0.1 that checks callers
    the way the device does (``auth``) and misbehaves on demand (``faults``).

    A subclass lists its ``routes``; ``public_paths`` need no credentials (a login
    endpoint).  ``authorized`` decides whether a request may pass and ``refuse``
    answers one that may not; override either for a vendor's own scheme.
    """

    realm = "Device"
    #: Paths answered without credentials (a token device's login endpoint).
    public_paths: frozenset[str] = frozenset()

    def __init__(self, username: str = "admin", password: str = "sim-Passw0rd", basic_only: bool = False,
                 port: int | None = None, nonce_uses: int | None = None, auth: SimAuth | None = None,
                 token_uses: int | None = None, bind: str = "127.0.0.1") -> None:
        self.username, self.password = username, password
        #: The address it listens on (another than loopback inside a test's network namespace).
        self.bind = bind
        self.auth: SimAuth = auth or ("basic" if basic_only else "digest")
        #: Requests a Digest nonce serves before the device calls it stale (real devices renew
        #: them after some requests or seconds); None: for ever.
        self.nonce_uses = nonce_uses
        #: Requests a token serves before the device forgets it (a session that timed out); None: for ever.
        self.token_uses = token_uses
        #: Sent with every Digest challenge and required back, as Dahua devices do.
        self.opaque = secrets.token_hex(16)
        #: Challenges answered ``stale=true`` so far (a test of the client's renewal).
        self.stale_answers = 0
        #: Tokens handed out so far (``issue_token``): a test of how often a client logs in.
        self.logins = 0
        #: Heartbeats the event streams have sent so far (what a quiet device sends).
        self.heartbeats = 0
        self.port = port or free_port()
        self.faults = Faults()
        self.requests: list[str] = []
        self._runner: web.AppRunner | None = None
        self._streams: set[web.StreamResponse] = set()
        self._nonces: dict[str, int] = {}  # nonce -> requests it has served
        self._session_tokens: dict[str, int] = {}  # token -> requests it has served
        self._listeners: set[asyncio.Queue[str]] = set()

    @property
    def host(self) -> str:
        return "127.0.0.1" if self.bind in ("0.0.0.0", "") else self.bind

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> DeviceSimulator:
        self.loop = asyncio.get_running_loop()
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.bind, self.port).start()
        return self

    async def stop(self) -> None:
        """Go offline: close streams and stop listening (connections are refused)."""
        await self.drop_streams()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def listeners(self) -> int:
        """How many event streams are connected."""
        return len(self._listeners)

    def broadcast(self, body: str) -> int:
        """Send one part to every connected event stream (safe from any thread)."""

        def deliver() -> None:
            for queue in self._listeners:
                queue.put_nowait(body)

        self.on_loop(deliver)
        return len(self._listeners)

    async def drop_streams(self) -> None:
        """A reboot mid-stream: every open event stream is cut and forgotten."""
        self._listeners.clear()
        for resp in list(self._streams):
            transport = resp._req.transport if resp._req else None  # noqa: SLF001
            if transport is not None:
                transport.close()
        self._streams.clear()

    # -- auth and faults --------------------------------------------------------

    def credentials_ok(self, username: str, password: str) -> bool:
        """Whether a login's user name and password are this device's."""
        return secrets.compare_digest(username, self.username) and secrets.compare_digest(password, self.password)

    def issue_token(self) -> str:
        """A new session token, for a vendor's login endpoint to hand out after ``credentials_ok``."""
        token = secrets.token_hex(16)
        self._session_tokens[token] = 0
        self.logins += 1
        return token

    def token_of(self, request: web.Request) -> str | None:
        """The token a request carries: ``Authorization: Bearer ...`` by default; a vendor
        that wants it elsewhere (a query parameter, a header of its own) overrides this."""
        header = request.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else None

    def refuse(self, request: web.Request) -> web.StreamResponse:
        """The answer to a request ``authorized`` refused: a 401 with the scheme's challenge."""
        if self.auth == "token":
            return web.json_response({"error": "login required"}, status=401)
        if self.auth == "basic":
            header = f'Basic realm="{self.realm}"'
        else:
            stale = self._stale(request)
            nonce = secrets.token_hex(16)
            self._nonces[nonce] = 0
            header = (f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", opaque="{self.opaque}", '
                      f'algorithm=MD5{", stale=true" if stale else ""}')
            self.stale_answers += stale
        return web.Response(status=401, text="Unauthorized", headers={"WWW-Authenticate": header})

    def _stale(self, request: web.Request) -> bool:
        """The request's credentials are right but its nonce has served its time."""
        header = request.headers.get("Authorization", "")
        fields = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _PAIR.finditer(header)}
        nonce = fields.get("nonce", "")
        return self.nonce_uses is not None and nonce in self._nonces and self._nonces[nonce] > self.nonce_uses

    def authorized(self, request: web.Request) -> bool:
        """Whether ``request`` may pass, by the device's ``auth``."""
        if request.path in self.public_paths or self.auth == "none":
            return True
        if self.auth == "token":
            token = self.token_of(request)
            if token is None or token not in self._session_tokens:
                return False
            self._session_tokens[token] += 1
            if self.token_uses is not None and self._session_tokens[token] > self.token_uses:
                del self._session_tokens[token]
                return False
            return True
        header = request.headers.get("Authorization", "")
        if self.auth == "basic":
            if not header.startswith("Basic "):
                return False
            try:
                user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return self.credentials_ok(user, pw)
        return self._digest_ok(request, header)

    def _digest_ok(self, request: web.Request, header: str) -> bool:
        if not header.startswith("Digest "):
            return False
        fields = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _PAIR.finditer(header)}
        nonce = fields.get("nonce", "")
        if fields.get("username") != self.username or nonce not in self._nonces:
            return False
        if fields.get("opaque") != self.opaque:
            return False
        self._nonces[nonce] += 1
        if self.nonce_uses is not None and self._nonces[nonce] > self.nonce_uses:
            return False
        ha1 = _md5(self.username, self.realm, self.password)
        ha2 = _md5(request.method, fields.get("uri", ""))
        if fields.get("qop"):
            expected = _md5(ha1, fields["nonce"], fields.get("nc", ""), fields.get("cnonce", ""), fields["qop"], ha2)
        else:
            expected = _md5(ha1, fields["nonce"], ha2)
        return secrets.compare_digest(expected, fields.get("response", ""))

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        f = self.faults
        if f.applies(request.path):
            if f.hang:
                await asyncio.sleep(3600)
            if f.delay:
                await asyncio.sleep(f.delay)
        if (f.auth_fails and f.applies(request.path)) or not self.authorized(request):
            return self.refuse(request)
        if f.applies(request.path):
            if f.status:
                return web.Response(status=f.status, text="simulated failure")
            if f.garbage:
                # Random bytes, labelled as what they are: a client must judge the body, not the label.
                return web.Response(body=os.urandom(512), content_type="application/octet-stream")
            if f.truncate:
                resp = await handler(request)
                body = getattr(resp, "body", None) or b""
                out = web.StreamResponse(headers={"Content-Type": resp.content_type,
                                                  "Content-Length": str(len(body))})
                await out.prepare(request)
                await out.write(bytes(body)[: len(body) // 2])
                if request.transport is not None:
                    request.transport.close()
                return out
        return await handler(request)

    async def open_stream(self, request: web.Request, content_type: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": content_type, "Connection": "close"})
        await resp.prepare(request)
        self._streams.add(resp)
        return resp

    def close_stream(self, resp: web.StreamResponse) -> None:
        self._streams.discard(resp)

    async def event_stream(self, request: web.Request, boundary: str, content_type: str, part_type: str,
                           idle: float, idle_body: str) -> web.StreamResponse:
        """A multipart event stream: broadcast parts as they come, ``idle_body`` when quiet."""
        resp = await self.open_stream(request, f"{content_type}; boundary={boundary}")
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._listeners.add(queue)
        loop = asyncio.get_running_loop()
        last = [loop.time()]  # when the stream last sent something
        head = f"--{boundary}\r\nContent-Type: {part_type}\r\nContent-Length: "

        async def heartbeats() -> None:  # one timer per quiet spell, not one per part (thousands a second)
            while True:
                wait = last[0] + idle - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                queue.put_nowait(idle_body)
                self.heartbeats += 1
                last[0] = loop.time()

        beating = asyncio.create_task(heartbeats())
        try:
            while True:
                bodies = [await queue.get()]
                while not queue.empty():  # a busy device sends what is waiting in one go, as TCP would
                    bodies.append(queue.get_nowait())
                if self.faults.mute:
                    continue
                chunk = []
                for body in bodies:
                    data = body.replace("\r\n", "\n").replace("\n", "\r\n").encode() + b"\r\n"
                    chunk.append(f"{head}{len(data)}\r\n\r\n".encode() + data + b"\r\n")
                await resp.write(b"".join(chunk))
                last[0] = loop.time()
        except ConnectionResetError:
            pass  # the client went away
        finally:
            beating.cancel()
            self._listeners.discard(queue)
            self.close_stream(resp)
        return resp

    def on_loop(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the simulator's loop, whichever thread asks."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            fn()
        else:
            self.loop.call_soon_threadsafe(fn)


class SimulatorThread:
    """Runs a simulator on an event loop in a thread of its own.

    For tests whose hub or CLI runs as a subprocess: ``call(coro_fn, ...)``
    runs something on the simulator's loop and returns its result.
    """

    def __init__(self, sim: DeviceSimulator) -> None:
        self.sim = sim
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="simulator", daemon=True)

    def __enter__(self) -> DeviceSimulator:
        self._thread.start()
        self.call(self.sim.start)
        return self.sim

    def call(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(fn(*args), self.loop).result(30)

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self.sim.stop)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
