"""The public portal's approved scenes: a camera's reference layout, who approved it, its state.

A camera is on the public portal only while its row says ``approved``; the
gate (``hub.access.public``) turns it to ``departed`` when the picture
departs from the layout, and only a new approval turns it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, LargeBinary, String, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.models import utcnow
from hub.store.database import Base, Database, UTCDateTime

APPROVED, DEPARTED, WITHDRAWN = "approved", "departed", "withdrawn"


class SceneRow(Base):
    __tablename__ = "public_scenes"
    camera_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    layout: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(20))
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    likeness: Mapped[float | None] = mapped_column(Float, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Scenes:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def approve(self, camera_id: str, layout: bytes, by: str) -> None:
        now = utcnow()
        async with self.db.session.begin() as s:
            row = await s.get(SceneRow, camera_id)
            if row is None:
                row = SceneRow(camera_id=camera_id)
                s.add(row)
            row.layout, row.state, row.approved_by, row.approved_at = layout, APPROVED, by, now
            row.checked_at, row.likeness, row.changed_at = now, 1.0, now

    async def set_state(self, camera_id: str, state: str, likeness: float | None = None) -> None:
        async with self.db.session.begin() as s:
            row = await s.get(SceneRow, camera_id)
            if row is not None:
                now = utcnow()
                row.state, row.changed_at, row.checked_at = state, now, now
                if likeness is not None:
                    row.likeness = likeness

    async def checked(self, results: dict[str, float]) -> None:
        """Note the likeness each approved camera's picture had at its check."""
        if not results:
            return
        async with self.db.session.begin() as s:
            now = utcnow()
            for row in (await s.scalars(select(SceneRow).where(SceneRow.camera_id.in_(list(results))))).all():
                row.likeness, row.checked_at = results[row.camera_id], now

    async def layouts(self) -> dict[str, bytes]:
        """The reference layout of each camera approved now."""
        async with self.db.session() as s:
            rows = (await s.execute(select(SceneRow.camera_id, SceneRow.layout)
                                    .where(SceneRow.state == APPROVED))).all()
        return {camera_id: layout for camera_id, layout in rows}

    async def states(self) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            rows = (await s.scalars(select(SceneRow).order_by(SceneRow.camera_id))).all()
        return [{"camera_id": r.camera_id, "state": r.state, "approved_by": r.approved_by,
                 "approved_at": r.approved_at, "checked_at": r.checked_at, "likeness": r.likeness} for r in rows]
