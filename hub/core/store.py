"""The metadata store: inventory, recording index, tokens, events, audit log.

SQLAlchemy 2 (async).  SQLite in the data directory by default (WAL mode, so
the CLI and a running hub share it); a PostgreSQL URL works too and is what
several hub nodes share.  The schema is owned by Alembic migrations in
``hub/core/migrations``; ``Store.migrate()`` brings a database to the latest
revision and is run by every command that opens the store.

The event path (keeping events, queueing and clearing outbox rows) runs each
transaction as one unit of work, ``Store._transaction``: with SQLite, in one
writer thread over a plain pysqlite connection, one thread hop per batch
(aiosqlite hops threads for every cursor call, about ten per transaction and
some 2 ms of CPU, ten times what SQLite itself spends); with PostgreSQL,
asyncpg on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.core.errors import ConfigError
from hub.core.models import Camera, Device, Event, Principal, Report, ReportState, Role, Segment, utcnow


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


T = TypeVar("T")


class Base(DeclarativeBase):
    pass


class DeviceRow(Base):
    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CameraRow(Base):
    __tablename__ = "cameras"
    id: Mapped[str] = mapped_column(String(250), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(200), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SegmentRow(Base):
    __tablename__ = "segments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(250), index=True)
    stream_role: Mapped[str] = mapped_column(String(20))
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    duration: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(500), unique=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class TokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str | None] = mapped_column(String(250), index=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutboxRow(Base):
    """One event waiting for (or given to) one notifier."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("notifier", "event_id", name="uq_outbox_notifier_event"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notifier: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str | None] = mapped_column(String(250), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


Index("ix_outbox_due", OutboxRow.notifier, OutboxRow.state, OutboxRow.id)


class StatusRow(Base):
    """A camera's confirmed status from ``at`` on (uptime and availability come from these)."""

    __tablename__ = "camera_status"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(250), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReportRow(Base):
    """A citizen report (``hub.core.models.Report``) and where its filing stands.

    ``open_key`` is ``notifier|rule|camera`` while the report is pending or
    open and NULL after; its unique index is what keeps one open report per
    camera and rule, across hub nodes too.
    """

    __tablename__ = "reports"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notifier: Mapped[str] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(String(100))
    camera_id: Mapped[str | None] = mapped_column(String(250), index=True, nullable=True)
    state: Mapped[str] = mapped_column(String(12), index=True)
    open_key: Mapped[str | None] = mapped_column(String(500), index=True, unique=True, nullable=True)
    service_code: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    trigger_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    agency_responsible: Mapped[str | None] = mapped_column(String(200), nullable=True)
    escalations: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


_REPORT_FIELDS = [name for name in Report.model_fields]


def _report(r: ReportRow) -> Report:
    return Report.model_validate({name: getattr(r, name) for name in _REPORT_FIELDS})


def _open_key(notifier: str, rule: str, camera_id: str | None) -> str:
    return f"{notifier}|{rule}|{camera_id or ''}"


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    principal_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    camera_id: Mapped[str | None] = mapped_column(String(250), nullable=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)


class RawJSON(str):
    """Already serialised JSON for a JSON column: the store writes it as it is
    (an event is serialised once, by pydantic, however many rows carry it)."""


