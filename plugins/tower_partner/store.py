"""The plugin's own tables: partners, agreements and each agreement's steps, and their repository.

Created by the plugin's migrations (``migrations/versions``); read and
written through the hub's database (``HubContext.database`` in the hub,
``open_database`` in a command).  An agreement's state changes only through
``move``, which checks the step is allowed (``models.STEPS``) and writes it
to the agreement's history in the same transaction.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from datetime import datetime

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub import InvalidInput, NotFound, SqlDatabase, UTCDateTime, utcnow
from plugins.tower_partner.models import (
    STEPS,
    Agreement,
    AgreementState,
    AgreementStep,
    Contact,
    Partner,
    PartnerKind,
    PermittedUses,
    RegisteredCamera,
    Submission,
    SubmissionState,
)

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class PartnerError(InvalidInput):
    """A partner or an agreement cannot be recorded or moved as asked."""

    code = "partner_invalid"
    title = "The partner or agreement cannot be recorded so"


class PartnersBase(DeclarativeBase):
    """The plugin's tables (not the hub's)."""


class PartnerRow(PartnersBase):
    __tablename__ = "tower_partners"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    contacts: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of Contact
    networks: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of CIDR
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(250))


class AgreementRow(PartnersBase):
    __tablename__ = "tower_partner_agreements"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)  # the Agreement's terms, as JSON
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SubmissionRow(PartnersBase):
    __tablename__ = "tower_partner_submissions"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)  # the Submission, as JSON
    sealed_password: Mapped[str] = mapped_column(Text)  # vault.Vault's; never the password itself
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PausedRow(PartnersBase):
    """A partner camera its owner (or an operator) stopped sharing, until sharing is switched on again."""

    __tablename__ = "tower_partner_paused"
    camera_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    by: Mapped[str] = mapped_column(String(250))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class CameraRow(PartnersBase):
    """A camera a partner's device brought into the hub (kept after it leaves: its recordings stay
    the partner's, under the agreement's retention)."""

    __tablename__ = "tower_partner_cameras"
    camera_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(100))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class RegisteredRow(PartnersBase):
    __tablename__ = "tower_partner_registered"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Text)  # the RegisteredCamera, as JSON


class StepRow(PartnersBase):
    __tablename__ = "tower_partner_agreement_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(String(16), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(250))
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


def _partner(row: PartnerRow) -> Partner:
    return Partner(id=row.id, name=row.name, kind=PartnerKind(row.kind),
                   contacts=[Contact(**c) for c in json.loads(row.contacts)], networks=json.loads(row.networks),
                   created_at=row.created_at, created_by=row.created_by)


def _agreement(row: AgreementRow) -> Agreement:
    return Agreement.model_validate_json(row.body).model_copy(update={"state": AgreementState(row.state),
                                                                       "changed_at": row.changed_at})


class PartnerStore:
    def __init__(self, database: SqlDatabase) -> None:
        self.database = database

    async def add_partner(self, partner_id: str, name: str, kind: PartnerKind, by: str,
                          networks: list[str] | None = None, contacts: list[Contact] | None = None) -> Partner:
        """Record a partner; ``PartnerError`` for an id, network or name that cannot be one."""
        if not PARTNER_ID.fullmatch(partner_id):
            raise PartnerError(f"partner id {partner_id[:70]!r}: 2-63 lower-case letters, digits or '-'")
        if not name.strip() or len(name) > 200:
            raise PartnerError("a partner needs its organisation's name (200 characters at most)")
        cidrs = []
        for cidr in networks or []:
            try:
                network = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise PartnerError(f"--network {cidr[:60]!r} is not a network such as 10.20.0.0/16") from None
            if not network.is_private:
                raise PartnerError(f"--network {network}: only private ranges are registered for a partner "
                                   "(a public address needs none)")
            cidrs.append(str(network))
        async with self.database.session.begin() as s:
            if await s.get(PartnerRow, partner_id) is not None:
                raise PartnerError(f"partner {partner_id!r} is recorded already")
            row = PartnerRow(id=partner_id, name=name.strip(), kind=kind, created_at=utcnow(), created_by=by,
                             networks=json.dumps(cidrs),
                             contacts=json.dumps([c.model_dump() for c in contacts or []]))
            s.add(row)
        return _partner(row)

    async def partners(self) -> list[Partner]:
        async with self.database.session() as s:
            return [_partner(r) for r in (await s.scalars(select(PartnerRow).order_by(PartnerRow.id))).all()]

    async def partner(self, partner_id: str) -> Partner:
        async with self.database.session() as s:
            row = await s.get(PartnerRow, partner_id)
        if row is None:
            raise NotFound(f"no partner {partner_id[:70]!r} (pantau partner list)")
        return _partner(row)

    async def add_agreement(self, partner_id: str, by: str, document: str, controller: str, processor: str,
                            uses: PermittedUses, valid_from: datetime | None = None,
                            valid_until: datetime | None = None, grace_days: int = 30) -> Agreement:
        """A new agreement of the partner, in draft."""
        await self.partner(partner_id)
        if not document.strip():
            raise PartnerError("an agreement names its signed document (number and date)")
        if valid_from and valid_until and valid_until <= valid_from:
            raise PartnerError("an agreement ends after it starts")
        now = utcnow()
        made = Agreement(id=secrets.token_hex(6), partner_id=partner_id, state=AgreementState.DRAFT,
                         document=document.strip(), controller=controller, processor=processor,
                         valid_from=valid_from, valid_until=valid_until, uses=uses, grace_days=grace_days,
                         created_at=now, created_by=by)
        async with self.database.session.begin() as s:
            s.add(AgreementRow(id=made.id, partner_id=partner_id, state=made.state, changed_at=now,
                               body=made.model_dump_json()))
            s.add(StepRow(agreement_id=made.id, at=now, by=by, from_state=None, to_state=made.state,
                          note=f"agreement {made.document}"))
        return made

    async def agreements(self, partner_id: str | None = None) -> list[Agreement]:
        q = select(AgreementRow).order_by(AgreementRow.changed_at)
        if partner_id is not None:
            q = q.where(AgreementRow.partner_id == partner_id)
        async with self.database.session() as s:
            return [_agreement(r) for r in (await s.scalars(q)).all()]

    async def current(self, partner_id: str) -> Agreement:
        """The partner's agreement that is not over (the latest such), else ``NotFound``."""
        live = [a for a in await self.agreements(partner_id)
                if a.state not in (AgreementState.EXPIRED, AgreementState.TERMINATED)]
        if not live:
            raise NotFound(f"partner {partner_id[:70]!r} has no agreement in force or in progress")
        return live[-1]

    async def move(self, agreement_id: str, to: AgreementState, by: str, note: str | None = None) -> Agreement:
        """Take the agreement one step (``PartnerError`` when that step is not allowed from where it is)."""
        async with self.database.session.begin() as s:
            row = await s.get(AgreementRow, agreement_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no agreement {agreement_id[:40]!r}")
            now_state = AgreementState(row.state)
            if to not in STEPS[now_state]:
                allowed = ", ".join(sorted(STEPS[now_state])) or "nothing: it is over"
                raise PartnerError(f"agreement {agreement_id} is {now_state.value}: it may become {allowed}, "
                                   f"not {to.value}")
            now = utcnow()
            row.state, row.changed_at = to, now
            s.add(StepRow(agreement_id=agreement_id, at=now, by=by, from_state=now_state, to_state=to,
                          note=(note or "").strip()[:2000] or None))
            return _agreement(row)

    async def save_submission(self, submission: Submission, sealed_password: str | None = None) -> Submission:
        """Record a submission, or its new state (the sealed password is kept from the first save)."""
        async with self.database.session.begin() as s:
            row = await s.get(SubmissionRow, submission.id, with_for_update=True)
            if row is None:
                s.add(SubmissionRow(id=submission.id, partner_id=submission.partner_id, state=submission.state,
                                    body=submission.model_dump_json(), sealed_password=sealed_password or "",
                                    changed_at=utcnow()))
            else:
                row.state, row.body, row.changed_at = submission.state, submission.model_dump_json(), utcnow()
        return submission

    async def submission(self, submission_id: str) -> tuple[Submission, str]:
        """A submission and its sealed password; ``NotFound`` when there is none."""
        async with self.database.session() as s:
            row = await s.get(SubmissionRow, submission_id)
        if row is None:
            raise NotFound(f"no submission {submission_id[:40]!r}")
        return Submission.model_validate_json(row.body), row.sealed_password

    async def submissions(self, partner_id: str | None = None,
                          state: SubmissionState | None = None) -> list[Submission]:
        q = select(SubmissionRow).order_by(SubmissionRow.changed_at)
        if partner_id is not None:
            q = q.where(SubmissionRow.partner_id == partner_id)
        if state is not None:
            q = q.where(SubmissionRow.state == state)
        async with self.database.session() as s:
            return [Submission.model_validate_json(r.body) for r in (await s.scalars(q)).all()]

    async def set_sharing(self, partner_id: str, camera_id: str, sharing: bool, by: str,
                          note: str | None = None) -> None:
        """Switch a camera's sharing off (kept with who and why) or on again."""
        async with self.database.session.begin() as s:
            row = await s.get(PausedRow, camera_id, with_for_update=True)
            if not sharing and row is None:
                s.add(PausedRow(camera_id=camera_id, partner_id=partner_id, by=by, at=utcnow(),
                                note=(note or "").strip()[:500] or None))
            elif sharing and row is not None:
                await s.delete(row)

    async def paused(self, partner_id: str | None = None) -> dict[str, dict[str, object]]:
        """The cameras not shared now: camera id -> who switched it off, when, why."""
        q = select(PausedRow)
        if partner_id is not None:
            q = q.where(PausedRow.partner_id == partner_id)
        async with self.database.session() as s:
            return {r.camera_id: {"by": r.by, "at": r.at, "note": r.note} for r in (await s.scalars(q)).all()}

    async def steps_after(self, step_id: int, limit: int = 500) -> list[tuple[int, AgreementStep]]:
        """Every agreement's steps after ``step_id``, oldest first, with their ids."""
        async with self.database.session() as s:
            rows = (await s.scalars(select(StepRow).where(StepRow.id > step_id).order_by(StepRow.id)
                                    .limit(limit))).all()
        return [(r.id, AgreementStep(agreement_id=r.agreement_id, at=r.at, by=r.by,
                                     from_state=AgreementState(r.from_state) if r.from_state else None,
                                     to_state=AgreementState(r.to_state), note=r.note)) for r in rows]

    async def history(self, agreement_id: str) -> list[AgreementStep]:
        async with self.database.session() as s:
            rows = (await s.scalars(select(StepRow).where(StepRow.agreement_id == agreement_id)
                                    .order_by(StepRow.id))).all()
        return [AgreementStep(agreement_id=r.agreement_id, at=r.at, by=r.by,
                              from_state=AgreementState(r.from_state) if r.from_state else None,
                              to_state=AgreementState(r.to_state), note=r.note) for r in rows]

    async def remember_cameras(self, partner_id: str, source: str, camera_ids: list[str]) -> None:
        """Keep which cameras the partner's device brought (once each)."""
        async with self.database.session.begin() as s:
            known = set((await s.scalars(select(CameraRow.camera_id).where(
                CameraRow.camera_id.in_(camera_ids)))).all())
            now = utcnow()
            s.add_all(CameraRow(camera_id=c, partner_id=partner_id, source=source, first_seen=now)
                      for c in camera_ids if c not in known)

    async def camera_owners(self) -> dict[str, str]:
        """Every camera a partner's device ever brought: camera id -> partner id."""
        async with self.database.session() as s:
            return {r.camera_id: r.partner_id for r in (await s.scalars(select(CameraRow))).all()}

    async def register_camera(self, camera: RegisteredCamera) -> RegisteredCamera:
        """Keep a camera registered without video (its id made here: ``partner:<partner>:<n>``)."""
        await self.partner(camera.partner_id)
        async with self.database.session.begin() as s:
            taken = len((await s.scalars(select(RegisteredRow.id).where(
                RegisteredRow.partner_id == camera.partner_id))).all())
            made = camera.model_copy(update={"id": f"partner:{camera.partner_id}:{taken + 1}"})
            s.add(RegisteredRow(id=made.id, partner_id=made.partner_id, body=made.model_dump_json()))
        return made

    async def registered(self, partner_id: str | None = None) -> list[RegisteredCamera]:
        q = select(RegisteredRow).order_by(RegisteredRow.partner_id, RegisteredRow.id)
        if partner_id is not None:
            q = q.where(RegisteredRow.partner_id == partner_id)
        async with self.database.session() as s:
            return [RegisteredCamera.model_validate_json(r.body) for r in (await s.scalars(q)).all()]
