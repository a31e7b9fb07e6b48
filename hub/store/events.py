"""Events and the notifier outbox: kept and queued in one transaction.

The hottest write of the hub: every event is kept once and queued once per
notifier that wants it, and deliveries are marked in the writer's next
transaction (``record_events(..., delivered=)``).  With SQLite that write
goes through the driver's own cursor (``_sqlite_record``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.models import Event, EventKind, utcnow
from hub.store.database import Base, Database, RawJSON, UTCDateTime


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


def _sqlite_time(value: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite dialect stores it (UTC, no zone, microseconds)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


#: Outbox rows in one INSERT at most (8 values each: well under SQLite's limit of 32,766).
_SQLITE_ROWS = 500


def _sqlite_record(events: Sequence[Event], queue: dict[str, list[Event]], now: datetime,
                   payloads: dict[str, RawJSON], delivered: Sequence[int]) -> Callable[[Connection], list[Any]]:
    """``EventRecords.record_events``' transaction for SQLite, through the driver itself.

    SQLAlchemy's per-row work (compiling parameters, type processors, its own
    batching of RETURNING) cost more than SQLite's.  Values are converted here
    exactly as the ``EventRow`` and ``OutboxRow`` columns would convert them, so
    what the ORM reads back is the same.
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


def _queued(notifier: str, events: Sequence[Event], now: datetime,
            payloads: dict[str, RawJSON] | None = None) -> list[dict[str, Any]]:
    return [{"notifier": notifier, "event_id": e.id, "camera_id": e.camera_id,
             "payload": payloads[e.id] if payloads else RawJSON(e.model_dump_json()), "state": "pending",
             "attempts": 0, "created_at": now, "next_attempt_at": now} for e in events]


def _delivered_statement(ids: Sequence[int], now: datetime) -> Any:
    return (update(OutboxRow).where(OutboxRow.id.in_(list(ids)))
            .values(state="delivered", done_at=now, last_error=None))


class EventRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(self, notifier: str, events: Sequence[Event]) -> int:
        """Queue events for a notifier; an event already queued for it is skipped."""
        if not events:
            return 0
        async with self.db.session.begin() as s:
            result = await s.execute(self.db.insert_ignoring(OutboxRow.__table__, ["notifier", "event_id"]),
                                     _queued(notifier, events, utcnow()))
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
        if self.db.sync is not None:
            work = _sqlite_record(events, queue, now, payloads, delivered)
        else:
            rows = [{"id": e.id, "camera_id": e.camera_id, "kind": e.kind.value, "at": e.at,
                     "data": payloads[e.id]} for e in events]
            queued = [row for name, wanted in queue.items() if wanted
                      for row in _queued(name, wanted, now, payloads)]
            t = OutboxRow.__table__.c
            events_insert = self.db.insert_ignoring(EventRow.__table__, ["id"])
            outbox_insert = self.db.insert_ignoring(OutboxRow.__table__, ["notifier", "event_id"]).returning(
                t.id, t.notifier, t.event_id)

            mark = _delivered_statement(delivered, now) if delivered else None

            def work(conn: Connection) -> list[Any]:
                conn.execute(events_insert, rows)
                made = list(conn.execute(outbox_insert, queued).all()) if queued else []
                if mark is not None:
                    conn.execute(mark)
                return made

        made = await self.db.transaction(work)
        by_id = {e.id: e for e in events}
        out: dict[str, list[tuple[int, Event]]] = {}
        for row_id, notifier, event_id in sorted(made):
            out.setdefault(notifier, []).append((row_id, by_id[event_id]))
        return out

    async def events(self, camera_id: str | None = None, limit: int = 100,
                     cameras: Collection[str] | None = None, since: datetime | None = None) -> list[Event]:
        """The latest events, newest first: of ``camera_id``, or of the ``cameras`` given (None: of
        every camera and device; a set: only events of those cameras, none of a device alone); with
        ``since``, none from before it."""
        q = select(EventRow)
        if since is not None:
            q = q.where(EventRow.at >= since)
        if camera_id:
            q = q.where(EventRow.camera_id == camera_id)
        if cameras is not None:
            q = q.where(EventRow.camera_id.in_(list(cameras)))
        async with self.db.session() as s:
            rows = (await s.scalars(q.order_by(EventRow.at.desc()).limit(limit))).all()
        for kind in {r.kind for r in rows}:
            # A kind in the database was raised once, maybe by a plugin since removed: still a kind.
            EventKind.define(kind)
        return [Event.model_validate(r.data) for r in rows]

    # -- the outbox ------------------------------------------------------------

    async def outbox_head(self, notifier: str, limit: int = 100, payloads: bool = True,
                          of: tuple[Collection[str], bool] | None = None) -> list[Any]:
        """The oldest pending entries of a notifier, in the order they were queued:
        rows with ``id``, ``event_id``, ``attempts``, ``created_at``,
        ``next_attempt_at`` and, with ``payloads``, ``payload`` (the event).  ``of``: only
        the rows of these cameras, and of no camera if its flag is set (with several
        nodes, each delivers what it speaks for)."""
        t = OutboxRow.__table__.c
        cols = [t.id, t.event_id, t.attempts, t.created_at, t.next_attempt_at] + ([t.payload] if payloads else [])
        q = select(*cols).where(t.notifier == notifier, t.state == "pending")
        if of is not None:
            cameras, camera_less = of
            mine = t.camera_id.in_(list(cameras))
            q = q.where(or_(mine, t.camera_id.is_(None)) if camera_less else mine)
        q = q.order_by(t.id).limit(limit)
        async with self.db.session() as s:
            return list((await s.execute(q)).all())

    async def outbox_payloads(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        t = OutboxRow.__table__.c
        async with self.db.session() as s:
            return {i: p for i, p in (await s.execute(select(t.id, t.payload).where(t.id.in_(list(ids))))).all()}

    async def outbox_delivered(self, ids: Sequence[int]) -> None:
        if ids:
            statement = _delivered_statement(ids, utcnow())
            await self.db.transaction(lambda conn: conn.execute(statement))

    async def outbox_failed(self, row_id: int, attempts: int, retry_at: datetime, error: str, dead: bool) -> None:
        values: dict[str, Any] = {"attempts": attempts, "next_attempt_at": retry_at, "last_error": error[:2000]}
        if dead:
            values |= {"state": "dead", "done_at": utcnow()}
        async with self.db.session.begin() as s:
            await s.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(**values))

    async def outbox_summary(self) -> dict[str, dict[str, int]]:
        q = select(OutboxRow.notifier, OutboxRow.state, func.count()).group_by(OutboxRow.notifier, OutboxRow.state)
        out: dict[str, dict[str, int]] = {}
        async with self.db.session() as s:
            for notifier, state, count in (await s.execute(q)).all():
                out.setdefault(notifier, {"pending": 0, "delivered": 0, "dead": 0})[state] = count
        return out

    async def outbox_items(self, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        q = select(OutboxRow)
        if state:
            q = q.where(OutboxRow.state == state)
        async with self.db.session() as s:
            rows = (await s.scalars(q.order_by(OutboxRow.id.desc()).limit(limit))).all()
        return [{"id": r.id, "notifier": r.notifier, "event_id": r.event_id, "camera_id": r.camera_id,
                 "kind": r.payload.get("kind"), "state": r.state, "attempts": r.attempts,
                 "created_at": r.created_at, "next_attempt_at": r.next_attempt_at, "done_at": r.done_at,
                 "last_error": r.last_error} for r in rows]

    async def outbox_purge(self, before: datetime) -> int:
        """Forget delivered entries finished before ``before``; dead ones stay for a person to see."""
        async with self.db.session.begin() as s:
            result = await s.execute(delete(OutboxRow).where(OutboxRow.state == "delivered",
                                                             OutboxRow.done_at < before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
