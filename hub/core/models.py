"""The normalised inventory, events and principals shared by every plugin.

Vendor plugins translate whatever a device speaks into these models; the rest
of the hub (API, recorder, notifiers, access policies) sees only them.  The
hierarchy is Area > Site > Device > Camera > Stream (DESIGN.md).  Camera ids
are stable: ``<vendor>:<serial>:<channel>``, built from the device's serial
(or MAC) and the channel, never from its address, so a device that moves keeps
its cameras and their history.  A stream's device URL may carry credentials:
it is a ``SecretStr`` excluded from every serialisation.
"""

from __future__ import annotations

import functools
import os
import random
import re
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    SecretStr,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import core_schema


class HubModel(BaseModel):
    """Base of every model: unknown fields are errors, so a typo never passes."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # A plugin's config narrows ``type`` to its Literal, which drops the base's description:
        # give it one, so every hub.yaml field is described in ``pantau config schema``.
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("type")
        if field is not None and not field.description and isinstance(field.default, str):
            field.description = f"'{field.default}': the type, as its plugin registered it."
            cls.model_rebuild(force=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


_ids = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(32)))


def new_id() -> str:
    """A unique id of 32 hex digits: the milliseconds since 1970, then 80 random bits.

    Ids sort by creation time (as UUIDv7 does), so the store appends to its
    indexes rather than writing all over them.  The random part comes from a
    generator seeded from the OS once per process: ``uuid4`` asks the OS on
    every call, a system call that was the largest single cost of an event.
    """
    return f"{time.time_ns() // 1_000_000:012x}{_ids.getrandbits(80):020x}"


_DURATION = re.compile(r"^([+-])?((?:\d+(?:\.\d+)?[dhms])+)$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: object) -> timedelta:
    """``"6d"``, ``"2h"``, ``"1h30m"``, ``"-1d"``, ``"45s"``; a bare number is seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip().replace(" ", "")
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 10m, 2h, 6d, 1h30m or -1d")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(m.group(2)))
    return timedelta(seconds=-seconds if m.group(1) == "-" else seconds)


def format_duration(value: timedelta) -> str:
    """The inverse of ``parse_duration``: ``-1d``, ``2h30m``, ``0s``."""
    seconds = int(value.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    parts = []
    for unit, size in _UNIT_SECONDS.items():
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + ("".join(parts) or "0s")


#: A length of time in hub.yaml: ``30s``, ``10m``, ``2h``, ``6d``, ``1h30m``, ``-1d``.
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": _DURATION.pattern}, {"type": "number"}],
                    "description": "A length of time: 30s, 10m, 2h, 6d, 1h30m, -1d; a number is seconds."}),
]


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@functools.lru_cache(maxsize=1 << 16)  # called for every event: the same few thousand ids again and again
def camera_id(vendor: str, serial: str, channel: int | str) -> str:
    """The stable id of a camera: ``<vendor>:<serial>:<channel>``.

    ``serial`` is the device's serial number or MAC address, never its IP
    address.  Characters outside ``[A-Za-z0-9._-]`` become ``-`` so the id is
    safe in URLs, MQTT topics and file paths.
    """
    parts = [_ID_UNSAFE.sub("-", str(p)).strip("-") for p in (vendor.lower(), serial, channel)]
    if not all(parts):
        raise ValueError(f"camera id needs a vendor, serial and channel, got {parts!r}")
    return ":".join(parts)


class Location(HubModel):
    """A point on the map (WGS 84)."""

    lat: float = Field(ge=-90, le=90, description="Latitude in decimal degrees.")
    lon: float = Field(ge=-180, le=180, description="Longitude in decimal degrees.")


class AreaLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    KELURAHAN = "kelurahan"
    RW = "rw"
    RT = "rt"


AreaPath = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9-]+(/[a-z0-9-]+)*$",
        description="Administrative path, e.g. 'jawa-tengah/semarang/candisari/jatingaleh/rw-03/rt-02'.",
    ),
]


def outline_shape(geojson: dict[str, Any]) -> Any:
    """A GeoJSON Polygon or MultiPolygon as a shapely shape; ``ValueError`` saying what is wrong."""
    import shapely.geometry

    kind = geojson.get("type") if isinstance(geojson, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"an outline is a GeoJSON Polygon or MultiPolygon, not {str(kind)[:30]!r}")
    try:
        found = shapely.geometry.shape(geojson)
    except Exception as err:  # shapely's own errors, for ragged coordinates
        raise ValueError(f"the outline's coordinates do not make a {kind}: {str(err)[:100]}") from None
    if found.is_empty or not found.is_valid:
        raise ValueError(f"the outline is not a valid {kind} (its rings cross themselves, or are empty)")
    return found


