"""The cluster's tables: nodes with their leases, the owner of each camera with its epoch, moves.

PostgreSQL is the coordination engine (no other server for a city's IT team
to run): a node's lease is renewed on the database's clock (``now()``, so no
node's clock matters), a camera's owner changes only by a conditional update
on its epoch (an epoch only goes up), and each change is kept as a move.
SQLite has the tables but never a second node.  ``hub.cluster`` drives them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.errors import HubError
from hub.store.database import Base, Database, UTCDateTime


class Fenced(HubError):
    """A node wrote for a camera it no longer owns (at that epoch): the write is refused."""

    code = "fenced"
    title = "This node no longer owns the camera"


class NodeRow(Base):
    __tablename__ = "cluster_nodes"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    capacity: Mapped[float] = mapped_column(Float, default=1.0)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    draining: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A random key of the node's run: a request it passes to the camera's owner carries it.
    peer_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


class OwnerRow(Base):
    __tablename__ = "cluster_owners"
    camera_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(250), index=True)
    node: Mapped[str] = mapped_column(String(64), index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A hand-over under way (make-before-break): the node that opens the camera's streams and then
    #: takes it, and since when.
    next_node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MoveRow(Base):
    __tablename__ = "cluster_moves"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(250), index=True)
    from_node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_node: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(100))


class ClusterRecords:
    """The nodes, owners and moves (PostgreSQL's clock and conditional updates)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def renew(self, node: str, address: str | None, capacity: float, lease_seconds: float,
                    peer_key: str | None = None) -> None:
        """Renew (or take) this node's lease: until the database's ``now()`` plus ``lease_seconds``."""
        async with self.db.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO cluster_nodes (name, address, capacity, lease_until, started_at, draining, peer_key) "
                "VALUES (:name, :address, :capacity, now() + make_interval(secs => :lease), now(), false, :key) "
                "ON CONFLICT (name) DO UPDATE SET lease_until = now() + make_interval(secs => :lease), "
                "address = excluded.address, capacity = excluded.capacity, peer_key = excluded.peer_key"),
                {"name": node, "address": address, "capacity": capacity, "lease": lease_seconds, "key": peer_key})

    async def start(self, node: str) -> None:
        """A node (re)starts: its start time now, not draining."""
        async with self.db.engine.begin() as conn:
            await conn.execute(text("UPDATE cluster_nodes SET started_at = now(), draining = false WHERE name = :n"),
                               {"n": node})

    async def drain(self, node: str) -> bool:
        """Mark a node draining (its cameras move away, make-before-break); whether it exists."""
        async with self.db.engine.begin() as conn:
            done = await conn.execute(text("UPDATE cluster_nodes SET draining = true WHERE name = :n"), {"n": node})
        return bool(done.rowcount)

    async def nodes(self) -> list[dict[str, Any]]:
        """Every node: name, address, capacity, draining, alive (its lease not over), the lease's seconds
        left (below 0: over that long ago), started_at, peer_key."""
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT name, address, capacity, draining, lease_until > now() AS alive, started_at, peer_key, "
                "extract(epoch FROM lease_until - now())::float AS lease_left "
                "FROM cluster_nodes ORDER BY name"))).mappings().all()
        return [dict(r) for r in rows]

    async def owners(self) -> dict[str, tuple[str, int, str]]:
        """camera id -> (node, epoch, device id)."""
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT camera_id, node, epoch, device_id FROM cluster_owners"))).all()
        return {r[0]: (r[1], int(r[2]), r[3]) for r in rows}

    async def owned(self, node: str) -> dict[str, int]:
        """The cameras ``node`` owns: camera id -> epoch."""
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT camera_id, epoch FROM cluster_owners WHERE node = :n"),
                                       {"n": node})).all()
        return {r[0]: int(r[1]) for r in rows}

    async def claim(self, camera_id: str, device_id: str, node: str, expected: int | None, reason: str) -> int | None:
        """Give the camera to ``node``: a first owner (``expected`` None) or a change from epoch ``expected``
        (only if the epoch is still that: whoever changed it first wins); the new epoch, or None."""
        async with self.db.engine.begin() as conn:
            if expected is None:
                row = (await conn.execute(text(
                    "INSERT INTO cluster_owners (camera_id, device_id, node, epoch, changed_at) "
                    "VALUES (:c, :d, :n, 1, now()) ON CONFLICT (camera_id) DO NOTHING RETURNING epoch, NULL"),
                    {"c": camera_id, "d": device_id, "n": node})).first()
            else:
                row = (await conn.execute(text(
                    "UPDATE cluster_owners o SET node = :n, epoch = o.epoch + 1, changed_at = now(), "
                    "next_node = NULL, next_at = NULL "
                    "FROM (SELECT node FROM cluster_owners WHERE camera_id = :c FOR UPDATE) AS before "
                    "WHERE o.camera_id = :c AND o.epoch = :e RETURNING o.epoch, before.node"),
                    {"c": camera_id, "n": node, "e": expected})).first()
            if row is None:
                return None
            await conn.execute(text(
                "INSERT INTO cluster_moves (camera_id, from_node, to_node, epoch, at, reason) "
                "VALUES (:c, :f, :t, :e, now(), :r)"), {"c": camera_id, "f": row[1], "t": node, "e": row[0],
                                                        "r": reason[:100]})
        return int(row[0])

    async def announce(self, camera_id: str, node: str, epoch: int) -> bool:
        """Begin handing the camera over to ``node`` (which opens its streams, then claims it
        with reason ``handover``), if its epoch is still ``epoch``; whether it began now."""
        async with self.db.engine.begin() as conn:
            done = await conn.execute(text(
                "UPDATE cluster_owners SET next_node = :n, next_at = now() WHERE camera_id = :c AND epoch = :e "
                "AND next_node IS DISTINCT FROM :n"), {"c": camera_id, "n": node, "e": epoch})
        return bool(done.rowcount)

    async def handovers(self) -> dict[str, tuple[str, float]]:
        """Hand-overs under way: camera id -> (the node taking it, seconds since it began)."""
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT camera_id, next_node, extract(epoch FROM now() - next_at)::float FROM cluster_owners "
                "WHERE next_node IS NOT NULL"))).all()
        return {r[0]: (r[1], float(r[2])) for r in rows}

    async def announced(self, node: str) -> dict[str, tuple[int, str]]:
        """The cameras being handed over to ``node``: camera id -> (epoch, device id)."""
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT camera_id, epoch, device_id FROM cluster_owners WHERE next_node = :n"), {"n": node})).all()
        return {r[0]: (int(r[1]), r[2]) for r in rows}

    async def lock_holder(self, key: int, prefix: str) -> tuple[int, str] | None:
        """Who holds the session advisory lock ``key``: its backend's pid and the node its connection
        is named after (``application_name`` = ``prefix`` + node), or None."""
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                "AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"), {"k": key})).first()
        if row is None or not str(row[1]).startswith(prefix):
            return None
        return int(row[0]), str(row[1])[len(prefix):]

    async def end_backend(self, pid: int) -> None:
        """End another connection of the hub's (``pg_terminate_backend``: its role's own, no superuser)."""
        async with self.db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})

    async def held(self, camera_id: str, node: str) -> int | None:
        """The latest epoch at which ``node`` owned the camera (for what it spooled before a restart)."""
        async with self.db.engine.connect() as conn:
            found = (await conn.execute(text(
                "SELECT max(epoch) FROM cluster_moves WHERE camera_id = :c AND to_node = :n"),
                {"c": camera_id, "n": node})).scalar()
        return int(found) if found is not None else None

    async def moves(self, seconds: float = 3600) -> list[dict[str, Any]]:
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT camera_id, from_node, to_node, epoch, at, reason FROM cluster_moves "
                "WHERE at > now() - make_interval(secs => :s) ORDER BY id"), {"s": seconds})).mappings().all()
        return [dict(r) for r in rows]


def fence_check(conn: Any, camera_id: str, start: datetime, end: datetime, node: str, epoch: int) -> None:
    """In the segment index's transaction: ``Fenced`` unless ``node`` owns the camera at ``epoch``,
    or the segment ended before the camera left ``node`` at that epoch (what a node spooled before it
    stopped is still its), or, when it left by a hand-over (the new owner recording already), the
    segment began before it left: the tail a graceful move overlaps rather than loses."""
    row = conn.execute(text("SELECT node, epoch, changed_at FROM cluster_owners WHERE camera_id = :c"),
                       {"c": camera_id}).first()
    if row is not None and row[0] == node and int(row[1]) == epoch:
        return
    if row is not None and int(row[1]) == epoch + 1 and start < row[2]:
        left = conn.execute(text("SELECT from_node, reason FROM cluster_moves WHERE camera_id = :c AND epoch = :e"),
                            {"c": camera_id, "e": epoch + 1}).first()
        if left is not None and left[0] == node and (end <= row[2] or left[1] == "handover"):
            return
    raise Fenced(f"camera {camera_id}: node {node} at epoch {epoch} is not its owner"
                 + (f" (now {row[0]} at epoch {row[1]})" if row is not None else ""))
