"""What a Lensa device answers, checked and normalised: pure functions, no I/O.

The device's JSON is validated with pydantic models of its own shape; a
missing field or a wrong type becomes a ``DeviceError`` that names the
endpoint, never a ``KeyError`` or a traceback.  Vendor names become the
hub's (``hub.devices.normal``): ``H.265`` is ``hevc``, kbit/s become bit/s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub import DeviceError, DeviceKind, EventKind, EventState, StreamRole
from hub.devices import normal


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore")  # newer firmware adds fields: not an error


class LensaStream(_Shape):
    role: Literal["main", "sub"]
    codec: str | None = None
    width: int | None = Field(default=None, ge=1)
    height: int | None = Field(default=None, ge=1)
    fps: float | None = Field(default=None, gt=0)
    kbps: int | None = Field(default=None, ge=0)
    rtsp_path: str = Field(pattern=r"^/")


class LensaChannel(_Shape):
    channel: int = Field(ge=1)
    name: str = ""
    online: bool = True
    streams: list[LensaStream] = []


class LensaDevice(_Shape):
    model: str = Field(min_length=1)
    serial: str = ""
    mac: str = ""
    firmware: str | None = None
    kind: Literal["camera", "nvr"] = "camera"
    channels: list[LensaChannel]


class LensaEvent(_Shape):
    id: int
    channel: int = Field(ge=1)
    type: str
    state: Literal["start", "stop", "pulse"] = "pulse"
    at: datetime


class LensaEvents(_Shape):
    events: list[LensaEvent]
    next: int


class LensaLogin(_Shape):
    token: str = Field(min_length=8)
    expires_in: float | None = Field(default=None, gt=0)


S = TypeVar("S", bound=_Shape)


def _checked(model: type[S], body: Any, what: str) -> S:
    try:
        return model.model_validate(body)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(the document)"
        raise DeviceError(f"{what}: unexpected answer at {where}: {first['msg']}") from None


def login(body: Any, what: str) -> LensaLogin:
    """``POST /api/v1/login``: the session token and how long it lives."""
    return _checked(LensaLogin, body, what)


def device(body: Any, what: str) -> LensaDevice:
    """``GET /api/v1/device``: model, serial, channels and their streams, vendor names normalised."""
    info = _checked(LensaDevice, body, what)
    serial = normal.usable_serial(info.serial, info.mac)
    if serial is None:
        raise DeviceError(f"{what}: the device reports neither a usable serial number nor a MAC address")
    info.serial = serial
    for channel in info.channels:
        for stream in channel.streams:
            stream.codec = normal.codec(stream.codec)
    return info


def bitrate(stream: LensaStream) -> int | None:
    """The stream's bit rate in bit/s (the device says kbit/s)."""
    return normal.bits_per_second(stream.kbps)


def kind(info: LensaDevice) -> DeviceKind:
    return DeviceKind.NVR if info.kind == "nvr" else DeviceKind.CAMERA


ROLES = {"main": StreamRole.MAIN, "sub": StreamRole.SUB}
#: Lensa's event types, in the hub's words; anything else is ``other`` with the vendor's name kept.
KINDS = {"motion": EventKind.MOTION, "tamper": EventKind.TAMPER, "line": EventKind.LINE_CROSSING,
         "intrusion": EventKind.INTRUSION, "disk_error": EventKind.STORAGE_FAULT}
STATES = {"start": EventState.START, "stop": EventState.STOP, "pulse": EventState.PULSE}


def events(body: Any, what: str) -> LensaEvents:
    """``GET /api/v1/events``: what happened since the cursor, and the next cursor."""
    return _checked(LensaEvents, body, what)
