"""A simulated Dahua camera, DVR or NVR speaking HTTP CGI.

Answers are ``key=value`` lines with CRLF, as devices send them; unknown
actions get ``Error / Bad Request!`` with status 400; the eventManager
stream is ``multipart/x-mixed-replace; boundary=myboundary`` with
``text/plain`` parts, optional JSON ``data=`` tails and ``Heartbeat`` parts.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Literal

from aiohttp import web
from PIL import Image

from hub.testing.sim.base import DeviceSimulator

MODELS = {"camera": "IPC-HDW5831R-ZE", "dvr": "XVR5108HS-4KL-I3", "nvr": "DHI-NVR4832-4KS2"}


def _lines(pairs: list[tuple[str, object]]) -> web.Response:
    return web.Response(text="".join(f"{k}={v}\r\n" for k, v in pairs), content_type="text/plain")


def bad_request() -> web.Response:
    """What a Dahua device answers for an action it does not know (a new object each time:
    aiohttp sends a response once, and a second use of one would hang)."""
    return web.Response(status=400, text="Error\r\nBad Request!\r\n", content_type="text/plain")


def pretty_json(data: dict[str, object]) -> str:
    """``json.dumps(data, indent=3)``, as devices indent it; a flat object of plain
    values without the pure-Python encoder that ``indent`` brings (the events
    benchmark sends thousands a second)."""
    if not data or not all(type(k) is str and (type(v) in (str, int, float, bool) or v is None)
                           for k, v in data.items()):
        return json.dumps(data, indent=3)
    return "{\n" + ",\n".join(f"   {_plain(k)}: {_plain(v)}" for k, v in data.items()) + "\n}"


def _plain(value: object) -> str:
    return _ENCODE(value) if type(value) is str else json.dumps(value)


_ENCODE = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


class DahuaSimulator(DeviceSimulator):
    def __init__(self, kind: Literal["camera", "dvr", "nvr"] = "nvr", channels: int = 4,
                 serial: str | None = None, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        if kind != "camera" and not 4 <= channels <= 64:
            raise ValueError("a simulated DVR or NVR has 4 to 64 channels")
        self.kind = kind
        self.model = MODELS[kind]
        self.serial = serial or f"7M0{self.port:05d}PAZ8E3F"
        self.realm = f"Login to {self.serial}"
        count = 1 if kind == "camera" else channels
        self.titles = {i: f"Kanal {i}" for i in range(1, count + 1)}
        self.offline: set[int] = set()

    def push_event(self, channel: int, code: str = "VideoMotion", action: str = "Start",
                   data: dict[str, object] | None = None) -> int:
        """Send an event part to every attached stream (safe from any thread)."""
        body = f"Code={code};action={action};index={channel - 1}"
        if data is not None:
            body += ";data=" + pretty_json(data)
        return self.broadcast(body)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/cgi-bin/magicBox.cgi", self.magic_box),
            web.get("/cgi-bin/configManager.cgi", self.config_manager),
            web.get("/cgi-bin/LogicDeviceManager.cgi", self.logic_device),
            web.get("/cgi-bin/storageDevice.cgi", self.storage),
            web.get("/cgi-bin/global.cgi", self.global_cgi),
            web.get("/cgi-bin/snapshot.cgi", self.snapshot),
            web.get("/cgi-bin/eventManager.cgi", self.event_manager),
        ]

    async def magic_box(self, request: web.Request) -> web.Response:
        action = request.query.get("action")
        if action == "getSystemInfo":
            return _lines([("appAutoStart", "true"), ("deviceType", self.model), ("hardwareVersion", "1.00"),
                           ("processor", "S3LM"), ("serialNumber", self.serial), ("updateSerial", self.model)])
        if action == "getDeviceType":
            return _lines([("type", self.model)])
        if action == "getSoftwareVersion":
            return _lines([("version", "4.001.0000000.3.R,build:2023-08-10")])
        if action == "getVendor":
            return _lines([("vendor", "Dahua")])
        if action == "getMachineName":
            return _lines([("name", f"Pos-{self.port}")])
        return bad_request()

    async def config_manager(self, request: web.Request) -> web.Response:
        if request.query.get("action") != "getConfig":
            return bad_request()
        name = request.query.get("name")
        if name == "ChannelTitle":
            return _lines([(f"table.ChannelTitle[{ch - 1}].Name", title) for ch, title in self.titles.items()])
        if name == "Encode":
            pairs: list[tuple[str, object]] = []
            for ch in self.titles:
                for fmt, codec, w, h, fps, kbps in (("MainFormat[0]", "H.265", 2560, 1440, 20, 4096),
                                                     ("ExtraFormat[0]", "H.264", 704, 480, 15, 512)):
                    base = f"table.Encode[{ch - 1}].{fmt}"
                    pairs += [(f"{base}.AudioEnable", "false"), (f"{base}.Video.BitRate", kbps),
                              (f"{base}.Video.BitRateControl", "VBR"), (f"{base}.Video.Compression", codec),
                              (f"{base}.Video.FPS", fps), (f"{base}.Video.GOP", fps * 2),
                              (f"{base}.Video.Height", h), (f"{base}.Video.Width", w),
                              (f"{base}.VideoEnable", "true")]
            return _lines(pairs)
        return bad_request()

    async def logic_device(self, request: web.Request) -> web.Response:
        if self.kind != "nvr" or request.query.get("action") != "getCameraState":
            return bad_request()
        pairs: list[tuple[str, object]] = []
        for i, ch in enumerate(self.titles):
            state = "Disconnected" if ch in self.offline else "Connected"
            pairs += [(f"states[{i}].channel", ch - 1), (f"states[{i}].connectionState", state)]
        return _lines(pairs)

    async def storage(self, request: web.Request) -> web.Response:
        if self.kind == "camera":
            return bad_request()
        return _lines([("list.info[0].Detail[0].IsError", "false"), ("list.info[0].Detail[0].TotalBytes", 4e12),
                       ("list.info[0].Detail[0].UsedBytes", 1e12), ("list.info[0].Name", "/dev/sda"),
                       ("list.info[0].State", "Success")])

    async def global_cgi(self, request: web.Request) -> web.Response:
        if request.query.get("action") != "getCurrentTime":
            return bad_request()
        return _lines([("result", datetime.now().strftime("%Y-%m-%d %H:%M:%S"))])

    async def snapshot(self, request: web.Request) -> web.Response:
        channel = request.query.get("channel", "1")
        if not (channel.isascii() and channel.isdigit()) or int(channel) not in self.titles:
            return bad_request()
        buf = io.BytesIO()
        Image.new("RGB", (352, 240), (90, 40, 20)).save(buf, "JPEG")
        return web.Response(body=buf.getvalue(), content_type="image/jpeg")

    async def event_manager(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("action") != "attach":
            return bad_request()
        heartbeat = float(request.query.get("heartbeat", "0") or 0) or 3600.0
        return await self.event_stream(request, "myboundary", "multipart/x-mixed-replace", "text/plain",
                                       heartbeat, "Heartbeat")
