"""Camera status history: each confirmed change, for uptime and availability; and each source's
clock offset as the health checks measured it (an evidence bundle states the device's offset at
the time of recording)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.database import Base, Database, UTCDateTime


class StatusRow(Base):
    """A camera's confirmed status from ``at`` on (uptime and availability come from these)."""

    __tablename__ = "camera_status"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(250), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ClockOffsetRow(Base):
    """A source's device clock, ``seconds`` ahead of the hub's (behind when negative), at ``at``."""

    __tablename__ = "clock_offsets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    seconds: Mapped[float] = mapped_column(Float)



def uptime_percent(seconds: dict[str, float]) -> float | None:
    """Of ``availability``'s seconds by status, the share online in percent of the time the status was
    known (None: never known)."""
    known = sum(v for k, v in seconds.items() if k != "unknown")
    return round(100 * seconds.get("online", 0) / known, 1) if known else None

class StatusHistory:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record_status(self, camera_id: str, status: str, at: datetime, reason: str | None = None) -> None:
        async with self.db.session.begin() as s:
            s.add(StatusRow(camera_id=camera_id, status=status, at=at, reason=reason))

    async def record_statuses(self, statuses: dict[str, str], at: datetime, reason: str | None = None) -> None:
        """Many cameras' statuses (camera id -> status) in one transaction: a city's at start."""
        if statuses:
            async with self.db.session.begin() as s:
                s.add_all(StatusRow(camera_id=c, status=st, at=at, reason=reason) for c, st in statuses.items())

    async def current_status(self, since_for: set[str] | None = None) -> dict[str, tuple[str, datetime]]:
        """Each camera's latest confirmed status and since when.

        "Since" is when the status began: a status confirmed again (after a
        restart, say) does not restart the clock.  That takes a look back
        through history, done only for the statuses in ``since_for`` (e.g.
        ``{"offline"}``); for the others it is the latest record's time.
        """
        latest = select(func.max(StatusRow.id)).group_by(StatusRow.camera_id).scalar_subquery()
        q = select(StatusRow.camera_id, StatusRow.status, StatusRow.at, StatusRow.id).where(StatusRow.id.in_(latest))
        async with self.db.session() as s:
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
        # Only the rows inside the window, and each camera's last one before it: a city's years of
        # history are not read for one day's figures.
        last_before = (select(func.max(StatusRow.id)).where(StatusRow.at < start)
                       .group_by(StatusRow.camera_id).scalar_subquery())
        async with self.db.session() as s:
            rows = (await s.scalars(select(StatusRow).where(
                ((StatusRow.at >= start) & (StatusRow.at < end)) | StatusRow.id.in_(last_before))
                .order_by(StatusRow.at, StatusRow.id))).all()
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

    async def spans(self, camera_id: str, start: datetime, end: datetime) -> list[tuple[str, datetime, datetime,
                                                                                      str | None]]:
        """One camera's statuses between ``start`` and ``end`` as (status, from, until, reason), in
        order: the status it had at ``start`` first (none before its first record), each change after."""
        async with self.db.session() as s:
            before = (await s.scalars(select(StatusRow).where(StatusRow.camera_id == camera_id, StatusRow.at <= start)
                                      .order_by(StatusRow.at.desc(), StatusRow.id.desc()).limit(1))).first()
            inside = (await s.scalars(select(StatusRow).where(StatusRow.camera_id == camera_id,
                                                              StatusRow.at > start, StatusRow.at < end)
                                      .order_by(StatusRow.at, StatusRow.id))).all()
        rows = ([before] if before is not None else []) + list(inside)
        out: list[tuple[str, datetime, datetime, str | None]] = []
        for row, following in zip(rows, [*rows[1:], None][:len(rows)], strict=True):
            until = following.at if following is not None else end
            if out and out[-1][0] == row.status:  # confirmed again (a restart): one span
                out[-1] = (row.status, out[-1][1], until, out[-1][3])
            else:
                out.append((row.status, max(row.at, start), until, row.reason))
        return out

    async def record_clock_offset(self, source: str, at: datetime, seconds: float) -> None:
        async with self.db.session.begin() as s:
            s.add(ClockOffsetRow(source=source, at=at, seconds=seconds))

    async def clock_offset(self, source: str, near: datetime) -> tuple[datetime, float] | None:
        """The source's measured clock offset closest before ``near`` (else the first after it)."""
        async with self.db.session() as s:
            before = (await s.execute(select(ClockOffsetRow.at, ClockOffsetRow.seconds)
                                      .where(ClockOffsetRow.source == source, ClockOffsetRow.at <= near)
                                      .order_by(ClockOffsetRow.at.desc()).limit(1))).first()
            if before is None:
                before = (await s.execute(select(ClockOffsetRow.at, ClockOffsetRow.seconds)
                                          .where(ClockOffsetRow.source == source)
                                          .order_by(ClockOffsetRow.at).limit(1))).first()
        return (before[0], float(before[1])) if before else None


def _add_span(out: dict[str, dict[str, float]], camera_id: str, status: str, start: datetime,
              end: datetime) -> None:
    seconds = (end - start).total_seconds()
    if seconds > 0:
        spans = out.setdefault(camera_id, {})
        spans[status] = spans.get(status, 0.0) + seconds
