"""Conformance with what real devices send: every capture in
``../shared/captures`` (present in CI) goes through the plugins' parsers,
and each Hikvision device dump is replayed through the full client.

The captures are read where they lie; nothing from ``../shared`` is copied
into the project.  Expected values are read from the captures themselves
(the dump's own model, serial and channel lists), never typed in here.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import xmltodict

from hub.core.models import CameraStatus, DeviceKind, EventKind, EventState, StreamRole
from hub.core.sources import SourceContext
from hub.devices.multipart import MultipartStream, boundary_of
from hub.testing.sim import ReplaySimulator
from plugins.hikvision import HikvisionConfig, HikvisionSource, parse
from tests.conftest import ROOT

CAPTURES = ROOT.parent / "shared" / "captures"
pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason="../shared/captures is not beside the project")


def captures(pattern: str) -> list[Path]:
    return sorted(CAPTURES.glob(pattern)) if CAPTURES.is_dir() else []


def as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def hik_dump(path: Path) -> dict:
    return json.loads(path.read_text())["data"]["ISAPI"]


def expected_channels(isapi: dict) -> set[int]:
    """Channel ids as the dump itself lists them (analog inputs and proxied IP cameras)."""
    ids: set[int] = set()
    for endpoint, lst, item in (("System/Video/inputs/channels", "VideoInputChannelList", "VideoInputChannel"),
                                ("ContentMgmt/InputProxy/channels", "InputProxyChannelList", "InputProxyChannel")):
        response = isapi.get(endpoint, {}).get("response")
        if response:
            ids |= {int(c["id"]) for c in as_list(response[lst].get(item))}
    return ids


@pytest.mark.parametrize("dump", captures("hikvision/devices_json/*.json"), ids=lambda p: p.stem)
def test_hikvision_device_dump_parses(dump: Path) -> None:
    isapi = hik_dump(dump)
    raw = isapi["System/deviceInfo"]["response"]
    info = parse.device_info(xmltodict.unparse(raw).encode(), dump.stem)
    assert (info.model, info.serial) == (raw["DeviceInfo"]["model"], raw["DeviceInfo"]["serialNumber"])


@pytest.mark.parametrize("dump", captures("hikvision/devices_json/*.json"), ids=lambda p: p.stem)
async def test_hikvision_device_dump_replays_through_the_client(dump: Path, tmp_path: Path) -> None:
    isapi = hik_dump(dump)
    folder = tmp_path / "replay"
    folder.mkdir()
    statuses = {}
    for endpoint, answer in isapi.items():
        if isinstance(answer, dict) and "response" in answer and isinstance(answer["response"], dict):
            (folder / (endpoint.replace("/", ".") + ".xml")).write_text(xmltodict.unparse(answer["response"]))
        elif isinstance(answer, dict) and "status_code" in answer:
            statuses[endpoint] = int(answer["status_code"])  # as the device answered: 400 notSupport, 403, ...
    sim = await ReplaySimulator(folder, statuses=statuses).start()
    src = HikvisionSource(HikvisionConfig(name="replay", host="127.0.0.1", port=sim.port, password=sim.password),
                          SourceContext(tmp_path, logging.getLogger("conformance")))
    try:
        (inv,) = await src.probe()
    finally:
        await src.close()
        await sim.stop()
    raw = isapi["System/deviceInfo"]["response"]["DeviceInfo"]
    assert (inv.device.model, inv.device.serial) == (raw["model"], raw["serialNumber"])
    assert {c.channel for c in inv.cameras} == expected_channels(isapi)
    device_type = raw.get("deviceType", "")
    if "NVR" in device_type:
        assert inv.device.kind == DeviceKind.NVR
    elif "DVR" in device_type:
        assert inv.device.kind == DeviceKind.DVR
    else:
        assert inv.device.kind == DeviceKind.CAMERA
    for cam in inv.cameras:  # a channel whose camera is away keeps its fixed paths, to be recorded on return
        main = cam.stream(StreamRole.MAIN)
        assert main is not None and main.url is not None, f"channel {cam.channel} has no main stream"
        assert main.url.get_secret_value().endswith(f"/Streaming/Channels/{cam.channel}01")
        away = all(isapi.get(f"Streaming/channels/{cam.channel}0{n}", {}).get("status_code") for n in (1, 2))
        if away:
            assert cam.status == CameraStatus.OFFLINE and main.codec is None


@pytest.mark.parametrize("alert", captures("hikvision/alertstream/*.xml"), ids=lambda p: p.stem)
def test_hikvision_alert_is_an_event_or_a_heartbeat(alert: Path) -> None:
    body = alert.read_bytes()
    result = parse.alert(body, alert.name)
    raw = xmltodict.parse(body)["EventNotificationAlert"]
    assert result.event_type == raw["eventType"]
    if raw["eventType"] == "videoloss" and raw["eventState"] == "inactive":
        assert result.heartbeat
    else:
        assert not result.heartbeat and result.at is not None
        assert result.kind != EventKind.OTHER, f"{raw['eventType']} is classified 'other'"
        if raw["eventType"] == "duration":  # the lasting event names the kind
            related = raw["DurationList"]["Duration"]["relationEvent"]
            assert related == "fielddetection" and result.kind == EventKind.INTRUSION
            assert result.data["relation_events"] == [related]


def test_hikvision_assembled_alert_stream_splits_into_alerts() -> None:
    folder = CAPTURES / "hikvision" / "alertstream"
    headers = (folder / "alertStream_ASSEMBLED_headers.http").read_text()
    content_type = next(line.split(":", 1)[1] for line in headers.splitlines()
                        if line.lower().startswith("content-type"))
    body = (folder / "alertStream_ASSEMBLED_body.multipart").read_bytes()
    stream = MultipartStream(boundary_of(content_type))
    parts = []
    for i in range(0, len(body), 97):  # arriving in odd-sized chunks
        parts += stream.feed(body[i:i + 97])
    assert len(parts) == body.count(b"--" + boundary_of(content_type).encode() + b"\r\n")
    alerts = [parse.alert(p.body, "alertStream") for p in parts]
    assert any(a.heartbeat for a in alerts) and any(not a.heartbeat for a in alerts)


@pytest.mark.parametrize("part", captures("dahua/eventstream/*.txt"), ids=lambda p: p.stem)
def test_dahua_event_part_is_an_event_or_a_heartbeat(part: Path) -> None:
    from plugins.dahua import parse as dahua

    body = part.read_bytes()
    event = dahua.event_part(body, part.name)
    code = body.split(b";", 1)[0].removeprefix(b"Code=").decode()
    assert not event.heartbeat and event.code == code and event.channel is not None
    action = body.split(b"action=", 1)[1].split(b";", 1)[0].decode().lower()
    assert event.state.value == {"state": "pulse"}.get(action, action)
    data = json.loads(body.split(b"data=", 1)[1]) if b"data=" in body else {}
    if "UTC" in data:  # the device's time, to the millisecond it gives (UTCMS)
        expected = datetime.fromtimestamp(data["UTC"], UTC) + timedelta(milliseconds=data.get("UTCMS", 0))
        assert event.at == expected


def test_dahua_assembled_attach_stream_splits_into_events_and_heartbeats() -> None:
    from plugins.dahua import parse as dahua

    folder = CAPTURES / "dahua" / "eventstream"
    headers = (folder / "attach_ASSEMBLED_headers.http").read_text()
    content_type = next(line.split(":", 1)[1] for line in headers.splitlines()
                        if line.lower().startswith("content-type"))
    body = (folder / "attach_ASSEMBLED_body.multipart").read_bytes()
    stream = MultipartStream(boundary_of(content_type))
    parts = []
    for i in range(0, len(body), 61):
        parts += stream.feed(body[i:i + 61])
    assert len(parts) == body.count(b"--myboundary\r\n")
    results = [dahua.event_part(p.body, "attach") for p in parts]
    assert any(r.heartbeat for r in results) and any(not r.heartbeat for r in results)


@pytest.mark.parametrize("answer", captures("dahua/cgi_text/magicBox_getSystemInfo__*.txt"), ids=lambda p: p.stem)
def test_dahua_system_info_captures(answer: Path) -> None:
    from plugins.dahua import parse as dahua

    body = answer.read_bytes()
    lines = dict(line.split("=", 1) for line in body.decode().splitlines() if "=" in line)
    info = dahua.system_info(body, answer.name)
    assert info.serial == lines["serialNumber"]
    assert info.model in (lines["deviceType"], lines.get("updateSerial"))
    assert not info.model.isdigit()


@pytest.mark.parametrize("answer", captures("dahua/cgi_text/configManager_getConfig_*.txt"), ids=lambda p: p.stem)
def test_dahua_config_tables_parse(answer: Path) -> None:
    from plugins.dahua import parse as dahua

    body = answer.read_bytes()
    name = answer.stem.split("getConfig_", 1)[1].split("__", 1)[0]
    rows = dahua.table(body, answer.name, name)
    assert rows and sum(len(r) for r in rows.values()) == body.count(b"table." + name.encode() + b"[")


def onvif_captures() -> list[Path]:
    # The agsh files are mock templates with placeholders, not captures (SOURCES.md).
    return [p for p in captures("onvif/*/*.xml") if "agsh_mockup_templates" not in p.parts]


@pytest.fixture(scope="module")
def onvif_bindings():  # noqa: ANN201
    """zeep's bindings for the ONVIF services, built offline from the library's WSDL files."""
    import asyncio

    from onvif import ONVIFCamera

    async def build() -> tuple[ONVIFCamera, list]:
        cam = ONVIFCamera("127.0.0.1", 9, "u", "p")
        cam.xaddrs = {ns: "http://127.0.0.1:9/onvif" for ns in (
            "http://www.onvif.org/ver10/device/wsdl", "http://www.onvif.org/ver10/media/wsdl",
            "http://www.onvif.org/ver10/events/wsdl")}
        services = [await cam.create_devicemgmt_service(), await cam.create_media_service(),
                    await cam.create_events_service()]
        return cam, [(s.zeep_client, b) for s in services for b in s.zeep_client.wsdl.bindings.values()]

    loop = asyncio.new_event_loop()
    cam, bindings = loop.run_until_complete(build())
    yield bindings
    loop.run_until_complete(cam.close())
    loop.close()


def _operation(path: Path) -> str:
    stem = path.stem.removesuffix("Response").removesuffix("_response")
    return "".join(w[:1].upper() + w[1:] for w in stem.split("_")) if "_" in stem else stem


@pytest.mark.parametrize("capture", onvif_captures(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_onvif_response_parses(capture: Path, onvif_bindings) -> None:
    from types import SimpleNamespace

    from plugins.onvif import parse as onvif

    operation = _operation(capture)
    match = next(((c, b) for c, b in onvif_bindings if operation in b._operations), None)
    assert match is not None, f"no ONVIF operation {operation}"
    client, binding = match
    reply = SimpleNamespace(status_code=200, content=capture.read_bytes(), encoding="utf-8",
                            headers={"Content-Type": "application/soap+xml"})
    result = binding.process_reply(client, binding._operations[operation], reply)
    assert result is not None
    if operation == "GetProfiles":
        infos = [p for r in result if (p := onvif.profile_info(r)) is not None]
        cameras = onvif.cameras_from_profiles(infos)
        assert cameras and all(ranked and ranked[0][0].value == "main" for _, _, ranked in cameras)
    elif operation == "GetDeviceInformation":
        assert result.Manufacturer and result.Model and result.SerialNumber
    elif operation == "GetSystemDateAndTime":
        assert onvif.device_utc(result) is not None
    elif operation == "PullMessages":
        events = [onvif.event_of(onvif.notification(m)) for m in result.NotificationMessage]
        assert events and all(e is None or e.detail for e in events)


async def test_an_nvr_alert_past_channel_32_lands_on_its_ip_camera(tmp_path: Path) -> None:
    """DS-7608NXI-I2 names its second IP camera ("home", channel 2) channelID 34 in alerts
    that carry psialliance Extensions; replayed with its own dump, the alert lands there."""
    isapi = hik_dump(CAPTURES / "hikvision" / "devices_json" / "DS-7608NXI-I2.json")
    folder = tmp_path / "replay"
    folder.mkdir()
    for endpoint, answer in isapi.items():
        if isinstance(answer, dict) and isinstance(answer.get("response"), dict):
            (folder / (endpoint.replace("/", ".") + ".xml")).write_text(xmltodict.unparse(answer["response"]))
    alert = (CAPTURES / "hikvision" / "alertstream" / "EventNotificationAlert__nvr_2_fielddetection.xml").read_bytes()
    assert b"<channelID>34</channelID>" in alert and b"<Extensions>" in alert
    sim = await ReplaySimulator(folder, alerts=[alert]).start()
    src = HikvisionSource(HikvisionConfig(name="replay", host="127.0.0.1", port=sim.port, password=sim.password),
                          SourceContext(tmp_path, logging.getLogger("conformance")))
    try:
        (inv,) = await src.probe()
        by_channel = {c.channel: c for c in inv.cameras}
        events = src.events()
        event = await asyncio.wait_for(anext(events), 10)
        await events.aclose()
    finally:
        await src.close()
        await sim.stop()
    assert event.camera_id == by_channel[2].id and by_channel[2].name == "home"
    assert (event.kind, event.state, event.detail) == (EventKind.INTRUSION, EventState.START, "fielddetection")
