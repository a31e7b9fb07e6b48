"""The role policy: what admins, operators and viewers may do.

``admin`` may do everything; ``operator`` may see, watch, play back, export
and move cameras; ``viewer`` may see and watch live.  A principal with scopes
(``camera:<id>``, ``area:<path>`` covering sub-areas, ``tag:<tag>``) is
denied any camera outside them.  Other plugins add finer policies (school
hours for parents, partner sharing rules); any of them can deny.
"""

from __future__ import annotations

from typing import Any

from hub import Action, Camera, Decision, Principal, RegisterAccessPolicy, Role, hookimpl

ALLOWED: dict[Role, set[Action]] = {
    Role.ADMIN: set(Action),
    Role.OPERATOR: {Action.VIEW_INVENTORY, Action.VIEW_LIVE, Action.PLAY_BACK, Action.EXPORT, Action.CONTROL_PTZ},
    Role.VIEWER: {Action.VIEW_INVENTORY, Action.VIEW_LIVE},
}


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
        return Decision.ALLOW if action in ALLOWED.get(principal.role, set()) else Decision.ABSTAIN


@hookimpl
def register_access_policies(register: RegisterAccessPolicy) -> None:
    register(RolePolicy())
