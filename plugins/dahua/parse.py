"""Dahua HTTP CGI payloads into Pantau's models: pure functions, bytes in.

CGI answers are ``key=value`` lines (CRLF); configuration tables look like
``table.Encode[0].MainFormat[0].Video.Width=1920``.  Event-stream parts look
like ``Code=VideoMotion;action=Start;index=0`` with an optional JSON
``data=`` tail, or ``Heartbeat``.  Channel indexes in CGI tables and events
are 0-based; channel numbers in Pantau (and in RTSP and snapshot URLs) are
1-based.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hub import DeviceError, DeviceKind, EventKind, EventState, StreamRole
from hub.devices import normal

MAX_TEXT = 4 * 1024 * 1024


def key_values(body: bytes, what: str) -> dict[str, str]:
    """``key=value`` lines into a dict (values may contain ``=``)."""
    if len(body) > MAX_TEXT:
        raise DeviceError(f"{what}: answer of {len(body)} bytes is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise DeviceError(f"{what}: answer is not text") from None
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, eq, value = line.partition("=")
        if eq and key.strip():
            out[key.strip()] = value.strip()
    if not out:
        first = text.strip().splitlines()[0][:80] if text.strip() else "an empty answer"
        raise DeviceError(f"{what}: expected key=value lines, got {first!r}")
    return out


@dataclass
class SystemInfo:
    model: str
    serial: str
    device_type: str | None
    hardware: str | None


def system_info(body: bytes, what: str) -> SystemInfo:
    """``magicBox.cgi?action=getSystemInfo``.

    Some NVRs report a number as ``deviceType`` (``31``) and their model in
    ``updateSerial``.
    """
    kv = key_values(body, what)
    serial = normal.usable_serial(kv.get("serialNumber"))
    device_type = kv.get("deviceType")
    model = device_type if device_type and not device_type.isdigit() else kv.get("updateSerial")
    if not serial or not model:
        raise DeviceError(f"{what}: getSystemInfo lacks serialNumber or a model")
    return SystemInfo(model=model, serial=serial, device_type=device_type, hardware=kv.get("hardwareVersion"))


def single_value(body: bytes, what: str, key: str) -> str | None:
    """One-line answers: ``type=...``, ``version=...``, ``vendor=...``, ``result=...``."""
    return key_values(body, what).get(key)


def software_version(body: bytes, what: str) -> str | None:
    """``version=2.800.0000016.0.R,build:2020-06-05`` -> ``2.800.0000016.0.R build 2020-06-05``."""
    value = single_value(body, what, "version")
    return value.replace(",build:", " build ") if value else None


def device_kind(model: str) -> DeviceKind:
    m = model.upper()
    if "NVR" in m:
        return DeviceKind.NVR
    if any(k in m for k in ("XVR", "HCVR", "DVR")):
        return DeviceKind.DVR
    if "NVS" in m or "ENCODER" in m:
        return DeviceKind.ENCODER
    return DeviceKind.CAMERA


_TABLE = re.compile(r"^table\.(\w+)\[(\d+)\]\.?(.*)$")


def table(body: bytes, what: str, name: str) -> dict[int, dict[str, str]]:
    """``configManager.cgi?action=getConfig&name=<name>`` as ``{index: {rest.of.key: value}}``."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in key_values(body, what).items():
        m = _TABLE.match(key)
        if m and m.group(1) == name:
            rows.setdefault(int(m.group(2)), {})[m.group(3)] = value
    return rows


def channel_titles(body: bytes, what: str) -> dict[int, str]:
    """``ChannelTitle``: 1-based channel number -> name."""
    return {index + 1: row.get("Name") or f"Channel {index + 1}"
            for index, row in table(body, what, "ChannelTitle").items()}


@dataclass
class EncodeStream:
    channel: int
    role: StreamRole
    enabled: bool
    codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    bitrate: int | None
    constant_bitrate: bool | None = None




