"""The policy engine: may this principal do this action on this camera (or other resource)?

Access policies are registered by plugins (and the hub's own grants).  Each
answers ALLOW, DENY or ABSTAIN, at once or as an awaitable; any DENY wins,
and without at least one ALLOW the answer is no.  Every decision about video
(live, playback, export, PTZ) is written to the audit log by the caller
(``hub.app.Hub.authorize``).

A decision is about a camera, or about another ``Resource`` (a recording,
an event, a report, a user, an agreement) passed in the context as
``context["resource"]``; ``context["now"]`` is the engine's clock, so a
policy with hours reads the time there (a test sets ``PolicyEngine.clock``).

Lists (``GET /api/v1/cameras``) ask ``visible``: which cameras of the whole
inventory may the principal act on?  A policy that has ``reach`` answers it
for every camera at once from the ``CameraIndex`` (a set of ids); the engine
combines the sets, so an RT head's list costs a lookup, not 14,000
decisions.  A policy without ``reach`` is asked camera by camera (correct,
and slow for a city: write a ``reach``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from hub.core.models import Action, Camera, Principal, utcnow
from hub.core.selectors import CameraIndex


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    ABSTAIN = "abstain"


@dataclass(frozen=True)
class Resource:
    """Something other than a camera that a decision is about: its kind (``recording``,
    ``event``, ``report``, ``user``, ``agreement``, ...), id, and the camera and owner it
    belongs to, when it does."""

    kind: str
    id: str
    camera: Camera | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Reach:
    """A policy's answer for every camera at once: it allows ``allow`` (or every camera,
    ``allow_all``), denies everything outside ``within`` (None: nothing) and denies ``deny``."""

    allow: Set[str] = frozenset()
    allow_all: bool = False
    within: Set[str] | None = None
    deny: Set[str] = frozenset()


class AccessPolicy(Protocol):
    """What a registered access policy provides (``reach`` is optional: see the module)."""

    name: str

    def decide(
        self, principal: Principal, action: Action, camera: Camera | None, context: dict[str, Any]
    ) -> Decision | Awaitable[Decision]: ...


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    #: The policy that decided (the one that denied, or the first that allowed).
    policy: str | None = None


@dataclass
class PolicyEngine:
    """Combines the registered policies: deny wins, no allow means deny."""

    policies: list[AccessPolicy] = field(default_factory=list)
    #: The time decisions are made at (``context["now"]``).
    clock: Callable[[], datetime] = utcnow

    def add(self, policy: AccessPolicy) -> None:
        self.policies.append(policy)

    def _context(self, context: dict[str, Any] | None) -> dict[str, Any]:
        context = dict(context or {})
        context.setdefault("now", self.clock())
        return context

    async def evaluate(
        self,
        principal: Principal,
        action: Action,
        camera: Camera | None = None,
        context: dict[str, Any] | None = None,
    ) -> Verdict:
        context = self._context(context)
        allowed_by: str | None = None
        for policy in self.policies:
            decision = policy.decide(principal, action, camera, context)
            if inspect.isawaitable(decision):
                decision = await decision
            if decision == Decision.DENY:
                return Verdict(False, f"denied by {policy.name}", policy.name)
            if decision == Decision.ALLOW and allowed_by is None:
                allowed_by = policy.name
        if allowed_by is None:
            return Verdict(False, "no policy allows it")
        return Verdict(True, f"allowed by {allowed_by}", allowed_by)

    async def visible(self, principal: Principal, action: Action, cameras: Mapping[str, Camera],
                      index: CameraIndex, context: dict[str, Any] | None = None) -> list[str]:
        """The ids of the cameras ``principal`` may do ``action`` on, in the inventory's order."""
        context = self._context(context)
        reaches: list[Reach] = []
        for policy in self.policies:
            reach = getattr(policy, "reach", None)
            answer = reach(principal, action, index, context) if reach is not None else None
            if inspect.isawaitable(answer):
                answer = await answer
            if answer is None:  # a policy that cannot say at once: ask every camera
                return [c for c in index.order if c in cameras
                        and (await self.evaluate(principal, action, cameras[c], context)).allowed]
            reaches.append(answer)
        if any(r.allow_all for r in reaches):
            found = set(index.every)
        else:
            found = set()
            for r in reaches:
                found |= r.allow
        for r in reaches:
            if r.within is not None:
                found &= r.within
            found -= r.deny
        return index.in_order(found)
