"""Neighbourhoods' requests for new cameras: a spot on the map, a reason, and what became of it.

Jakarta places cameras "from below": an RT head or a community watch asks
for a camera at a spot in their area and says why; the city's operators
answer planned, declined (saying why) or installed (naming the camera, when
it is in the inventory).  Each answer keeps who gave it and when, and the
one who asked sees it on their page.  An installed request is done; the
others may be answered again (a declined spot planned after all).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from pydantic import Field
from sqlalchemy import Float, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.errors import InvalidInput, NotFound
from hub.core.models import HubModel, Principal, utcnow
from hub.store.database import Base, Database, UTCDateTime

#: Requests one person may have waiting for an answer at once.
OPEN_PER_PERSON = 20


class CameraRequestState(StrEnum):
    SUBMITTED = "submitted"
    PLANNED = "planned"
    DECLINED = "declined"
    INSTALLED = "installed"


class CameraRequestError(InvalidInput):
    """A camera request cannot be filed or answered as asked."""

    code = "camera_request_invalid"
    title = "The camera request cannot be made so"


class CameraRequest(HubModel):
    """A request for a new camera at a spot, and its answer."""

    id: str = Field(description="Request id.")
    area: str = Field(description="The area (path) the spot is in.")
    latitude: float = Field(ge=-90, le=90, description="Where the camera is wanted (WGS 84).")
    longitude: float = Field(ge=-180, le=180)
    reason: str = Field(description="Why a camera is wanted there, in the asker's words.")
    state: CameraRequestState = Field(description="submitted, planned, declined or installed.")
    asked_by: str = Field(description="The principal who asked ('user:<name>').")
    asked_by_name: str | None = Field(default=None, description="Their name as the account gives it.")
    asked_at: datetime
    answer: str | None = Field(default=None, description="The operators' word on it (why declined, when planned).")
    answered_by: str | None = None
    answered_at: datetime | None = None
    camera_id: str | None = Field(default=None, description="The camera installed for it.")


class CameraRequestRow(Base):
    __tablename__ = "camera_requests"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    area: Mapped[str] = mapped_column(String(250), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    asked_by: Mapped[str] = mapped_column(String(250), index=True)
    asked_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(250), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    camera_id: Mapped[str | None] = mapped_column(String(250), nullable=True)


def _model(row: CameraRequestRow) -> CameraRequest:
    return CameraRequest(id=row.id, area=row.area, latitude=row.latitude, longitude=row.longitude,
                         reason=row.reason, state=CameraRequestState(row.state), asked_by=row.asked_by,
                         asked_by_name=row.asked_by_name, asked_at=row.asked_at, answer=row.answer,
                         answered_by=row.answered_by, answered_at=row.answered_at, camera_id=row.camera_id)


class CameraRequests:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def file(self, who: Principal, area: str, latitude: float, longitude: float,
                   reason: str) -> CameraRequest:
        """A new request; ``CameraRequestError`` for a spot off the map, no reason, or too many open."""
        reason = reason.strip()
        if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
            raise CameraRequestError(f"{latitude}, {longitude} is not a place on the map")
        if len(reason) < 10:
            raise CameraRequestError("say in a sentence why a camera is wanted there (10 characters at least)")
        if len(reason) > 2000:
            raise CameraRequestError("the reason may be 2,000 characters at most")
        async with self.db.session.begin() as s:
            waiting = await s.scalar(select(func.count()).select_from(CameraRequestRow).where(
                CameraRequestRow.asked_by == who.id, CameraRequestRow.state == CameraRequestState.SUBMITTED))
            if (waiting or 0) >= OPEN_PER_PERSON:
                raise CameraRequestError(f"{OPEN_PER_PERSON} of your requests are waiting for an answer already")
            row = CameraRequestRow(id=secrets.token_hex(6), area=area, latitude=latitude, longitude=longitude,
                                   reason=reason, state=CameraRequestState.SUBMITTED, asked_by=who.id,
                                   asked_by_name=who.name, asked_at=utcnow())
            s.add(row)
        return _model(row)

    async def answer(self, request_id: str, who: Principal, state: CameraRequestState, note: str | None,
                     camera_id: str | None = None) -> CameraRequest:
        """Answer a request; ``CameraRequestError`` for a request installed already, a refusal
        without a reason, or an answer that is no answer (``submitted``)."""
        note = (note or "").strip() or None
        if state == CameraRequestState.SUBMITTED:
            raise CameraRequestError("an answer is planned, declined or installed")
        if state == CameraRequestState.DECLINED and not note:
            raise CameraRequestError("say why the request is declined: the neighbourhood reads it")
        async with self.db.session.begin() as s:
            row = await s.get(CameraRequestRow, request_id)
            if row is None:
                raise NotFound(f"no camera request {request_id[:40]!r}")
            if row.state == CameraRequestState.INSTALLED:
                raise CameraRequestError("the camera is installed: the request is done")
            row.state, row.answer, row.answered_by, row.answered_at = state, note, who.id, utcnow()
            row.camera_id = camera_id if state == CameraRequestState.INSTALLED else None
        return _model(row)

    async def list(self, *, asked_by: str | None = None, state: CameraRequestState | None = None,
                   limit: int = 1000) -> list[CameraRequest]:
        """Requests, the newest first: one person's, or everyone's; of one state, or all."""
        q = select(CameraRequestRow).order_by(CameraRequestRow.asked_at.desc()).limit(limit)
        if asked_by is not None:
            q = q.where(CameraRequestRow.asked_by == asked_by)
        if state is not None:
            q = q.where(CameraRequestRow.state == state)
        async with self.db.session() as s:
            return [_model(r) for r in (await s.scalars(q)).all()]