class Area(HubModel):
    """An administrative area (province, city, district, kelurahan, RW, RT)."""

    path: AreaPath
    name: str = Field(description="Human name of the area.")
    level: AreaLevel | None = Field(default=None, description="Administrative level.")
    outline: dict[str, Any] | None = Field(default=None, description=(
        "The area's boundary as a GeoJSON Polygon or MultiPolygon (longitude, latitude), e.g. the city's, so a "
        "partner's camera is checked to stand inside it."))

    @field_validator("outline")
    @classmethod
    def _geojson(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            outline_shape(value)
        return value

    def contains(self, location: Location) -> bool | None:
        """Whether ``location`` lies inside the outline; None when the area has none."""
        if self.outline is None:
            return None
        import shapely

        return bool(outline_shape(self.outline).covers(shapely.Point(location.lon, location.lat)))


class Site(HubModel):
    """A place with cameras: a school, a tower, a park, a crossing."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short unique site id.")
    name: str = Field(description="Human name of the site.")
    area: AreaPath | None = Field(default=None, description="Area the site lies in.")
    location: Location | None = Field(default=None, description="Where the site is.")


class OwnerKind(StrEnum):
    GOVERNMENT = "government"
    PARTNER = "partner"
    SCHOOL = "school"


class Owner(HubModel):
    """Who owns a device: a government agency, a school or a private partner."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short unique owner id.")
    name: str = Field(description="Human name of the owner.")
    kind: OwnerKind = Field(default=OwnerKind.GOVERNMENT, description="Kind of owner.")
    public: bool | None = Field(
        default=None, description="Whether this owner's cameras tagged 'public' may be on the public portal. "
        "Default: yes for a government owner; for a school or a partner no (a partner's agreement decides).")

    def allows_public(self) -> bool:
        return self.public if self.public is not None else self.kind == OwnerKind.GOVERNMENT


class MaskKind(StrEnum):
    #: Never lifted: burned into every picture that leaves the hub (a neighbour's window).
    PERMANENT = "permanent"
    #: Lifted only for a principal with ``lift_mask`` on the camera, for a stated reason, audited.
    LIFTABLE = "liftable"


