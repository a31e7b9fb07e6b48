"""Evidence: requests from the police and their steps, the segments each request holds, and the
signed checkpoints of the cameras' segment chains.

A request moves ``requested -> approved | refused -> exported -> delivered``
or ``requested -> expired``; each step is a conditional update (two people
acting at once cannot both move it), and each is in the audit log (by the
caller, ``hub.evidence.requests``).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field
from sqlalchemy import Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.models import HubModel, utcnow
from hub.store.database import Base, Database, UTCDateTime


class EvidenceState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    EXPORTED = "exported"
    DELIVERED = "delivered"
    EXPIRED = "expired"


#: Which state each step may leave from.
STEPS: dict[EvidenceState, set[EvidenceState]] = {
    EvidenceState.APPROVED: {EvidenceState.REQUESTED},
    EvidenceState.REFUSED: {EvidenceState.REQUESTED},
    EvidenceState.EXPIRED: {EvidenceState.REQUESTED},
    EvidenceState.EXPORTED: {EvidenceState.APPROVED, EvidenceState.EXPORTED},
    EvidenceState.DELIVERED: {EvidenceState.EXPORTED, EvidenceState.DELIVERED},
}
#: States in which a request holds its segments from retention.
HOLDING = {EvidenceState.REQUESTED, EvidenceState.APPROVED, EvidenceState.EXPORTED, EvidenceState.DELIVERED}


class EvidenceRequest(HubModel):
    """A request for recordings as evidence, as filed, and what became of it."""

    id: str = Field(description="Request id.")
    state: EvidenceState
    camera_ids: list[str] = Field(description="The cameras asked for.")
    ask_owners: list[dict[str, Any]] = Field(default_factory=list, description=(
        "Cameras named that the hub has no video of (registered by their owners): whom to ask for the footage."))
    start: datetime = Field(description="Start of the range (UTC).")
    end: datetime = Field(description="End of the range (UTC).")
    institution: str = Field(description="The asking institution, e.g. 'Polres Kutai Timur'.")
    officer: str = Field(description="The officer who asks (name, rank, number).")
    letter_number: str = Field(description="Number of the request letter.")
    letter_date: str = Field(description="Date of the letter (YYYY-MM-DD).")
    case_reference: str = Field(description="The case it is for (report or case number).")
    legal_basis: str = Field(description="The legal basis the request names (e.g. KUHAP art. 7, UU ITE art. 5).")
    reason: str = Field(description="Why the recording is needed.")
    requested_by: str = Field(description="The principal who filed it.")
    requested_at: datetime
    decided_by: str | None = Field(default=None, description="Who approved or refused it.")
    decided_at: datetime | None = None
    decision_note: str | None = Field(default=None, description="Why it was refused, or a note with the approval.")
    exported_at: datetime | None = None
    bundle_sha256: str | None = Field(default=None, description="SHA-256 of the last bundle exported.")
    delivered_at: datetime | None = None


class EvidenceRow(Base):
    __tablename__ = "evidence_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvidenceHoldRow(Base):
    """A segment a request locked (it was not locked before): released when no request holds it."""

    __tablename__ = "evidence_holds"
    request_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    segment_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class CheckpointRow(Base):
    """A signed statement of a camera's chain head: this segment, this chain, at this time."""

    __tablename__ = "chain_checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(250), index=True)
    segment_id: Mapped[int] = mapped_column(Integer)
    chain: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    statement: Mapped[str] = mapped_column(Text)  # the signed bytes, as text
    signature: Mapped[str] = mapped_column(String(200))


def _request(row: EvidenceRow) -> EvidenceRequest:
    return EvidenceRequest.model_validate({**json.loads(row.body), "id": row.id, "state": row.state})


class EvidenceRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, request: EvidenceRequest) -> None:
        async with self.db.session.begin() as s:
            s.add(EvidenceRow(id=request.id, state=request.state.value, changed_at=utcnow(),
                              body=request.model_dump_json(exclude={"id", "state"})))

    async def get(self, request_id: str) -> EvidenceRequest | None:
        async with self.db.session() as s:
            row = await s.get(EvidenceRow, request_id[:32])
        return _request(row) if row else None

    async def requests(self, state: EvidenceState | None = None, requested_by: str | None = None,
                   limit: int = 500) -> list[EvidenceRequest]:
        q = select(EvidenceRow).order_by(EvidenceRow.changed_at.desc()).limit(limit)
        if state is not None:
            q = q.where(EvidenceRow.state == state.value)
        async with self.db.session() as s:
            found = [_request(r) for r in (await s.scalars(q)).all()]
        return [r for r in found if requested_by is None or r.requested_by == requested_by]

    async def step(self, request_id: str, to: EvidenceState, **changes: Any) -> EvidenceRequest | None:
        """Move a request to ``to`` with ``changes``, only from a state ``STEPS`` allows; the request
        as it is now, or None when it was not in such a state (someone else moved it first)."""
        async with self.db.session.begin() as s:
            row = await s.get(EvidenceRow, request_id, with_for_update=True)
            if row is None or EvidenceState(row.state) not in STEPS[to]:
                return None
            changed = _request(row).model_copy(update={**changes, "state": to})
            moved = await s.execute(update(EvidenceRow).where(EvidenceRow.id == request_id,
                                                              EvidenceRow.state == row.state)
                                    .values(state=to.value, changed_at=utcnow(),
                                            body=changed.model_dump_json(exclude={"id", "state"})))
            if not moved.rowcount:  # type: ignore[attr-defined]
                return None
        return changed

    async def held(self, segment_ids: list[int]) -> set[int]:
        """Those of ``segment_ids`` some request holds (whatever its state)."""
        async with self.db.session() as s:
            return set((await s.scalars(select(EvidenceHoldRow.segment_id)
                                        .where(EvidenceHoldRow.segment_id.in_(segment_ids)))).all())

    async def hold(self, request_id: str, segment_ids: list[int]) -> None:
        """Note that the request holds these segments (again: a second note is no error)."""
        async with self.db.session.begin() as s:
            known = set((await s.scalars(select(EvidenceHoldRow.segment_id).where(
                EvidenceHoldRow.request_id == request_id, EvidenceHoldRow.segment_id.in_(segment_ids)))).all())
            for segment_id in segment_ids:
                if segment_id not in known:
                    s.add(EvidenceHoldRow(request_id=request_id, segment_id=segment_id))

    async def releasable(self, request_id: str) -> list[int]:
        """The segments this request locked that no other request holding its segments holds too."""
        async with self.db.session() as s:
            mine = set((await s.scalars(select(EvidenceHoldRow.segment_id)
                                        .where(EvidenceHoldRow.request_id == request_id))).all())
            others = (await s.execute(select(EvidenceHoldRow.segment_id, EvidenceRow.state)
                                      .join(EvidenceRow, EvidenceRow.id == EvidenceHoldRow.request_id)
                                      .where(EvidenceHoldRow.request_id != request_id,
                                             EvidenceHoldRow.segment_id.in_(mine)))).all()
        held = {segment for segment, state in others if EvidenceState(state) in HOLDING}
        return sorted(mine - held)

    # -- checkpoints -----------------------------------------------------------------------

    async def add_checkpoint(self, camera_id: str, segment_id: int, chain: str, at: datetime, statement: str,
                             signature: str) -> None:
        async with self.db.session.begin() as s:
            s.add(CheckpointRow(camera_id=camera_id, segment_id=segment_id, chain=chain, at=at,
                                statement=statement, signature=signature))

    async def checkpoint_covering(self, camera_id: str, segment_id: int) -> dict[str, Any] | None:
        """The first checkpoint of the camera at or after ``segment_id`` (its chain covers it)."""
        q = (select(CheckpointRow).where(CheckpointRow.camera_id == camera_id, CheckpointRow.segment_id >= segment_id)
             .order_by(CheckpointRow.segment_id).limit(1))
        async with self.db.session() as s:
            row = await s.scalar(q)
        if row is None:
            return None
        return {"camera_id": row.camera_id, "segment_id": row.segment_id, "chain": row.chain, "at": row.at,
                "statement": row.statement, "signature": row.signature}

    async def last_checkpoints(self) -> dict[str, int]:
        """Each camera's latest checkpointed segment id."""
        from sqlalchemy import func

        async with self.db.session() as s:
            rows = (await s.execute(select(CheckpointRow.camera_id, func.max(CheckpointRow.segment_id))
                                    .group_by(CheckpointRow.camera_id))).all()
        return {camera: int(segment) for camera, segment in rows}
