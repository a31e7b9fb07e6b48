"""The policy engine: may this principal do this action on this camera?

Access policies are registered by plugins.  Each answers ALLOW, DENY or
ABSTAIN; any DENY wins, and without at least one ALLOW the answer is no.
Every decision about video (live, playback, export) is written to the audit
log by the caller (``hub.app.Hub.authorize``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from hub.core.models import Action, Camera, Principal


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    ABSTAIN = "abstain"


class AccessPolicy(Protocol):
    """What a registered access policy provides."""

    name: str

    def decide(
        self, principal: Principal, action: Action, camera: Camera | None, context: dict[str, Any]
    ) -> Decision: ...


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str


class PolicyEngine:
    """Combines the registered policies: deny wins, no allow means deny."""

    def __init__(self, policies: list[AccessPolicy]) -> None:
        self.policies = list(policies)

    def evaluate(
        self,
        principal: Principal,
        action: Action,
        camera: Camera | None = None,
        context: dict[str, Any] | None = None,
    ) -> Verdict:
        context = context or {}
        allowed_by: str | None = None
        for policy in self.policies:
            decision = policy.decide(principal, action, camera, context)
            if decision == Decision.DENY:
                return Verdict(False, f"denied by {policy.name}")
            if decision == Decision.ALLOW and allowed_by is None:
                allowed_by = policy.name
        if allowed_by is None:
            return Verdict(False, "no policy allows it")
        return Verdict(True, f"allowed by {allowed_by}")
