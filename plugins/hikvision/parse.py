"""Hikvision ISAPI payloads into Pantau's models: pure functions, bytes in.

Matching is on local element names, since devices use many namespaces for
the same documents.  Every function takes ``what`` (host and endpoint) for
its error messages.  Quirks handled here come from real captures: NVRs that
send ``<dynChannelID>`` and an empty ``<channelID/>``, offsets without zero
padding (``-8:00``), bodies without an XML declaration, idle cameras that
send ``videoloss`` / ``inactive`` as a heartbeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from hub import DeviceError, DeviceKind, EventKind, EventState, StreamRole
from hub.devices import normal
from hub.devices.xml import boolean, child, children, find_all, integer, local, parse, text


@dataclass
class DeviceInfo:
    name: str | None
    model: str
    serial: str
    mac: str | None
    firmware: str | None
    device_type: str | None


@dataclass
class Channel:
    """A video channel: an analog input (camera, DVR) or an IP camera behind an NVR."""

    id: int
    name: str
    enabled: bool = True
    online: bool | None = None
    model: str | None = None


@dataclass
class StreamingChannel:
    id: int
    channel: int
    role: StreamRole
    enabled: bool
    codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    bitrate: int | None
    constant_bitrate: bool | None = None


@dataclass
class Disk:
    id: str
    kind: str  # "hdd" or "nas"
    status: str
    capacity_mb: int | None
    free_mb: int | None


@dataclass
class Alert:
    """One ``EventNotificationAlert``: an event, or an idle heartbeat."""

    heartbeat: bool
    kind: EventKind
    state: EventState
    event_type: str
    channel: int | None
    at: datetime | None
    data: dict[str, object] = field(default_factory=dict)


def _root(body: bytes | str, what: str, expected: str) -> Element:
    root = parse(body, what)
    if local(root.tag) != expected:
        raise DeviceError(f"{what}: expected <{expected}>, got <{local(root.tag)}>")
    return root


def response_status(body: bytes, what: str = "response") -> tuple[int | None, str | None] | None:
    """``(statusCode, subStatusCode)`` of a ``ResponseStatus`` body, or None if it is not one."""
    try:
        root = parse(body, what)
    except DeviceError:
        return None
    if local(root.tag) != "ResponseStatus":
        return None
    return integer(root, "statusCode"), text(root, "subStatusCode")


def device_info(body: bytes, what: str) -> DeviceInfo:
    root = _root(body, what, "DeviceInfo")
    model, serial = text(root, "model"), normal.usable_serial(text(root, "serialNumber"), text(root, "macAddress"))
    if not model or not serial:
        raise DeviceError(f"{what}: DeviceInfo lacks a model, or a serialNumber or macAddress that identifies it")
    firmware = text(root, "firmwareVersion")
    build = text(root, "firmwareReleasedDate")
    return DeviceInfo(name=text(root, "deviceName"), model=model, serial=serial, mac=text(root, "macAddress"),
                      firmware=f"{firmware} {build}" if firmware and build else firmware,
                      device_type=text(root, "deviceType"))


def device_kind(info: DeviceInfo, proxy_channels: int) -> DeviceKind:
    """What the device is; a hybrid DVR (analog and IP channels) stays a DVR."""
    kind = (info.device_type or "").upper()
    if any(k in kind for k in ("DVR", "XVR", "HVR")):
        return DeviceKind.DVR
    if "NVR" in kind or proxy_channels > 0:
        return DeviceKind.NVR
    if "ENCODER" in kind or "DVS" in kind:
        return DeviceKind.ENCODER
    return DeviceKind.CAMERA


def merge_channels(analog: list[Channel], proxied: list[Channel]) -> list[Channel]:
    """A device's channels: its own video inputs and the IP cameras it proxies, by id."""
    by_id = {c.id: c for c in analog}
    by_id.update({c.id: c for c in proxied})
    return [by_id[i] for i in sorted(by_id)]


#: Alerts of an NVR's or DVR's IP cameras may name them past this offset (DS-7608NXI-I2, firmware
#: V4.61/V4.62: its second IP camera's alerts say ``channelID`` 34).
IP_CHANNEL_OFFSET = 32


