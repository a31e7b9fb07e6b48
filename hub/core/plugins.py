"""The plugin manager: finds, loads and registers every Pantau plugin.

Plugins are found through the ``pantau`` entry-point group only; the hub's
own plugins (demo cameras, local storage, role policy, the vendors) are
registered exactly like a third-party package.  ``PANTAU_PLUGINS`` (a comma
separated list of entry-point names) limits which load.  A plugin that fails
to import is reported by name and skipped; a hook implementation without a
spec (a misspelt hook name) is an error.  Loading is lazy and idempotent.

Every hook is called through pluggy (``pm.hook.<name>(...)``), so hook
wrappers and tracing work; ``PANTAU_TRACE_PLUGINS=1`` logs each call.  Each
implementation is registered inside a guard that knows its plugin: a
``register`` callback learns from it which plugin registers (for messages
and ``pantau plugins``), a failing ``register_*`` hook stops loading with the
plugin's name, and a failing lifecycle or listener hook (awaitable or not) is
logged with the plugin's name and keeps the others running.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import logging
import os
import re
import typing
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from pydantic import BaseModel

from hub.core import hookspecs
from hub.core.errors import PluginError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "pantau"
ALLOW_ENV = "PANTAU_PLUGINS"
TRACE_ENV = "PANTAU_TRACE_PLUGINS"

#: The plugin whose hook implementation runs now (set by its guard).
_running: contextvars.ContextVar[str] = contextvars.ContextVar("pantau_plugin", default="?")


@dataclass
class TypeRegistration:
    """A source, storage or notifier type registered by a plugin."""

    name: str
    plugin: str
    config_model: type[BaseModel]
    implementation: type
    #: Older names hub.yaml may still use for the type (the config model's ``type_aliases``).
    aliases: tuple[str, ...] = ()


@dataclass
class PluginInfo:
    """What ``pantau plugins`` shows about one plugin."""

    name: str
    version: str | None
    package: str | None
    module: str | None
    hooks: list[str] = field(default_factory=list)
    source_types: list[str] = field(default_factory=list)
    storage_types: list[str] = field(default_factory=list)
    notifier_types: list[str] = field(default_factory=list)
    access_policies: list[str] = field(default_factory=list)
    error: str | None = None
    #: Loaded from an entry point, so any process can load it the same way (event workers do).
    entry_point: bool = False


def type_name(config_model: type[BaseModel]) -> str:
    """The ``Literal`` value of a config model's ``type`` field."""
    fld = config_model.model_fields.get("type")
    args = typing.get_args(fld.annotation) if fld else ()
    if not fld or typing.get_origin(fld.annotation) is not typing.Literal or len(args) != 1:
        raise PluginError(f"{config_model.__name__} must declare type: Literal['<name>'] with one value")
    return str(args[0])


def allowed_plugins() -> set[str] | None:
    raw = os.environ.get(ALLOW_ENV)
    if raw is None or not raw.strip():
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


