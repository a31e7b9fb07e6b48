"""The audit log: every access decision about video, allowed or not, and every sign-in.

Append-only and hash-chained: each row carries the SHA-256 of the row before
it and its own, over a canonical form of its fields (``row_digest``).  A row
changed, deleted or put out of order breaks the chain at that row, which
``pantau audit verify`` names; the last row's hash (the head) is a
checkpoint that can be copied off the hub and given back to ``verify
--expect`` to show that nothing was cut from the end either.  Rows are
chained one at a time: on PostgreSQL under a transaction advisory lock, so
two nodes never hang rows on the same predecessor.

A row names the caller's address (``request_address``, which the HTTP
guard sets for each request) and how many decisions it stands for: the
same decision repeated by the same caller within ``COALESCE_SECONDS`` (a
page refreshing a snapshot, a script retrying a wrong token) is written
once when it first happens and once more, with the count of repeats, when
the window ends (``flush``), so the log stays readable and cannot be
flooded, and nothing is ever changed after it was written.
"""

from __future__ import annotations

import hashlib
import json
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.models import Principal, utcnow
from hub.store.database import AdvisoryLock, Base, Database, UTCDateTime

#: The chain's first predecessor.
GENESIS = "0" * 64
#: Repeats of one decision within this many seconds become one row with a count.
COALESCE_SECONDS = 60.0
#: Open windows kept at most (past it they are all written out at once).
_OPEN_MAX = 50_000

#: The address of the request being served (the HTTP guard sets it), for rows that name none.
request_address: ContextVar[str | None] = ContextVar("request_address", default=None)


#: What the audit log counts as watching a camera: its picture left the hub for someone.
WATCHING = ["view_live", "play_back", "export"]