def alert_channel(channel: int, known: set[int], ip_channels: list[int]) -> int:
    """The camera channel an alert's ``channelID`` means.

    A channel the device has is itself.  Past ``IP_CHANNEL_OFFSET`` and unknown, it is the
    (channelID - 32)-th IP camera in the device's own order (on a hybrid DVR with four
    analog inputs, 33 is its first IP channel, 5), or else channelID - 32.
    """
    if channel in known or channel <= IP_CHANNEL_OFFSET:
        return channel
    index = channel - IP_CHANNEL_OFFSET
    ordered = sorted(ip_channels)
    return ordered[index - 1] if index <= len(ordered) else index


def video_inputs(body: bytes, what: str) -> list[Channel]:
    """``System/Video/inputs/channels``: a camera's or DVR's own video inputs."""
    root = _root(body, what, "VideoInputChannelList")
    out = []
    for ch in children(root, "VideoInputChannel"):
        cid = integer(ch, "id")
        if cid is None:
            continue
        name = text(ch, "name") or f"Camera {cid:02d}"
        out.append(Channel(id=cid, name=name, enabled=boolean(ch, "videoInputEnabled") is not False))
    return out


def proxy_channels(body: bytes, what: str) -> list[Channel]:
    """``ContentMgmt/InputProxy/channels``: the IP cameras an NVR records."""
    root = _root(body, what, "InputProxyChannelList")
    out = []
    for ch in children(root, "InputProxyChannel"):
        cid = integer(ch, "id")
        if cid is None:
            continue
        out.append(Channel(id=cid, name=text(ch, "name") or f"IPCamera {cid:02d}",
                           model=text(ch, "sourceInputPortDescriptor", "model")))
    return out


def proxy_status(body: bytes, what: str) -> dict[int, bool]:
    """``ContentMgmt/InputProxy/channels/status``: which NVR channels are online."""
    root = _root(body, what, "InputProxyChannelStatusList")
    return {cid: boolean(st, "online") is True
            for st in children(root, "InputProxyChannelStatus") if (cid := integer(st, "id")) is not None}


_ROLES = {1: StreamRole.MAIN, 2: StreamRole.SUB, 3: StreamRole.THIRD}


def _streaming_channel(sc: Element) -> StreamingChannel | None:
    sid = integer(sc, "id")
    if sid is None or sid < 100:
        return None
    channel, index = divmod(sid, 100)
    role = _ROLES.get(index)
    if role is None:
        return None
    video = child(sc, "Video")
    codec_name = text(video, "videoCodecType")
    max_rate = integer(video, "maxFrameRate")  # hundredths of a frame per second
    control = (text(video, "videoQualityControlType") or "").upper()
    kbps = integer(video, "constantBitRate") if control == "CBR" else None
    kbps = kbps or integer(video, "vbrUpperCap") or integer(video, "constantBitRate")
    return StreamingChannel(
        id=sid, channel=integer(video, "videoInputChannelID") or channel, role=role,
        enabled=boolean(sc, "enabled") is not False,
        codec=normal.codec(codec_name),
        width=integer(video, "videoResolutionWidth"), height=integer(video, "videoResolutionHeight"),
        fps=max_rate / 100 if max_rate else None, bitrate=normal.bits_per_second(kbps),
        constant_bitrate={"CBR": True, "VBR": False}.get(control),
    )


def streaming_channels(body: bytes, what: str) -> list[StreamingChannel]:
    """``Streaming/channels`` (a list) or ``Streaming/channels/<id>`` (one)."""
    root = parse(body, what)
    if local(root.tag) == "StreamingChannel":
        items = [root]
    elif local(root.tag) == "StreamingChannelList":
        items = list(children(root, "StreamingChannel"))
    else:
        raise DeviceError(f"{what}: expected <StreamingChannelList>, got <{local(root.tag)}>")
    return [s for sc in items if (s := _streaming_channel(sc)) is not None]


