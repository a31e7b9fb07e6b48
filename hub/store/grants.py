"""Grants: a principal may do some actions on some cameras, in some hours, for some time.

A ``Grant`` gives a principal (``user:<name>`` or ``token:<id>``) actions
on the cameras its selectors name (``hub.core.selectors``), optionally only
inside a weekly ``Schedule`` in a time zone (with holidays shut), only from
``valid_from`` until ``valid_until``, and for playback and export never
before ``history_from`` (a parent enrolled in July sees nothing of June).
Grants only allow: the role policy's scopes, and any plugin's deny, still
win.  Revoking keeps the row (``revoked_at``), so who could see what, when,
can be answered later.

``hub.access.grants.GrantPolicy`` decides with them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import date, datetime

from pydantic import Field
from sqlalchemy import Boolean, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.access.schedule import Schedule, ScheduleError, zone
from hub.core.errors import InvalidInput, NotFound
from hub.core.models import Action, HubModel, utcnow
from hub.core.selectors import check_selector
from hub.store.database import Base, Database, UTCDateTime

#: Actions that read what was recorded: bounded below by a grant's ``history_from``.
RECORDED = {Action.PLAY_BACK, Action.EXPORT}


class GrantError(InvalidInput):
    """A grant cannot be made as asked (no such action, a selector or hours that cannot be read)."""

    code = "grant_invalid"
    title = "The grant cannot be made so"


class Grant(HubModel):
    """Actions a principal may do on some cameras, when and for how long."""

    id: str = Field(description="Grant id.")
    principal: str = Field(description="Who: 'user:<username>' or 'token:<id>'.")
    actions: list[Action] = Field(description="What they may do.")
    cameras: list[str] = Field(description="Selectors of the cameras: camera:ID, area:PATH, site:ID, tag:TAG, "
                                           "or terms joined with &.")
    hours: str | None = Field(default=None, description="Weekly hours, e.g. 'mon-fri 07:00-14:00'; none: always.")
    time_zone: str = Field(default="Asia/Jakarta", description="Zone of the hours.")
    closed_on: list[date] = Field(default_factory=list, description="Days shut whatever the hours say (holidays).")
    valid_from: datetime | None = Field(default=None, description="Not before this.")
    valid_until: datetime | None = Field(default=None, description="Not from this on.")
    history_from: datetime | None = Field(default=None, description="Playback and export never of footage "
                                                                    "recorded before this.")
    note: str | None = Field(default=None, description="Why (a letter, a classroom, an agreement).")
    created_by: str = Field(description="The principal who made it.")
    created_at: datetime = Field(description="When it was made.")
    revoked_at: datetime | None = Field(default=None, description="When it was revoked.")
    revoked_by: str | None = Field(default=None, description="Who revoked it.")

    def schedule(self) -> Schedule | None:
        return Schedule.parse(self.hours, self.time_zone, frozenset(self.closed_on)) if self.hours else None

    def live_at(self, now: datetime) -> bool:
        """Neither revoked, nor before its start, nor past its end (its hours aside)."""
        return (self.revoked_at is None and (self.valid_from is None or self.valid_from <= now)
                and (self.valid_until is None or now < self.valid_until))


class GrantRow(Base):
    __tablename__ = "grants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal: Mapped[str] = mapped_column(String(200), index=True)
    body: Mapped[str] = mapped_column(Text)  # the Grant's other fields, as JSON
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def _grant(row: GrantRow) -> Grant:
    return Grant.model_validate({**json.loads(row.body), "id": row.id, "principal": row.principal})


def check_grant(actions: Iterable[str], cameras: Iterable[str], hours: str | None, time_zone: str) -> None:
    """``GrantError`` naming what is wrong with a grant's actions, selectors or hours."""
    known = {a.value for a in Action}
    for action in actions:
        if action not in known:
            raise GrantError(f"no action {action[:40]!r}; the actions are {', '.join(sorted(known))}")
    if not list(cameras):
        raise GrantError("a grant names its cameras: --camera, --area, --site, --tag or --match")
    try:
        for selector in cameras:
            check_selector(selector)
        zone(time_zone)
        if hours:
            Schedule.parse(hours, time_zone)
    except (ValueError, ScheduleError) as err:
        raise GrantError(str(err)) from None


class Grants:
    """The grants table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, principal: str, actions: list[Action], cameras: list[str], *, created_by: str,
                  hours: str | None = None, time_zone: str = "Asia/Jakarta", closed_on: list[date] | None = None,
                  valid_from: datetime | None = None, valid_until: datetime | None = None,
                  history_from: datetime | None = None, note: str | None = None) -> Grant:
        check_grant(actions, cameras, hours, time_zone)
        if valid_from and valid_until and valid_until <= valid_from:
            raise GrantError("a grant ends (--until) after it starts (--from)")
        now = utcnow()
        grant = Grant(id=secrets.token_hex(6), principal=principal, actions=list(dict.fromkeys(actions)),
                      cameras=list(dict.fromkeys(cameras)),
                      hours=str(Schedule.parse(hours, time_zone)) if hours else None,
                      time_zone=time_zone, closed_on=sorted(set(closed_on or [])), valid_from=valid_from,
                      valid_until=valid_until, history_from=history_from, note=note, created_by=created_by,
                      created_at=now)
        async with self.db.session.begin() as s:
            s.add(GrantRow(id=grant.id, principal=principal, revoked=False, changed_at=now,
                           body=grant.model_dump_json(exclude={"id", "principal"})))
        return grant

    async def revoke(self, grant_id: str, by: str) -> Grant:
        """Revoke a grant (kept, marked); ``NotFound`` when there is none."""
        async with self.db.session.begin() as s:
            row = await s.get(GrantRow, grant_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no grant {grant_id[:40]!r}")
            grant = _grant(row)
            if grant.revoked_at is None:
                now = utcnow()
                grant = grant.model_copy(update={"revoked_at": now, "revoked_by": by})
                row.body = grant.model_dump_json(exclude={"id", "principal"})
                row.revoked, row.changed_at = True, now
        return grant

    async def set_hours(self, grant_ids: list[str], hours: str, time_zone: str) -> int:
        """Give these grants (a classroom's parents') new weekly hours; how many were changed."""
        changed = 0
        async with self.db.session.begin() as s:
            for grant_id in grant_ids:
                row = await s.get(GrantRow, grant_id, with_for_update=True)
                if row is None or row.revoked:
                    continue
                grant = _grant(row).model_copy(update={"hours": hours, "time_zone": time_zone})
                row.body = grant.model_dump_json(exclude={"id", "principal"})
                row.changed_at = utcnow()
                changed += 1
        return changed

    async def revoke_of(self, principal: str, by: str) -> int:
        """Revoke every grant of ``principal``; how many."""
        ids = [g.id for g in await self.list(principal=principal)]
        for grant_id in ids:
            await self.revoke(grant_id, by)
        return len(ids)

    async def list(self, principal: str | None = None, include_revoked: bool = False) -> list[Grant]:
        q = select(GrantRow).order_by(GrantRow.changed_at)
        if principal is not None:
            q = q.where(GrantRow.principal == principal)
        if not include_revoked:
            q = q.where(GrantRow.revoked.is_(False))
        async with self.db.session() as s:
            return [_grant(r) for r in (await s.scalars(q)).all()]

    async def revision(self) -> tuple[int, datetime | None]:
        """Changes to the table show here: (rows, last change)."""
        async with self.db.session() as s:
            count, last = (await s.execute(select(func.count(GrantRow.id), func.max(GrantRow.changed_at)))).one()
        return int(count), last
