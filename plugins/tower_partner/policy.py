"""The access policy of partner cameras: only what the agreement permits, when it permits it.

A partner camera is one tagged ``partner:<id>`` (every camera of an approved
device is).  It governs the picture (live, recorded, PTZ); seeing that the
camera exists and reading the audit log about it it leaves to the other
policies.  For others than the partner's own accounts it only ever denies
(the roles and grants allow): with no agreement in force, the picture; outside
the agreement's sharing hours, live view; live view for the city's operators
without ``city_live``, for area heads and community watch without
``area_heads`` live; playback and export only for area heads with
``area_heads: playback`` and never while ``evidence_on_request`` holds (then
recordings leave only through an approved evidence request, whose bundle
the custody makes without asking this); the public portal without
``public_portal``; nothing of a camera whose sharing its owner switched off
("stop sharing now"); nothing of a camera whose agreement requires privacy
masks before they are set (``masks_required``).  The partner's own accounts (``partner_owner`` scoped
``tag:partner:<id>``) it allows to see, watch and play back their own
cameras and read who watched them, whatever the agreement says.  The agreements come from
``Sharing.sync`` every 1.5 s, so a suspension denies within that, before its
cameras even leave the inventory.
"""

from __future__ import annotations

from typing import Any

from hub import Action, Camera, CameraIndex, Decision, Principal, Reach, Role, Schedule
from plugins.tower_partner.models import Agreement, AgreementState, AreaHeads

TAG = "partner:"
#: What the agreement governs: the picture, live or recorded, and moving the camera.  The rest
#: (that the camera exists, where, and the audit log about it) it leaves to the other policies.
VIDEO = {Action.VIEW_LIVE, Action.PLAY_BACK, Action.EXPORT, Action.CONTROL_PTZ, Action.LIFT_MASK}
#: What a partner's own accounts may do with their cameras.
OWNERS = {Action.VIEW_INVENTORY, Action.VIEW_LIVE, Action.PLAY_BACK, Action.EXPORT, Action.READ_AUDIT}
NEIGHBOURHOOD = {Role.AREA_HEAD, Role.WATCH}
RECORDED = {Action.PLAY_BACK, Action.EXPORT}


def partner_of(camera: Camera) -> str | None:
    return next((t.removeprefix(TAG) for t in camera.tags if t.startswith(TAG)), None)


class AgreementPolicy:
    name = "tower_partner"

    def __init__(self) -> None:
        #: Each partner's agreement in force or in progress (``Sharing.sync`` keeps it).
        self.agreements: dict[str, Agreement] = {}
        #: Cameras whose sharing is switched off (``Sharing.sync`` keeps them).
        self.paused: set[str] = set()
        #: Cameras whose agreement requires privacy masks and that have none yet (``Sharing.sync``).
        self.unmasked: set[str] = set()

    @staticmethod
    def owns(principal: Principal, partner: str) -> bool:
        return principal.role == Role.PARTNER_OWNER and f"tag:{TAG}{partner}" in principal.scopes

    def refusal(self, principal: Principal, action: Action, partner: str, now: Any) -> str | None:
        """Why the agreement of ``partner`` does not permit ``action`` to ``principal`` now, or None."""
        if self.owns(principal, partner):
            return None
        agreement = self.agreements.get(partner)
        if principal.role == Role.PUBLIC and (agreement is None or agreement.state != AgreementState.ACTIVE
                                              or not agreement.uses.public_portal):
            return f"the agreement of {partner} keeps its cameras off the public portal"  # not even listed
        if action not in VIDEO:
            return None
        if agreement is None or agreement.state != AgreementState.ACTIVE:
            return f"the partnership agreement of {partner} is not in force"
        uses = agreement.uses
        if action == Action.VIEW_LIVE:
            if uses.sharing_hours and not Schedule.parse(uses.sharing_hours, uses.time_zone).is_open(now):
                return f"{partner} shares its cameras {uses.sharing_hours} ({uses.time_zone}) only"
            if principal.role in NEIGHBOURHOOD and uses.area_heads == AreaHeads.NONE:
                return f"the agreement of {partner} does not share its cameras with area heads"
            if principal.role not in NEIGHBOURHOOD | {Role.PUBLIC} and not uses.city_live:
                return f"the agreement of {partner} does not let the city watch live"
        if action in RECORDED:
            if uses.evidence_on_request:
                return f"recordings of {partner} leave only on an approved evidence request"
            if principal.role in NEIGHBOURHOOD and uses.area_heads != AreaHeads.PLAYBACK:
                return f"the agreement of {partner} does not let area heads play back"
        return None

    def decide(self, principal: Principal, action: Action, camera: Camera | None,
               context: dict[str, Any]) -> Decision:
        partner = partner_of(camera) if camera is not None else None
        if partner is None or camera is None:
            return Decision.ABSTAIN
        if self.owns(principal, partner):
            return Decision.ALLOW if action in OWNERS else Decision.ABSTAIN
        if (camera.id in self.paused or camera.id in self.unmasked) and action in VIDEO:
            return Decision.DENY  # its owner stopped sharing it, or its masks are not set yet
        return Decision.DENY if self.refusal(principal, action, partner, context["now"]) else Decision.ABSTAIN

    def reach(self, principal: Principal, action: Action, index: CameraIndex, context: dict[str, Any]) -> Reach:
        denied: set[str] = set()
        allowed: set[str] = set()
        for partner in {t.removeprefix(TAG) for t in index.tags() if t.startswith(TAG)}:
            cameras = index.select_any([f"tag:{TAG}{partner}"])
            if self.owns(principal, partner):
                allowed |= cameras if action in OWNERS else set()
            elif self.refusal(principal, action, partner, context["now"]) is not None:
                denied |= cameras
            elif action in VIDEO:
                denied |= cameras & (self.paused | self.unmasked)
        return Reach(allow=allowed, deny=denied)


#: The policy the plugin registers; ``Sharing`` hands it the agreements.
POLICY = AgreementPolicy()