def storage(body: bytes, what: str) -> list[Disk]:
    root = _root(body, what, "storage")
    disks = []
    for kind, list_name, item in (("hdd", "hddList", "hdd"), ("nas", "nasList", "nas")):
        for d in children(child(root, list_name) or Element("x"), item):
            disks.append(Disk(id=f"{kind}{text(d, 'id') or '?'}", kind=kind, status=text(d, "status") or "unknown",
                              capacity_mb=integer(d, "capacity"), free_mb=integer(d, "freeSpace")))
    return disks


_OFFSET = re.compile(r"([+-])(\d):(\d\d)$")


def device_datetime(value: str | None) -> datetime | None:
    """ISO 8601 as devices write it, also ``-8:00`` offsets; naive times are UTC."""
    if not value:
        return None
    value = _OFFSET.sub(lambda m: f"{m.group(1)}0{m.group(2)}:{m.group(3)}", value.strip())
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def device_time(body: bytes, what: str) -> datetime | None:
    """``System/time``: the device's clock, for drift."""
    return device_datetime(text(_root(body, what, "Time"), "localTime"))


def event_triggers(body: bytes, what: str) -> list[str]:
    """``Event/triggers``: the event types the device can report.

    Older firmware wraps the list in ``<EventNotification>``; look for the
    triggers wherever they are.
    """
    root = parse(body, what)
    if local(root.tag) not in ("EventTriggerList", "EventNotification"):
        raise DeviceError(f"{what}: expected <EventTriggerList>, got <{local(root.tag)}>")
    return sorted({t for trig in find_all(root, "EventTrigger") if (t := text(trig, "eventType"))})


_KINDS = {
    "vmd": EventKind.MOTION, "motion": EventKind.MOTION, "pir": EventKind.MOTION,
    "linedetection": EventKind.LINE_CROSSING,
    "fielddetection": EventKind.INTRUSION, "regionentrance": EventKind.INTRUSION,
    "regionexiting": EventKind.INTRUSION,
    "shelteralarm": EventKind.TAMPER, "tamperdetection": EventKind.TAMPER,
    "scenechangedetection": EventKind.TAMPER,
    "videoloss": EventKind.VIDEO_LOSS,
    "io": EventKind.IO,
    "diskfull": EventKind.STORAGE_FAULT, "diskerror": EventKind.STORAGE_FAULT, "hdfull": EventKind.STORAGE_FAULT,
    "hderror": EventKind.STORAGE_FAULT, "nicbroken": EventKind.OFFLINE,
}


def alert(body: bytes, what: str) -> Alert:
    """One ``EventNotificationAlert`` into an event or a heartbeat."""
    root = _root(body, what, "EventNotificationAlert")
    event_type = text(root, "eventType") or "unknown"
    state_text = (text(root, "eventState") or "active").lower()
    # Idle cameras repeat "videoloss inactive" as a keep-alive; it reports nothing.
    heartbeat = event_type.lower() == "videoloss" and state_text == "inactive"
    # NVRs may leave <channelID/> empty and put the channel in <dynChannelID>.
    channel = integer(root, "channelID") or integer(root, "dynChannelID")
    data: dict[str, object] = {}
    if (port := text(root, "inputIOPortID")) is not None:
        data["io_port"] = port
    targets = sorted({t for e in find_all(root, "detectionTarget") if (t := (e.text or "").strip())})
    if targets:
        data["targets"] = targets
    if (description := text(root, "eventDescription")) is not None:
        data["description"] = description
    kind = _KINDS.get(event_type.lower(), EventKind.OTHER)
    if kind == EventKind.OTHER and event_type.lower() == "duration":
        # A "duration" alarm names the event that lasts in DurationList/Duration/relationEvent.
        related = [r for e in find_all(root, "relationEvent") if (r := (e.text or "").strip())]
        if related:
            data["relation_events"] = related
            kind = next((k for r in related if (k := _KINDS.get(r.lower())) is not None), EventKind.OTHER)
    return Alert(
        heartbeat=heartbeat,
        kind=kind,
        # The alertStream repeats "active" while an event lasts and has no start/stop pair.
        state=EventState.STOP if state_text == "inactive" else EventState.PULSE,
        event_type=event_type,
        channel=channel,
        at=device_datetime(text(root, "dateTime")),
        data=data,
    )
