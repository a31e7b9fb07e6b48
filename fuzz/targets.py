"""The fuzz targets: each takes the fuzzer's bytes and feeds them to one parser of device or
partner input the way the hub does.  A typed ``HubError`` is the parser saying "bad input"
(what it must do); anything else escaping is a crash.

Each target is a plain function, so the seed corpus also runs as an ordinary test without the
fuzzer (tests/test_fuzz_targets.py); ``fuzz/run.py`` runs them under atheris.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from hub.core.errors import HubError

#: Name -> function(data) of every target.
TARGETS: dict[str, Callable[[bytes], None]] = {}


def target(fn: Callable[[bytes], None]) -> Callable[[bytes], None]:
    TARGETS[fn.__name__] = fn
    return fn


def _pick(data: bytes, options: int) -> tuple[int, bytes]:
    """The first byte chooses among ``options``; the rest is the input."""
    return (data[0] % options, data[1:]) if data else (0, b"")


def _chunks(data: bytes) -> list[bytes]:
    """``data`` cut where a network would: sizes from the first byte (1 to 256)."""
    if not data:
        return []
    step = data[0] + 1
    body = data[1:]
    return [body[i:i + step] for i in range(0, len(body), step)]


def _guarded(call: Callable[[], Any]) -> None:
    try:
        call()
    except HubError:
        pass


@target
def hikvision_isapi(data: bytes) -> None:
    """Every ISAPI answer the Hikvision plugin parses."""
    from plugins.hikvision import parse

    parsers = [parse.device_info, parse.video_inputs, parse.proxy_channels, parse.proxy_status,
               parse.streaming_channels, parse.storage, parse.device_time, parse.event_triggers, parse.alert]
    which, body = _pick(data, len(parsers) + 1)
    if which == len(parsers):
        parse.response_status(body, "fuzz")  # never raises: None for what is not a ResponseStatus
        return
    _guarded(lambda: parsers[which](body, "fuzz"))


@target
def hikvision_alert_stream(data: bytes) -> None:
    """The alertStream: multipart parts arriving in pieces, each an EventNotificationAlert."""
    from hub.devices.multipart import MultipartStream
    from plugins.hikvision import parse

    stream = MultipartStream("boundary", max_part=64 * 1024)

    def run() -> None:
        for chunk in _chunks(data):
            for part in stream.feed(chunk):
                if part.body and "xml" in (part.content_type or "xml"):
                    _guarded(lambda body=part.body: parse.alert(body, "fuzz"))

    _guarded(run)


@target
def dahua_cgi(data: bytes) -> None:
    """Every key=value (and table) answer of Dahua's CGI the plugin parses."""
    from plugins.dahua import parse

    parsers: list[Callable[[bytes], Any]] = [
        lambda b: parse.key_values(b, "fuzz"), lambda b: parse.system_info(b, "fuzz"),
        lambda b: parse.software_version(b, "fuzz"), lambda b: parse.channel_titles(b, "fuzz"),
        lambda b: parse.encode(b, "fuzz"), lambda b: parse.camera_states(b, "fuzz"),
        lambda b: parse.storage(b, "fuzz"), lambda b: parse.current_time(b, "fuzz"),
        lambda b: parse.table(b, "fuzz", "table.ChannelTitle")]
    which, body = _pick(data, len(parsers))
    _guarded(lambda: parsers[which](body))


@target
def dahua_event_stream(data: bytes) -> None:
    """eventManager's attach stream: multipart parts in pieces, each ``Code=...;data={json}``."""
    from hub.devices.multipart import MultipartStream
    from plugins.dahua import parse

    stream = MultipartStream("myboundary", max_part=64 * 1024)

    def run() -> None:
        for chunk in _chunks(data):
            for part in stream.feed(chunk):
                _guarded(lambda body=part.body: parse.event_part(body, "fuzz"))

    _guarded(run)
    _guarded(lambda: parse.event_part(data, "fuzz"))  # one part's body on its own


