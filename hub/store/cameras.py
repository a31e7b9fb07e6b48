"""What the sources held, kept: devices and cameras, never deleted.

A camera that disappears from its source is marked removed, so its
recordings and history stay reachable (playback of a camera since replaced).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.models import Camera, Device, utcnow
from hub.store.database import Base, Database, UTCDateTime


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


class CameraRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save_inventory(self, devices: Sequence[Device], cameras: Sequence[Camera], sources: set[str]) -> None:
        """Record what the given sources hold now.

        Devices and cameras of those sources that are no longer present are
        marked removed, not deleted: their recordings and history stay.
        """
        now = utcnow()
        async with self.db.session.begin() as s:
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
        async with self.db.session() as s:
            q = select(CameraRow)
            if not include_removed:
                q = q.where(CameraRow.removed_at.is_(None))
            rows = (await s.scalars(q.order_by(CameraRow.id))).all()
        return [(Camera.model_validate(r.data), r.first_seen, r.removed_at) for r in rows]

    async def known_devices(self) -> list[Device]:
        """Every device present (not removed), as last seen."""
        async with self.db.session() as s:
            rows = (await s.scalars(select(DeviceRow).where(DeviceRow.removed_at.is_(None)))).all()
        return [Device.model_validate(r.data) for r in rows]

    async def known_device(self, device_id: str) -> Device | None:
        """One device as last seen, removed or not (its ``source`` names the hub.yaml source)."""
        async with self.db.session() as s:
            row = await s.get(DeviceRow, device_id)
        return Device.model_validate(row.data) if row is not None else None

    async def known_camera(self, camera_id: str) -> Camera | None:
        """One camera as last seen, removed or not (by key: no scan of the whole city)."""
        async with self.db.session() as s:
            row = await s.get(CameraRow, camera_id)
        return Camera.model_validate(row.data) if row is not None else None


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
