"""The grants policy: allows what a principal's live grants give it (``hub.store.grants``).

``GrantPolicy`` holds the grants in memory, by principal, and reloads them
when the table changes (``refresh``, which the hub calls every second: a
``pantau grant revoke`` in another process takes effect within it).  It
never denies: scopes, and any plugin's deny, still win over a grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.access.schedule import Schedule
from hub.core.models import Action, Camera, Principal
from hub.core.policy import Decision, Reach
from hub.core.selectors import CameraIndex, selects
from hub.store.grants import RECORDED, Grant, Grants


@dataclass
class _Live:
    grant: Grant
    schedule: Schedule | None


class GrantPolicy:
    """Allows what a principal's live grants give it; never denies (``Decision.ABSTAIN`` otherwise).

    A grant of any action on a camera also shows the camera in the principal's list
    (``view_inventory``), outside its hours too: a parent sees the classroom, and when it opens."""

    name = "grants"

    def __init__(self, grants: Grants) -> None:
        self.grants = grants
        self._by_principal: dict[str, list[_Live]] = {}
        self._revision: tuple[int, datetime | None] | None = None

    async def refresh(self) -> bool:
        """Reload the grants when the table changed; whether it did."""
        revision = await self.grants.revision()
        if revision == self._revision:
            return False
        by: dict[str, list[_Live]] = {}
        for grant in await self.grants.list():
            by.setdefault(grant.principal, []).append(_Live(grant, grant.schedule()))
        self._by_principal, self._revision = by, revision
        return True

    def _applying(self, principal: Principal, action: Action, context: dict[str, Any],
                  history: bool = True) -> list[Grant]:
        """The grants that give ``principal`` ``action`` now; with ``history``, for footage recorded
        at ``context["recorded_from"]`` (playback asked without one is refused by a floor)."""
        now: datetime = context["now"]
        found = []
        for live in self._by_principal.get(principal.id, ()):
            grant = live.grant
            if not grant.live_at(now):
                continue
            if action == Action.VIEW_INVENTORY and action not in grant.actions:
                found.append(grant)  # any grant on a camera shows it in the list, in hours or not
                continue
            if action not in grant.actions:
                continue
            if live.schedule is not None and not live.schedule.is_open(now):
                continue
            if history and action in RECORDED and grant.history_from is not None:
                recorded: datetime | None = context.get("recorded_from")
                if recorded is None or recorded < grant.history_from:
                    continue
            found.append(grant)
        return found

    def decide(self, principal: Principal, action: Action, camera: Camera | None,
               context: dict[str, Any]) -> Decision:
        if camera is None:
            return Decision.ABSTAIN
        for grant in self._applying(principal, action, context):
            if any(selects(s, camera) for s in grant.cameras):
                return Decision.ALLOW
        return Decision.ABSTAIN

    def reach(self, principal: Principal, action: Action, index: CameraIndex, context: dict[str, Any]) -> Reach:
        allowed: set[str] = set()  # a list of recordings is clipped to the floor, not refused by it
        for grant in self._applying(principal, action, context, history=False):
            allowed |= index.select_any(grant.cameras)
        return Reach(allow=allowed)

    def history_floor(self, principal: Principal, camera: Camera, now: datetime) -> datetime | None:
        """The earliest footage of ``camera`` a grant lets ``principal`` play back (None: no floor
        from grants, or no grant for it)."""
        floors = [live.grant.history_from for live in self._by_principal.get(principal.id, ())
                  if Action.PLAY_BACK in live.grant.actions and live.grant.live_at(now)
                  and any(selects(s, camera) for s in live.grant.cameras)]
        if not floors or any(f is None for f in floors):
            return None
        return min(f for f in floors if f is not None)

    def opens_at(self, principal: Principal, action: Action, camera: Camera, now: datetime) -> datetime | None:
        """When a grant of ``principal`` next lets it do ``action`` on ``camera`` (for "opens at
        07:00"); None when none will."""
        times = []
        for live in self._by_principal.get(principal.id, ()):
            grant = live.grant
            if action not in grant.actions or grant.revoked_at is not None:
                continue
            if not any(selects(s, camera) for s in grant.cameras):
                continue
            start = max(now, grant.valid_from) if grant.valid_from else now
            opening = live.schedule.next_opening(start) if live.schedule else start
            if opening is not None and (grant.valid_until is None or opening < grant.valid_until):
                times.append(opening)
        return min(times) if times else None