def _sqlite_time(value: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite dialect stores it (UTC, no zone, microseconds)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


#: Outbox rows in one INSERT at most (8 values each: well under SQLite's limit of 32,766).
_SQLITE_ROWS = 500


def _sqlite_record(events: Sequence[Event], queue: dict[str, list[Event]], now: datetime,
                   payloads: dict[str, RawJSON], delivered: Sequence[int]) -> Callable[[Connection], list[Any]]:
    """``Store.record_events``' transaction for SQLite, through the driver itself.

    The hottest write of the hub (every event, once per notifier): SQLAlchemy's
    per-row work (compiling parameters, type processors, its own batching of
    RETURNING) cost more than SQLite's.  Values are converted here exactly as
    the ``EventRow`` and ``OutboxRow`` columns would convert them, so what the
    ORM reads back is the same.
    """
    rows = [(e.id, e.camera_id, e.kind.value, _sqlite_time(e.at), payloads[e.id]) for e in events]
    stamp = _sqlite_time(now)
    queued = [(name, e.id, e.camera_id, payloads[e.id], "pending", 0, stamp, stamp)
              for name, wanted in queue.items() for e in wanted]

    def work(conn: Connection) -> list[Any]:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  # this transaction's
        try:
            cursor.executemany("INSERT INTO events (id, camera_id, kind, at, data) VALUES (?, ?, ?, ?, ?) "
                               "ON CONFLICT (id) DO NOTHING", rows)
            made: list[Any] = []
            for i in range(0, len(queued), _SQLITE_ROWS):
                chunk = queued[i:i + _SQLITE_ROWS]
                values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                made += cursor.execute(
                    "INSERT INTO outbox (notifier, event_id, camera_id, payload, state, attempts, created_at, "
                    f"next_attempt_at) VALUES {values} ON CONFLICT (notifier, event_id) DO NOTHING "
                    "RETURNING id, notifier, event_id", tuple(v for row in chunk for v in row)).fetchall()
            if delivered:
                cursor.executemany("UPDATE outbox SET state = 'delivered', done_at = ?, last_error = NULL "
                                   "WHERE id BETWEEN ? AND ?", [(stamp, *run) for run in _runs(delivered)])
            return made
        finally:
            cursor.close()

    return work


def _runs(ids: Sequence[int]) -> list[tuple[int, int]]:
    """``ids`` as runs of consecutive numbers, (first, last) each: rows delivered
    together were mostly made together."""
    out: list[tuple[int, int]] = []
    for i in sorted(ids):
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        elif not out or i > out[-1][1]:
            out.append((i, i))
    return out


def _json_dumps(value: Any) -> str:
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


TOKEN_PREFIX = "pt"
#: Seconds a verified token is trusted without a database lookup (``Store.principal_for_token``).
TOKEN_CACHE_SECONDS = 10.0
#: Verified tokens remembered at most; past it the memory starts afresh.
TOKEN_CACHE_SIZE = 10_000


def _hash(secret: str) -> str:
    # Tokens are 256-bit random values, so a plain SHA-256 is enough (no
    # password stretching needed) and keeps every API request cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


class Store:
    """Async access to the metadata database."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(url, json_serializer=_json_dumps, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        self._sync: Engine | None = None
        self._writer: ThreadPoolExecutor | None = None
        #: sha256 of a verified token -> (trusted until (monotonic), its expiry, who it is).
        self._tokens: dict[str, tuple[float, datetime | None, Principal]] = {}
        database = make_url(url).database
        if url.startswith("sqlite") and database and database != ":memory:":
            self._sync = create_engine(make_url(url).set(drivername="sqlite+pysqlite"), json_serializer=_json_dumps,
                                       connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(self._sync, "connect", _sqlite_pragmas)
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="pantau-store")

    async def _transaction(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` in one transaction: with SQLite in the writer thread
        (one hop for all of it), otherwise through the async engine."""
        if self._sync is not None and self._writer is not None:
            sync = self._sync

            def run() -> T:
                with sync.begin() as conn:
                    return work(conn)

            return await asyncio.get_running_loop().run_in_executor(self._writer, run)
        async with self.engine.begin() as conn:
            return await conn.run_sync(work)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> None:
        """Bring the database to the latest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))

        def upgrade(sync_conn: Any) -> None:
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, "head")

        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade)

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.shutdown)
            self._writer = None
        if self._sync is not None:
            self._sync.dispose()
            self._sync = None
        await self.engine.dispose()

    # -- tokens ---------------------------------------------------------------

    async def create_token(self, role: Role, name: str | None = None, expires_at: datetime | None = None) -> str:
        """Create a bearer token; only its hash is stored.  Returns the token."""
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        async with self.session.begin() as s:
            s.add(TokenRow(id=token_id, name=name, role=role.value, secret_hash=_hash(secret),
                           created_at=utcnow(), expires_at=expires_at))
        return f"{TOKEN_PREFIX}_{token_id}_{secret}"

    async def principal_for_token(self, token: str) -> Principal | None:
        """Who ``token`` is, or None when it is unknown, wrong, expired or revoked.

        A token that checked out is trusted for ``TOKEN_CACHE_SECONDS`` without asking
        the database again: a live viewer fetches a playlist or a segment every second
        or two, and a lookup costs more than serving the file.  Revoking through this
        store ends that at once; a revocation by another process (``pantau token
        revoke``, another node) takes effect within those seconds.
        """
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        key = _hash(token)  # never the token itself in memory longer than the request
        now = time.monotonic()
        cached = self._tokens.get(key)
        if cached is not None:
            until, expires_at, who = cached
            if now < until and (expires_at is None or expires_at > utcnow()):
                return who
            del self._tokens[key]
        async with self.session() as s:
            row = await s.get(TokenRow, parts[1])
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= utcnow():
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(parts[2])):
            return None
        who = Principal(id=f"token:{row.id}", name=row.name, role=Role(row.role))
        if len(self._tokens) >= TOKEN_CACHE_SIZE:
            self._tokens.clear()
        self._tokens[key] = (now + TOKEN_CACHE_SECONDS, row.expires_at, who)
        return who

    async def tokens(self, include_ended: bool = False) -> list[dict[str, Any]]:
        """Every token's id, name, role and dates, oldest first (never a secret or its hash);
        without ``include_ended`` only those neither revoked nor expired."""
        q = select(TokenRow).order_by(TokenRow.created_at)
        if not include_ended:
            q = q.where(TokenRow.revoked_at.is_(None),
                        TokenRow.expires_at.is_(None) | (TokenRow.expires_at > utcnow()))
        async with self.session() as s:
            rows = (await s.scalars(q)).all()
        return [{"id": r.id, "name": r.name, "role": r.role, "created_at": r.created_at,
                 "expires_at": r.expires_at, "revoked_at": r.revoked_at} for r in rows]

    async def revoke_token(self, token_id: str) -> bool:
        async with self.session.begin() as s:
            live = (TokenRow.id == token_id) & TokenRow.revoked_at.is_(None)
            result = await s.execute(update(TokenRow).where(live).values(revoked_at=utcnow()))
        principal_id = f"token:{token_id}"
        for key in [k for k, (_, _, who) in self._tokens.items() if who.id == principal_id]:
            del self._tokens[key]
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- inventory ------------------------------------------------------------

    async def save_inventory(self, devices: Sequence[Device], cameras: Sequence[Camera], sources: set[str]) -> None:
        """Record what the given sources hold now.

        Devices and cameras of those sources that are no longer present are
        marked removed, not deleted: their recordings and history stay.
        """
        now = utcnow()
        async with self.session.begin() as s:
            await _upsert(s, DeviceRow, devices, now, lambda d: {"source": d.source})
            await _upsert(s, CameraRow, cameras, now, lambda c: {"device_id": c.device_id})
            device_ids = {d.id for d in devices}
            gone_devices = (await s.scalars(
                select(DeviceRow).where(DeviceRow.source.in_(sources), DeviceRow.removed_at.is_(None))
            )).all()
            gone_ids = [d.id for d in gone_devices if d.id not in device_ids]
            for d in gone_devices:
                if d.id in gone_ids:
                    d.removed_at = now
            camera_ids = {c.id for c in cameras}
            live_devices = list(device_ids | set(gone_ids))
            for row in (await s.scalars(
                select(CameraRow).where(CameraRow.device_id.in_(live_devices), CameraRow.removed_at.is_(None))
            )).all():
                if row.id not in camera_ids:
                    row.removed_at = now

    async def known_cameras(self, include_removed: bool = False) -> list[tuple[Camera, datetime, datetime | None]]:
        async with self.session() as s:
            q = select(CameraRow)
            if not include_removed:
                q = q.where(CameraRow.removed_at.is_(None))
            rows = (await s.scalars(q.order_by(CameraRow.id))).all()
        return [(Camera.model_validate(r.data), r.first_seen, r.removed_at) for r in rows]

    # -- recordings -----------------------------------------------------------

    async def add_segment(self, camera_id: str, role: str, start: datetime, end: datetime, duration: float,
                          size: int, sha256: str, storage_key: str) -> int | None:
        """Index a stored segment; None when one with ``storage_key`` is indexed already
        (a retry after indexing worked but cleaning up did not).  One transaction, and
        with SQLite one hop to the writer thread: every recorded camera adds one per
        segment, so at city scale this runs many times a second."""
        t = SegmentRow.__table__.c
        statement = self._insert(SegmentRow.__table__, ["storage_key"]).values(
            camera_id=camera_id, stream_role=role, start=start, end=end, duration=duration, size=size,
            sha256=sha256, storage_key=storage_key, locked=False).returning(t.id)
        row = await self._transaction(lambda conn: conn.execute(statement).first())
        return int(row[0]) if row is not None else None

    async def segments(self, camera_id: str, start: datetime | None = None, end: datetime | None = None,
                       limit: int = 1000) -> list[Segment]:
        q = select(SegmentRow).where(SegmentRow.camera_id == camera_id)
        if start is not None:
            q = q.where(SegmentRow.end > start)
        if end is not None:
            q = q.where(SegmentRow.start < end)
        async with self.session() as s:
            rows = (await s.scalars(q.order_by(SegmentRow.start).limit(limit))).all()
        return [_segment(r) for r in rows]

    async def segment(self, segment_id: int) -> tuple[Segment, str] | None:
        async with self.session() as s:
            row = await s.get(SegmentRow, segment_id)
        return (_segment(row), row.storage_key) if row else None

    async def expired_segments(self, camera_id: str, before: datetime, limit: int = 500) -> list[tuple[int, str]]:
        q = (select(SegmentRow.id, SegmentRow.storage_key)
             .where(SegmentRow.camera_id == camera_id, SegmentRow.end < before, SegmentRow.locked.is_(False))
             .order_by(SegmentRow.start).limit(limit))
        async with self.session() as s:
            return [(r[0], r[1]) for r in (await s.execute(q)).all()]

    async def oldest_segments(self, limit: int = 200) -> list[tuple[int, str, int]]:
        """The oldest unlocked segments of any camera: id, storage key, size."""
        q = (select(SegmentRow.id, SegmentRow.storage_key, SegmentRow.size)
             .where(SegmentRow.locked.is_(False)).order_by(SegmentRow.start).limit(limit))
        async with self.session() as s:
            return [(r[0], r[1], r[2]) for r in (await s.execute(q)).all()]

    async def segment_bytes(self) -> int:
        """Bytes of every indexed segment."""
        from sqlalchemy import func

        async with self.session() as s:
            return int((await s.scalar(select(func.coalesce(func.sum(SegmentRow.size), 0)))) or 0)

    async def recorded_cameras(self) -> list[str]:
        async with self.session() as s:
            return list((await s.scalars(select(SegmentRow.camera_id).distinct())).all())

    async def delete_segments(self, ids: Sequence[int]) -> None:
        from sqlalchemy import delete

        async with self.session.begin() as s:
            await s.execute(delete(SegmentRow).where(SegmentRow.id.in_(list(ids)), SegmentRow.locked.is_(False)))

    async def lock_range(self, camera_id: str, start: datetime, end: datetime, locked: bool) -> list[int]:
        """Lock (or unlock) every segment of a camera overlapping [start, end); returns their ids."""
        where = (SegmentRow.camera_id == camera_id) & (SegmentRow.end > start) & (SegmentRow.start < end)
        async with self.session.begin() as s:
            ids = list((await s.scalars(select(SegmentRow.id).where(where).order_by(SegmentRow.start))).all())
            if ids:
                await s.execute(update(SegmentRow).where(SegmentRow.id.in_(ids)).values(locked=locked))
        return ids

    async def set_locked(self, segment_id: int, locked: bool) -> None:
        async with self.session.begin() as s:
            await s.execute(update(SegmentRow).where(SegmentRow.id == segment_id).values(locked=locked))

    # -- notifier outbox -----------------------------------------------------

    def _insert(self, table: Any, conflict: list[str]) -> Any:
        """An INSERT that skips rows already there, for executemany (compiled once)."""
        from sqlalchemy.dialects import postgresql, sqlite

        insert: Any = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        return insert(table).on_conflict_do_nothing(index_elements=conflict)

    @staticmethod
    def _queued(notifier: str, events: Sequence[Event], now: datetime,
                payloads: dict[str, RawJSON] | None = None) -> list[dict[str, Any]]:
        return [{"notifier": notifier, "event_id": e.id, "camera_id": e.camera_id,
                 "payload": payloads[e.id] if payloads else RawJSON(e.model_dump_json()), "state": "pending",
                 "attempts": 0, "created_at": now, "next_attempt_at": now} for e in events]

    async def enqueue(self, notifier: str, events: Sequence[Event]) -> int:
        """Queue events for a notifier; an event already queued for it is skipped."""
        if not events:
            return 0
        async with self.session.begin() as s:
            result = await s.execute(self._insert(OutboxRow.__table__, ["notifier", "event_id"]),
                                     self._queued(notifier, events, utcnow()))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def record_events(self, events: Sequence[Event], queue: dict[str, list[Event]],
                            delivered: Sequence[int] = ()) -> dict[str, list[tuple[int, Event]]]:
        """Keep events and queue them for notifiers (``{notifier: events}``), in one
        transaction: an event is kept and queued, or neither.  Returns the outbox
        rows made, ``{notifier: [(row id, event), ...]}`` in row order (an event
        already queued for a notifier makes none).  The outbox rows ``delivered``
        are marked delivered in the same transaction (one write instead of two)."""
        if not events:
            await self.outbox_delivered(delivered)
            return {}
        now = utcnow()
        payloads = {e.id: RawJSON(e.model_dump_json()) for e in events}
        if self._sync is not None:
            work = _sqlite_record(events, queue, now, payloads, delivered)
        else:
            rows = [{"id": e.id, "camera_id": e.camera_id, "kind": e.kind.value, "at": e.at,
                     "data": payloads[e.id]} for e in events]
            queued = [row for name, wanted in queue.items() if wanted
                      for row in self._queued(name, wanted, now, payloads)]
            t = OutboxRow.__table__.c
            events_insert = self._insert(EventRow.__table__, ["id"])
            outbox_insert = self._insert(OutboxRow.__table__, ["notifier", "event_id"]).returning(
                t.id, t.notifier, t.event_id)

            mark = self._delivered_statement(delivered, now) if delivered else None

            def work(conn: Connection) -> list[Any]:
                conn.execute(events_insert, rows)
                made = list(conn.execute(outbox_insert, queued).all()) if queued else []
                if mark is not None:
                    conn.execute(mark)
                return made

        made = await self._transaction(work)
        by_id = {e.id: e for e in events}
        out: dict[str, list[tuple[int, Event]]] = {}
        for row_id, notifier, event_id in sorted(made):
            out.setdefault(notifier, []).append((row_id, by_id[event_id]))
        return out

    async def outbox_head(self, notifier: str, limit: int = 100, payloads: bool = True) -> list[Any]:
        """The oldest pending entries of a notifier, in the order they were queued:
        rows with ``id``, ``event_id``, ``attempts``, ``created_at``,
        ``next_attempt_at`` and, with ``payloads``, ``payload`` (the event)."""
        t = OutboxRow.__table__.c
        cols = [t.id, t.event_id, t.attempts, t.created_at, t.next_attempt_at] + ([t.payload] if payloads else [])
        q = select(*cols).where(t.notifier == notifier, t.state == "pending").order_by(t.id).limit(limit)
        async with self.session() as s:
            return list((await s.execute(q)).all())

    async def outbox_payloads(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        t = OutboxRow.__table__.c
        async with self.session() as s:
            return {i: p for i, p in (await s.execute(select(t.id, t.payload).where(t.id.in_(list(ids))))).all()}

    @staticmethod
    def _delivered_statement(ids: Sequence[int], now: datetime) -> Any:
        return (update(OutboxRow).where(OutboxRow.id.in_(list(ids)))
                .values(state="delivered", done_at=now, last_error=None))

    async def outbox_delivered(self, ids: Sequence[int]) -> None:
        if ids:
            statement = self._delivered_statement(ids, utcnow())
            await self._transaction(lambda conn: conn.execute(statement))

    async def outbox_failed(self, row_id: int, attempts: int, retry_at: datetime, error: str, dead: bool) -> None:
        values: dict[str, Any] = {"attempts": attempts, "next_attempt_at": retry_at, "last_error": error[:2000]}
        if dead:
            values |= {"state": "dead", "done_at": utcnow()}
        async with self.session.begin() as s:
            await s.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(**values))

    async def outbox_summary(self) -> dict[str, dict[str, int]]:
        from sqlalchemy import func

        q = select(OutboxRow.notifier, OutboxRow.state, func.count()).group_by(OutboxRow.notifier, OutboxRow.state)
        out: dict[str, dict[str, int]] = {}
        async with self.session() as s:
            for notifier, state, count in (await s.execute(q)).all():
                out.setdefault(notifier, {"pending": 0, "delivered": 0, "dead": 0})[state] = count
        return out

    async def outbox_items(self, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        q = select(OutboxRow)
        if state:
            q = q.where(OutboxRow.state == state)
        async with self.session() as s:
            rows = (await s.scalars(q.order_by(OutboxRow.id.desc()).limit(limit))).all()
        return [{"id": r.id, "notifier": r.notifier, "event_id": r.event_id, "camera_id": r.camera_id,
                 "kind": r.payload.get("kind"), "state": r.state, "attempts": r.attempts,
                 "created_at": r.created_at, "next_attempt_at": r.next_attempt_at, "done_at": r.done_at,
                 "last_error": r.last_error} for r in rows]

    async def outbox_purge(self, before: datetime) -> int:
        """Forget delivered entries finished before ``before``; dead ones stay for a person to see."""
        from sqlalchemy import delete

        async with self.session.begin() as s:
            result = await s.execute(delete(OutboxRow).where(OutboxRow.state == "delivered",
                                                             OutboxRow.done_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # -- camera status history -------------------------------------------------

    async def record_status(self, camera_id: str, status: str, at: datetime, reason: str | None = None) -> None:
        async with self.session.begin() as s:
            s.add(StatusRow(camera_id=camera_id, status=status, at=at, reason=reason))

    async def current_status(self, since_for: set[str] | None = None) -> dict[str, tuple[str, datetime]]:
        """Each camera's latest confirmed status and since when.

        "Since" is when the status began: a status confirmed again (after a
        restart, say) does not restart the clock.  That takes a look back
        through history, done only for the statuses in ``since_for`` (e.g.
        ``{"offline"}``); for the others it is the latest record's time.
        """
        from sqlalchemy import func

        latest = select(func.max(StatusRow.id)).group_by(StatusRow.camera_id).scalar_subquery()
        q = select(StatusRow.camera_id, StatusRow.status, StatusRow.at, StatusRow.id).where(StatusRow.id.in_(latest))
        async with self.session() as s:
            rows = (await s.execute(q)).all()
            out = {cam: (status, at) for cam, status, at, _ in rows}
            wanted = [cam for cam, status, _, _ in rows if since_for and status in since_for]
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                history = await s.execute(select(StatusRow.camera_id, StatusRow.status, StatusRow.at)
                                          .where(StatusRow.camera_id.in_(chunk))
                                          .order_by(StatusRow.camera_id, StatusRow.id.desc()))
                done: set[str] = set()
                for cam, status, at in history.all():
                    if cam in done:
                        continue
                    if status != out[cam][0]:
                        done.add(cam)
                    else:
                        out[cam] = (status, at)
        return out

    async def availability(self, start: datetime, end: datetime) -> dict[str, dict[str, float]]:
        """Seconds each camera spent in each status between ``start`` and ``end``.

        Time before a camera's first record in the window takes the status it
        had then (its last record before ``start``); time with no record at
        all is ``unknown``.
        """
        async with self.session() as s:
            rows = (await s.scalars(select(StatusRow).where(StatusRow.at < end).order_by(StatusRow.at,
                                                                                         StatusRow.id))).all()
        out: dict[str, dict[str, float]] = {}
        current: dict[str, tuple[str, datetime]] = {}
        for r in rows:
            prev = current.get(r.camera_id)
            if prev is not None:
                _add_span(out, r.camera_id, prev[0], max(prev[1], start), min(r.at, end))
            elif r.at > start:
                _add_span(out, r.camera_id, "unknown", start, min(r.at, end))
            current[r.camera_id] = (r.status, r.at)
        for camera_id, (status, since) in current.items():
            _add_span(out, camera_id, status, max(since, start), end)
        return out

    # -- citizen reports ---------------------------------------------------------

    async def report_raise(self, report: Report) -> tuple[Report, bool]:
        """Add ``report`` as pending, unless its notifier already has one pending or
        open for the same rule and camera: then count one more occurrence on that
        one.  Returns the report that stands and whether it is new."""
        from sqlalchemy.dialects import postgresql, sqlite

        key = _open_key(report.notifier, report.rule, report.camera_id)
        values = report.model_dump(exclude={"overdue"}) | {"state": ReportState.PENDING.value, "open_key": key,
                                        "next_attempt_at": report.created_at}
        insert: Any = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        async with self.session.begin() as s:
            added = await s.execute(insert(ReportRow).values(values).on_conflict_do_nothing(
                index_elements=["open_key"]))
            if added.rowcount:  # type: ignore[attr-defined]
                row = await s.get(ReportRow, report.id)
                assert row is not None
                return _report(row), True
            await s.execute(update(ReportRow).where(ReportRow.open_key == key).values(
                occurrences=ReportRow.occurrences + 1, last_seen_at=report.last_seen_at))
            row = (await s.scalars(select(ReportRow).where(ReportRow.open_key == key))).one()
            return _report(row), False

    async def report_get(self, report_id: str) -> Report | None:
        async with self.session() as s:
            row = await s.get(ReportRow, report_id)
        return _report(row) if row else None

    async def reports(self, notifier: str | None = None, state: ReportState | str | None = None,
                      camera_id: str | None = None, rule: str | None = None, external_id: str | None = None,
                      limit: int = 500) -> list[Report]:
        """Reports, newest first."""
        q = select(ReportRow)
        if external_id:
            q = q.where(ReportRow.external_id == external_id)
        if notifier:
            q = q.where(ReportRow.notifier == notifier)
        if state:
            q = q.where(ReportRow.state == str(state))
        if camera_id:
            q = q.where(ReportRow.camera_id == camera_id)
        if rule:
            q = q.where(ReportRow.rule == rule)
        async with self.session() as s:
            rows = (await s.scalars(q.order_by(ReportRow.created_at.desc(), ReportRow.id).limit(limit))).all()
        return [_report(r) for r in rows]

    async def reports_due(self, notifier: str, now: datetime, limit: int = 50) -> list[Report]:
        """Pending reports of a notifier whose next filing attempt is due, oldest first."""
        q = (select(ReportRow).where(ReportRow.notifier == notifier, ReportRow.state == ReportState.PENDING.value,
                                     ReportRow.next_attempt_at <= now)
             .order_by(ReportRow.created_at, ReportRow.id).limit(limit))
        async with self.session() as s:
            return [_report(r) for r in (await s.scalars(q)).all()]

    async def report_next_attempt(self, notifier: str) -> datetime | None:
        from sqlalchemy import func

        q = select(func.min(ReportRow.next_attempt_at)).where(ReportRow.notifier == notifier,
                                                              ReportRow.state == ReportState.PENDING.value)
        async with self.session() as s:
            return (await s.execute(q)).scalar()  # type: ignore[no-any-return]

    async def report_update(self, report_id: str, **values: Any) -> None:
        """Change fields of a report; a report that is closed or rejected frees its
        camera and rule for the next one."""
        if "state" in values:
            values["state"] = str(values["state"])
            if values["state"] in (ReportState.CLOSED, ReportState.REJECTED):
                values["open_key"] = None
        async with self.session.begin() as s:
            await s.execute(update(ReportRow).where(ReportRow.id == report_id).values(**values))

    # -- events and audit -----------------------------------------------------

    async def add_events(self, events: Sequence[Event]) -> None:
        """Keep events; one already kept (same id) is skipped."""
        await self.record_events(events, {})

    async def events(self, camera_id: str | None = None, limit: int = 100) -> list[Event]:
        q = select(EventRow)
        if camera_id:
            q = q.where(EventRow.camera_id == camera_id)
        async with self.session() as s:
            rows = (await s.scalars(q.order_by(EventRow.at.desc()).limit(limit))).all()
        return [Event.model_validate(r.data) for r in rows]

    async def audit(self, principal: Principal, action: str, camera_id: str | None, allowed: bool, reason: str) -> None:
        async with self.session.begin() as s:
            s.add(AuditRow(at=utcnow(), principal_id=principal.id, action=action, camera_id=camera_id,
                           allowed=allowed, reason=reason))

    async def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        async with self.session() as s:
            rows = (await s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))).all()
        return [{"at": r.at, "principal": r.principal_id, "action": r.action, "camera_id": r.camera_id,
                 "allowed": r.allowed, "reason": r.reason} for r in rows]


async def _upsert(s: Any, row_cls: Any, items: Sequence[Any], now: datetime,
                  keys: Callable[[Any], dict[str, Any]]) -> None:
    """Insert new items, refresh known ones (and un-remove them if they came back)."""
    existing = {r.id: r for r in (await s.scalars(select(row_cls).where(row_cls.id.in_([i.id for i in items])))).all()}
    for item in items:
        data = item.model_dump(mode="json")
        row = existing.get(item.id)
        if row is None:
            s.add(row_cls(id=item.id, data=data, first_seen=now, last_seen=now, **keys(item)))
        else:
            row.data, row.last_seen, row.removed_at = data, now, None


def _add_span(out: dict[str, dict[str, float]], camera_id: str, status: str, start: datetime,
              end: datetime) -> None:
    seconds = (end - start).total_seconds()
    if seconds > 0:
        spans = out.setdefault(camera_id, {})
        spans[status] = spans.get(status, 0.0) + seconds


def _segment(r: SegmentRow) -> Segment:
    return Segment(id=r.id, camera_id=r.camera_id, stream_role=r.stream_role, start=r.start, end=r.end,  # type: ignore[arg-type]
                   duration=r.duration, size=r.size, sha256=r.sha256, locked=r.locked)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
