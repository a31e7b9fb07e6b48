"""The hub as plugins see it: ``HubContext``, handed to hooks, notifiers and plugin routes.

Plugins never get the running ``hub.app.Hub`` (its stream graph, outbox,
scheduler and store are the hub's own business, and would change under
them).  They get this protocol instead: the inventory read-only, the
administrative tree, publishing events, snapshots, storage, shared links,
the notifiers by name, camera status history, access checks, a folder of
their own and the database for tables of their own.  The hub implements it (``hub.app``); a test double
implements it in a few lines.  Whatever is not here is not part of the
contract a plugin can rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from hub.core.models import Action, Area, Camera, DeviceInventory, Event, Principal, PrivacyMask, Site
    from hub.core.storage import StorageBackend

T = TypeVar("T")


class SharedLinks(Protocol):
    """Signed, expiring public URLs to stored objects (for people with no account)."""

    @property
    def public_url(self) -> str | None:
        """The hub's public base URL (``http.public_url``); None when unset: then no links."""

    def url(self, key: str, seconds: float) -> str | None:
        """A URL that serves the object under ``key`` for ``seconds``; None without a public URL."""


class SqlDatabase(Protocol):
    """The hub's database, for a plugin's own tables (``register_migrations``).

    Declare the tables on a SQLAlchemy ``DeclarativeBase`` of the plugin's own
    (``UTCDateTime`` for times); read and write them in ``session()`` or, for
    a hot path, in one ``transaction(work)`` (with SQLite one hop to the
    writer thread).  SQLite and PostgreSQL both: stay within what both do.
    """

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""

    @property
    def session(self) -> async_sessionmaker[AsyncSession]:
        """``async with database.session() as s`` (reads) or ``database.session.begin()`` (writes)."""

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` in one transaction; returns what it returns."""

    def insert_ignoring(self, table: Any, conflict: list[str]) -> Any:
        """An INSERT that skips rows already there (by the ``conflict`` columns), on either database."""


class HubContext(Protocol):
    """What a plugin may use of the running hub.  Every member is safe to call from the
    event loop; none blocks."""

    @property
    def hub_name(self) -> str:
        """The hub's name (``hub.name`` in hub.yaml), for messages people read."""

    @property
    def node(self) -> str | None:
        """This node's name when several hub nodes share the database (``cluster.node``), else None:
        a plugin keeping a connection of its own names it after the node (an MQTT client id)."""

    @property
    def cameras(self) -> Mapping[str, Camera]:
        """Every camera of the inventory by id, read-only; a camera that goes away leaves it."""

    def camera(self, camera_id: str) -> Camera:
        """One camera; ``NotFound`` when the inventory has none with that id."""

    @property
    def sites(self) -> Mapping[str, Site]:
        """The sites of hub.yaml by id (schools, towers, parks)."""

    @property
    def areas(self) -> Mapping[str, Area]:
        """The administrative areas of hub.yaml by path (``jawa-tengah/semarang/...``)."""

    def publish(self, event: Event) -> None:
        """Put an event on the hub's bus: the store, the notifiers and the listeners get it."""

    async def snapshot(self, camera_id: str, limit: float = 10.0) -> bytes:
        """A JPEG of the camera, from a stream the hub receives when it can; ``DeviceNotReady``
        after ``limit`` seconds."""

    @property
    def storage(self) -> StorageBackend:
        """The hub's storage backend (recordings, snapshots, exports)."""

    @property
    def links(self) -> SharedLinks:
        """Signed public links to stored objects."""

    def notifier(self, name: str) -> object | None:
        """The running notifier of that name (hub.yaml's ``notifiers:``), or None; a plugin
        checks it is one of its own with ``isinstance`` before it calls anything on it."""

    def privacy_masks(self, camera_id: str) -> list[PrivacyMask]:
        """The privacy masks in force on a camera (hub.yaml's and those set since); empty: none."""
        ...

    async def camera_statuses(self, since_for: set[str] | None = None) -> dict[str, tuple[str, datetime]]:
        """Each camera's latest confirmed status (``online``, ``offline``, ``degraded``) and since
        when; the look back to the start of a status is made for those in ``since_for`` only."""

    async def uptime(self, camera_ids: list[str], hours: float = 24) -> dict[str, float | None]:
        """Each camera's share of the last ``hours`` online, in percent of the time its state was
        known (None: never known)."""
        ...

    async def watched(self, camera_ids: list[str], limit: int = 100) -> list[dict[str, Any]]:
        """Who watched these cameras (live, playback, export; refusals too), newest first, from the
        audit log: ``at``, ``principal``, ``camera_id``, ``action``, ``allowed``, ``reason``."""
        ...

    async def authorize(self, principal: Principal, action: Action, camera: Camera | None = None,
                        context: dict[str, Any] | None = None) -> None:
        """Ask the access policies; ``AccessDenied`` when they say no.  Decisions about video
        are written to the audit log."""

    async def may(self, principal: Principal, action: Action, camera: Camera | None = None) -> bool:
        """Whether the access policies allow it (nothing audited: for filtering lists)."""

    async def visible_cameras(self, principal: Principal, action: Action) -> list[str]:
        """The ids of the cameras ``principal`` may do ``action`` on, from the cameras' indexes
        (cheap for a whole city; nothing audited)."""

    async def audit(self, principal: Principal | str, action: str, camera_id: str | None, allowed: bool,
                    reason: str) -> None:
        """Write a row of the hub's hash-chained audit log (who did what to which camera, and why):
        for a plugin's decisions about video, e.g. a partner switching a camera's sharing off."""

    async def add_source(self, settings: dict[str, Any]) -> list[Camera]:
        """Add a camera source to the running hub (a partner's approved device), as if hub.yaml
        named it: ``settings`` are a ``sources:`` entry (``type``, ``name``, its type's fields).
        Its cameras (returned) are recorded, health-checked and their events read like any.
        Not kept across restarts: add it again from ``hub_startup``.  ``InvalidInput`` for
        settings its type does not take, ``PluginError`` for a name in use."""

    async def probe_source(self, settings: dict[str, Any], limit: float = 20.0) -> list[DeviceInventory]:
        """What a source of these settings would bring (its devices and cameras), without adding
        it: probed once and closed.  The device's own errors (``DeviceAuthFailed``,
        ``DeviceNotReady``, ...) come as they are; ``InvalidInput`` for settings its type does not take."""

    async def remove_source(self, name: str) -> list[Camera]:
        """Take a source added with ``add_source`` out: live views of its cameras end, recording
        stops, the source is closed; its recordings stay.  Returns the cameras it had."""

    def plugin_dir(self, plugin: str) -> Path:
        """A folder of the plugin's own under the hub's data directory (made on first use)."""

    @property
    def database(self) -> SqlDatabase:
        """The hub's database, for the plugin's own tables."""


def request_context(request: Any) -> HubContext:
    """The ``HubContext`` of the hub serving an HTTP request (in a plugin's route:
    ``context = request_context(request)``, or as a FastAPI dependency)."""
    return request.app.state.context  # type: ignore[no-any-return]


def request_principal(request: Any) -> Principal:
    """Who calls a plugin route (the hub checked the token before the route runs)."""
    return request.state.principal  # type: ignore[no-any-return]
