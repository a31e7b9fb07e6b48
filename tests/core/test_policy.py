"""Access policies: deny wins, no allow means deny; the role policy's rules."""

from __future__ import annotations

from hub.core.models import Action, Camera, Principal, Role
from hub.core.policy import Decision, PolicyEngine
from plugins.roles import RolePolicy

CAM = Camera(id="demo:X:1", device_id="demo:X", channel=1, name="Kelas 7A", tags=["classroom:7A"],
             area="jawa-timur/balikpapan/smp-1")
OTHER = Camera(id="demo:X:2", device_id="demo:X", channel=2, name="Kelas 7B", tags=["classroom:7B"],
               area="jawa-timur/balikpapan/smp-1")


class Fixed:
    def __init__(self, name: str, decision: Decision) -> None:
        self.name, self.decision = name, decision

    def decide(self, principal, action, camera, context):  # noqa: ANN001
        return self.decision


def who(role: Role, scopes: list[str] | None = None) -> Principal:
    return Principal(id="t", role=role, scopes=scopes or [])


def test_deny_wins_over_allow() -> None:
    engine = PolicyEngine([Fixed("a", Decision.ALLOW), Fixed("school-hours", Decision.DENY)])
    verdict = engine.evaluate(who(Role.ADMIN), Action.VIEW_LIVE, CAM)
    assert not verdict.allowed and verdict.reason == "denied by school-hours"


def test_no_allow_means_deny() -> None:
    engine = PolicyEngine([Fixed("a", Decision.ABSTAIN)])
    assert not engine.evaluate(who(Role.ADMIN), Action.VIEW_LIVE, CAM).allowed
    assert not PolicyEngine([]).evaluate(who(Role.ADMIN), Action.VIEW_LIVE, CAM).allowed


def test_roles() -> None:
    engine = PolicyEngine([RolePolicy()])
    assert engine.evaluate(who(Role.VIEWER), Action.VIEW_LIVE, CAM).allowed
    assert not engine.evaluate(who(Role.VIEWER), Action.PLAY_BACK, CAM).allowed
    assert engine.evaluate(who(Role.OPERATOR), Action.PLAY_BACK, CAM).allowed
    assert not engine.evaluate(who(Role.OPERATOR), Action.MANAGE).allowed
    assert engine.evaluate(who(Role.ADMIN), Action.MANAGE).allowed


def test_scopes_confine_a_principal_to_its_cameras() -> None:
    engine = PolicyEngine([RolePolicy()])
    parent = who(Role.VIEWER, ["tag:classroom:7A"])
    assert engine.evaluate(parent, Action.VIEW_LIVE, CAM).allowed
    assert not engine.evaluate(parent, Action.VIEW_LIVE, OTHER).allowed
    rt_head = who(Role.OPERATOR, ["area:jawa-timur/balikpapan"])
    assert engine.evaluate(rt_head, Action.PLAY_BACK, OTHER).allowed
    assert not engine.evaluate(who(Role.OPERATOR, ["area:jawa-timur/bal"]), Action.PLAY_BACK, OTHER).allowed
