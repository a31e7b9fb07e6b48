"""Hook specifications: everything a Pantau plugin can implement.

One module holds every hook.  Plugins (ours and third-party alike) are found
through the ``pantau`` entry-point group and mark implementations with
``from hub import hookimpl``.  The core calls every hook through pluggy's
``pm.hook`` (so hook wrappers and ``PANTAU_TRACE_PLUGINS=1`` see each call);
a hook documented as "may return an awaitable" is resolved by the core, so
an ``async def`` implementation works there too.

The ``register_*`` hooks hand the plugin a ``register`` callback instead of
collecting return values, so the core knows which plugin registered what and
can refuse duplicates with the plugin's name in the message.  Each callback
has a protocol below (``RegisterSourceType``, ...) to annotate it with.

Lifecycle and listener hooks get the ``HubContext`` (``hub.core.context``),
never the running hub itself.

Every hook here has a section in ``docs/hooks.md``; a test compares the two.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter

    from hub.core.context import HubContext
    from hub.core.models import Camera, Event
    from hub.core.notify import Notifier, NotifierConfig
    from hub.core.policy import AccessPolicy
    from hub.core.sources import CameraSource, SourceConfig
    from hub.core.storage import StorageBackend, StorageConfig

PROJECT = "pantau"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class RegisterSourceType(Protocol):
    """``register`` of ``register_source_types``."""

    def __call__(self, config_model: type[SourceConfig], source_class: type[CameraSource], /) -> None: ...


class RegisterStorageBackend(Protocol):
    """``register`` of ``register_storage_backends``."""

    def __call__(self, config_model: type[StorageConfig], backend_class: type[StorageBackend], /) -> None: ...


class RegisterNotifier(Protocol):
    """``register`` of ``register_notifiers``."""

    def __call__(self, config_model: type[NotifierConfig], notifier_class: type[Notifier], /) -> None: ...


class RegisterAccessPolicy(Protocol):
    """``register`` of ``register_access_policies``."""

    def __call__(self, policy: AccessPolicy, /) -> None: ...


class RegisterJob(Protocol):
    """``register`` of ``register_jobs``: ``func(context)`` may be async."""

    def __call__(self, name: str, func: Callable[[HubContext], Any], trigger: str, /,
                 **trigger_args: Any) -> None: ...


class RegisterRoutes(Protocol):
    """``register`` of ``register_routes``: ``api_root`` mounts the router at ``/api/v1``
    instead of ``/api/v1/plugins`` (refused where a path is the hub's own); ``pages`` mounts a
    router of pages (``hub.PluginPages``) at the root, for signed-in people's sessions."""

    def __call__(self, router: APIRouter, /, *, api_root: bool = False, pages: bool = False) -> None: ...


class RegisterMigrations(Protocol):
    """``register`` of ``register_migrations``: the folder of the plugin's Alembic revisions."""

    def __call__(self, versions: Path, /) -> None: ...


@hookspec
def register_source_types(register: RegisterSourceType) -> None:
    """Register camera source types (``hikvision``, ``onvif``, ``demo``, ...).

    :param register: call ``register(config_model, source_class)`` once per
        source type.  ``config_model`` subclasses ``hub.core.sources.SourceConfig``
        and declares ``type: Literal["<name>"]``; the literal is the value of
        ``type:`` in hub.yaml.  ``source_class`` subclasses
        ``hub.core.sources.CameraSource``.

    Called once, when plugins load.  Synchronous.  Returns nothing.
    """


@hookspec
def register_storage_backends(register: RegisterStorageBackend) -> None:
    """Register storage backends for recordings, snapshots and exports.

    :param register: call ``register(config_model, backend_class)``;
        ``config_model`` subclasses ``hub.core.storage.StorageConfig`` with
        ``type: Literal["<name>"]``; ``backend_class`` subclasses
        ``hub.core.storage.StorageBackend``.

    Called once, when plugins load.  Synchronous.  Returns nothing.
    """


@hookspec
def register_notifiers(register: RegisterNotifier) -> None:
    """Register notifier types: where normalised events go (MQTT, report apps, ...).

    :param register: call ``register(config_model, notifier_class)``;
        ``config_model`` subclasses ``hub.core.notify.NotifierConfig`` with
        ``type: Literal["<name>"]``; ``notifier_class`` subclasses
        ``hub.core.notify.Notifier``.

    Called once, when plugins load.  Synchronous.  Returns nothing.
    """


@hookspec
def register_access_policies(register: RegisterAccessPolicy) -> None:
    """Register access policies consulted for every action on video.

    :param register: call ``register(policy)`` with an object implementing
        ``hub.core.policy.AccessPolicy``: ``decide(principal, action, camera,
        context)`` returning ``Decision.ALLOW``, ``DENY`` or ``ABSTAIN`` (or an
        awaitable of one); optionally ``reach(principal, action, index, context)``
        returning a ``Reach``, so lists are answered from indexes.  Deny wins;
        with no allow the action is denied.

    Called once, when plugins load.  Synchronous.  Returns nothing.
    """


@hookspec
def register_jobs(register: RegisterJob) -> None:
    """Register scheduled jobs run by the hub's APScheduler.

    :param register: call ``register(name, func, trigger, **trigger_args)``;
        ``func(context)`` (a ``HubContext``) may be ``async``; ``trigger`` is an APScheduler 3
        trigger name (``"interval"``, ``"cron"``, ``"date"``) with its
        arguments, e.g. ``register("tidy", tidy, "interval", minutes=5)``.
        Jobs never overlap themselves and get a little jitter.

    Called once per ``pantau run``, before the scheduler starts.  Synchronous.
    """


@hookspec
def register_migrations(register: RegisterMigrations) -> None:
    """Register the plugin's own database tables, as Alembic migrations.

    :param register: call ``register(versions)`` with the folder holding the
        plugin's revisions (``versions/0001_....py``, each with ``revision`` and
        ``down_revision`` as Alembic writes them; the first has
        ``down_revision = None``).  They run on a branch of their own, with a
        version table of their own (``alembic_version_<plugin>``), so a plugin
        added or removed later never blocks the hub's own migrations.  Name the
        tables after the plugin (``<plugin>_...``).  The plugin reads and writes
        them through ``HubContext.database`` (in commands: ``open_database``).

    Called once, when plugins load; the hub runs the revisions at every start,
    after its own.  Synchronous.  Returns nothing.
    """


@hookspec
def register_routes(register: RegisterRoutes) -> None:
    """Register extra HTTP routes.

    :param register: call ``register(router)`` with a FastAPI ``APIRouter``.
        Its routes are mounted under ``/api/v1/plugins`` (``api_root=True``:
        under ``/api/v1``, for a route that was the hub's before) and need a
        bearer token like every other API route; ``request_principal(request)``
        says who calls, ``request_context(request)`` gives the ``HubContext``
        (``authorize`` and ``may`` for finer access checks).  A WebSocket
        route asks who calls itself (``hub.websocket_principal``).
        ``register(pages.router, pages=True)`` mounts a ``hub.PluginPages``
        router at the root (``/mitra``, say): pages that look and read like
        the hub's, in the reader's language, for the session's account.

    Called once per ``pantau run``, when the HTTP app is built.  Synchronous.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``pantau`` command line.

    :param cli: the root ``click.Group``; call ``cli.add_command(...)`` or use
        ``@cli.command()``.

    Called once each time the ``pantau`` command starts.  Synchronous.
    """


@hookspec
def hub_startup(context: HubContext) -> Any:
    """The hub has started: config loaded, store migrated, inventory probed.

    :param context: the ``HubContext``: what a plugin may use of the running hub.

    Called once per ``pantau run``, after the sources are probed and before
    the HTTP server accepts requests.  May return an awaitable, which the core
    awaits; an exception is logged with the plugin's name and does not stop
    the hub.
    """


@hookspec
def hub_shutdown(context: HubContext) -> Any:
    """The hub is stopping; release what ``hub_startup`` acquired.

    :param context: the ``HubContext``.

    Called once, after the HTTP server stopped and before recordings are
    finished and the store closes.  May return an awaitable, which the core
    awaits (within the shutdown budget of 10 s in all); an exception is
    logged with the plugin's name.
    """


@hookspec
def inventory_changed(context: HubContext, added: list[Camera], removed: list[Camera],
                      changed: list[Camera]) -> Any:
    """The camera inventory changed (startup, a re-probe, a config reload).

    :param context: the ``HubContext``.
    :param added: cameras that appeared.
    :param removed: cameras that disappeared (their history is kept).
    :param changed: cameras whose name, streams or status changed.

    Called after each inventory update that changed something.  May return
    an awaitable; an exception is logged with the plugin's name.
    """


@hookspec
def event_published(context: HubContext, event: Event) -> Any:
    """A normalised event was published on the hub's bus.

    :param context: the ``HubContext``.
    :param event: the ``hub.core.models.Event``.

    Called once per event, in publication order, from the event loop; keep it
    quick (hand slow work to a task or a notifier).  May return an awaitable;
    an exception is logged with the plugin's name.
    """


@hookspec
def recording_retention(context: HubContext, camera_id: str, camera: Camera | None) -> Any:
    """At most how many days a camera's recordings are kept, when the plugin caps them.

    :param context: the ``HubContext``.
    :param camera_id: a camera with recordings in the store.
    :param camera: that camera, or None when it is no longer in the inventory
        (its recordings are still there).
    :returns: days (a number, 0 for "delete them now"), or None for no cap.
        May return an awaitable.

    Called by the retention job (every 10 minutes) for every camera with
    recordings; the shortest of hub.yaml's ``retain_days`` and every plugin's
    answer wins.  Locked segments (evidence) are kept whatever the answer, and
    the hub logs how many a cap could not delete.  A failing implementation is
    logged with its plugin's name and caps nothing.
    """


@hookspec
def registered_camera(context: HubContext, camera_id: str) -> Any:
    """A camera the plugin knows of without its video (registered by its owner), or None.

    :param context: the ``HubContext``.
    :param camera_id: the id an evidence request names in ``ask_owners``.
    :returns: a dict with at least ``name`` and ``owner`` (who to ask for the footage), and
        what else helps an investigator: ``contact``, ``location``, ``direction``, ``note``;
        None when the id is not the plugin's.  May return an awaitable.

    Called when an evidence request names cameras in ``ask_owners``: the first
    answer is kept with the request and in its bundle, so the investigator knows
    whom to ask for footage the hub does not have.  An exception is logged with
    the plugin's name.
    """
