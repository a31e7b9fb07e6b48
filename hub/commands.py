"""What a ``pantau`` command is made of, for the hub's commands and plugins' alike.

``config_option`` and ``data_dir_option`` are the options every command that
reads hub.yaml takes; ``fail_on_errors`` prints the hub's errors without a
traceback (configuration problems as ``FILE:LINE: key.path: message`` and
exit code 2, other hub errors as ``error: message`` and exit code 1);
``opened_store`` gives the migrated store of a config's database, and
``open_database`` hub.yaml's database itself, for a plugin's own tables;
``local_cameras`` hub.yaml's cameras without a running hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hub.core.config import DEFAULT_CONFIG, LoadedConfig, load_config
from hub.core.errors import ConfigError, HubError, NotFound
from hub.core.models import Camera, DeviceInventory, Event, Principal, Role, utcnow
from hub.core.plugins import Plugins

if TYPE_CHECKING:
    from hub.core.context import SqlDatabase
    from hub.core.sources import MediaInput
    from hub.store import Store

config_option = click.option(
    "-c", "--config", "config_file", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True,
    help="The hub.yaml to use.")
data_dir_option = click.option(
    "--data-dir", type=click.Path(path_type=Path), default=None,
    help="Data directory (database, recordings); overrides hub.data_dir.")


@functools.cache
def plugins() -> Plugins:
    """The installed plugins, loaded once per process."""
    return Plugins().load()


def fail_on_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """A command's hub errors as messages and exit codes, not tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(problem.format(), err=True)
            sys.exit(2)
        except HubError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def load(config_file: Path, data_dir: Path | None = None) -> LoadedConfig:
    """hub.yaml, validated with every installed plugin's types."""
    return load_config(config_file, plugins(), data_dir=data_dir)


@contextlib.asynccontextmanager
async def opened_store(model: Any, data_dir: Path) -> AsyncIterator[Store]:
    """The store of a config's database, migrated (the hub's tables and every plugin's), closed after."""
    from hub.app import open_store

    store = await open_store(model, data_dir, plugins())
    try:
        yield store
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def open_database(config_file: Path, data_dir: Path | None = None) -> AsyncIterator[SqlDatabase]:
    """hub.yaml's database, migrated, for a plugin command that reads its own tables::

        async with open_database(config_file, data_dir) as database:
            rows = await MyRepository(database).everything()
    """
    loaded = load(config_file, data_dir)
    async with opened_store(loaded.model, loaded.data_dir) as store:
        yield store.db


class LocalCameras:
    """hub.yaml's cameras without a running hub: its sources built by their plugins, probed into
    one inventory, each camera's streams, pictures and events had from its own source.  For a
    command that carries cameras elsewhere (``pantau edge``); ``local_cameras`` makes and closes it."""

    def __init__(self, inventory: Any, name: str, data_dir: Path) -> None:
        self._inventory = inventory
        #: hub.yaml's ``hub.name``.
        self.name = name
        #: hub.yaml's data folder (made if it was not there).
        self.data_dir = data_dir

    @property
    def cameras(self) -> dict[str, Camera]:
        return dict(self._inventory.cameras)

    @property
    def devices(self) -> list[DeviceInventory]:
        """The devices with their cameras, as a probe gives them."""
        by_device: dict[str, list[Camera]] = {}
        for camera in self._inventory.cameras.values():
            by_device.setdefault(camera.device_id, []).append(camera)
        return [DeviceInventory(device=d, cameras=by_device.get(d.id, []))
                for d in self._inventory.devices.values()]

    @property
    def errors(self) -> dict[str, str]:
        """Sources whose last probe failed: name -> why."""
        return dict(self._inventory.errors)

    async def probe(self, limit: float = 20.0) -> bool:
        """Probe every source again; whether the cameras changed."""
        return bool(await self._inventory.probe(limit))

    def media(self, camera_id: str, role: str) -> MediaInput:
        """The way to open a camera's stream (``NotFound`` for a camera or stream it does not have)."""
        camera = self._inventory.camera(camera_id)
        stream = camera.stream(role)
        if stream is None:
            raise NotFound(f"camera {camera_id[:100]} has no {role[:20]} stream")
        return self._inventory.source_of(camera_id).open_media(camera, stream)

    async def snapshot(self, camera_id: str) -> bytes:
        return await self._inventory.source_of(camera_id).snapshot(self._inventory.camera(camera_id))

    async def events(self) -> AsyncIterator[Event]:
        """Every source's events, as they come (each source's stream restarted when it fails)."""
        from hub.event_workers import follow

        queue: asyncio.Queue[Event] = asyncio.Queue(1000)
        tasks = [asyncio.create_task(follow(name, source, queue.put))
                 for name, source in self._inventory.sources.items()]
        try:
            while True:
                yield await queue.get()
        finally:
            for task in tasks:
                task.cancel()


