"""The recording index: one row per stored segment, with its hash, its place in its camera's chain, and its lock.

Segments are written once (storage never replaces an object) and indexed
once (``storage_key`` is unique).  A locked segment (evidence) is never
deleted by retention.

Each camera's segments form a hash chain from the moment they are indexed:
a segment's ``chain`` is the SHA-256 of the chain of the camera's segment
before it and the segment's own fields (``chain_digest``; the rule is
written out in ``hub/evidence/verify_bundle.py`` too, which checks bundles
without the hub).  ``chain_heads`` holds each camera's latest, so indexing
costs a key lookup, not a scan; signed checkpoints of the heads
(``hub.evidence.chain``) let an export prove the footage is unchanged since
it was recorded, not only since it was exported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, delete, func, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.models import Segment
from hub.store.cluster import fence_check
from hub.store.database import Base, Database, UTCDateTime


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
    #: The chain of the camera's segment before this one (``GENESIS`` for its first), and this one's.
    prev_chain: Mapped[str] = mapped_column(String(64))
    chain: Mapped[str] = mapped_column(String(64))
    #: With several nodes: which node wrote it, as the camera's owner at which epoch.
    node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    epoch: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ChainHeadRow(Base):
    """Each camera's latest segment and its chain."""

    __tablename__ = "chain_heads"
    camera_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    segment_id: Mapped[int] = mapped_column(Integer)
    chain: Mapped[str] = mapped_column(String(64))


#: The chain's first predecessor.
GENESIS = "0" * 64


def utc_text(when: datetime) -> str:
    """A time as the chain writes it: UTC, microseconds, ``+00:00``."""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="microseconds")


def chain_digest(prev: str, camera_id: str, start: datetime, end: datetime, size: int, sha256: str) -> str:
    """A segment's link in its camera's chain: SHA-256 of the previous link and the segment's fields,
    one per line: ``prev``, camera id, start and end (``utc_text``), size in bytes, the file's SHA-256."""
    text = "\n".join([prev, camera_id, utc_text(start), utc_text(end), str(size), sha256])
    return hashlib.sha256(text.encode()).hexdigest()


def _segment(r: SegmentRow) -> Segment:
    return Segment(id=r.id, camera_id=r.camera_id, stream_role=r.stream_role, start=r.start, end=r.end,  # type: ignore[arg-type]
                   duration=r.duration, size=r.size, sha256=r.sha256, locked=r.locked)


