"""Hook specifications: everything a Pantau plugin can implement.

One module holds every hook.  Plugins (ours and third-party alike) are found
through the ``pantau`` entry-point group and mark implementations with
``from hub import hookimpl``.  Hooks are plain synchronous pluggy hooks; any
hook documented as "may return an awaitable" is resolved by the core, so an
``async def`` implementation works there too.

The ``register_*`` hooks hand the plugin a ``register`` callback instead of
collecting return values, so the core knows which plugin registered what and
can refuse duplicates with the plugin's name in the message.  They are called
once per process when the plugin manager first loads.

Every hook here has a section in ``docs/hooks.md``; a test compares the two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from hub.app import Hub
    from hub.core.models import Camera, Event

PROJECT = "pantau"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_source_types(register: Any) -> None:
    """Register camera source types (``hikvision``, ``onvif``, ``demo``, ...).

    :param register: call ``register(config_model, source_class)`` once per
        source type.  ``config_model`` subclasses ``hub.core.sources.SourceConfig``
        and declares ``type: Literal["<name>"]``; the literal is the value of
        ``type:`` in hub.yaml.  ``source_class`` subclasses
        ``hub.core.sources.CameraSource``.

    Called once, when plugins load.  Synchronous.  Returns nothing.
    """


@hookspec
def register_storage_backends(register: Any) -> None:
    """Register storage backends for recordings, snapshots and exports.

    :param register: call ``register(config_model, backend_class)``;
        ``config_model`` subclasses ``hub.core.storage.StorageConfig`` with
        ``type: Literal["<name>"]``; ``backend_class`` subclasses
        ``hub.core.storage.StorageBackend``.

    Called once, when plugins load.  Synchronous.  Returns nothing.
    """


@hookspec
def register_notifiers(register: Any) -> None:
    """Register notifier types: where normalised events go (MQTT, report apps, ...).

    :param register: call ``register(config_model, notifier_class)``;
        ``config_model`` subclasses ``hub.core.notify.NotifierConfig`` with
        ``type: Literal["<name>"]``; ``notifier_class`` subclasses
        ``hub.core.notify.Notifier``.

    Called once, when plugins load.  Synchronous.  Returns nothing.
    """


@hookspec
def register_access_policies(register: Any) -> None:
    """Register access policies consulted for every action on video.

    :param register: call ``register(policy)`` with an object implementing
        ``hub.core.policy.AccessPolicy``: ``decide(principal, action, camera,
        context)`` returning ``Decision.ALLOW``, ``DENY`` or ``ABSTAIN``.  Deny
        wins; with no allow the action is denied.

    Called once, when plugins load.  Synchronous.  Returns nothing.
    """


@hookspec
def register_jobs(register: Any) -> None:
    """Register scheduled jobs run by the hub's APScheduler.

    :param register: call ``register(name, func, trigger, **trigger_args)``;
        ``func(hub)`` may be ``async``; ``trigger`` is an APScheduler 3
        trigger name (``"interval"``, ``"cron"``, ``"date"``) with its
        arguments, e.g. ``register("tidy", tidy, "interval", minutes=5)``.
        Jobs never overlap themselves and get a little jitter.

    Called once per ``pantau run``, before the scheduler starts.  Synchronous.
    """


@hookspec
def register_routes(register: Any) -> None:
    """Register extra HTTP routes.

    :param register: call ``register(router)`` with a FastAPI ``APIRouter``.
        Its routes are mounted under ``/api/v1/plugins`` and need a bearer
        token like every other API route; use ``hub.http.auth.require`` for a
        finer access check.

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
def hub_startup(hub: Hub) -> Any:
    """The hub has started: config loaded, store migrated, inventory probed.

    :param hub: the running ``hub.app.Hub``.

    Called once per ``pantau run``, after the sources are probed and before
    the HTTP server accepts requests.  May return an awaitable, which the core
    awaits; an exception is logged with the plugin's name and does not stop
    the hub.
    """


@hookspec
def hub_shutdown(hub: Hub) -> Any:
    """The hub is stopping; release what ``hub_startup`` acquired.

    :param hub: the running ``hub.app.Hub``.

    Called once, after the HTTP server stopped and before recordings are
    finished and the store closes.  May return an awaitable, which the core
    awaits (within the shutdown budget of 10 s in all).
    """


@hookspec
def inventory_changed(hub: Hub, added: list[Camera], removed: list[Camera], changed: list[Camera]) -> Any:
    """The camera inventory changed (startup, a re-probe, a config reload).

    :param hub: the running hub.
    :param added: cameras that appeared.
    :param removed: cameras that disappeared (their history is kept).
    :param changed: cameras whose name, streams or status changed.

    Called after each inventory update that changed something.  May return
    an awaitable.
    """


@hookspec
def event_published(hub: Hub, event: Event) -> Any:
    """A normalised event was published on the hub's bus.

    :param hub: the running hub.
    :param event: the ``hub.core.models.Event``.

    Called once per event, in publication order, from the event loop; keep it
    quick (hand slow work to a task or a notifier).  May return an awaitable.
    """