class PrivacyMask(HubModel):
    """A region of a camera's picture that is covered in what leaves the hub."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="Short name, e.g. 'jendela-rumah-12'.")
    kind: MaskKind = Field(default=MaskKind.PERMANENT, description="permanent (never lifted) or liftable.")
    polygon: list[tuple[float, float]] = Field(
        min_length=3, max_length=32,
        description="Corners as [x, y] fractions of the picture's width and height (0 to 1, from the top left).")
    reason: str | None = Field(default=None, max_length=300, description="Why it is covered.")

    @field_validator("polygon")
    @classmethod
    def _inside(cls, corners: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for x, y in corners:
            if not (0 <= x <= 1 and 0 <= y <= 1):
                raise ValueError(f"corner [{x}, {y}] is outside the picture: corners are fractions from 0 to 1")
        return corners


class DeviceKind(StrEnum):
    CAMERA = "camera"
    NVR = "nvr"
    DVR = "dvr"
    ENCODER = "encoder"


class CameraStatus(StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"


class StreamRole(StrEnum):
    MAIN = "main"
    SUB = "sub"
    THIRD = "third"


class Stream(HubModel):
    """One encoded video stream of a camera (main, sub, ...)."""

    role: StreamRole = Field(description="Which of the camera's streams this is.")
    codec: str | None = Field(default=None, description="Video codec, e.g. 'h264' or 'hevc'.")
    width: int | None = Field(default=None, ge=1, description="Picture width in pixels.")
    height: int | None = Field(default=None, ge=1, description="Picture height in pixels.")
    fps: float | None = Field(default=None, gt=0, description="Frames per second as configured on the device.")
    bitrate: int | None = Field(default=None, ge=0, description="Bit rate in bits per second.")
    constant_bitrate: bool | None = Field(
        default=None, description="Whether the camera holds the bit rate constant (CBR; with VBR 'bitrate' is "
        "a ceiling); None when the device does not say.")
    url: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="Device URL of the stream; may carry credentials, so it never leaves the hub.",
    )


class Device(HubModel):
    """A physical device: an IP camera, an NVR, a DVR or an encoder."""

    id: str = Field(description="Stable device id: '<vendor>:<serial>'.")
    source: str = Field(description="Name of the hub.yaml source that found this device.")
    vendor: str = Field(description="Manufacturer as the device reports it.")
    model: str | None = Field(default=None, description="Model as the device reports it.")
    serial: str = Field(description="Serial number (or MAC address) the ids are built from.")
    firmware: str | None = Field(default=None, description="Firmware version.")
    kind: DeviceKind = Field(default=DeviceKind.CAMERA, description="Camera, NVR, DVR or encoder.")
    host: str | None = Field(default=None, description="Address the hub reaches the device at (no credentials).")
    owner: str | None = Field(default=None, description="Owner id.")
    site: str | None = Field(default=None, description="Site id.")


class Camera(HubModel):
    """One video channel, with its streams; what users watch and record."""

    id: str = Field(description="Stable camera id: '<vendor>:<serial>:<channel>'.")
    device_id: str = Field(description="Id of the device the channel belongs to.")
    channel: int = Field(ge=0, description="Channel number on the device (1-based for most vendors).")
    name: str = Field(description="Human name of the camera.")
    status: CameraStatus = Field(default=CameraStatus.UNKNOWN, description="Last known state.")
    tags: list[str] = Field(default_factory=list, description="Tags such as 'public' or 'classroom:7A'.")
    area: AreaPath | None = Field(default=None, description="Area the camera watches.")
    site: str | None = Field(default=None, description="Site id.")
    owner: str | None = Field(default=None, description="Owner id.")
    location: Location | None = Field(default=None, description="Where the camera stands.")
    direction: float | None = Field(default=None, ge=0, lt=360, description="Viewing direction in degrees from north.")
    streams: list[Stream] = Field(default_factory=list, description="The camera's encoded streams.")

    def stream(self, role: StreamRole | str = StreamRole.MAIN) -> Stream | None:
        """The stream with ``role``, falling back to the first one for 'main'."""
        for s in self.streams:
            if s.role == role:
                return s
        if role == StreamRole.MAIN and self.streams:
            return self.streams[0]
        return None


class DeviceInventory(HubModel):
    """What probing one device yields: the device and its cameras."""

    device: Device
    cameras: list[Camera] = Field(default_factory=list)
    clock_drift_seconds: float | None = Field(
        default=None, description="The device's clock minus the hub's when it was probed, where the device tells "
        "(``HubContext.probe_source`` fills it in).")


_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class EventKind(str):
    """What happened: one of the hub's own kinds (``EventKind.MOTION``, ...) or one a
    plugin defines for its own events (``EventKind.define("partner_suspended")``).

    A kind is its name, a string (``EventKind.MOTION == "motion"``), so it goes into
    JSON, MQTT topics and the database as it is.  ``EventKind("motion")`` gives the
    kind and raises ``ValueError`` for a name nobody defined, so a typo in hub.yaml's
    ``kinds:`` is an error that lists the known kinds.  A plugin defines its kinds
    when its module is imported, so every process that loads the plugin knows them.
    """

    __slots__ = ()
    _known: ClassVar[dict[str, EventKind]] = {}
    _descriptions: ClassVar[dict[str, str]] = {}

    MOTION: ClassVar[EventKind]
    LINE_CROSSING: ClassVar[EventKind]
    INTRUSION: ClassVar[EventKind]
    TAMPER: ClassVar[EventKind]
    VIDEO_LOSS: ClassVar[EventKind]
    IO: ClassVar[EventKind]
    OFFLINE: ClassVar[EventKind]
    ONLINE: ClassVar[EventKind]
    DEGRADED: ClassVar[EventKind]
    STORAGE_FAULT: ClassVar[EventKind]
    STREAM_STALL: ClassVar[EventKind]
    STREAM_FROZEN: ClassVar[EventKind]
    STREAM_BLACK: ClassVar[EventKind]
    STREAM_LOW_FPS: ClassVar[EventKind]
    STREAM_LOW_BITRATE: ClassVar[EventKind]
    AUTH_FAILED: ClassVar[EventKind]
    OTHER: ClassVar[EventKind]

    def __new__(cls, value: str) -> EventKind:
        try:
            return cls._known[value]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not an event kind; known kinds: {', '.join(cls._known)}") from None

    @classmethod
    def define(cls, name: str, description: str = "") -> EventKind:
        """The kind called ``name``, defined now if nobody has yet (plugins call this once, at import).

        ``name`` is lower case, ``[a-z][a-z0-9_]``, at most 40 characters; prefix it with
        your plugin's name (``partner_``) so kinds of two plugins never clash.
        """
        if name in cls._known:
            return cls._known[name]
        if not isinstance(name, str) or not _KIND_NAME.match(name):
            raise ValueError(f"event kind {name!r}: use 2-40 lower-case letters, digits and '_'")
        kind = str.__new__(cls, name)
        cls._known[name] = kind
        cls._descriptions[name] = description
        return kind

    @classmethod
    def known(cls) -> list[EventKind]:
        """Every kind defined so far: the hub's, then the plugins' in the order they came."""
        return list(cls._known.values())

    @classmethod
    def description(cls, kind: str) -> str:
        return cls._descriptions.get(kind, "")

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"EventKind({self.value!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (EventKind.define, (self.value,))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> EventKind:
            if isinstance(value, EventKind):
                return value
            return cls(value)

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="json"))

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
                                     ) -> dict[str, Any]:
        return {"type": "string", "enum": [k.value for k in cls.known()],
                "description": "An event kind: the hub's own or one an installed plugin defines."}


for _name, _description in (
    ("motion", "Motion detected by the device."),
    ("line_crossing", "Something crossed a virtual line."),
    ("intrusion", "Something entered a watched region (field detection, region entrance)."),
    ("tamper", "The camera was covered, moved or defocused."),
    ("video_loss", "A channel lost its video input."),
    ("io", "An alarm input changed."),
    ("offline", "A camera went offline (confirmed by the health checks)."),
    ("online", "A camera came back online."),
    ("degraded", "A camera works, but not as it should (clock, storage, stream figures)."),
    ("storage_fault", "A device's disk failed or is missing."),
    ("stream_stall", "A stream the hub receives stopped delivering packets."),
    ("stream_frozen", "A stream's picture stopped changing."),
    ("stream_black", "A stream's picture is black."),
    ("stream_low_fps", "A stream delivers fewer frames than configured."),
    ("stream_low_bitrate", "A constant-bit-rate stream delivers fewer bits than configured."),
    ("auth_failed", "A device refused the hub's credentials repeatedly."),
    ("other", "A vendor event that fits no kind; its own name is in 'detail'."),
):
    setattr(EventKind, _name.upper(), EventKind.define(_name, _description))


class EventState(StrEnum):
    START = "start"
    STOP = "stop"
    PULSE = "pulse"


class Event(HubModel):
    """A normalised event from a device or from the hub's own checks."""

    id: str = Field(default_factory=new_id, description="Unique event id (time-ordered, 32 hex digits).")
    camera_id: str | None = Field(default=None, description="Camera the event concerns, if any.")
    device_id: str | None = Field(default=None, description="Device the event concerns, if any.")
    kind: EventKind = Field(description="What happened.")
    state: EventState = Field(default=EventState.PULSE, description="Start, stop, or a one-off pulse.")
    at: datetime = Field(default_factory=utcnow, description="When it happened (device time when known).")
    source: str = Field(default="hub", description="Who reported it: a plugin name or 'hub'.")
    detail: str | None = Field(default=None, description="The vendor's own name for the event.")
    data: dict[str, Any] = Field(default_factory=dict, description="Extra vendor data, normalised keys.")


