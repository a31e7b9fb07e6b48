"""One database for the hub and its plugins: the engine, transactions, migrations.

SQLAlchemy 2 (async).  SQLite in the data directory by default (WAL mode, so
the CLI and a running hub share it); a PostgreSQL URL works too and is what
several hub nodes share.  The schema is owned by Alembic migrations: the
hub's own in ``hub/store/migrations/versions`` and those that plugins
register (``register_migrations``), each plugin's with a version table of
its own; ``Database.migrate()`` brings all of them to their heads and is run
by every command that opens the database.

The hot paths (keeping events, queueing and clearing outbox rows, indexing
segments) run each transaction as one unit of work, ``Database.transaction``:
with SQLite in one writer thread over a plain pysqlite connection, one
thread hop per batch (aiosqlite hops threads for every cursor call, about
ten per transaction and some 2 ms of CPU, ten times what SQLite itself
spends); with PostgreSQL, asyncpg on the event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from enum import IntEnum, unique
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, TypeDecorator, create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from hub.core.errors import ConfigError

T = TypeVar("T")

#: The hub's own migrations; plugins' come from ``register_migrations``.
MIGRATIONS = Path(__file__).parent / "migrations"


@unique
class AdvisoryLock(IntEnum):
    """The PostgreSQL advisory lock keys the hub takes, one per purpose: two purposes sharing a key
    wait on each other (a node assigning cameras holds its lock for as long as it runs).  ``unique``
    refuses a repeated key when the module loads."""

    AUDIT = 0x70616E746175  # "pantau": orders the audit log's appends (a transaction lock)
    ASSIGNER = 0x70616E746101  # held by the node that assigns the cameras (a session lock)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """The hub's own tables (a plugin declares its tables on a base of its own)."""


class RawJSON(str):
    """Already serialised JSON for a JSON column: the store writes it as it is
    (an event is serialised once, by pydantic, however many rows carry it)."""


def json_dumps(value: Any) -> str:
    return value if isinstance(value, RawJSON) else json.dumps(value)


def database_url(configured: str | None, data_dir: Path) -> str:
    """The async SQLAlchemy URL for a configured URL, or the SQLite default."""
    if not configured:
        return f"sqlite+aiosqlite:///{data_dir / 'pantau.db'}"
    try:
        url = make_url(configured)
    except Exception:
        raise ConfigError("database.url: not a valid database URL") from None
    drivers = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
    if url.drivername in drivers:
        url = url.set(drivername=drivers[url.drivername])
    if url.drivername not in drivers.values():
        raise ConfigError(f"database.url: unsupported database {url.drivername!r}; use sqlite or postgresql")
    return url.render_as_string(hide_password=False)


class Database:
    """The engine, sessions and the one-hop transaction helper."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(url, json_serializer=json_dumps, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        #: SQLite's writer: a plain pysqlite engine used from one thread (None with PostgreSQL).
        self.sync: Engine | None = None
        self._writer: ThreadPoolExecutor | None = None
        database = make_url(url).database
        if url.startswith("sqlite") and database and database != ":memory:":
            self.sync = create_engine(make_url(url).set(drivername="sqlite+pysqlite"), json_serializer=json_dumps,
                                      connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(self.sync, "connect", _sqlite_pragmas)
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="pantau-store")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` in one transaction: with SQLite in the writer thread
        (one hop for all of it), otherwise through the async engine."""
        if self.sync is not None and self._writer is not None:
            sync = self.sync

            def run() -> T:
                with sync.begin() as conn:
                    return work(conn)

            return await asyncio.get_running_loop().run_in_executor(self._writer, run)
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    def insert_ignoring(self, table: Any, conflict: list[str]) -> Any:
        """An INSERT that skips rows already there (by the ``conflict`` columns)."""
        from sqlalchemy.dialects import postgresql, sqlite

        insert: Any = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        return insert(table).on_conflict_do_nothing(index_elements=conflict)

    async def migrate(self, plugins: Mapping[str, Path] | None = None) -> None:
        """Bring the hub's schema to its head, then each plugin's (``{plugin: versions folder}``),
        each plugin on a version table of its own (``alembic_version_<plugin>``)."""
        from alembic import command
        from alembic.config import Config

        runs = [("alembic_version", MIGRATIONS / "versions", True)]
        runs += [(f"alembic_version_{name}", folder, False) for name, folder in sorted((plugins or {}).items())]
        for version_table, folder, own in runs:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.set_main_option("path_separator", "os")  # paths may hold spaces
            cfg.set_main_option("version_locations", str(folder))
            cfg.attributes["version_table"] = version_table
            cfg.attributes["hub_tables"] = own

            def upgrade(sync_conn: Any, cfg: Config = cfg) -> None:
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, "heads")

            async with self.engine.begin() as conn:
                await conn.run_sync(upgrade)

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.shutdown)
            self._writer = None
        if self.sync is not None:
            self.sync.dispose()
            self.sync = None
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