class Recordings:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_segment(self, camera_id: str, role: str, start: datetime, end: datetime, duration: float,
                          size: int, sha256: str, storage_key: str,
                          fence: tuple[str, int] | None = None) -> int | None:
        """Index a stored segment; None when one with ``storage_key`` is indexed already
        (a retry after indexing worked but cleaning up did not).  With ``fence`` (node, epoch: several
        nodes) only as the camera's owner at that epoch (``hub.store.cluster.fence_check``: ``Fenced``
        otherwise, and nothing is written).  One transaction, and
        with SQLite one hop to the writer thread: every recorded camera adds one per
        segment, so at city scale this runs many times a second."""
        t = SegmentRow.__table__.c
        heads: Any = ChainHeadRow.__table__

        def index(conn: Any) -> int | None:
            if fence is not None:
                fence_check(conn, camera_id, start, end, *fence)
            prev = conn.execute(select(heads.c.chain).where(heads.c.camera_id == camera_id)).scalar() or GENESIS
            chain = chain_digest(prev, camera_id, start, end, size, sha256)
            row = conn.execute(self.db.insert_ignoring(SegmentRow.__table__, ["storage_key"]).values(
                camera_id=camera_id, stream_role=role, start=start, end=end, duration=duration, size=size,
                sha256=sha256, storage_key=storage_key, locked=False, prev_chain=prev, chain=chain,
                node=fence[0] if fence else None, epoch=fence[1] if fence else None,
            ).returning(t.id)).first()
            if row is None:
                return None
            moved = conn.execute(update(heads).where(heads.c.camera_id == camera_id)
                                 .values(segment_id=row[0], chain=chain))
            if not moved.rowcount:
                conn.execute(insert(heads).values(camera_id=camera_id, segment_id=row[0], chain=chain))
            return int(row[0])

        return await self.db.transaction(index)

    async def chain_of(self, camera_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The chain entries of the camera's segments overlapping the range, in chain order: id,
        storage key, start, end, size, sha256, prev_chain, chain."""
        q = (select(SegmentRow).where(SegmentRow.camera_id == camera_id, SegmentRow.end > start,
                                      SegmentRow.start < end).order_by(SegmentRow.id))
        async with self.db.session() as s:
            rows = (await s.scalars(q)).all()
        return [{"id": r.id, "key": r.storage_key, "start": r.start, "end": r.end, "size": r.size,
                 "sha256": r.sha256, "prev_chain": r.prev_chain, "chain": r.chain} for r in rows]

    async def links(self, camera_id: str, after_id: int, through_id: int) -> list[dict[str, Any]]:
        """The camera's chain entries after segment ``after_id`` through ``through_id``, in order."""
        q = (select(SegmentRow).where(SegmentRow.camera_id == camera_id, SegmentRow.id > after_id,
                                      SegmentRow.id <= through_id).order_by(SegmentRow.id))
        async with self.db.session() as s:
            rows = (await s.scalars(q)).all()
        return [{"id": r.id, "start": r.start, "end": r.end, "size": r.size, "sha256": r.sha256,
                 "prev_chain": r.prev_chain, "chain": r.chain} for r in rows]

    async def heads(self) -> dict[str, tuple[int, str]]:
        """Each camera's latest segment id and chain."""
        async with self.db.session() as s:
            rows = (await s.execute(select(ChainHeadRow.camera_id, ChainHeadRow.segment_id,
                                           ChainHeadRow.chain))).all()
        return {camera: (segment, chain) for camera, segment, chain in rows}

    async def segments(self, camera_id: str, start: datetime | None = None, end: datetime | None = None,
                       limit: int = 1000) -> list[Segment]:
        q = select(SegmentRow).where(SegmentRow.camera_id == camera_id)
        if start is not None:
            q = q.where(SegmentRow.end > start)
        if end is not None:
            q = q.where(SegmentRow.start < end)
        async with self.db.session() as s:
            rows = (await s.scalars(q.order_by(SegmentRow.start).limit(limit))).all()
        return [_segment(r) for r in rows]

    async def segment(self, segment_id: int) -> tuple[Segment, str] | None:
        async with self.db.session() as s:
            row = await s.get(SegmentRow, segment_id)
        return (_segment(row), row.storage_key) if row else None

    async def expired_segments(self, camera_id: str, before: datetime, limit: int = 500) -> list[tuple[int, str]]:
        q = (select(SegmentRow.id, SegmentRow.storage_key)
             .where(SegmentRow.camera_id == camera_id, SegmentRow.end < before, SegmentRow.locked.is_(False))
             .order_by(SegmentRow.start).limit(limit))
        async with self.db.session() as s:
            return [(r[0], r[1]) for r in (await s.execute(q)).all()]

    async def oldest_segments(self, limit: int = 200) -> list[tuple[int, str, int]]:
        """The oldest unlocked segments of any camera: id, storage key, size."""
        q = (select(SegmentRow.id, SegmentRow.storage_key, SegmentRow.size)
             .where(SegmentRow.locked.is_(False)).order_by(SegmentRow.start).limit(limit))
        async with self.db.session() as s:
            return [(r[0], r[1], r[2]) for r in (await s.execute(q)).all()]

    async def segment_bytes(self) -> int:
        """Bytes of every indexed segment."""
        async with self.db.session() as s:
            return int((await s.scalar(select(func.coalesce(func.sum(SegmentRow.size), 0)))) or 0)

    async def recorded_cameras(self) -> list[str]:
        async with self.db.session() as s:
            return list((await s.scalars(select(SegmentRow.camera_id).distinct())).all())

    async def locked_before(self, camera_id: str, before: datetime) -> int:
        """How many locked (evidence) segments of a camera ended before ``before``."""
        async with self.db.session() as s:
            return int(await s.scalar(select(func.count()).select_from(SegmentRow).where(
                SegmentRow.camera_id == camera_id, SegmentRow.end < before, SegmentRow.locked.is_(True))) or 0)

    async def delete_segments(self, ids: Sequence[int]) -> None:
        async with self.db.session.begin() as s:
            await s.execute(delete(SegmentRow).where(SegmentRow.id.in_(list(ids)), SegmentRow.locked.is_(False)))

    async def lock_range(self, camera_id: str, start: datetime, end: datetime, locked: bool) -> list[int]:
        """Lock (or unlock) every segment of a camera overlapping [start, end); returns their ids."""
        where = (SegmentRow.camera_id == camera_id) & (SegmentRow.end > start) & (SegmentRow.start < end)
        async with self.db.session.begin() as s:
            ids = list((await s.scalars(select(SegmentRow.id).where(where).order_by(SegmentRow.start))).all())
            if ids:
                await s.execute(update(SegmentRow).where(SegmentRow.id.in_(ids)).values(locked=locked))
        return ids

    async def set_locked(self, segment_id: int, locked: bool) -> None:
        async with self.db.session.begin() as s:
            await s.execute(update(SegmentRow).where(SegmentRow.id == segment_id).values(locked=locked))