@contextlib.asynccontextmanager
async def local_cameras(config_file: Path, data_dir: Path | None = None,
                        probe: bool = True) -> AsyncIterator[LocalCameras]:
    """hub.yaml's cameras, probed once (unless not ``probe``), for a command (``LocalCameras``); the
    sources closed after."""
    from hub.inventory import Inventory, build_sources

    loaded = load(config_file, data_dir)
    loaded.data_dir.mkdir(parents=True, exist_ok=True)
    inventory = Inventory(build_sources(loaded.model, plugins(), loaded.data_dir))
    try:
        if probe:
            await inventory.probe()
        yield LocalCameras(inventory, str(loaded.model.hub.name), loaded.data_dir)
    finally:
        for source in inventory.sources.values():
            with contextlib.suppress(Exception):
                await source.close()


_T = TypeVar("_T")


def with_store(config_file: Path, data_dir: Path | None, work: Callable[[Store], Awaitable[_T]]) -> _T:
    """Run ``work`` on the store of hub.yaml's database (or, without a hub.yaml, the default one in
    ``data_dir``), migrated, and closed after: what a command that reads or writes the store does."""
    if config_file.exists():
        loaded = load(config_file, data_dir)
        model, target = loaded.model, loaded.data_dir
    else:
        from hub.core.config import build_config_model

        model = build_config_model(plugins()).model_validate({"version": 1})
        target = (data_dir or Path("data")).resolve()

    async def run() -> _T:
        async with opened_store(model, target) as store:
            return await work(store)

    return asyncio.run(run())


def cli_principal() -> Principal:
    """Who acts on the command line, for the audit log: the account that holds the hub's files
    (it can read the database, so it may do anything)."""
    import getpass

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Principal(id=f"cli:{name}", name=name, role=Role.ADMIN)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A token goes to the address given and nowhere else: a redirect is an error."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise HubError(f"the hub answered with a redirect to {urllib.parse.urlsplit(newurl).netloc or newurl!r}; "
                       "give its final address with --url (the token is not sent on)")

def ask_hub(config_file: Path, data_dir: Path | None, method: str, path: str, *, role: Role, purpose: str,
            body: Any = None, url: str | None = None, insecure: bool = False) -> Any:
    """``call_hub`` for a plugin's command: hub.yaml's running hub, asked as ``role``."""
    return call_hub(load(config_file, data_dir), url, insecure, method, path, role, purpose, body)


def call_hub(loaded: Any, url: str | None, insecure: bool, method: str, path: str, role: Role,
             purpose: str, body: Any = None) -> Any:
    """Ask the running hub's API: with the token in PANTAU_TOKEN, or else with a token of ``role``
    made for this call (it expires in two minutes and is revoked after).  The token goes to that
    address only: never across a redirect, and over plain http only to this machine unless
    ``insecure``.  ``body`` goes as JSON.  The answer's JSON (None for an empty one)."""
    import os

    http = loaded.model.http
    host = "127.0.0.1" if http.host in ("0.0.0.0", "::", "") else http.host
    base = (url or f"http://{host}:{http.port}").rstrip("/")
    where = urllib.parse.urlsplit(base)
    if where.scheme not in ("http", "https") or not where.hostname:
        raise click.BadParameter(f"{base!r} is not an http(s) address", param_hint="--url")
    if where.scheme == "http" and not insecure and not _loopback(where.hostname):
        raise click.BadParameter(f"plain http to {where.hostname} would send a token in the clear; use https "
                                 "or --insecure", param_hint="--url")
    minted: str | None = None

    async def mint() -> str:
        async with opened_store(loaded.model, loaded.data_dir) as store:
            return await store.tokens.create_token(role, purpose, utcnow() + timedelta(minutes=2))

    async def revoke(token_id: str) -> None:
        async with opened_store(loaded.model, loaded.data_dir) as store:
            await store.tokens.revoke_token(token_id)

    token = os.environ.get("PANTAU_TOKEN")
    if not token:
        token = asyncio.run(mint())
        minted = token.split("_", 2)[1]
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(f"{base}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.build_opener(_NoRedirects).open(request, timeout=30) as answer:
            body = answer.read()
    except urllib.error.HTTPError as exc:
        detail = ""
        with contextlib.suppress(Exception):
            detail = ": " + str(json.loads(exc.read()).get("detail", ""))[:300]
        raise HubError(f"the hub at {base} answered {exc.code}{detail or ' ' + str(exc.reason)}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HubError(f"no hub answers at {base} ({reason}); is it running (`pantau run`)?") from None
    finally:
        if minted is not None:
            asyncio.run(revoke(minted))
    return json.loads(body) if body else None

def _loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
