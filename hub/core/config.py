"""hub.yaml: the one source of truth for a hub's configuration.

The file is YAML with a ``version:`` key.  Strings may use ``${ENV_VAR}``
(or ``${ENV_VAR:-default}``) so secrets stay out of the file; ``$$`` is a
literal dollar.  The schema is built from pydantic models: the fixed sections
below plus, for ``sources``, ``storage`` and ``notifiers``, a discriminated
union on ``type`` of the config models the loaded plugins registered.  Every
problem is reported as ``FILE:LINE: key.path: message``.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, create_model, field_validator

from hub.core.errors import ConfigError, ConfigProblem
from hub.core.models import Area, EventKind, HubModel, Owner, Site, StreamRole
from hub.core.notify import NotifierConfig
from hub.core.plugins import Plugins, TypeRegistration
from hub.core.sources import SourceConfig
from hub.core.storage import StorageConfig

CONFIG_VERSION = 1
DEFAULT_CONFIG = Path("hub.yaml")


class HubSection(HubModel):
    name: str = Field(default="Pantau Hub", description="Name shown in the web page and API.")
    data_dir: Path = Field(
        default=Path("data"),
        description="Where the hub keeps its database, spool and local recordings; relative to hub.yaml.",
    )


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


class LocalStorageDefault(StorageConfig):
    """Placeholder used only when no storage plugin is loaded."""


class HubConfigBase(HubModel):
    version: Literal[1] = Field(description="Version of the hub.yaml format; this hub reads 1.")
    hub: HubSection = Field(default_factory=HubSection)
    http: HttpConfig = Field(default_factory=HttpConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    recording: RecordingConfig = Field(default_factory=RecordingConfig)
    live: LiveConfig = Field(default_factory=LiveConfig, description="Live view (HLS) in the browser and players.")
    health: HealthConfig = Field(default_factory=HealthConfig, description="Scheduled health checks of every source.")
    events: EventsConfig = Field(default_factory=EventsConfig, description="How device event streams are read.")
    areas: list[Area] = Field(default_factory=list, description="Administrative areas.")
    owners: list[Owner] = Field(default_factory=list, description="Device owners: agencies, schools, partners.")
    sites: list[Site] = Field(default_factory=list, description="Sites: schools, towers, parks.")


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
    default_storage: dict[str, Any] = {"type": "local"} if "local" in plugins.storage_types else {"type": "none"}
    model = create_model(
        "HubConfig",
        __base__=HubConfigBase,
        storage=(storage, Field(default_factory=lambda: default_storage, validate_default=True,
                                description="Where recordings and snapshots are stored.")),
        sources=(list[source], Field(default_factory=list, description="Cameras and devices, one entry each.")),
        notifiers=(list[notifier], Field(default_factory=list, description="Where events go.")),
    )
    return typing.cast(type[HubConfigBase], model)


# -- YAML with positions ------------------------------------------------------


_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Path_ = tuple[str | int, ...]


@dataclass
class _Doc:
    data: Any
    lines: dict[Path_, int]


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.problems: list[ConfigProblem] = []
        self._scalars = yaml.SafeLoader("")

    def problem(self, path: Path_, line: int | None, message: str) -> None:
        self.problems.append(ConfigProblem(self.file, line, dotted(path), message))

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalars.construct_object(key_node)
                if key == "<<":
                    self.problem(path, key_node.start_mark.line + 1, "YAML merge keys ('<<') are not supported")
                    continue
                if not isinstance(key, str | int):
                    self.problem(path, key_node.start_mark.line + 1, f"keys must be strings, got {key!r}")
                    continue
                if key in out:
                    self.problem(path + (key,), key_node.start_mark.line + 1, "duplicate key")
                    continue
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self.convert(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, path + (i,)) for i, item in enumerate(node.value)]
        value = self._scalars.construct_object(node)
        if isinstance(value, str):
            value = self.substitute(value, path, line)
        return value

    def substitute(self, value: str, path: Path_, line: int) -> str:
        def repl(m: re.Match[str]) -> str:
            if m.group(0) == "$$":
                return "$"
            name, default = m.group(1), m.group(2)
            found = os.environ.get(name)
            if found is None:
                if default is not None:
                    return default
                self.problem(path, line, f"environment variable {name} is not set")
                return ""
            return found

        return _ENV.sub(repl, value)


def read_yaml(text: str, file: str) -> _Doc:
    """Parse YAML keeping the line of every key; substitute ``${ENV}``."""
    reader = _Reader(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark else None
        message = " ".join(str(x) for x in (getattr(err, "context", None), getattr(err, "problem", None)) if x)
        raise ConfigError([ConfigProblem(file, line, "", f"YAML does not parse: {message or err}")]) from None
    data = reader.convert(root, ()) if root is not None else {}
    if reader.problems:
        raise ConfigError(reader.problems)
    return _Doc(data, reader.lines)


def dotted(path: typing.Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- validation ----------------------------------------------------------------


def _data_path(data: Any, loc: tuple[Any, ...]) -> Path_:
    """Map a pydantic error location onto the document, dropping union tags."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict | list):
            if isinstance(node, dict) and isinstance(part, str) and part not in node and part == loc[-1]:
                path.append(part)  # a missing field: name it
            continue
    return tuple(path)


