"""hub.yaml's sections as pydantic models, and the whole file's model for the loaded plugins.

The fixed sections are here; ``sources``, ``storage`` and ``notifiers`` are a
discriminated union on ``type`` of the config models that plugins registered
(``build_config_model``).  Every model forbids unknown keys and describes
every field: the descriptions are hub.yaml's JSON Schema.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, SecretStr, create_model, field_validator

from hub.core.models import Area, EventKind, HubModel, Owner, PrivacyMask, Site, StreamRole
from hub.core.notify import NotifierConfig
from hub.core.plugins import Plugins, TypeRegistration
from hub.core.sources import SourceConfig
from hub.core.storage import StorageConfig

CONFIG_VERSION = 1


class HubSection(HubModel):
    name: str = Field(default="Pantau Hub", description="Name shown in the web page and API.")
    data_dir: Path = Field(
        default=Path("data"),
        description="Where the hub keeps its database, spool and local recordings; relative to hub.yaml.",
    )
    time_zone: str = Field(
        default="Asia/Jakarta", pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)*$",
        description="The hub's time zone (Asia/Jakarta, Asia/Makassar, Asia/Jayapura): for dates given without "
        "one on the command line and for times shown to people.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)") \
                from None
        return value


class HttpConfig(HubModel):
    host: str = Field(default="127.0.0.1", description="Address to listen on; 127.0.0.1 keeps the API local.")
    port: int = Field(default=8080, ge=0, le=65535, description="TCP port of the HTTP API and page.")
    public_url: str | None = Field(
        default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Address people outside reach the hub at, e.g. 'https://cctv.example.go.id'. Needed for "
        "links the hub hands out (a citizen report's snapshot); none are made when unset.",
    )
    link_secret: SecretStr | None = Field(
        default=None, description="Key that signs shared links (set the same one on every node of a multi-node "
        "hub). Default: a random key kept in the data directory.",
    )
    allowed_hosts: list[str] | None = Field(
        default=None, description="Host names (the Host header) the hub answers to, e.g. ['cctv.example.go.id', "
        "'10.20.0.5']; anything else gets 400, so a page elsewhere that points its own name at the hub (DNS "
        "rebinding) reaches nothing. Default: localhost, 127.0.0.1 and ::1, the host of public_url, and "
        "http.host when it is one address. '*' allows any.")
    max_body_kb: int = Field(
        default=64, ge=1, le=1024 * 1024, description="Largest request body the API reads, in KiB; a larger one "
        "is refused (413) before it is read.")
    auth_failures_per_minute: int = Field(
        default=10, ge=1, description="Failed authentications one address, or one token id, may make in a "
        "minute; after that it is answered 429 with Retry-After until the minute has passed.")
    session_idle_minutes: float = Field(
        default=30, gt=0, le=24 * 60, description="A web session unused this long ends (the user signs in again).")
    session_hours: float = Field(
        default=12, gt=0, le=24 * 30, description="No web session lasts longer than this, used or not.")

    def base_url(self) -> str:
        """Where people reach the hub: ``public_url``, else its own address and port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


class DatabaseConfig(HubModel):
    url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata store, e.g. 'postgresql://user:pass@host/db'. "
        "Default: SQLite file 'pantau.db' in the data directory.",
    )


class LoggingConfig(HubModel):
    level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Lowest level logged.")
    format: Literal["json", "console"] = Field(default="json", description="One JSON object per line, or plain text.")


