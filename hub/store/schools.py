"""Classrooms and the single-use invitations that bring parents in.

A classroom is a site (the school) and a camera tag (``classroom:7A``), with
its school hours in a time zone and the consent basis under UU 27/2022 (a
document reference: the parents' consent forms, the school's decree).  A
classroom without a consent basis opens to no parent.  An invitation is a
random token (only its SHA-256 kept), good once, for 7 days, for one parent
account; the parent sets the account's password with it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from pydantic import Field
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.access.schedule import Schedule, ScheduleError
from hub.core.errors import Gone, InvalidInput, NotFound
from hub.core.models import HubModel, utcnow
from hub.store.database import Base, Database, UTCDateTime

#: How long an invitation may be used.
INVITE_DAYS = 7
CLASSROOM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
SITE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


class SchoolError(InvalidInput):
    """A classroom or an invitation cannot be made or used as asked."""

    code = "school_invalid"
    title = "The classroom or invitation cannot be made so"


class InviteGone(Gone):
    """An invitation that was used already, has expired, was revoked, or never was."""

    code = "invite_gone"
    title = "The invitation cannot be used"


class Classroom(HubModel):
    """A classroom: the school's site and the tag of its camera, its hours, its consent basis."""

    site: str = Field(description="Site id of the school.")
    name: str = Field(description="The classroom, e.g. '7A'.")
    tag: str = Field(description="Tag of the classroom's cameras, e.g. 'classroom:7A'.")
    hours: str = Field(description="School hours, e.g. 'mon-fri 07:00-14:00'.")
    time_zone: str = Field(description="Zone of the hours (Balikpapan: Asia/Makassar).")
    consent: str | None = Field(default=None, description="Reference of the consent basis; none: no parent may "
                                                          "watch.")

    @property
    def selector(self) -> str:
        return f"site:{self.site}&tag:{self.tag}"