@target
def multipart(data: bytes) -> None:
    """The multipart splitter, with a boundary from a Content-Type the device sent."""
    from hub.devices.multipart import MultipartStream, boundary_of

    head, _, body = data.partition(b"\n")

    def run() -> None:
        boundary = boundary_of(head.decode("latin-1"))
        stream = MultipartStream(boundary, max_part=4096)
        for chunk in _chunks(body):
            for part in stream.feed(chunk):
                assert isinstance(part.body, bytes)

    _guarded(run)


_ONVIF: dict[str, Any] = {}


def _onvif_pull_messages() -> tuple[Any, Any, Any]:
    """zeep's binding of the events service's PullMessages, built offline from the library's WSDLs."""
    if not _ONVIF:
        import asyncio

        from onvif import ONVIFCamera

        from plugins.onvif.client import harden_xml

        harden_xml()

        async def build() -> Any:
            cam = ONVIFCamera("127.0.0.1", 9, "u", "p")
            cam.xaddrs = {"http://www.onvif.org/ver10/events/wsdl": "http://127.0.0.1:9/onvif"}
            service = await cam.create_events_service()
            await cam.close()
            return service.zeep_client

        client = asyncio.run(build())
        binding = next(b for b in client.wsdl.bindings.values() if "PullMessages" in b._operations)
        _ONVIF.update(client=client, binding=binding, operation=binding._operations["PullMessages"])
    return _ONVIF["client"], _ONVIF["binding"], _ONVIF["operation"]


@target
def onvif_notifications(data: bytes) -> None:
    """A PullMessages answer through zeep (hardened as the plugin sets it) into the plugin's parser."""
    from plugins.onvif import parse
    from plugins.onvif.client import translated

    client, binding, operation = _onvif_pull_messages()
    reply = SimpleNamespace(status_code=200, content=data, encoding="utf-8",
                            headers={"Content-Type": "application/soap+xml"})
    try:
        result = binding.process_reply(client, operation, reply)
        for message in getattr(result, "NotificationMessage", None) or []:
            note = parse.notification(message)
            parse.event_of(note)
    except HubError:
        pass
    except Exception as err:  # what the plugin's client translates is the device's doing
        if translated(err, "fuzz", "PullMessages") is None:
            raise


@target
def rtsp_interleaved(data: bytes) -> None:
    """The RTSP/RTP depacketiser on an interleaved stream, H.264 or H.265, arriving in pieces."""
    from hub.core import rtsp

    which, body = _pick(data, 2)
    pieces = iter(_chunks(body))

    def read() -> bytes | None:
        return next(pieces, None)

    def run() -> None:
        for packet in rtsp.access_units(read, "h265" if which else "h264", label="fuzz"):
            assert packet.size >= 0

    _guarded(run)


@target
def rtsp_answers(data: bytes) -> None:
    """What an RTSP server says: a response's head, its SDP, its WWW-Authenticate."""
    from hub.core import rtsp

    which, body = _pick(data, 3)
    text = body.decode("utf-8", "replace")
    if which == 0:
        _guarded(lambda: rtsp._parse_response(body))
    elif which == 1:
        _guarded(lambda: rtsp.parse_sdp(text))
    else:
        _guarded(lambda: rtsp._challenge(text.split("\n")))


@target
def open311_answers(data: bytes) -> None:
    """An Open311 endpoint's answer: status, JSON, then read as services, requests or a creation."""
    from plugins.jaki_reports import client

    which, body = _pick(data, 6)
    status = (200, 200, 200, 201, 400, 503)[which]
    models = [client.Service, client.ServiceRequest, client.Created]

    def run() -> None:
        answer = client.answer("fuzz", status, body)
        client.read("fuzz", answer, models[which % 3])

    _guarded(run)


_PLUGINS: list[Any] = []


@target
def hub_yaml(data: bytes) -> None:
    """A hub.yaml (any bytes: a file the hub is pointed at) through the whole config loader."""
    from hub.core.config import load_config
    from hub.core.plugins import Plugins

    if not _PLUGINS:
        _PLUGINS.append(Plugins().load())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # the loader reads files as UTF-8 and says so (tested); the parser sees text
    _guarded(lambda: load_config("fuzz.yaml", _PLUGINS[0], text=text))