class RecordingRule(HubModel):
    mode: Literal["continuous", "events", "off"] = Field(
        default="continuous", description="Record all the time, only around events (with pre- and post-roll), "
        "or not at all.")
    stream: StreamRole = Field(default=StreamRole.MAIN, description="Which stream of the camera to record.")
    segment_seconds: int = Field(default=10, ge=2, le=30, description="Cut segments at the first keyframe after this.")
    retain_days: float = Field(default=7, gt=0, description="Delete unlocked segments older than this.")
    event_kinds: list[EventKind] = Field(
        default_factory=lambda: [EventKind.MOTION, EventKind.LINE_CROSSING, EventKind.INTRUSION, EventKind.TAMPER],
        description="With mode 'events': the events of the camera that start a recording.")
    pre_roll_seconds: float = Field(
        default=5, ge=0, le=60, description="With mode 'events': seconds before the event kept in the recording "
        "(from the keyframe at or before them).")
    post_roll_seconds: float = Field(
        default=10, ge=0, le=600, description="With mode 'events': seconds recorded after the event ends.")
    max_event_seconds: float = Field(
        default=600, gt=0, description="With mode 'events': an event whose end never comes records this long.")

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        # YAML reads a bare `off` as false; everyone writing `mode: off` means "off".
        return "off" if value is False else value


class RecordingOverride(RecordingRule):
    cameras: list[str] = Field(
        default_factory=list, description="Camera ids or glob patterns (e.g. 'demo:*:2') this rule applies to."
    )
    tags: list[str] = Field(default_factory=list, description="Cameras with any of these tags get this rule.")
    owners: list[str] = Field(
        default_factory=list, description="Cameras of these owners (ids under 'owners') get this rule, e.g. a "
        "shorter retention for partner cameras as their agreement says.")
    areas: list[str] = Field(
        default_factory=list, description="Cameras in these areas or below them (area paths) get this rule.")


class RecordingConfig(HubModel):
    default: RecordingRule = Field(default_factory=RecordingRule, description="Rule for every camera.")
    rules: list[RecordingOverride] = Field(
        default_factory=list, description="Overrides, the last matching one wins."
    )
    max_storage_gb: float | None = Field(
        default=None, gt=0, description="Recordings kept at most this many gigabytes in all; beyond it the "
        "oldest unlocked segments go first, whatever their camera's retain_days.")
    min_free_percent: float = Field(
        default=5, ge=0, lt=100, description="When the storage volume has less free space than this share "
        "(backends that know their volume: local), the oldest unlocked segments are deleted until it has a "
        "percent more; 0 turns this off.")


class LiveConfig(HubModel):
    stream: StreamRole = Field(
        default=StreamRole.SUB, description="Stream a live view plays unless the viewer asks for another; a "
        "camera without it plays its main stream.")
    segment_seconds: float = Field(
        default=2, ge=0.5, le=10, description="Length of an HLS segment (cut at the first keyframe after it).")
    playlist_segments: int = Field(default=6, ge=3, le=30, description="Segments the live playlist lists.")
    idle_seconds: float = Field(
        default=30, ge=5, description="A viewer who fetches nothing for this long has left; the live output "
        "of a camera stops when its last viewer has left.")
    start_timeout_seconds: float = Field(
        default=20, ge=1, description="How long a new viewer's first playlist request waits for the first "
        "segment before the hub answers 503.")
    max_views_per_principal: int = Field(
        default=16, ge=1, le=1000, description="Live views one user or token may hold at once (a browser tab "
        "each); one more is refused (429) until one is left or times out.")


class WebConfig(HubModel):
    map_tiles: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png", pattern=r"^https?://[^\s]+$",
        description="Tile URL of the pages' maps ({z}/{x}/{y}); a city may run its own tile server.")
    map_attribution: str = Field(default="© OpenStreetMap contributors", max_length=300,
                                 description="Attribution shown on the maps, as the tiles' licence asks.")
    controller: str | None = Field(default=None, max_length=300, description="Who runs the cameras, named on "
                                   "the public portal (UU PDP art. 17), e.g. 'Diskominfo Kota Semarang'; "
                                   "default: hub.name.")
    contact: str = Field(default="", max_length=300, description="Whom the public may ask or object to, e.g. "
                         "'ppid@semarangkota.go.id, (024) 3513366'.")