class ClassroomRow(Base):
    __tablename__ = "classrooms"
    __table_args__ = (UniqueConstraint("site", "name"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(40))
    tag: Mapped[str] = mapped_column(String(100))
    hours: Mapped[str] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(String(60))
    consent: Mapped[str | None] = mapped_column(Text, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InviteRow(Base):
    __tablename__ = "parent_invites"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    classroom_id: Mapped[str] = mapped_column(String(32), ForeignKey("classrooms.id", ondelete="CASCADE"))
    grant_id: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _classroom(row: ClassroomRow) -> Classroom:
    return Classroom(site=row.site, name=row.name, tag=row.tag, hours=row.hours, time_zone=row.time_zone,
                     consent=row.consent)


class Schools:
    """The classrooms and parent invitations tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_classroom(self, site: str, name: str, hours: str, time_zone: str, consent: str | None,
                            tag: str | None = None) -> Classroom:
        """Record a classroom, or change one (its hours, zone, consent basis, tag)."""
        if not SITE.fullmatch(site):
            raise SchoolError(f"site {site[:60]!r}: a site id is lower-case letters, digits, '-' or '_'")
        if not CLASSROOM.fullmatch(name):
            raise SchoolError(f"classroom {name[:60]!r}: letters, digits, '.', '_' or '-' (7A, X-IPA-2)")
        try:
            hours = str(Schedule.parse(hours, time_zone))
        except ScheduleError as err:
            raise SchoolError(str(err)) from None
        tag = tag or f"classroom:{name}"
        async with self.db.session.begin() as s:
            row = await s.scalar(select(ClassroomRow).where(ClassroomRow.site == site, ClassroomRow.name == name))
            if row is None:
                row = ClassroomRow(id=secrets.token_hex(6), site=site, name=name)
                s.add(row)
            row.tag, row.hours, row.time_zone, row.consent, row.changed_at = tag, hours, time_zone, consent, utcnow()
            return _classroom(row)

    async def classrooms(self, site: str | None = None) -> list[Classroom]:
        q = select(ClassroomRow).order_by(ClassroomRow.site, ClassroomRow.name)
        if site is not None:
            q = q.where(ClassroomRow.site == site)
        async with self.db.session() as s:
            return [_classroom(r) for r in (await s.scalars(q)).all()]

    async def classroom(self, site: str, name: str) -> tuple[str, Classroom]:
        """The classroom's id and the classroom; ``NotFound`` when the school has none of that name."""
        async with self.db.session() as s:
            row = await s.scalar(select(ClassroomRow).where(ClassroomRow.site == site, ClassroomRow.name == name))
        if row is None:
            raise NotFound(f"no classroom {name[:40]!r} at {site[:60]!r} (pantau classroom add)")
        return row.id, _classroom(row)

    async def classroom_name(self, classroom_id: str) -> str:
        async with self.db.session() as s:
            return await s.scalar(select(ClassroomRow.name).where(ClassroomRow.id == classroom_id)) or ""

    async def add_invite(self, username: str, classroom_id: str, grant_id: str,
                         created_by: str) -> tuple[str, datetime]:
        """A new invitation for ``username``: (its token, shown once; when it expires)."""
        token = secrets.token_urlsafe(24)
        now = utcnow()
        expires = now + timedelta(days=INVITE_DAYS)
        async with self.db.session.begin() as s:
            s.add(InviteRow(token_hash=_digest(token), username=username, classroom_id=classroom_id,
                            grant_id=grant_id, created_by=created_by, created_at=now, expires_at=expires))
        return token, expires

    async def invite(self, token: str) -> InviteRow:
        """The invitation ``token`` opens, while it may be used; ``InviteGone`` otherwise."""
        async with self.db.session() as s:
            row = await s.get(InviteRow, _digest(token[:200]))
        if row is None or row.used_at is not None or row.expires_at <= utcnow():
            raise InviteGone("this invitation was used already, has expired or was withdrawn; ask the school "
                             "for a new one")
        return row

    async def use_invite(self, token: str) -> str:
        """Mark the invitation used (once: a second use is ``InviteGone``); the username it was for."""
        async with self.db.session.begin() as s:
            row = await s.get(InviteRow, _digest(token[:200]), with_for_update=True)
            if row is None or row.used_at is not None or row.expires_at <= utcnow():
                raise InviteGone("this invitation was used already, has expired or was withdrawn; ask the "
                                 "school for a new one")
            row.used_at = utcnow()
            return row.username

    async def parents(self, site: str | None = None, classroom: str | None = None,
                      username: str | None = None) -> list[dict[str, object]]:
        """Each parent invited (or the one of ``username``): username, classroom, site, grant, invitation state."""
        q = select(InviteRow, ClassroomRow).join(ClassroomRow, ClassroomRow.id == InviteRow.classroom_id)
        if username is not None:
            q = q.where(InviteRow.username == username)
        if site is not None:
            q = q.where(ClassroomRow.site == site)
        if classroom is not None:
            q = q.where(ClassroomRow.name == classroom)
        async with self.db.session() as s:
            rows = (await s.execute(q.order_by(InviteRow.created_at))).all()
        now = utcnow()
        latest: dict[str, dict[str, object]] = {}
        for invite, room in rows:
            state = "accepted" if invite.used_at else ("expired" if invite.expires_at <= now else "invited")
            latest[invite.username] = {"username": invite.username, "site": room.site, "classroom": room.name,
                                       "grant_id": invite.grant_id, "invitation": state,
                                       "invited_at": invite.created_at, "invited_by": invite.created_by}
        return list(latest.values())

    async def withdraw_invites(self, username: str) -> None:
        """Make every open invitation of ``username`` unusable."""
        async with self.db.session.begin() as s:
            for row in (await s.scalars(select(InviteRow).where(InviteRow.username == username,
                                                                InviteRow.used_at.is_(None)))).all():
                row.expires_at = utcnow()
