"""ONVIF replies (as zeep decodes them) into Pantau's models: pure functions.

Profiles are grouped by their video source: one camera per source, its
profiles ordered by resolution as main, sub and third.  Notification
messages become normalised events by topic: motion, tamper, line crossing,
intrusion, video loss, digital input, storage failure.  A property's
``Initialized`` report of an idle state (motion false at subscription time)
is a state snapshot, not an event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub import EventKind, EventState, StreamRole
from hub.devices import normal

ROLES = [StreamRole.MAIN, StreamRole.SUB, StreamRole.THIRD]


@dataclass
class ProfileInfo:
    token: str
    name: str | None
    source: str
    codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    bitrate: int | None


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def profile_info(profile: Any) -> ProfileInfo | None:
    """A ``GetProfiles`` entry; None for profiles without video (audio or metadata only)."""
    source = _get(profile, "VideoSourceConfiguration", "SourceToken")
    encoder = _get(profile, "VideoEncoderConfiguration")
    if source is None:
        return None
    kbps = _get(encoder, "RateControl", "BitrateLimit")
    fps = _get(encoder, "RateControl", "FrameRateLimit")
    encoding = _get(encoder, "Encoding")
    return ProfileInfo(
        token=str(_get(profile, "token")), name=_get(profile, "Name"), source=str(source),
        codec=normal.codec(str(encoding)) if encoding else None,
        width=_get(encoder, "Resolution", "Width"), height=_get(encoder, "Resolution", "Height"),
        fps=float(fps) if fps else None, bitrate=normal.bits_per_second(kbps),
    )


def cameras_from_profiles(profiles: list[ProfileInfo]) -> list[tuple[int, str, list[tuple[StreamRole, ProfileInfo]]]]:
    """``[(channel, video source, [(role, profile), ...]), ...]``; channels count from 1."""
    sources: dict[str, list[ProfileInfo]] = {}
    for p in profiles:
        sources.setdefault(p.source, []).append(p)
    out = []
    for channel, (source, items) in enumerate(sources.items(), start=1):
        ranked = sorted(items, key=lambda p: -((p.width or 0) * (p.height or 0)))
        out.append((channel, source, list(zip(ROLES, ranked, strict=False))))
    return out


def device_utc(system_date_time: Any) -> datetime | None:
    """The device's clock from ``GetSystemDateAndTime``."""
    utc = _get(system_date_time, "UTCDateTime")
    d, t = _get(utc, "Date"), _get(utc, "Time")
    try:
        return datetime(d.Year, d.Month, d.Day, t.Hour, t.Minute, t.Second, tzinfo=UTC)
    except (AttributeError, TypeError, ValueError):
        return None


@dataclass
class Notification:
    topic: str
    at: datetime | None
    operation: str | None
    source: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)


def _items(container: Any) -> dict[str, str]:
    items = _get(container, "SimpleItem") or []
    return {str(_get(i, "Name")): str(_get(i, "Value")) for i in items if _get(i, "Name") is not None}


def notification(message: Any) -> Notification:
    """A ``wsnt:NotificationMessage`` as zeep decodes it."""
    topic = _get(message, "Topic", "_value_1") or ""
    body = _get(message, "Message", "_value_1")
    at = _get(body, "UtcTime")
    if isinstance(at, datetime) and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return Notification(topic=str(topic).strip(), at=at if isinstance(at, datetime) else None,
                        operation=_get(body, "PropertyOperation"), source=_items(_get(body, "Source")),
                        data=_items(_get(body, "Data")))


# topic suffix -> (kind, the data item holding the state, or None for a pulse)
TOPICS: list[tuple[str, EventKind, str | None]] = [
    ("CellMotionDetector/Motion", EventKind.MOTION, "IsMotion"),
    ("MotionRegionDetector/Motion", EventKind.MOTION, "State"),
    ("VideoSource/MotionAlarm", EventKind.MOTION, "State"),
    ("TamperDetector/Tamper", EventKind.TAMPER, "IsTamper"),
    ("VideoSource/GlobalSceneChange/ImagingService", EventKind.TAMPER, "State"),
    ("VideoSource/ImageTooBlurry/ImagingService", EventKind.TAMPER, "State"),
    ("VideoSource/ImageTooDark/ImagingService", EventKind.TAMPER, "State"),
    ("LineDetector/Crossed", EventKind.LINE_CROSSING, None),
    ("FieldDetector/ObjectsInside", EventKind.INTRUSION, "IsInside"),
    ("VideoSource/SignalLoss", EventKind.VIDEO_LOSS, "State"),
    ("Device/Trigger/DigitalInput", EventKind.IO, "LogicalState"),
    ("Device/HardwareFailure/StorageFailure", EventKind.STORAGE_FAULT, "Failed"),
]
SOURCE_KEYS = ("VideoSourceConfigurationToken", "VideoSourceToken", "Source", "VideoSource")


@dataclass
class EventInfo:
    kind: EventKind
    state: EventState
    source: str | None
    detail: str
    data: dict[str, str]


def event_of(n: Notification) -> EventInfo | None:
    """The normalised event a notification stands for, or None for an idle state snapshot."""
    topic = n.topic.split(":", 1)[-1]
    kind, key = EventKind.OTHER, None
    for suffix, k, state_key in TOPICS:
        if topic.endswith(suffix):
            kind, key = k, state_key
            break
    state = EventState.PULSE
    if key is not None and key in n.data:
        active = n.data[key].lower() in ("true", "1", "active")
        if not active and n.operation == "Initialized":
            return None
        state = EventState.START if active else EventState.STOP
    elif n.operation == "Initialized":
        return None
    source = next((n.source[k] for k in SOURCE_KEYS if k in n.source), None)
    return EventInfo(kind=kind, state=state, source=source, detail=topic, data=dict(n.data))