class PublicConfig(HubModel):
    check_seconds: float = Field(
        default=30, ge=5, description="Seconds between checks that each public camera still shows the scene an "
        "operator approved; one that departs from it leaves the public portal at once.")
    requests_per_minute: int = Field(
        default=120, ge=1, description="Requests one address may make to the public portal's API in a minute "
        "(then 429); a CDN or proxy in front should cache instead.")
    cache_seconds: int = Field(
        default=10, ge=0, le=3600, description="How long the public list and snapshots may be cached "
        "(Cache-Control: public, max-age).")


class EvidenceConfig(HubModel):
    request_days: float = Field(
        default=30, gt=0, description="An evidence request not approved or refused within this many days "
        "expires, and the recordings it held go back to retention.")
    checkpoint_minutes: float = Field(
        default=10, ge=1, description="Minutes between signed checkpoints of every camera's segment chain.")


class HealthConfig(HubModel):
    enabled: bool = Field(default=True, description="Check every source on a schedule and watch the streams "
                          "the hub receives (stalls, rates, frozen and black pictures); false turns both off.")
    interval_seconds: float = Field(default=60, ge=1, description="Seconds between checks of one source.")
    confirm_checks: int = Field(
        default=2, ge=1, le=20, description="Checks in a row that must agree before a status change counts.")
    timeout_seconds: float = Field(default=20, gt=0, description="Seconds one check may take.")
    concurrency: int = Field(default=64, ge=1, le=4096, description="Checks running at the same time, at most.")
    max_clock_drift_seconds: float = Field(
        default=300, gt=0, description="A device clock further off than this makes its cameras 'degraded'.")
    flap_window_seconds: float = Field(
        default=600, gt=0, description="A third status change within this window marks the camera as flapping "
        "(one 'degraded' event); it leaves that state after a whole window without change.")
    stall_seconds: float = Field(
        default=10, ge=1, description="A stream the hub receives that brings no packet for this long is "
        "stalled: a 'stream_stall' start event, and a stop event when packets flow again.")
    picture_check_seconds: float = Field(
        default=30, ge=0, description="How often the latest keyframe of each received stream is checked for a "
        "frozen or black picture (one keyframe decode per stream per check); 0 turns picture checks off.")
    frozen_seconds: float = Field(
        default=120, gt=0, description="A picture that has not changed for this long is frozen: a "
        "'stream_frozen' event and the camera 'degraded'.")
    black_seconds: float = Field(
        default=60, gt=0, description="A picture that has stayed black this long: a 'stream_black' event and "
        "the camera 'degraded' (a covered lens, a dead sensor, infrared lights out at night).")
    low_fps_ratio: float = Field(
        default=0.5, gt=0, le=1, description="A stream delivering fewer frames per second than this share of "
        "the camera's own rate: a 'stream_low_fps' event and the camera 'degraded'.")
    low_bitrate_ratio: float = Field(
        default=0.5, ge=0, le=1, description="A constant-bit-rate (CBR) stream delivering fewer bits per second "
        "than this share of the camera's configured rate: a 'stream_low_bitrate' event and the camera "
        "'degraded'.  Variable-bit-rate streams are not checked (their figure is a ceiling); 0 turns it off.")


class EventsConfig(HubModel):
    workers: int = Field(
        default=0, ge=0, le=64, description="Worker processes that read the devices' event streams, the sources "
        "shared out among them; 0 reads them in the hub process.  Reading and normalising events is most of "
        "what an event costs: at city scale give it one worker per spare core.")


class ClusterConfig(HubModel):
    enabled: bool = Field(default=False, description="Share the cameras out among several hub nodes on one "
                          "PostgreSQL database (docs/scale.md); SQLite stays one node.")
    node: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$", description=(
        "This node's name, unique in the cluster (default: the machine's host name)."))
    address: str | None = Field(default=None, description="The URL the other nodes reach this node's HTTP at, "
                                "e.g. http://10.0.0.11:8080 (for live views asked of another node).")
    capacity: float = Field(default=1.0, gt=0, le=1000, description="This node's share of the cameras, relative to "
                            "the others' (2: twice as many as a node of 1).")
    lease_seconds: float = Field(default=10, ge=2, le=120, description="A node that has not renewed its lease for "
                                 "this long is dead: its cameras move to the others.")
    moves_per_round: int = Field(default=200, ge=1, le=100_000, description="At most this many cameras change "
                                 "node in one assignment round (one round a second), so a recovery does not "
                                 "move the whole city at once.")


