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


async def ok(engine: PolicyEngine, principal: Principal, action: Action, camera: Camera | None = None) -> bool:
    return (await engine.evaluate(principal, action, camera)).allowed


def who(role: Role, scopes: list[str] | None = None) -> Principal:
    return Principal(id="t", role=role, scopes=scopes or [])


async def test_deny_wins_over_allow() -> None:
    engine = PolicyEngine([Fixed("a", Decision.ALLOW), Fixed("school-hours", Decision.DENY)])
    verdict = await engine.evaluate(who(Role.ADMIN), Action.VIEW_LIVE, CAM)
    assert not verdict.allowed and verdict.reason == "denied by school-hours"


async def test_no_allow_means_deny() -> None:
    engine = PolicyEngine([Fixed("a", Decision.ABSTAIN)])
    assert not await ok(engine, who(Role.ADMIN), Action.VIEW_LIVE, CAM)
    assert not await ok(PolicyEngine([]), who(Role.ADMIN), Action.VIEW_LIVE, CAM)


async def test_roles() -> None:
    engine = PolicyEngine([RolePolicy()])
    assert await ok(engine, who(Role.VIEWER), Action.VIEW_LIVE, CAM)
    assert not await ok(engine, who(Role.VIEWER), Action.PLAY_BACK, CAM)
    assert await ok(engine, who(Role.OPERATOR), Action.PLAY_BACK, CAM)
    assert not await ok(engine, who(Role.OPERATOR), Action.MANAGE)
    assert await ok(engine, who(Role.ADMIN), Action.MANAGE)


async def test_scopes_confine_a_principal_to_its_cameras() -> None:
    engine = PolicyEngine([RolePolicy()])
    parent = who(Role.VIEWER, ["tag:classroom:7A"])
    assert await ok(engine, parent, Action.VIEW_LIVE, CAM)
    assert not await ok(engine, parent, Action.VIEW_LIVE, OTHER)
    rt_head = who(Role.OPERATOR, ["area:jawa-timur/balikpapan"])
    assert await ok(engine, rt_head, Action.PLAY_BACK, OTHER)
    assert not await ok(engine, who(Role.OPERATOR, ["area:jawa-timur/bal"]), Action.PLAY_BACK, OTHER)


async def test_neighbourhood_roles_act_only_in_their_area_and_without_one_nowhere() -> None:
    engine = PolicyEngine([RolePolicy()])
    rt = Camera(id="demo:S:1", device_id="demo:S", channel=1, name="Gang 3",
                area="jawa-tengah/semarang/krapyak/rw04/rt03")
    next_rt = rt.model_copy(update={"id": "demo:S:2", "area": "jawa-tengah/semarang/krapyak/rw04/rt04"})
    head = who(Role.AREA_HEAD, ["area:jawa-tengah/semarang/krapyak/rw04/rt03"])
    guard = who(Role.WATCH, ["area:jawa-tengah/semarang/krapyak"])
    allowed = {(name, action): await ok(engine, p, action, cam)
               for name, p in (("head", head), ("guard", guard)) for cam in (rt,)
               for action in (Action.VIEW_LIVE, Action.PLAY_BACK, Action.EXPORT)}
    assert allowed == {("head", Action.VIEW_LIVE): True, ("head", Action.PLAY_BACK): True,
                       ("head", Action.EXPORT): False, ("guard", Action.VIEW_LIVE): True,
                       ("guard", Action.PLAY_BACK): False, ("guard", Action.EXPORT): False}
    assert not await ok(engine, head, Action.VIEW_LIVE, next_rt)
    assert await ok(engine, guard, Action.VIEW_LIVE, next_rt)  # the kelurahan holds both RTs
    for role in (Role.AREA_HEAD, Role.WATCH, Role.PARENT, Role.SCHOOL_ADMIN, Role.PARTNER_OWNER):
        assert not await ok(engine, who(role), Action.VIEW_INVENTORY, rt), f"{role} without an area"
    for role in (Role.PARENT, Role.INVESTIGATOR, Role.PUBLIC):  # their policies come with their plugins
        assert not await ok(engine, who(role, ["area:jawa-tengah"]), Action.VIEW_LIVE, rt)