def _line_for(lines: dict[Path_, int], path: Path_) -> int | None:
    for i in range(len(path), -1, -1):
        if path[:i] in lines:
            return lines[path[:i]]
    return None


def _unwrap(t: Any, node: Any) -> Any:
    """Strip Annotated and Optional; pick a union member by the node's ``type``."""
    while True:
        origin = typing.get_origin(t)
        if origin is Annotated:
            t = typing.get_args(t)[0]
        elif origin is Union or isinstance(t, types.UnionType):
            args = [a for a in typing.get_args(t) if a is not type(None)]
            t = args[0] if len(args) == 1 else _pick(args, node)
        else:
            return t


def _pick(models: list[Any], data: Any) -> Any:
    """The union member whose ``type`` literal matches the data's ``type``."""
    tag = data.get("type") if isinstance(data, dict) else None
    for m in models:
        if isinstance(m, type) and issubclass(m, BaseModel) and "type" in m.model_fields:
            if typing.get_args(m.model_fields["type"].annotation) == (tag,):
                return m
    return models[0]


def _model_at(model: Any, data: Any, path: Path_) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at ``path``."""
    t: Any = model
    node = data
    for part in path:
        t = _unwrap(t, node)
        if isinstance(part, int):
            if typing.get_origin(t) is not list or not isinstance(node, list) or part >= len(node):
                return None
            t, node = typing.get_args(t)[0], node[part]
        else:
            if not (isinstance(t, type) and issubclass(t, BaseModel)) or part not in t.model_fields:
                return None
            t, node = t.model_fields[part].annotation, (node.get(part) if isinstance(node, dict) else None)
    t = _unwrap(t, node)
    return t if isinstance(t, type) and issubclass(t, BaseModel) else None


def _friendly(err: Any, model: type[BaseModel], data: Any, path: Path_) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, data, path[:-1])
        known = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(str(path[-1]), known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else (f"; known keys: {', '.join(known)}" if known else "")
        return f"unknown key '{path[-1]}'{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown type {ctx.get('tag')!r}; installed plugins provide: {ctx.get('expected_tags')}"
    if kind == "literal_error" and path and path[-1] == "type":
        expected = err.get("ctx", {}).get("expected")
        return f"unknown type {err.get('input')!r}; installed plugins provide: {expected}"
    return str(err["msg"])


@dataclass
class LoadedConfig:
    """A validated hub.yaml and where it came from."""

    model: Any
    file: Path
    data_dir: Path


def load_config(
    file: Path | str, plugins: Plugins, data_dir: Path | str | None = None, text: str | None = None
) -> LoadedConfig:
    """Read, substitute, validate and cross-check a hub.yaml.

    Raises ``ConfigError`` carrying every problem found, each with its line.
    """
    file = Path(file)
    name = str(file)
    if text is None:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError([ConfigProblem(name, None, "", "file not found")]) from None
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError([ConfigProblem(name, None, "", f"cannot read: {err}")]) from None
    doc = read_yaml(text, name)
    if not isinstance(doc.data, dict):
        raise ConfigError([ConfigProblem(name, 1, "", "the top level must be a mapping of sections")])
    if "version" not in doc.data:
        hint = f"required key is missing (use 'version: {CONFIG_VERSION}')"
        raise ConfigError([ConfigProblem(name, 1, "version", hint)])
    model_cls = build_config_model(plugins)
    try:
        model = model_cls.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            path = _data_path(doc.data, error["loc"])
            problems.append(ConfigProblem(name, _line_for(doc.lines, path), dotted(path),
                                          _friendly(error, model_cls, doc.data, path)))
        raise ConfigError(problems) from None
    problems = [ConfigProblem(name, _line_for(doc.lines, p), dotted(p), m) for p, m in cross_check(model, plugins)]
    if problems:
        raise ConfigError(problems)
    if data_dir is None:
        data_dir = model.hub.data_dir
        if not Path(data_dir).is_absolute():
            data_dir = file.resolve().parent / data_dir
    return LoadedConfig(model=model, file=file, data_dir=Path(data_dir).resolve())


def cross_check(model: Any, plugins: Plugins) -> list[tuple[Path_, str]]:
    """References between sections: unique names, known owners, sites, areas, types."""
    found: list[tuple[Path_, str]] = []
    for section, registry in (("sources", plugins.source_types), ("notifiers", plugins.notifier_types)):
        for i, item in enumerate(getattr(model, section)):
            if item.type not in registry:
                found.append(((section, i, "type"), f"no installed plugin provides type {item.type!r}"))
    owners = {o.id for o in model.owners}
    sites = {s.id for s in model.sites}
    areas = {a.path for a in model.areas}

    def unique(items: list[Any], attr: str, section: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            value = getattr(item, attr)
            if value in seen:
                found.append(((section, i, attr), f"duplicate {attr} {value!r}"))
            seen.add(value)

    unique(model.owners, "id", "owners")
    unique(model.sites, "id", "sites")
    unique(model.areas, "path", "areas")
    unique(model.sources, "name", "sources")
    unique(model.notifiers, "name", "notifiers")
    for i, site in enumerate(model.sites):
        if site.area and areas and site.area not in areas:
            found.append((("sites", i, "area"), f"unknown area {site.area!r}"))
    for i, src in enumerate(model.sources):
        if src.owner and src.owner not in owners:
            found.append((("sources", i, "owner"), f"unknown owner {src.owner!r}; add it under 'owners'"))
        if src.site and src.site not in sites:
            found.append((("sources", i, "site"), f"unknown site {src.site!r}; add it under 'sites'"))
        if src.area and areas and src.area not in areas:
            found.append((("sources", i, "area"), f"unknown area {src.area!r}"))
    for i, rule in enumerate(model.recording.rules):
        for j, owner in enumerate(rule.owners):
            if owner not in owners:
                found.append((("recording", "rules", i, "owners", j), f"unknown owner {owner!r}"))
        for j, area in enumerate(rule.areas):
            if areas and area not in areas:
                found.append((("recording", "rules", i, "areas", j), f"unknown area {area!r}"))
    if model.storage.type == "none":
        found.append((("storage",), "no storage backend plugin is loaded"))
    return found


def secret_values(model: Any) -> list[str]:
    """Every ``SecretStr`` value in a config, for log redaction."""
    out: list[str] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, SecretStr):
            value = obj.get_secret_value()
            if value:
                out.append(value)
        elif isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                walk(getattr(obj, name))
        elif isinstance(obj, list | tuple):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item)

    walk(model)
    return out


def json_schema(plugins: Plugins) -> dict[str, Any]:
    schema = build_config_model(plugins).model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Pantau Hub hub.yaml"
    return schema
