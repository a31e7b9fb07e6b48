"""The agreement's permitted uses, decided camera by camera and for lists at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub import Action, Camera, CameraIndex, Decision, Principal, Role
from plugins.tower_partner.models import Agreement, AgreementState, AreaHeads, PermittedUses
from plugins.tower_partner.policy import AgreementPolicy

EVENING = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)  # 19:30 in Jakarta
NOON = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 12:00 in Jakarta
SHOP = Camera(id="hikvision:X:1", device_id="hikvision:X", channel=1, name="Toko Sinar 1",
              tags=["partner:toko-sinar"])
CITY = Camera(id="demo:C:1", device_id="demo:C", channel=1, name="Simpang Lima")


def policy(state: AgreementState = AgreementState.ACTIVE, **uses: object) -> AgreementPolicy:
    made = AgreementPolicy()
    made.agreements["toko-sinar"] = Agreement(
        id="a1", partner_id="toko-sinar", state=state, document="PKS 7", controller="Pemkot", processor="Toko",
        uses=PermittedUses(**uses), created_at=NOON, created_by="cli:test")  # type: ignore[arg-type]
    return made


HEAD = Principal(id="user:rt02", role=Role.AREA_HEAD, scopes=["tag:partner:toko-sinar"])
OPERATOR = Principal(id="user:op", role=Role.OPERATOR)
PUBLIC = Principal(id="public", role=Role.PUBLIC)
OWNER = Principal(id="user:pemilik", role=Role.PARTNER_OWNER, scopes=["tag:partner:toko-sinar"])


def decide(p: AgreementPolicy, who: Principal, action: Action, at: datetime = NOON,
           camera: Camera = SHOP) -> Decision:
    return p.decide(who, action, camera, {"now": at})


def test_sharing_hours_and_area_heads_live_as_the_agreement_says() -> None:
    evenings = policy(area_heads=AreaHeads.LIVE, sharing_hours="mon-sun 18:00-23:59")
    assert decide(evenings, HEAD, Action.VIEW_LIVE, NOON) == Decision.DENY, "outside the sharing hours"
    assert decide(evenings, HEAD, Action.VIEW_LIVE, EVENING) == Decision.ABSTAIN, "inside: the roles decide"
    assert decide(evenings, HEAD, Action.PLAY_BACK, EVENING) == Decision.DENY, "live only"
    assert decide(policy(), HEAD, Action.VIEW_LIVE) == Decision.DENY, "area heads not named in the agreement"
    assert decide(evenings, HEAD, Action.VIEW_LIVE, NOON, CITY) == Decision.ABSTAIN, "the city's own cameras"


@pytest.mark.parametrize(("who", "action", "uses", "expected"), [
    (OPERATOR, Action.VIEW_LIVE, {}, Decision.ABSTAIN),
    (OPERATOR, Action.VIEW_LIVE, {"city_live": False}, Decision.DENY),
    (OPERATOR, Action.PLAY_BACK, {}, Decision.DENY),  # evidence on request only, by default
    (OPERATOR, Action.EXPORT, {"evidence_on_request": False}, Decision.ABSTAIN),
    (HEAD, Action.PLAY_BACK, {"area_heads": AreaHeads.PLAYBACK, "evidence_on_request": False}, Decision.ABSTAIN),
    (PUBLIC, Action.VIEW_LIVE, {}, Decision.DENY),
    (PUBLIC, Action.VIEW_LIVE, {"public_portal": True}, Decision.ABSTAIN),
    (OWNER, Action.PLAY_BACK, {}, Decision.ALLOW),  # the partner's own cameras, whatever the agreement
    (OPERATOR, Action.READ_AUDIT, {"city_live": False}, Decision.ABSTAIN),  # not the picture: not its business
    (OPERATOR, Action.VIEW_INVENTORY, {}, Decision.ABSTAIN),
])
def test_each_use_is_held_to_the_agreement(who: Principal, action: Action, uses: dict[str, object],
                                           expected: Decision) -> None:
    assert decide(policy(**uses), who, action) == expected


def test_an_agreement_not_in_force_shares_nothing_but_that_the_camera_exists() -> None:
    for state in (AgreementState.SUSPENDED, AgreementState.PENDING_APPROVAL):
        suspended = policy(state, city_live=True, public_portal=True)
        assert decide(suspended, OPERATOR, Action.VIEW_LIVE) == Decision.DENY
        assert decide(suspended, OPERATOR, Action.VIEW_INVENTORY) == Decision.ABSTAIN
    assert decide(AgreementPolicy(), OPERATOR, Action.VIEW_LIVE) == Decision.DENY, "no agreement at all"


def test_a_list_denies_the_same_cameras_at_once() -> None:
    index = CameraIndex.of({c.id: c for c in (SHOP, CITY)})
    evenings = policy(area_heads=AreaHeads.LIVE, sharing_hours="mon-sun 18:00-23:59")
    assert evenings.reach(HEAD, Action.VIEW_LIVE, index, {"now": NOON}).deny == {SHOP.id}
    assert evenings.reach(HEAD, Action.VIEW_LIVE, index, {"now": EVENING}).deny == set()


def test_a_camera_its_owner_stopped_sharing_shows_nothing_to_anyone_else() -> None:
    shared = policy(area_heads=AreaHeads.LIVE)
    shared.paused = {SHOP.id}
    assert decide(shared, OPERATOR, Action.VIEW_LIVE) == Decision.DENY
    assert decide(shared, HEAD, Action.VIEW_LIVE) == Decision.DENY
    assert decide(shared, OPERATOR, Action.VIEW_INVENTORY) == Decision.ABSTAIN
    assert decide(shared, OWNER, Action.VIEW_LIVE) == Decision.ALLOW
    index = CameraIndex.of({c.id: c for c in (SHOP, CITY)})
    assert shared.reach(OPERATOR, Action.VIEW_LIVE, index, {"now": NOON}).deny == {SHOP.id}
    assert shared.reach(OWNER, Action.VIEW_LIVE, index, {"now": NOON}).allow == {SHOP.id}


def test_a_camera_whose_masks_are_required_and_not_set_shows_nothing() -> None:
    required = policy(masks_required=True)
    required.unmasked = {SHOP.id}
    assert decide(required, OPERATOR, Action.VIEW_LIVE) == Decision.DENY
    assert decide(required, OPERATOR, Action.VIEW_INVENTORY) == Decision.ABSTAIN, "that it exists, yes"
    index = CameraIndex.of({c.id: c for c in (SHOP, CITY)})
    assert required.reach(OPERATOR, Action.VIEW_LIVE, index, {"now": NOON}).deny == {SHOP.id}