class Role(StrEnum):
    """What a principal is to the hub; the role policy (``plugins/roles``) says what each may do."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"
    #: A neighbourhood head (RT/RW, lurah): live and playback in their area.
    AREA_HEAD = "area_head"
    #: Community watch (FKDM) and neighbourhood guards: live in their area.
    WATCH = "watch"
    #: Manages a school's classrooms and their parents.
    SCHOOL_ADMIN = "school_admin"
    #: A parent: their child's classroom, live, in school hours (granted per classroom).
    PARENT = "parent"
    #: A police liaison: files evidence requests; nothing live by default.
    INVESTIGATOR = "investigator"
    #: The owner of privately owned cameras connected under a partnership agreement.
    PARTNER_OWNER = "partner_owner"
    #: Anyone, unsigned: the public portal's cameras.
    PUBLIC = "public"


class Principal(HubModel):
    """Someone acting on the hub: a user or an API token."""

    id: str = Field(description="Principal id (token id or user name).")
    name: str | None = Field(default=None, description="Human label.")
    role: Role = Field(description="Role that access policies read.")
    scopes: list[str] = Field(default_factory=list, description="Extra scopes, e.g. 'camera:<id>' or 'area:<path>'.")


class Action(StrEnum):
    """What a principal asks to do (DESIGN.md: Access)."""

    VIEW_INVENTORY = "view_inventory"
    VIEW_LIVE = "view_live"
    PLAY_BACK = "play_back"
    EXPORT = "export"
    CONTROL_PTZ = "control_ptz"
    MANAGE = "manage"
    ONBOARD = "onboard"
    #: Invite and revoke the parents of a site's classrooms (school admins, for their school).
    MANAGE_PARENTS = "manage_parents"
    #: Read the audit log (of the cameras one may do it on; admins and operators all of it).
    READ_AUDIT = "read_audit"
    #: File a request for recordings as evidence (investigators; operators on their behalf).
    REQUEST_EVIDENCE = "request_evidence"
    #: Approve or refuse an evidence request (never one's own: the two-person rule).
    APPROVE_EVIDENCE = "approve_evidence"
    #: See a camera's picture without its liftable privacy masks (for a stated reason, audited).
    LIFT_MASK = "lift_mask"
    #: Ask for a new camera at a spot in one's area (RT heads, community watch).
    REQUEST_CAMERA = "request_camera"
    #: Answer the neighbourhoods' camera requests: planned, declined, installed (operators).
    PLAN_CAMERAS = "plan_cameras"


class NodeKind(StrEnum):
    """Kinds of stream-graph node."""

    RELAY = "relay"
    RECORDER = "recorder"
    SNAPSHOTTER = "snapshotter"
    LIVE = "live"
    ANALYSER = "analyser"


class NodeStats(HubModel):
    """Figures every stream-graph node reports."""

    packets: int = Field(default=0, description="Packets handled since the node started.")
    bytes: int = Field(default=0, description="Payload bytes handled since the node started.")
    fps: float = Field(default=0.0, description="Frames per second over the last few seconds.")
    bitrate: int = Field(default=0, description="Bits per second over the last few seconds.")
    last_packet_at: datetime | None = Field(default=None, description="When the last packet arrived.")
    reconnects: int = Field(default=0, description="Upstream reconnects since the node started.")
    errors: int = Field(default=0, description="Errors since the node started.")
    last_error: str | None = Field(default=None, description="The last error, without secrets.")


class GraphNode(HubModel):
    """One node of the stream graph as the API shows it."""

    id: str = Field(description="Node id, e.g. 'relay:<camera>:main'.")
    kind: NodeKind
    camera_id: str
    stream_role: StreamRole
    stats: NodeStats = Field(default_factory=NodeStats)
    problems: list[str] = Field(
        default_factory=list, description="What is wrong with a relay's stream now: stalled, a low frame rate, "
        "a frozen or black picture (empty for other nodes).")
    hub_node: str | None = Field(default=None, description="The hub node that holds the stream, with several "
                                 "nodes on one database (null for a single hub).")


class Segment(HubModel):
    """A recorded segment as the API lists it."""

    id: int
    camera_id: str
    stream_role: StreamRole
    start: datetime
    end: datetime
    duration: float = Field(description="Seconds of video.")
    size: int = Field(description="Bytes.")
    sha256: str
    locked: bool = Field(default=False, description="Locked segments (evidence) are never deleted by retention.")
    download_url: str | None = None


class PtzAction(StrEnum):
    MOVE = "move"
    STOP = "stop"
    GOTO_PRESET = "goto_preset"


class PtzCommand(HubModel):
    """A pan/tilt/zoom command for a camera that has PTZ."""

    action: PtzAction = Field(description="Move continuously, stop, or go to a preset.")
    pan: float = Field(default=0.0, ge=-1, le=1, description="Pan speed, -1 (left) to 1 (right).")
    tilt: float = Field(default=0.0, ge=-1, le=1, description="Tilt speed, -1 (down) to 1 (up).")
    zoom: float = Field(default=0.0, ge=-1, le=1, description="Zoom speed, -1 (out) to 1 (in).")
    preset: str | None = Field(default=None, description="Preset token, for goto_preset.")


class PtzPreset(HubModel):
    token: str
    name: str | None = None


class DiscoveredDevice(HubModel):
    """A device found on the network, not yet configured."""

    source_type: str = Field(description="The source type that can talk to it (e.g. 'onvif').")
    host: str = Field(description="Address it answered from.")
    port: int | None = Field(default=None, description="Port of its management service.")
    probe_url: str = Field(description="URL for `pantau probe` (add the user and password).")
    name: str | None = Field(default=None, description="Name the device announces.")
    hardware: str | None = Field(default=None, description="Hardware or model the device announces.")
    scopes: list[str] = Field(default_factory=list, description="Everything else it announces.")
