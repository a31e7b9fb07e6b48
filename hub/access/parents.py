"""Parents (Balikpapan): personal, expiring, revocable access to their child's classroom, live only.

``invite`` makes the parent's account (role ``parent``, a password nobody
knows yet), a grant of ``view_live`` on the classroom's cameras (its site
and tag together) inside the classroom's school hours until the date given,
with nothing recorded before today in reach, and a single-use invitation
good for 7 days; the parent opens its link and sets a password.  A
classroom without a consent basis opens to no parent.  ``revoke`` ends it
all at once: the grant, the account, any open invitation.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from hub.core.models import Action, Principal, Role, utcnow
from hub.store import Store
from hub.store.schools import SchoolError
from hub.store.users import MIN_PASSWORD, UserError, check_password


@dataclass(frozen=True)
class Invitation:
    username: str
    token: str  # shown once, in the link
    expires_at: datetime
    grant_id: str
    until: datetime

    def link(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/invite/{self.token}"


def username_for(name: str) -> str:
    """``ortu.sari-wulandari`` of "Ibu Sari Wulandari": plain letters, no titles of address."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", plain) if w and w not in {"ibu", "bapak", "pak", "bu", "mr", "mrs"}]
    return ("ortu." + "-".join(words))[:56] if words else "ortu"


async def invite(store: Store, by: Principal, site: str, classroom: str, name: str, until: datetime,
                 username: str | None = None) -> Invitation:
    """Invite a parent to ``classroom`` of ``site`` until ``until``; ``SchoolError`` when the classroom
    has no consent basis or ``until`` has passed."""
    classroom_id, room = await store.schools.classroom(site, classroom)
    if not room.consent:
        raise SchoolError(f"classroom {classroom} at {site} has no consent basis recorded, so it opens to no "
                          f"parent; record it first: pantau classroom add {site} {classroom} --consent REF")
    if until <= utcnow():
        raise SchoolError("--until is a day to come: the last day of the parent's access")
    if not name.strip():
        raise SchoolError("a parent has a name")
    if username is None:
        base = username_for(name)
        taken = await store.users.existing([base] + [f"{base}{n}" for n in range(2, 50)])
        username = next((u for u in [base] + [f"{base}{n}" for n in range(2, 50)] if u not in taken), None)
        if username is None:
            raise UserError(f"choose a username for {name[:60]!r} (--username): the usual ones are taken")
    await store.users.add_user(username, Role.PARENT, secrets.token_urlsafe(24), name.strip()[:200])
    grant = await store.grants.add(f"user:{username}", [Action.VIEW_LIVE], [room.selector], created_by=by.id,
                                   hours=room.hours, time_zone=room.time_zone, valid_until=until,
                                   history_from=utcnow(), note=f"parent, classroom {classroom} at {site}")
    token, expires = await store.schools.add_invite(username, classroom_id, grant.id, by.id)
    await store.audit.record(by, "parent_invite", None, True,
                             f"{username} to classroom {classroom} at {site} until {until.date().isoformat()}")
    return Invitation(username, token, expires, grant.id, until)


async def accept(store: Store, token: str, password: str) -> str:
    """Set the invited parent's password with the invitation (used once); the username."""
    await store.schools.invite(token)  # refused before the password is judged: a used link says so
    check_password(password)
    username = await store.schools.use_invite(token)
    await store.users.set_password(username, password)
    await store.audit.record(Principal(id=f"user:{username}", role=Role.PARENT), "invite_accepted", None, True, "")
    return username


async def revoke(store: Store, by: Principal, username: str) -> int:
    """End a parent's access: every grant, the account, open invitations; how many grants ended."""
    if not await store.schools.parents(username=username):
        raise SchoolError(f"{username[:64]!r} is no parent invited here (pantau parent list)")
    ended = await store.grants.revoke_of(f"user:{username}", by.id)
    await store.users.set_disabled(username, True)
    await store.schools.withdraw_invites(username)
    await store.audit.record(by, "parent_revoke", None, True, f"{username}: {ended} grants ended")
    return ended


__all__ = ["MIN_PASSWORD", "Invitation", "accept", "invite", "revoke", "username_for"]
