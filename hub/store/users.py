"""Users and their web sessions.

A user has a username, a display name, a role, optional scopes (as tokens
have), a locale and a disabled flag; the password is kept as an argon2id
hash (``argon2-cffi``, its RFC 9106 low-memory parameters), never itself.
A session is server-side: the browser holds a random id in an ``HttpOnly``
cookie, the database only its SHA-256, with the session's CSRF token, its
last use and its absolute end.  Disabling a user or changing the password
ends the user's sessions.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.errors import InvalidInput, NotFound
from hub.core.models import Principal, Role, utcnow
from hub.store.database import Base, Database, UTCDateTime
from hub.store.tokens import check_scopes

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
#: Shortest password the hub accepts from a person.
MIN_PASSWORD = 10
#: Seconds a checked session is trusted before its row is read again (a live view asks every second).
SESSION_CACHE_SECONDS = 2.0

_hasher = PasswordHasher()


@functools.cache
def _nobody() -> str:
    """A hash to verify against when the username is unknown: a wrong name costs what a wrong password does."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """argon2id of ``password`` (blocking: tens of milliseconds and 64 MiB, on purpose)."""
    return _hasher.hash(password)


async def _hash(password: str) -> str:
    """argon2id of ``password``, off the event loop (it takes tens of milliseconds and 64 MiB, on purpose)."""
    return await asyncio.to_thread(_hasher.hash, password)


class UserError(InvalidInput):
    """A user cannot be made or changed as asked (a bad name, a short password, a name taken)."""

    code = "user_invalid"
    title = "The user cannot be made or changed so"


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[str] = mapped_column(Text, default="[]")
    locale: Mapped[str] = mapped_column(String(10), default="id")
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionRow(Base):
    __tablename__ = "sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class ImportedUser:
    """One row of ``pantau users import``: a person, their role, the scopes of their area, a phone."""

    username: str
    name: str
    role: Role
    scopes: list[str]
    phone: str | None


@dataclass(frozen=True)
class Session:
    """A signed-in user's session: the cookie's value (shown once), its CSRF token and its end."""

    id: str
    csrf_token: str
    expires_at: datetime
    principal: Principal
    #: The user's language for the pages (``id`` or ``en``).
    locale: str = "id"


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _principal(row: UserRow) -> Principal:
    return Principal(id=f"user:{row.username}", name=row.display_name, role=Role(row.role),
                     scopes=json.loads(row.scopes or "[]"))


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


class Users:
    def __init__(self, db: Database, idle: timedelta = timedelta(minutes=30),
                 lifetime: timedelta = timedelta(hours=12)) -> None:
        self.db = db
        #: A session unused this long ends; none lasts longer than ``lifetime``.
        self.idle, self.lifetime = idle, lifetime
        #: sha256 of a session id -> (trusted until (monotonic), its session).
        self._cache: dict[str, tuple[float, Session]] = {}

    # -- users ------------------------------------------------------------------------

    async def add_user(self, username: str, role: Role, password: str, display_name: str | None = None,
                       scopes: list[str] | None = None, locale: str = "id") -> Principal:
        if not USERNAME.fullmatch(username):
            raise UserError(f"username {username[:70]!r}: use 2-64 lower-case letters, digits, '.', '_' or '-'")
        try:
            limited = check_scopes(scopes or [])
        except ValueError as err:
            raise UserError(str(err)) from None
        row = UserRow(id=secrets.token_hex(8), username=username, display_name=display_name or username,
                      role=role.value, scopes=json.dumps(limited), locale=locale,
                      password_hash=await _hash(check_password(password)), disabled=False, created_at=utcnow())
        async with self.db.session.begin() as s:
            if await s.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
                raise UserError(f"there is a user {username!r} already")
            s.add(row)
        return _principal(row)

    async def list_users(self) -> list[dict[str, Any]]:
        """Every user (never a password or its hash), by username."""
        async with self.db.session() as s:
            rows = (await s.scalars(select(UserRow).order_by(UserRow.username))).all()
        return [{"username": r.username, "name": r.display_name, "role": r.role, "scopes": json.loads(r.scopes),
                 "locale": r.locale, "phone": r.phone, "disabled": r.disabled, "created_at": r.created_at}
                for r in rows]

    async def import_users(self, rows: list[ImportedUser], hashes: dict[str, str]) -> tuple[list[str], list[str]]:
        """Create or update ``rows`` in one transaction: new users with their password's hash from
        ``hashes``, known ones given the row's name, role, scopes and phone (their password kept).
        Returns (created, updated) usernames."""
        created, updated = [], []
        async with self.db.session.begin() as s:
            known = {r.username: r for r in (await s.scalars(
                select(UserRow).where(UserRow.username.in_([row.username for row in rows])))).all()}
            for row in rows:
                scopes = json.dumps(check_scopes(row.scopes))
                if (user := known.get(row.username)) is not None:
                    user.display_name, user.role, user.scopes, user.phone = row.name, row.role.value, scopes, row.phone
                    updated.append(row.username)
                else:
                    s.add(UserRow(id=secrets.token_hex(8), username=row.username, display_name=row.name,
                                  role=row.role.value, scopes=scopes, locale="id", phone=row.phone,
                                  password_hash=hashes[row.username], disabled=False, created_at=utcnow()))
                    created.append(row.username)
        for username in updated:  # a new role or area takes effect at once
            self._forget(f"user:{username}")
        return created, updated

    async def people(self, usernames: set[str]) -> dict[str, tuple[str, str]]:
        """The display name and role of each of ``usernames`` that is a user (one query)."""
        if not usernames:
            return {}
        async with self.db.session() as s:
            rows = (await s.execute(select(UserRow.username, UserRow.display_name, UserRow.role)
                                    .where(UserRow.username.in_(usernames)))).all()
        return {u: (name, role) for u, name, role in rows}

    async def existing(self, usernames: list[str]) -> set[str]:
        """Which of ``usernames`` are users already."""
        async with self.db.session() as s:
            return set((await s.scalars(select(UserRow.username).where(UserRow.username.in_(usernames)))).all())

    async def admins_exist(self) -> bool:
        async with self.db.session() as s:
            found = await s.scalar(select(UserRow.id).where(UserRow.role == Role.ADMIN.value).limit(1))
        return found is not None

    async def set_password(self, username: str, password: str) -> None:
        """A new password; every session of the user ends."""
        await self._change(username, password_hash=await _hash(check_password(password)))

    async def set_disabled(self, username: str, disabled: bool = True) -> None:
        """Disable (or enable) a user; disabling ends every session of the user."""
        await self._change(username, disabled=disabled)

    async def disabled_among(self, usernames: set[str]) -> set[str]:
        """Those of ``usernames`` that are disabled or no longer exist."""
        async with self.db.session() as s:
            active = set((await s.scalars(select(UserRow.username).where(
                UserRow.username.in_(usernames), UserRow.disabled.is_(False)))).all())
        return usernames - active

    async def _change(self, username: str, **values: Any) -> None:
        async with self.db.session.begin() as s:
            user_id = await s.scalar(select(UserRow.id).where(UserRow.username == username))
            if user_id is None:
                raise NotFound(f"no user {username[:70]!r}")
            await s.execute(update(UserRow).where(UserRow.id == user_id).values(**values))
            await s.execute(update(SessionRow).where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None))
                            .values(ended_at=utcnow()))
        self._forget(f"user:{username}")

    async def verify(self, username: str, password: str) -> Principal | None:
        """The user, when ``password`` is theirs and they are not disabled; None otherwise (never why)."""
        async with self.db.session() as s:
            row = await s.scalar(select(UserRow).where(UserRow.username == username[:64]))
        try:
            await asyncio.to_thread(_hasher.verify, row.password_hash if row is not None else _nobody(), password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        if _hasher.check_needs_rehash(row.password_hash):  # the parameters were raised since
            await self._change_hash(row.id, await _hash(password))
        return _principal(row)

    async def _change_hash(self, user_id: str, password_hash: str) -> None:
        async with self.db.session.begin() as s:
            await s.execute(update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash))

    # -- sessions ----------------------------------------------------------------------

    async def start_session(self, principal: Principal) -> Session:
        """A new session for a verified user."""
        username = principal.id.removeprefix("user:")
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = utcnow()
        async with self.db.session.begin() as s:
            user_id = await s.scalar(select(UserRow.id).where(UserRow.username == username))
            if user_id is None:
                raise NotFound(f"no user {username[:70]!r}")
            s.add(SessionRow(id_hash=_digest(session_id), user_id=user_id, csrf_token=csrf, created_at=now,
                             last_seen=now, expires_at=now + self.lifetime))
        return Session(session_id, csrf, now + self.lifetime, principal)

    async def session(self, session_id: str) -> Session | None:
        """The live session with this id, marked as used now; None when unknown, ended, idle too
        long, past its end, or its user is disabled."""
        key = _digest(session_id)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() < cached[0] and cached[1].expires_at > utcnow():
            return cached[1]
        self._cache.pop(key, None)
        now = utcnow()
        async with self.db.session.begin() as s:
            found = (await s.execute(select(SessionRow, UserRow).join(UserRow, UserRow.id == SessionRow.user_id)
                                     .where(SessionRow.id_hash == key))).first()
            if found is None:
                return None
            row, user = found
            if (row.ended_at is not None or user.disabled or row.expires_at <= now
                    or row.last_seen + self.idle <= now):
                return None
            await s.execute(update(SessionRow).where(SessionRow.id_hash == key).values(last_seen=now))
        live = Session(session_id, row.csrf_token, row.expires_at, _principal(user), user.locale or "id")
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + SESSION_CACHE_SECONDS, live)
        return live

    async def end_session(self, session_id: str) -> None:
        key = _digest(session_id)
        self._cache.pop(key, None)
        async with self.db.session.begin() as s:
            await s.execute(update(SessionRow).where(SessionRow.id_hash == key, SessionRow.ended_at.is_(None))
                            .values(ended_at=utcnow()))

    def _forget(self, principal_id: str) -> None:
        for key in [k for k, (_, live) in self._cache.items() if live.principal.id == principal_id]:
            del self._cache[key]
