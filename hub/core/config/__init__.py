"""hub.yaml: the one source of truth for a hub's configuration.

The file is YAML with a ``version:`` key.  Strings may use ``${ENV_VAR}``
(or ``${ENV_VAR:-default}``) so secrets stay out of the file; ``$$`` is a
literal dollar.  By concern: the sections' models (``sections``), the YAML
reader that keeps lines (``reader``), validation errors turned into
``FILE:LINE: key.path: message`` (``problems``), and here loading it all
with the cross-checks between sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from hub.core.config.problems import data_path, friendly, line_for
from hub.core.config.reader import Path_, dotted, read_yaml
from hub.core.config.sections import (
    CONFIG_VERSION,
    DatabaseConfig,
    EventsConfig,
    EvidenceConfig,
    HealthConfig,
    HttpConfig,
    HubConfigBase,
    HubSection,
    LiveConfig,
    LoggingConfig,
    PublicConfig,
    RecordingConfig,
    RecordingOverride,
    RecordingRule,
    build_config_model,
    json_schema,
)
from hub.core.errors import ConfigError, ConfigProblem
from hub.core.plugins import Plugins, TypeRegistration

__all__ = ["CONFIG_VERSION", "DEFAULT_CONFIG", "DatabaseConfig", "EventsConfig", "EvidenceConfig", "HealthConfig",
           "HttpConfig", "HubConfigBase", "HubSection", "LiveConfig", "LoadedConfig", "LoggingConfig", "PublicConfig",
           "RecordingConfig", "RecordingOverride", "RecordingRule", "build_config_model", "cross_check", "json_schema",
           "load_config", "read_yaml", "secret_values"]

DEFAULT_CONFIG = Path("hub.yaml")


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
    _read_aliases(doc.data, plugins)
    try:
        model = model_cls.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            path = data_path(doc.data, error["loc"])
            problems.append(ConfigProblem(name, line_for(doc.lines, path), dotted(path),
                                          friendly(error, model_cls, doc.data, path)))
        raise ConfigError(problems) from None
    problems = [ConfigProblem(name, line_for(doc.lines, p), dotted(p), m) for p, m in cross_check(model, plugins)]
    if problems:
        raise ConfigError(problems)
    if data_dir is None:
        data_dir = model.hub.data_dir
        if not Path(data_dir).is_absolute():
            data_dir = file.resolve().parent / data_dir
    return LoadedConfig(model=model, file=file, data_dir=Path(data_dir).resolve())


def _read_aliases(data: dict[str, Any], plugins: Plugins) -> None:
    """Older type names (``type: local``, ``type: open311``) as the names their plugins now use."""

    def canonical(entry: Any, registry: dict[str, TypeRegistration]) -> None:
        if isinstance(entry, dict) and isinstance(entry.get("type"), str):
            for reg in registry.values():
                if entry["type"] in reg.aliases:
                    entry["type"] = reg.name

    for section, registry in (("sources", plugins.source_types), ("notifiers", plugins.notifier_types)):
        if isinstance(data.get(section), list):
            for entry in data[section]:
                canonical(entry, registry)
    canonical(data.get("storage"), plugins.storage_types)


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
    url = model.database.url.get_secret_value() if model.database.url else ""
    if model.cluster.enabled and not url.startswith(("postgresql", "postgres")):
        found.append((("cluster", "enabled"), "several nodes share one PostgreSQL database: set database.url to it "
                                              "(SQLite is one node's)"))
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