class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    principal_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    camera_id: Mapped[str | None] = mapped_column(String(250), nullable=True, index=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


def row_digest(prev_hash: str, at: datetime, principal_id: str, action: str, camera_id: str | None,
               allowed: bool, reason: str, address: str | None = None, count: int = 1) -> str:
    """The SHA-256 of a row: its predecessor's hash and its fields, in a fixed form (migration 0007
    chains the rows it finds with the same rule, written out there).  The id is not in it: the
    links to the predecessor already fix each row's place, and the row is written in one insert.
    The address and count are in it when a row has an address or a count other than one (rows
    from before migration 0010 have neither, and keep their hash)."""
    when = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    fields: list[Any] = [when, principal_id, action, camera_id, bool(allowed), reason]
    if address is not None or count != 1:
        fields += [address, count]
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class Verified:
    """What ``AuditLog.verify`` found: rows checked, the head, and the first break (None: intact)."""

    rows: int
    head_id: int | None
    head_hash: str
    broken_at: int | None = None
    problem: str | None = None


@dataclass
class _Window:
    """Repeats of one decision since its row was written."""

    opened: float  # time.monotonic()
    reason: str
    repeats: int = 0


_Key = tuple[str, str, str | None, bool, str | None]


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._open: dict[_Key, _Window] = {}

    async def record(self, principal: Principal | str, action: str, camera_id: str | None, allowed: bool,
                     reason: str, *, address: str | None = None, coalesce: bool = False) -> None:
        """Append a row.  With ``coalesce``, a decision that repeats one written within
        ``COALESCE_SECONDS`` (same caller, action, camera, outcome and address) is counted rather
        than written; ``flush`` writes the count when the window ends."""
        who = principal if isinstance(principal, str) else principal.id
        address = address if address is not None else request_address.get()
        if coalesce:
            key = (who, action, camera_id, allowed, address)
            window = self._open.get(key)
            if window is not None and time.monotonic() - window.opened < COALESCE_SECONDS:
                window.repeats += 1
                return
            if window is not None and window.repeats:
                await self._append(who, action, camera_id, allowed, window.reason + " (repeated)", address,
                                   window.repeats)
            if len(self._open) >= _OPEN_MAX:
                await self.flush(everything=True)
            self._open[key] = _Window(time.monotonic(), reason)
        await self._append(who, action, camera_id, allowed, reason, address, 1)

    async def flush(self, everything: bool = False) -> int:
        """Write the repeats of the windows that have ended (all of them with ``everything``); how
        many rows were written."""
        now = time.monotonic()
        ended = [k for k, w in self._open.items() if everything or now - w.opened >= COALESCE_SECONDS]
        written = 0
        for key in ended:
            window = self._open.pop(key)
            if window.repeats:
                who, action, camera_id, allowed, address = key
                await self._append(who, action, camera_id, allowed, window.reason + " (repeated)", address,
                                   window.repeats)
                written += 1
        return written

    async def _append(self, who: str, action: str, camera_id: str | None, allowed: bool, reason: str,
                      address: str | None, count: int) -> None:
        async with self.db.session.begin() as s:
            if self.db.dialect == "postgresql":
                await s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(AdvisoryLock.AUDIT)})
            prev = await s.scalar(select(AuditRow.row_hash).order_by(AuditRow.id.desc()).limit(1)) or GENESIS
            at = utcnow()
            s.add(AuditRow(at=at, principal_id=who, action=action, camera_id=camera_id, allowed=allowed,
                           reason=reason, prev_hash=prev, address=address, count=count,
                           row_hash=row_digest(prev, at, who, action, camera_id, allowed, reason, address, count)))

    async def entries(self, limit: int = 100, *, principal: str | None = None, camera_id: str | None = None,
                      action: str | None = None, allowed: bool | None = None, start: datetime | None = None,
                      end: datetime | None = None, cameras: list[str] | None = None,
                      before: int | None = None, actions: list[str] | None = None) -> list[dict[str, Any]]:
        """The latest rows, newest first, of those matching every filter given (``cameras``: only
        rows about one of these cameras; ``before``: only rows older than that row id, the next page;
        ``actions``: only rows of one of these)."""
        q = select(AuditRow)
        if actions is not None:
            q = q.where(AuditRow.action.in_(actions))
        if before is not None:
            q = q.where(AuditRow.id < before)
        if cameras is not None:
            q = q.where(AuditRow.camera_id.in_(cameras))
        for column, value in ((AuditRow.principal_id, principal), (AuditRow.camera_id, camera_id),
                              (AuditRow.action, action), (AuditRow.allowed, allowed)):
            if value is not None:
                q = q.where(column == value)
        if start is not None:
            q = q.where(AuditRow.at >= start)
        if end is not None:
            q = q.where(AuditRow.at < end)
        async with self.db.session() as s:
            rows = (await s.scalars(q.order_by(AuditRow.id.desc()).limit(limit))).all()
        return [{"id": r.id, "at": r.at, "principal": r.principal_id, "action": r.action, "camera_id": r.camera_id,
                 "allowed": r.allowed, "reason": r.reason, "address": r.address, "count": r.count} for r in rows]

    async def head(self) -> tuple[int, str] | None:
        """The last row's id and hash (a checkpoint to keep off the hub), or None while empty."""
        async with self.db.session() as s:
            found = (await s.execute(select(AuditRow.id, AuditRow.row_hash).order_by(AuditRow.id.desc())
                                     .limit(1))).first()
        return (found[0], found[1]) if found else None

    async def hash_of(self, row_id: int) -> str | None:
        """The stored hash of row ``row_id`` (None: no such row)."""
        async with self.db.session() as s:
            return await s.scalar(select(AuditRow.row_hash).where(AuditRow.id == row_id))  # type: ignore[no-any-return]

    async def verify(self, batch: int = 5000) -> Verified:
        """Walk the chain from its first row; the first row whose hash or link does not hold."""
        prev, count, last_id = GENESIS, 0, 0
        async with self.db.session() as s:
            while True:
                rows = (await s.scalars(select(AuditRow).where(AuditRow.id > last_id)
                                        .order_by(AuditRow.id).limit(batch))).all()
                if not rows:
                    return Verified(count, last_id or None, prev)
                for r in rows:
                    if r.prev_hash != prev:
                        return Verified(count, last_id or None, prev, r.id,
                                        "a row before it was deleted, changed or moved (its link does not match)")
                    if r.row_hash != row_digest(r.prev_hash, r.at, r.principal_id, r.action, r.camera_id,
                                                r.allowed, r.reason, r.address, r.count):
                        return Verified(count, last_id or None, prev, r.id, "the row was changed")
                    prev, last_id, count = r.row_hash, r.id, count + 1
