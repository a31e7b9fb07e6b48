"""The role policy: what each built-in role may do.

``admin`` may do everything; ``operator`` may see, watch, play back, export
and move cameras; ``viewer`` may see and watch live; ``area_head`` (an RT/RW
head) may see, watch and play back, and ``watch`` (community watch, guards)
see and watch, both only within their scopes; both may ask for new cameras in
their area (``request_camera`` on an ``area`` resource), which operators answer
(``plan_cameras``).  A principal with scopes
(``camera:<id>``, ``area:<path>`` covering sub-areas, ``tag:<tag>``) is
denied any camera outside them; a role that only makes sense within an area
(``area_head``, ``watch``, ``school_admin``, ``parent``, ``partner_owner``)
with no scope at all gets no camera from its role rather than all (a grant
may still give it some: a parent's classroom).
``school_admin``, ``parent``, ``investigator``, ``partner_owner`` and
``public`` may do nothing here: the policies that know their classrooms,
school hours, evidence requests and agreements (the hub's grants, the
evidence and partner plugins) allow what they may (any
policy can deny; with no allow the answer is no).
"""

from __future__ import annotations

from typing import Any

from hub import (
    Action,
    Camera,
    CameraIndex,
    Decision,
    Principal,
    Reach,
    RegisterAccessPolicy,
    Resource,
    Role,
    hookimpl,
    selects_any,
)

ALLOWED: dict[Role, set[Action]] = {
    Role.ADMIN: set(Action),
    Role.OPERATOR: {Action.VIEW_INVENTORY, Action.VIEW_LIVE, Action.PLAY_BACK, Action.EXPORT, Action.CONTROL_PTZ,
                    Action.MANAGE_PARENTS, Action.READ_AUDIT, Action.REQUEST_EVIDENCE, Action.APPROVE_EVIDENCE,
                    Action.REQUEST_CAMERA, Action.PLAN_CAMERAS},
    Role.VIEWER: {Action.VIEW_INVENTORY, Action.VIEW_LIVE},
    Role.AREA_HEAD: {Action.VIEW_INVENTORY, Action.VIEW_LIVE, Action.PLAY_BACK, Action.REQUEST_CAMERA},
    Role.WATCH: {Action.VIEW_INVENTORY, Action.VIEW_LIVE, Action.REQUEST_CAMERA},
    Role.SCHOOL_ADMIN: {Action.VIEW_INVENTORY, Action.MANAGE_PARENTS, Action.READ_AUDIT},
    #: Police liaison: sees what cameras there are and files requests; nothing live, no playback.
    Role.INVESTIGATOR: {Action.VIEW_INVENTORY, Action.REQUEST_EVIDENCE},
}
#: Roles that mean something only within their scopes: without one their role gives them no camera.
SCOPED = {Role.AREA_HEAD, Role.WATCH, Role.SCHOOL_ADMIN, Role.PARENT, Role.PARTNER_OWNER}


class RolePolicy:
    name = "roles"

    def decide(self, principal: Principal, action: Action, camera: Camera | None, context: dict[str, Any]) -> Decision:
        resource = context.get("resource")
        if camera is None and isinstance(resource, Resource) and resource.kind == "site":
            if principal.scopes and f"site:{resource.id}" not in principal.scopes:
                return Decision.DENY  # a school admin manages their own school, not the next one
            if principal.role in SCOPED and not principal.scopes:
                return Decision.ABSTAIN
        if camera is None and isinstance(resource, Resource) and resource.kind == "area":
            if principal.scopes and not any(in_area(resource.id, scope) for scope in principal.scopes):
                return Decision.DENY  # an RT head asks for cameras in their own RT
            if principal.role in SCOPED and not principal.scopes:
                return Decision.ABSTAIN
        if camera is not None and principal.scopes and not selects_any(principal.scopes, camera):
            return Decision.DENY
        if camera is not None and principal.role in SCOPED and not principal.scopes:
            return Decision.ABSTAIN  # a grant may still allow it (a parent's classroom)
        return Decision.ALLOW if action in ALLOWED.get(principal.role, set()) else Decision.ABSTAIN

    def reach(self, principal: Principal, action: Action, index: CameraIndex, context: dict[str, Any]) -> Reach:
        within = index.select_any(principal.scopes) if principal.scopes else None
        if principal.role in SCOPED and not principal.scopes:
            return Reach()
        return Reach(allow_all=action in ALLOWED.get(principal.role, set()), within=within)


def in_area(area: str, scope: str) -> bool:
    """Whether ``area`` (a path) is inside the area a scope (``area:<path>``) names."""
    inside = scope.removeprefix("area:")
    return scope.startswith("area:") and (area == inside or area.startswith(inside + "/"))


@hookimpl
def register_access_policies(register: RegisterAccessPolicy) -> None:
    register(RolePolicy())
