"""The audit log: every access decision about video, allowed or not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.models import Principal, utcnow
from hub.store.database import Base, Database, UTCDateTime


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    principal_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    camera_id: Mapped[str | None] = mapped_column(String(250), nullable=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, principal: Principal, action: str, camera_id: str | None, allowed: bool,
                     reason: str) -> None:
        async with self.db.session.begin() as s:
            s.add(AuditRow(at=utcnow(), principal_id=principal.id, action=action, camera_id=camera_id,
                           allowed=allowed, reason=reason))

    async def entries(self, limit: int = 100) -> list[dict[str, Any]]:
        async with self.db.session() as s:
            rows = (await s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))).all()
        return [{"at": r.at, "principal": r.principal_id, "action": r.action, "camera_id": r.camera_id,
                 "allowed": r.allowed, "reason": r.reason} for r in rows]
