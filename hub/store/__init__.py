"""The metadata store: one database, a repository per concern.

``Store`` opens the ``Database`` (engine, transactions, migrations) and hands
each concern its repository, small enough to read at once:

- ``cameras``: devices and cameras as the sources last held them
- ``recordings``: the segment index, locks
- ``events``: kept events and the notifier outbox (one transaction)
- ``status``: camera status history, availability
- ``tokens``: API tokens
- ``users``: users (argon2id passwords) and their web sessions
- ``grants``: who may do what on which cameras, when
- ``schools``: classrooms and the invitations that bring parents in
- ``scenes``: the public portal's approved scenes
- ``evidence``: evidence requests, the segments they hold, the chains' signed checkpoints
- ``camera_requests``: neighbourhoods' requests for new cameras and their answers
- ``audit``: the access audit log
- ``cluster``: several nodes' leases, each camera's owner and epoch, the moves

A plugin owns its tables the same way: declared on a base of its own,
created by migrations on a branch of its own (``register_migrations``), and
read through ``HubContext.database``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from hub.store import masks as _masks  # noqa: F401 - its table on Base.metadata
from hub.store.audit import AuditLog
from hub.store.camera_requests import CameraRequests
from hub.store.cameras import CameraRecords
from hub.store.cluster import ClusterRecords
from hub.store.database import Base, Database, RawJSON, UTCDateTime, database_url
from hub.store.events import EventRecords
from hub.store.evidence import EvidenceRecords
from hub.store.grants import Grants
from hub.store.recordings import Recordings
from hub.store.scenes import Scenes
from hub.store.schools import Schools
from hub.store.status import StatusHistory
from hub.store.tokens import TOKEN_CACHE_SECONDS, TOKEN_PREFIX, Tokens
from hub.store.users import Users

__all__ = ["TOKEN_CACHE_SECONDS", "TOKEN_PREFIX", "Base", "Database", "RawJSON", "Store", "UTCDateTime",
           "database_url"]


class Store:
    """The hub's repositories over one database."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.cameras = CameraRecords(self.db)
        self.recordings = Recordings(self.db)
        self.events = EventRecords(self.db)
        self.status = StatusHistory(self.db)
        self.tokens = Tokens(self.db)
        self.users = Users(self.db)
        self.grants = Grants(self.db)
        self.schools = Schools(self.db)
        self.scenes = Scenes(self.db)
        self.evidence = EvidenceRecords(self.db)
        self.camera_requests = CameraRequests(self.db)
        self.audit = AuditLog(self.db)
        self.cluster = ClusterRecords(self.db)

    @property
    def url(self) -> str:
        return self.db.url

    async def migrate(self, plugins: Mapping[str, Path] | None = None) -> None:
        """Bring the hub's schema, and each plugin's (``{plugin: versions folder}``), to their heads."""
        await self.db.migrate(plugins)

    async def close(self) -> None:
        await self.db.close()
