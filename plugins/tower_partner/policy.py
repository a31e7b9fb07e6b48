"""The access policy of partner cameras: only what the agreement permits, when it permits it.

A partner camera is one tagged ``partner:<id>`` (every camera of an approved
device is).  The policy only ever denies (the roles and grants allow): with
no agreement in force, everything but seeing that the camera exists; outside
the agreement's sharing hours, live view; live view for the city's operators
without ``city_live``, for area heads and community watch without
``area_heads`` live; playback and export only for area heads with
``area_heads: playback`` and never while ``evidence_on_request`` holds (then
recordings leave only through an approved evidence request, whose bundle
the custody makes without asking this); the public portal without
``public_portal``.  The partner's own accounts (``partner_owner`` scoped
``tag:partner:<id>``) are not held back by it.  The agreements come from
``Sharing.sync`` every 1.5 s, so a suspension denies within that, before its
cameras even leave the inventory.
"""

from __future__ import annotations

from typing import Any

from hub import Action, Camera, CameraIndex, Decision, Principal, Reach, Role, Schedule
from plugins.tower_partner.models import Agreement, AgreementState, AreaHeads

TAG = "partner:"
#: What is always allowed to be known of a partner camera: that it exists (and where).
OPEN = {Action.VIEW_INVENTORY}
NEIGHBOURHOOD = {Role.AREA_HEAD, Role.WATCH}
RECORDED = {Action.PLAY_BACK, Action.EXPORT}


def partner_of(camera: Camera) -> str | None:
    return next((t.removeprefix(TAG) for t in camera.tags if t.startswith(TAG)), None)


class AgreementPolicy:
    name = "tower_partner"

    def __init__(self) -> None:
        #: Each partner's agreement in force or in progress (``Sharing.sync`` keeps it).
        self.agreements: dict[str, Agreement] = {}

    def refusal(self, principal: Principal, action: Action, partner: str, now: Any) -> str | None:
        """Why the agreement of ``partner`` does not permit ``action`` to ``principal`` now, or None."""
        if action in OPEN or (principal.role == Role.PARTNER_OWNER and f"tag:{TAG}{partner}" in principal.scopes):
            return None
        agreement = self.agreements.get(partner)
        if agreement is None or agreement.state != AgreementState.ACTIVE:
            return f"the partnership agreement of {partner} is not in force"
        uses = agreement.uses
        if action == Action.VIEW_LIVE:
            if uses.sharing_hours and not Schedule.parse(uses.sharing_hours, uses.time_zone).is_open(now):
                return f"{partner} shares its cameras {uses.sharing_hours} ({uses.time_zone}) only"
            if principal.role == Role.PUBLIC and not uses.public_portal:
                return f"the agreement of {partner} keeps its cameras off the public portal"
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
        if partner is None:
            return Decision.ABSTAIN
        return Decision.DENY if self.refusal(principal, action, partner, context["now"]) else Decision.ABSTAIN

    def reach(self, principal: Principal, action: Action, index: CameraIndex, context: dict[str, Any]) -> Reach:
        denied: set[str] = set()
        for partner in {t.removeprefix(TAG) for t in index.tags() if t.startswith(TAG)}:
            if self.refusal(principal, action, partner, context["now"]) is not None:
                denied |= index.select_any([f"tag:{TAG}{partner}"])
        return Reach(deny=denied)


#: The policy the plugin registers; ``Sharing`` hands it the agreements.
POLICY = AgreementPolicy()