def _num(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def encode(body: bytes, what: str) -> list[EncodeStream]:
    """``Encode``: MainFormat[0] is the main stream, ExtraFormat[0..1] the sub and third."""
    out = []
    for index, row in sorted(table(body, what, "Encode").items()):
        for prefix, role in (("MainFormat[0]", StreamRole.MAIN), ("ExtraFormat[0]", StreamRole.SUB),
                             ("ExtraFormat[1]", StreamRole.THIRD)):
            codec = row.get(f"{prefix}.Video.Compression")
            if codec is None:
                continue
            width, height = _num(row.get(f"{prefix}.Video.Width")), _num(row.get(f"{prefix}.Video.Height"))
            kbps = _num(row.get(f"{prefix}.Video.BitRate"))
            out.append(EncodeStream(
                channel=index + 1, role=role,
                enabled=row.get(f"{prefix}.VideoEnable", "true").lower() == "true",
                codec=normal.codec(codec),
                width=int(width) if width else None, height=int(height) if height else None,
                fps=_num(row.get(f"{prefix}.Video.FPS")), bitrate=normal.bits_per_second(kbps),
                constant_bitrate={"CBR": True, "VBR": False}.get(row.get(f"{prefix}.Video.BitRateControl", "").upper()),
            ))
    return out


def _number(text: str) -> bool:
    """Whether ``text`` is an integer in ASCII digits (``isdigit`` alone takes '²' too)."""
    digits = text.removeprefix("-")
    return digits.isascii() and digits.isdigit()


def camera_states(body: bytes, what: str) -> dict[int, bool]:
    """``LogicDeviceManager.cgi?action=getCameraState``: 1-based channel -> connected."""
    states: dict[int, dict[str, str]] = {}
    for key, value in key_values(body, what).items():
        m = re.match(r"^states\[(\d+)\]\.(\w+)$", key)
        if m:
            states.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return {int(s["channel"]) + 1: s.get("connectionState", "").lower() == "connected"
            for s in states.values() if _number(s.get("channel", "")) and int(s["channel"]) >= 0}


@dataclass
class Disk:
    name: str
    state: str
    total_bytes: int | None
    used_bytes: int | None
    error: bool


def storage(body: bytes, what: str) -> list[Disk]:
    """``storageDevice.cgi?action=getDeviceAllInfo``."""
    disks: dict[int, dict[str, str]] = {}
    for key, value in key_values(body, what).items():
        m = re.match(r"^list\.info\[(\d+)\]\.(.+)$", key)
        if m:
            disks.setdefault(int(m.group(1)), {})[m.group(2)] = value
    out = []
    for index, d in sorted(disks.items()):
        total = _num(d.get("Detail[0].TotalBytes"))
        used = _num(d.get("Detail[0].UsedBytes"))
        out.append(Disk(name=d.get("Name", f"disk{index}"), state=d.get("State", "unknown"),
                        total_bytes=int(total) if total is not None else None,
                        used_bytes=int(used) if used is not None else None,
                        error=d.get("Detail[0].IsError", "false").lower() == "true"))
    return out


def current_time(body: bytes, what: str) -> datetime | None:
    """``global.cgi?action=getCurrentTime``: ``result=2026-11-22 18:00:00`` (device local time, no zone)."""
    value = single_value(body, what, "result")
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


@dataclass
class EventPart:
    heartbeat: bool
    code: str = ""
    kind: EventKind = EventKind.OTHER
    state: EventState = EventState.PULSE
    channel: int | None = None
    at: datetime | None = None
    data: dict[str, object] = field(default_factory=dict)


_KINDS = {
    "videomotion": EventKind.MOTION, "smartmotionhuman": EventKind.MOTION, "smartmotionvehicle": EventKind.MOTION,
    "crosslinedetection": EventKind.LINE_CROSSING, "crossregiondetection": EventKind.INTRUSION,
    "videoblind": EventKind.TAMPER, "videoabnormaldetection": EventKind.TAMPER, "scenechange": EventKind.TAMPER,
    "videoloss": EventKind.VIDEO_LOSS, "alarmlocal": EventKind.IO,
    "storagefailure": EventKind.STORAGE_FAULT, "storagenotexist": EventKind.STORAGE_FAULT,
    "storagelowspace": EventKind.STORAGE_FAULT, "storagefull": EventKind.STORAGE_FAULT,
}
_STATES = {"start": EventState.START, "stop": EventState.STOP, "pulse": EventState.PULSE, "state": EventState.PULSE}
_TARGETS = {"smartmotionhuman": "human", "smartmotionvehicle": "vehicle"}


def event_part(body: bytes, what: str) -> EventPart:
    """One ``eventManager.cgi?action=attach`` part."""
    text = body.decode("utf-8", errors="replace").strip()
    if text == "Heartbeat":
        return EventPart(heartbeat=True)
    head, _, tail = text.partition(";data=")
    fields = dict(item.partition("=")[::2] for item in head.split(";") if "=" in item)
    code = fields.get("Code")
    if not code:
        raise DeviceError(f"{what}: event part without Code: {text[:80]!r}")
    data: dict[str, object] = {}
    if tail:
        try:
            parsed = json.loads(tail)
        except json.JSONDecodeError:
            raise DeviceError(f"{what}: {code}: data= is not JSON") from None
        data = parsed if isinstance(parsed, dict) else {"value": parsed}
    index = fields.get("index", "")
    targets = set()
    if (target := _TARGETS.get(code.lower())) is not None:
        targets.add(target)
    obj = data.get("Object")
    if isinstance(obj, dict) and isinstance(obj.get("ObjectType"), str):
        targets.add(obj["ObjectType"].lower())
    extra: dict[str, object] = {"action": fields.get("action")}
    if targets:
        extra["targets"] = sorted(targets)
    for key in ("Name", "Direction", "RegionName"):
        if key in data:
            extra[key.lower()] = data[key]
    utc, ms = data.get("UTC"), data.get("UTCMS")
    at = None
    if isinstance(utc, int | float) and not isinstance(utc, bool) and 0 < utc < 32503680000:  # before 3000
        extra_ms = ms if isinstance(ms, int) and not isinstance(ms, bool) and 0 <= ms < 1000 else 0
        at = datetime.fromtimestamp(utc, UTC) + timedelta(milliseconds=extra_ms)  # UTCMS: the milliseconds
    return EventPart(
        heartbeat=False, code=code, kind=_KINDS.get(code.lower(), EventKind.OTHER),
        state=_STATES.get(fields.get("action", "").lower(), EventState.PULSE),
        channel=int(index) + 1 if index.isascii() and index.isdigit() else None,
        at=at,
        data=extra,
    )
