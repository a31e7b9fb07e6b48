"""Access kept up to date while the hub runs: live views ended when their access ends, the audit
log's repeats written out, and its hourly checkpoint.

``AccessWatch.run`` every second reloads changed grants, ends the live views whose access has
ended (a grant revoked or past its hours, a user disabled) so a picture stops within seconds and
not at the viewer's next idle timeout, and writes the audit log's ended windows of repeats.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from hub.access.grants import GrantPolicy
from hub.access.public import PUBLIC
from hub.core.models import Action, utcnow
from hub.core.policy import PolicyEngine
from hub.inventory import Inventory
from hub.live import LiveViews
from hub.store import Store

log = logging.getLogger("pantau")


class AccessWatch:
    def __init__(self, policy: PolicyEngine, grants: GrantPolicy, store: Store, inventory: Inventory,
                 live: LiveViews, data_dir: Path) -> None:
        self.policy, self.grants, self.store = policy, grants, store
        self.inventory, self.live, self.data_dir = inventory, live, data_dir

    async def run(self, every: float = 1.0) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.grants.refresh()
                await self.end_refused_views()
                await self.store.audit.flush()
            except Exception:
                log.exception("re-checking access failed; trying again")

    async def end_refused_views(self) -> None:
        viewers = list(self.live.viewers.values())
        if not viewers:
            return
        users = {v.principal.id.removeprefix("user:") for v in viewers if v.principal.id.startswith("user:")}
        disabled = {f"user:{name}" for name in await self.store.users.disabled_among(users)} if users else set()
        ended = []
        for viewer in viewers:
            camera = self.inventory.cameras.get(viewer.camera_id)
            if camera is None:
                continue  # the viewers' own expiry drops views of cameras that are gone
            if viewer.principal.id in disabled:
                reason = "the user was disabled"
            else:
                verdict = await self.policy.evaluate(viewer.principal, Action.VIEW_LIVE, camera)
                if verdict.allowed:
                    continue
                reason = verdict.reason
            ended.append(viewer.id)
            await self.store.audit.record(viewer.principal, "live_ended", camera.id, False, reason)
        if ended:
            await self.live.end(ended)

    async def end_public_views(self, camera_id: str) -> None:
        """End the public's live views of a camera that left the portal (at once, not at the next check)."""
        await self.live.end([v.id for v in self.live.viewers.values()
                             if v.principal.id == PUBLIC.id and v.camera_id == camera_id])

    async def audit_checkpoint(self) -> tuple[int, str] | None:
        """Every hour: the audit log's head, logged (so it leaves the hub with the logs) and appended
        to ``<data_dir>/audit-checkpoints``; ``pantau audit verify --expect ID:HASH`` takes one back."""
        await self.store.audit.flush()
        head = await self.store.audit.head()
        if head is None:
            return None
        line = f"{utcnow().isoformat(timespec='seconds')} {head[0]}:{head[1]}\n"

        def keep() -> None:
            with (self.data_dir / "audit-checkpoints").open("a", encoding="utf-8") as out:
                out.write(line)

        await asyncio.to_thread(keep)
        log.info("audit checkpoint", extra={"checkpoint": f"{head[0]}:{head[1]}"})
        return head
