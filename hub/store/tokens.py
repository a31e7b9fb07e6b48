"""API tokens: made on the command line, checked on every request, revocable.

Only a token's SHA-256 is stored.  A token is ``pt_<id>_<secret>``: the id
finds the row, the secret is compared in constant time.  A token is a
service's (its own role and scopes; its principal ``token:<id>``) or a
user's (``owner``): a user's token acts as the user (``user:<name>``, the
user's role and grants, the user's scopes narrowed by the token's) and stops
working when the user is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, Text, column, select, table, update
from sqlalchemy.orm import Mapped, mapped_column

from hub.core.models import Principal, Role, utcnow
from hub.core.selectors import check_selector
from hub.store.database import Base, Database, UTCDateTime

TOKEN_PREFIX = "pt"
#: Seconds a verified token is trusted without a database lookup (``Tokens.principal_for_token``).
TOKEN_CACHE_SECONDS = 10.0
#: Verified tokens remembered at most; past it the memory starts afresh.
TOKEN_CACHE_SIZE = 10_000


def check_scopes(scopes: list[str]) -> list[str]:
    """``scopes`` as given (selectors: ``camera:ID``, ``area:PATH``, ``site:ID``, ``tag:TAG``, or
    terms joined with ``&``; ``hub.core.selectors``), or ``ValueError`` naming the first that is not."""
    for scope in scopes:
        check_selector(scope)
    return list(dict.fromkeys(scopes))


class TokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: JSON list of scopes (``camera:<id>``, ``area:<path>``, ``tag:<tag>``); empty: every camera its role may.
    scopes: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    #: The user it acts for (a username); None: a service's token.
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)


#: The users table, as much of it as a token of a user needs (hub.store.users owns it).
_users = table("users", column("username", String), column("display_name", String), column("role", String),
               column("scopes", Text), column("disabled", Boolean))


def narrowed(user_scopes: list[str], token_scopes: list[str]) -> list[str]:
    """What a user's token may reach: the user's scopes narrowed by the token's (either alone when
    the other is empty; otherwise every pair joined with ``&``, terms beyond four refused)."""
    if not user_scopes or not token_scopes:
        return list(user_scopes or token_scopes)
    return check_scopes([f"{u}&{t}" for u in user_scopes for t in token_scopes])


def _hash(secret: str) -> str:
    # Tokens are 256-bit random values, so a plain SHA-256 is enough (no
    # password stretching needed) and keeps every API request cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


class Tokens:
    def __init__(self, db: Database) -> None:
        self.db = db
        #: sha256 of a verified token -> (trusted until (monotonic), its expiry, who it is, its id).
        self._cache: dict[str, tuple[float, datetime | None, Principal, str]] = {}

    async def create_token(self, role: Role, name: str | None = None, expires_at: datetime | None = None,
                           scopes: list[str] | None = None, owner: str | None = None) -> str:
        """Create a bearer token; only its hash is stored.  Returns the token.

        ``scopes`` limit it to some cameras (``check_scopes``); a token with scopes
        sees, watches and plays back nothing outside them, whatever its role.  With
        ``owner`` (a username) it acts as that user (``role`` is then the user's, as it
        is when the token is used); ``LookupError`` when there is no such user."""
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        limited = check_scopes(scopes or [])
        async with self.db.session.begin() as s:
            if owner is not None:
                user = (await s.execute(select(_users.c.role, _users.c.scopes)
                                        .where(_users.c.username == owner))).first()
                if user is None:
                    raise LookupError(f"no user {owner[:64]!r}")
                narrowed(json.loads(user.scopes or "[]"), limited)  # refused now, not at each use
                role = Role(user.role)
            s.add(TokenRow(id=token_id, name=name, role=role.value, secret_hash=_hash(secret), owner=owner,
                           created_at=utcnow(), expires_at=expires_at, scopes=json.dumps(limited)))
        return f"{TOKEN_PREFIX}_{token_id}_{secret}"

    async def principal_for_token(self, token: str) -> Principal | None:
        """Who ``token`` is, or None when it is unknown, wrong, expired or revoked.

        A token that checked out is trusted for ``TOKEN_CACHE_SECONDS`` without asking
        the database again: a live viewer fetches a playlist or a segment every second
        or two, and a lookup costs more than serving the file.  Revoking through this
        store ends that at once; a revocation by another process (``pantau token
        revoke``, another node) takes effect within those seconds.
        """
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        key = _hash(token)  # never the token itself in memory longer than the request
        if (who := self._trusted(key)) is not None:
            return who
        self._cache.pop(key, None)
        now = time.monotonic()
        async with self.db.session() as s:
            row = await s.get(TokenRow, parts[1])
            user = None if row is None or row.owner is None else (await s.execute(
                select(_users).where(_users.c.username == row.owner))).first()
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= utcnow():
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(parts[2])):
            return None
        scopes = json.loads(row.scopes or "[]")
        if row.owner is None:
            who = Principal(id=f"token:{row.id}", name=row.name, role=Role(row.role), scopes=scopes)
        elif user is None or user.disabled:
            return None  # the user is gone or disabled: so are their tokens
        else:
            who = Principal(id=f"user:{row.owner}", name=f"{user.display_name} (token {row.id})",
                            role=Role(user.role), scopes=narrowed(json.loads(user.scopes or "[]"), scopes))
        if len(self._cache) >= TOKEN_CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = (now + TOKEN_CACHE_SECONDS, row.expires_at, who, row.id)
        return who

    def recently_verified(self, token: str) -> bool:
        """Whether ``token`` checked out within ``TOKEN_CACHE_SECONDS`` (no database lookup)."""
        return self._trusted(_hash(token)) is not None

    def _trusted(self, key: str) -> Principal | None:
        """Who the token with hash ``key`` is, while its check is fresh and it has not expired."""
        cached = self._cache.get(key)
        if cached is None:
            return None
        until, expires_at, who, _ = cached
        return who if time.monotonic() < until and (expires_at is None or expires_at > utcnow()) else None

    async def list_tokens(self, include_ended: bool = False) -> list[dict[str, Any]]:
        """Every token's id, name, role and dates, oldest first (never a secret or its hash);
        without ``include_ended`` only those neither revoked nor expired."""
        q = select(TokenRow).order_by(TokenRow.created_at)
        if not include_ended:
            q = q.where(TokenRow.revoked_at.is_(None),
                        TokenRow.expires_at.is_(None) | (TokenRow.expires_at > utcnow()))
        async with self.db.session() as s:
            rows = (await s.scalars(q)).all()
        return [{"id": r.id, "name": r.name, "role": r.role, "owner": r.owner, "scopes": json.loads(r.scopes or "[]"),
                 "created_at": r.created_at, "expires_at": r.expires_at, "revoked_at": r.revoked_at} for r in rows]

    async def revoke_token(self, token_id: str) -> bool:
        async with self.db.session.begin() as s:
            live = (TokenRow.id == token_id) & TokenRow.revoked_at.is_(None)
            result = await s.execute(update(TokenRow).where(live).values(revoked_at=utcnow()))
        for key in [k for k, cached in self._cache.items() if cached[3] == token_id]:
            del self._cache[key]
        return bool(result.rowcount)  # type: ignore[attr-defined]
