"""The role policy: what each built-in role may do.

``admin`` may do everything; ``operator`` may see, watch, play back, export
and move cameras; ``viewer`` may see and watch live; ``area_head`` (an RT/RW
head) may see, watch and play back, and ``watch`` (community watch, guards)
see and watch, both only within their scopes.  A principal with scopes
(``camera:<id>``, ``area:<path>`` covering sub-areas, ``tag:<tag>``) is
denied any camera outside them; a role that only makes sense within an area
(``area_head``, ``watch``, ``school_admin``, ``parent``, ``partner_owner``)
with no scope at all is denied every camera rather than given all.
``school_admin``, ``parent``, ``investigator``, ``partner_owner`` and
``public`` may do nothing here: the policies that know their classrooms,
school hours, evidence requests and agreements allow what they may (any
policy can deny; with no allow the answer is no).
"""

from __future__ import annotations

from typing import Any

from hub import Action, Camera, Decision, Principal, RegisterAccessPolicy, Role, hookimpl

ALLOWED: dict[Role, set[Action]] = {
    Role.ADMIN: set(Action),
    Role.OPERATOR: {Action.VIEW_INVENTORY, Action.VIEW_LIVE, Action.PLAY_BACK, Action.EXPORT, Action.CONTROL_PTZ},
    Role.VIEWER: {Action.VIEW_INVENTORY, Action.VIEW_LIVE},
    Role.AREA_HEAD: {Action.VIEW_INVENTORY, Action.VIEW_LIVE, Action.PLAY_BACK},
    Role.WATCH: {Action.VIEW_INVENTORY, Action.VIEW_LIVE},
}
#: Roles that mean something only within their scopes: without one they see no camera.
SCOPED = {Role.AREA_HEAD, Role.WATCH, Role.SCHOOL_ADMIN, Role.PARENT, Role.PARTNER_OWNER}


def in_scope(scopes: list[str], camera: Camera) -> bool:
    for scope in scopes:
        kind, _, value = scope.partition(":")
        if kind == "camera" and value == camera.id:
            return True
        if kind == "tag" and value in camera.tags:
            return True
        if kind == "area" and camera.area and (camera.area == value or camera.area.startswith(value + "/")):
            return True
    return False


class RolePolicy:
    name = "roles"

    def decide(self, principal: Principal, action: Action, camera: Camera | None, context: dict[str, Any]) -> Decision:
        if camera is not None and principal.scopes and not in_scope(principal.scopes, camera):
            return Decision.DENY
        if camera is not None and principal.role in SCOPED and not principal.scopes:
            return Decision.DENY
        return Decision.ALLOW if action in ALLOWED.get(principal.role, set()) else Decision.ABSTAIN


@hookimpl
def register_access_policies(register: RegisterAccessPolicy) -> None:
    register(RolePolicy())