class HubConfigBase(HubModel):
    version: Literal[1] = Field(description="Version of the hub.yaml format; this hub reads 1.")
    hub: HubSection = Field(default_factory=HubSection, description="The hub itself: its name and data directory.")
    http: HttpConfig = Field(default_factory=HttpConfig, description="The HTTP API and page: address, limits.")
    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="Where the hub keeps its records.")
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Log level and format.")
    recording: RecordingConfig = Field(default_factory=RecordingConfig,
                                       description="What is recorded, for how long, and within which quota.")
    live: LiveConfig = Field(default_factory=LiveConfig, description="Live view (HLS) in the browser and players.")
    privacy_masks: dict[str, list[PrivacyMask]] = Field(
        default_factory=dict, description="Privacy masks by camera id: regions covered in snapshots, the public "
        "stream and redacted exports (recordings keep the whole picture, for evidence).")
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig, description="Evidence requests and "
                                     "the signed checkpoints of the recordings' hash chains.")
    web: WebConfig = Field(default_factory=WebConfig, description="The pages: map tiles, who runs the cameras.")
    public: PublicConfig = Field(default_factory=PublicConfig, description="The public portal: cameras tagged "
                                 "'public' whose owner allows it and whose scene an operator approved.")
    health: HealthConfig = Field(default_factory=HealthConfig, description="Scheduled health checks of every source.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="Several hub nodes sharing the "
                                   "cameras out on one PostgreSQL database.")
    events: EventsConfig = Field(default_factory=EventsConfig, description="How device event streams are read.")
    areas: list[Area] = Field(default_factory=list, description="Administrative areas.")
    owners: list[Owner] = Field(default_factory=list, description="Device owners: agencies, schools, partners.")
    sites: list[Site] = Field(default_factory=list, description="Sites: schools, towers, parks.")


#: The storage type used when hub.yaml names none (the plugin ``local_storage``), when installed.
LOCAL_STORAGE = "local_storage"


def _union(regs: dict[str, TypeRegistration], base: type[BaseModel]) -> Any:
    models = [r.config_model for r in regs.values()]
    if not models:
        return base
    if len(models) == 1:
        return models[0]
    return Annotated[Union[tuple(models)], Field(discriminator="type")]  # noqa: UP007


def build_config_model(plugins: Plugins) -> type[HubConfigBase]:
    """The hub.yaml model for the loaded plugins."""
    source: Any = _union(plugins.source_types, SourceConfig)
    notifier: Any = _union(plugins.notifier_types, NotifierConfig)
    storage: Any = _union(plugins.storage_types, StorageConfig)
    default_storage: dict[str, Any] = ({"type": LOCAL_STORAGE} if LOCAL_STORAGE in plugins.storage_types
                                       else {"type": "none"})
    model = create_model(
        "HubConfig",
        __base__=HubConfigBase,
        storage=(storage, Field(default_factory=lambda: default_storage, validate_default=True,
                                description="Where recordings and snapshots are stored.")),
        sources=(list[source], Field(default_factory=list, description="Cameras and devices, one entry each.")),
        notifiers=(list[notifier], Field(default_factory=list, description="Where events go.")),
    )
    return typing.cast(type[HubConfigBase], model)


def json_schema(plugins: Plugins) -> dict[str, Any]:
    """hub.yaml's JSON Schema for the loaded plugins (``pantau config schema``)."""
    schema = build_config_model(plugins).model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Pantau Hub hub.yaml"
    return schema
