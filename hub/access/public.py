"""The public portal and its gate: which cameras anyone may watch, and how one leaves the portal.

A camera is public when it is tagged ``public``, its owner allows it (a
government owner does unless hub.yaml says ``public: false``; a school or a
partner only when it says ``public: true``, which for a partner its
agreement decides), and an operator approved its scene: ``approve`` takes
the current picture and keeps its layout (``hub.access.scene``).  Every
picture the portal serves is compared with that layout first, and every
public camera is checked every ``public.check_seconds`` besides; one that
departs from it (an RT camera taken into a house for repair, a camera
turned to a window) leaves the portal at once, a ``public_withdrawn`` event
is raised, and it returns only on a new approval.

``PublicGate`` is also the access policy for the anonymous public
(``PUBLIC``): it allows seeing and watching live the public cameras and
nothing else; for everyone else it abstains.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.access import scene
from hub.core.errors import DeviceError, NotFound
from hub.core.models import Action, Camera, Event, EventKind, Owner, Principal, Role
from hub.core.policy import Decision, Reach
from hub.core.selectors import CameraIndex
from hub.inventory import Inventory
from hub.store.audit import AuditLog
from hub.store.scenes import APPROVED, DEPARTED, WITHDRAWN, Scenes

log = logging.getLogger("pantau.public")

#: Who an anonymous caller of the public portal is.
PUBLIC = Principal(id="public", name="the public", role=Role.PUBLIC)

PUBLIC_WITHDRAWN = EventKind.define(
    "public_withdrawn", "A camera left the public portal: its picture departed from the scene an operator approved")

#: What the public may do on a public camera.
PUBLIC_ACTIONS = {Action.VIEW_INVENTORY, Action.VIEW_LIVE}


@dataclass
class Picture:
    at: float  # time.time() when it was taken
    jpeg: bytes
    likeness: float


class PublicGate:
    name = "public"

    def __init__(self, scenes: Scenes, audit: AuditLog, inventory: Callable[[], Inventory],
                 owners: Mapping[str, Owner], snapshot: Callable[[str, float], Awaitable[bytes]],
                 publish: Callable[[Event], None], cache_seconds: float = 10.0) -> None:
        self.scenes, self.audit = scenes, audit
        self._inventory, self.owners = inventory, owners
        self._snapshot, self._publish = snapshot, publish
        self.cache_seconds = cache_seconds
        self._approved: dict[str, scene.Layout] = {}
        self._pictures: dict[str, Picture] = {}
        self._taking: dict[str, asyncio.Task[Picture | None]] = {}
        #: Called with a camera id when it leaves the portal (the live views of the public end).
        self.on_withdrawn: Callable[[str], Awaitable[None]] | None = None
        #: Checks done so far (for tests and figures).
        self.checks = 0

    async def load(self) -> None:
        self._approved = {cam: scene.from_bytes(data) for cam, data in (await self.scenes.layouts()).items()}

    # -- which cameras ------------------------------------------------------------------

    def eligible(self, camera: Camera) -> bool:
        """Tagged public, and its owner allows the portal (no owner: the city's own camera)."""
        if "public" not in camera.tags:
            return False
        owner = self.owners.get(camera.owner) if camera.owner else None
        return owner.allows_public() if owner is not None else camera.owner is None

    def is_public(self, camera: Camera) -> bool:
        return camera.id in self._approved and self.eligible(camera)

    def cameras(self) -> list[Camera]:
        """The public cameras, in the inventory's order."""
        inventory = self._inventory()
        ids = inventory.index.in_order(inventory.index.select("tag:public"))
        return [c for i in ids if (c := inventory.cameras.get(i)) is not None and self.is_public(c)]

    def last_picture_at(self, camera_id: str) -> float | None:
        found = self._pictures.get(camera_id)
        return found.at if found else None

    # -- the policy ---------------------------------------------------------------------

    def decide(self, principal: Principal, action: Action, camera: Camera | None,
               context: dict[str, Any]) -> Decision:
        if principal.role != Role.PUBLIC or camera is None or action not in PUBLIC_ACTIONS:
            return Decision.ABSTAIN
        return Decision.ALLOW if self.is_public(camera) else Decision.ABSTAIN

    def reach(self, principal: Principal, action: Action, index: CameraIndex, context: dict[str, Any]) -> Reach:
        if principal.role != Role.PUBLIC or action not in PUBLIC_ACTIONS:
            return Reach()
        return Reach(allow={c.id for c in self.cameras()})

    # -- approving and checking ---------------------------------------------------------

    async def approve(self, camera: Camera, by: Principal) -> None:
        """Approve the camera's current scene for the portal; ``NotFound`` when it is not tagged
        public or its owner does not allow it, ``DeviceError`` when no picture can be had."""
        if not self.eligible(camera):
            raise NotFound(f"camera {camera.id} is not tagged 'public' or its owner does not allow the public "
                           "portal")
        jpeg = await self._snapshot(camera.id, 10.0)
        reference = await asyncio.to_thread(scene.layout, jpeg)
        await self.scenes.approve(camera.id, scene.to_bytes(reference), by.id)
        self._approved[camera.id] = reference
        self._pictures[camera.id] = Picture(time.time(), jpeg, 1.0)
        await self.audit.record(by, "public_approve", camera.id, True, "the scene as it is now")
        log.info("camera approved for the public portal", extra={"camera": camera.id, "by": by.id})

    async def withdraw(self, camera_id: str, by: Principal) -> None:
        """Take a camera off the portal by hand (a new approval brings it back)."""
        await self.scenes.set_state(camera_id, WITHDRAWN)
        self._leave(camera_id)
        await self.audit.record(by, "public_withdraw", camera_id, True, "withdrawn by hand")
        if self.on_withdrawn is not None:
            await self.on_withdrawn(camera_id)

    def _leave(self, camera_id: str) -> None:
        self._approved.pop(camera_id, None)
        self._pictures.pop(camera_id, None)

    async def picture(self, camera: Camera) -> Picture | None:
        """A checked picture of a public camera, at most ``cache_seconds`` old; None (and the camera
        leaves the portal) when the picture departed from the approved scene."""
        found = self._pictures.get(camera.id)
        if found is not None and time.time() - found.at < self.cache_seconds:
            return found
        taking = self._taking.get(camera.id)
        if taking is None:  # one picture at a time per camera, however many ask
            taking = self._taking[camera.id] = asyncio.ensure_future(self._take(camera))
            taking.add_done_callback(lambda _: self._taking.pop(camera.id, None))
        return await asyncio.shield(taking)

    async def _take(self, camera: Camera) -> Picture | None:
        reference = self._approved.get(camera.id)
        if reference is None:
            return None
        jpeg = await self._snapshot(camera.id, 10.0)
        now = await asyncio.to_thread(scene.layout, jpeg)
        alike = scene.likeness(reference, now)
        self.checks += 1
        if camera.id not in self._approved:  # withdrawn meanwhile
            return None
        if alike < scene.DEPARTED:
            await self._depart(camera, alike)
            return None
        picture = self._pictures[camera.id] = Picture(time.time(), jpeg, alike)
        return picture

    async def _depart(self, camera: Camera, alike: float) -> None:
        self._leave(camera.id)
        await self.scenes.set_state(camera.id, DEPARTED, alike)
        reason = f"the picture departed from the approved scene (likeness {alike:.2f} < {scene.DEPARTED})"
        await self.audit.record("hub", "public_departed", camera.id, False, reason)
        log.warning("camera left the public portal: its picture departed from the approved scene",
                    extra={"camera": camera.id, "likeness": round(alike, 3)})
        self._publish(Event(camera_id=camera.id, device_id=camera.device_id, kind=PUBLIC_WITHDRAWN,
                            detail="scene departed", data={"likeness": round(alike, 3)}))
        if self.on_withdrawn is not None:
            await self.on_withdrawn(camera.id)

    async def check_all(self, concurrency: int = 4) -> dict[str, float]:
        """Check every public camera's picture now; each one's likeness (those without a picture
        are left as they are: a camera that is down shows nothing to anyone)."""
        limit = asyncio.Semaphore(concurrency)
        results: dict[str, float] = {}

        async def one(camera: Camera) -> None:
            async with limit:
                self._pictures.pop(camera.id, None)  # a fresh picture, not the cached one
                try:
                    picture = await self.picture(camera)
                except (DeviceError, NotFound, TimeoutError):
                    return
                if picture is not None:
                    results[camera.id] = picture.likeness

        await asyncio.gather(*(one(c) for c in self.cameras()))
        await self.scenes.checked(results)
        return results

    async def run(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.check_all()
            except Exception:
                log.exception("checking the public cameras' scenes failed; trying again")


__all__ = ["APPROVED", "DEPARTED", "PUBLIC", "PUBLIC_WITHDRAWN", "WITHDRAWN", "Picture", "PublicGate"]