class Plugins:
    """The loaded plugins and what they registered."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.info: dict[str, PluginInfo] = {}
        self.source_types: dict[str, TypeRegistration] = {}
        self.storage_types: dict[str, TypeRegistration] = {}
        self.notifier_types: dict[str, TypeRegistration] = {}
        self.access_policies: list[Any] = []
        #: The folder of each plugin's own migrations (``register_migrations``), by plugin name.
        self.migrations: dict[str, Path] = {}
        self._loaded = False

    # -- loading -----------------------------------------------------------

    def load(self) -> Plugins:
        """Load every allowed entry point once; later calls do nothing."""
        if self._loaded:
            return self
        self._loaded = True
        allow = allowed_plugins()
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in self.info or (allow is not None and ep.name not in allow):
                continue
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                name=ep.name,
                version=dist.version if dist else None,
                package=dist.metadata["Name"] if dist else None,
                module=ep.value,
                entry_point=True,
            )
            self.info[ep.name] = info
            try:
                with _logging_untouched():
                    module = ep.load()
            except Exception as err:  # any import failure: report by name and skip
                info.error = f"{type(err).__name__}: {err}"
                log.error("plugin failed to load, skipped", extra={"plugin": ep.name, "error": info.error})
                continue
            self._register(module, ep.name)
        self._finish()
        return self

    def add(self, plugin: ModuleType | object, name: str) -> None:
        """Register a plugin object directly (tests, embedding).  Call before ``load``."""
        self.info[name] = PluginInfo(name=name, version=None, package=None, module=getattr(plugin, "__name__", None))
        self._register(plugin, name)

    def _register(self, plugin: object, name: str) -> None:
        try:
            self.pm.register(_Guarded(plugin, name), name=name)
        except (ValueError, pluggy.PluginValidationError) as err:
            raise PluginError(f"plugin {name}: {err}") from err

    def _finish(self) -> None:
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as err:
            raise PluginError(f"{err} (is the hook name misspelt? see docs/hooks.md)") from err
        if os.environ.get(TRACE_ENV, "").strip() not in ("", "0"):
            self.pm.trace.root.setwriter(lambda message: log.info("plugin hook: %s", message.rstrip()))
            self.pm.enable_tracing()
        for hook_name in sorted(self.hook_names()):
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                self.info[impl.plugin_name].hooks.append(hook_name)
        self._collect("register_source_types", self.source_types, "source_types")
        self._collect("register_storage_backends", self.storage_types, "storage_types")
        self._collect("register_notifiers", self.notifier_types, "notifier_types")

        def register_policy(policy: Any) -> None:
            plugin = _running.get()
            if not callable(getattr(policy, "decide", None)):
                raise PluginError(f"plugin {plugin}: access policy {policy!r} has no decide()")
            self.access_policies.append(policy)
            self.info[plugin].access_policies.append(str(getattr(policy, "name", type(policy).__name__)))

        self.pm.hook.register_access_policies(register=register_policy)

        def register_migrations(versions: Path) -> None:
            plugin = _running.get()
            if not re.fullmatch(r"[A-Za-z0-9_]+", plugin):
                raise PluginError(f"plugin {plugin}: a plugin with tables needs a name of letters, digits and _")
            if plugin in self.migrations:
                raise PluginError(f"plugin {plugin}: migrations registered twice")
            if not Path(versions).is_dir():
                raise PluginError(f"plugin {plugin}: migrations folder {versions} does not exist")
            self.migrations[plugin] = Path(versions)

        self.pm.hook.register_migrations(register=register_migrations)

    def _collect(self, hook_name: str, into: dict[str, TypeRegistration], info_attr: str) -> None:
        def register(config_model: type[BaseModel], implementation: type) -> None:
            plugin = _running.get()
            name = type_name(config_model)
            aliases = tuple(getattr(config_model, "type_aliases", ()))
            for taken in (name, *aliases):
                holder = next((r for r in into.values() if taken == r.name or taken in r.aliases), None)
                if holder is not None:
                    raise PluginError(f"plugin {plugin}: type {taken!r} is already registered by plugin "
                                      f"{holder.plugin}")
            into[name] = TypeRegistration(name, plugin, config_model, implementation, aliases)
            getattr(self.info[plugin], info_attr).append(name)

        getattr(self.pm.hook, hook_name)(register=register)

    # -- calling -----------------------------------------------------------

    @staticmethod
    def hook_names() -> list[str]:
        return [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "pantau_spec")]

    def implemented(self, hook_name: str) -> bool:
        """Whether any loaded plugin implements the hook."""
        return bool(getattr(self.pm.hook, hook_name).get_hookimpls())

    def call_register(self, hook_name: str, register: Callable[..., Any]) -> None:
        """Call a ``register_*`` hook whose registrations the caller keeps (jobs, routes);
        ``register_commands`` gets ``register`` as its ``cli``."""
        argument = "cli" if hook_name == "register_commands" else "register"
        getattr(self.pm.hook, hook_name)(**{argument: register})

    async def acall(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook in every plugin through pluggy, awaiting awaitable results in turn.

        A failing implementation is logged with its plugin's name (by its guard) and
        does not keep the others from running; its result is left out.
        """
        results = []
        for result in getattr(self.pm.hook, hook_name)(**kwargs):
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                results.append(result)
        return results


def current_plugin() -> str:
    """The name of the plugin whose hook implementation is running (for ``register`` callbacks)."""
    return _running.get()


class _Guarded:
    """A plugin as pluggy sees it: each of its hook implementations inside a guard."""

    def __init__(self, plugin: object, name: str) -> None:
        self.__name__ = getattr(plugin, "__name__", name)
        self.plugin = plugin
        for attr in dir(plugin):
            function = getattr(plugin, attr, None)
            opts = getattr(function, f"{hookspecs.PROJECT}_impl", None)
            if function is None or not callable(function) or opts is None:
                continue
            wraps = opts.get("wrapper") or opts.get("hookwrapper")  # generators: pluggy drives them
            setattr(self, attr, function if wraps else _guard(function, name, attr))


def _guard(function: Callable[..., Any], plugin: str, hook_name: str) -> Callable[..., Any]:
    """``function`` (a hook implementation of ``plugin``) with its failures made the plugin's:
    a ``register_*`` hook's raise ``PluginError``, a lifecycle or listener hook's are logged."""
    registering = hook_name.startswith("register_")

    @functools.wraps(function)  # pluggy reads the argument names through __wrapped__
    def guarded(*args: Any) -> Any:
        token = _running.set(plugin)
        try:
            result = function(*args)
        except PluginError:
            if registering:
                raise
            log.exception("plugin hook failed", extra={"plugin": plugin, "hook": hook_name})
            return None
        except Exception as err:
            if registering:
                raise PluginError(f"plugin {plugin}: {hook_name} failed: {err}") from err
            log.exception("plugin hook failed", extra={"plugin": plugin, "hook": hook_name})
            return None
        finally:
            _running.reset(token)
        if inspect.isawaitable(result):
            return _awaited(result, plugin, hook_name)
        return result

    return guarded


async def _awaited(result: Awaitable[Any], plugin: str, hook_name: str) -> Any:
    token = _running.set(plugin)
    try:
        return await result
    except Exception:
        log.exception("plugin hook failed", extra={"plugin": plugin, "hook": hook_name})
        return None
    finally:
        _running.reset(token)


@contextlib.contextmanager
def _logging_untouched() -> Iterator[None]:
    """Undo what importing a plugin does to the root logger: some libraries call
    ``logging.basicConfig`` at import (onvif-zeep-async does), which would print
    every INFO line of every library on the command line's stderr."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
