"""Grants: actions on cameras by selector, inside weekly hours in a zone, from/until, with a
history floor; the engine's lists from indexes agree with asking camera by camera."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from hub.access.grants import GrantPolicy
from hub.access.schedule import Schedule, ScheduleError
from hub.core.models import Action, Camera, Principal, Role
from hub.core.policy import PolicyEngine
from hub.core.selectors import CameraIndex, check_selector, selects
from hub.store import Store, database_url
from hub.store.grants import GrantError
from plugins.roles import RolePolicy

WIB = "Asia/Jakarta"
WITA = "Asia/Makassar"  # Balikpapan
#: Monday 1 December 2026, 06:59 in Balikpapan (UTC+8).
MONDAY_0659 = datetime(2026, 11, 30, 22, 59, tzinfo=UTC)


def cam(n: int, *, tags: list[str] | None = None, site: str | None = None, area: str | None = None) -> Camera:
    return Camera(id=f"demo:S:{n}", device_id="demo:S", channel=n, name=f"Kamera {n}", tags=tags or [],
                  site=site, area=area)


SCHOOL = {c.id: c for c in (
    cam(1, tags=["classroom:7A"], site="smpn-4", area="kalimantan-timur/balikpapan/klandasan"),
    cam(2, tags=["classroom:7B"], site="smpn-4", area="kalimantan-timur/balikpapan/klandasan"),
    cam(3, tags=["classroom:7A"], site="sdn-12", area="kalimantan-timur/balikpapan/gunung-sari"),
    cam(4, tags=["public"], area="kalimantan-timur/balikpapan/klandasan/rw-01"),
)}


def test_hours_open_and_shut_in_their_own_zone() -> None:
    school = Schedule.parse("mon-fri 07:00-14:00,sat 07:00-11:00", WITA, frozenset({date(2026, 12, 25)}))
    assert str(school) == "mon-fri 07:00-14:00,sat 07:00-11:00"
    assert not school.is_open(MONDAY_0659)
    assert school.is_open(MONDAY_0659 + timedelta(minutes=1))
    assert not school.is_open(datetime(2026, 12, 1, 6, 0, tzinfo=UTC))  # 14:00 WITA: closed at the end
    assert school.next_opening(datetime(2026, 12, 1, 6, 0, tzinfo=UTC)) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    christmas = datetime(2026, 12, 25, 2, 0, tzinfo=UTC)  # a Friday, 10:00 WITA
    assert not school.is_open(christmas)
    assert school.next_opening(christmas) == datetime(2026, 12, 25, 23, 0, tzinfo=UTC)  # Saturday 07:00
    # The same wall-clock hours in Jakarta are an hour later in UTC.
    assert not Schedule.parse("mon-fri 07:00-14:00", WIB).is_open(MONDAY_0659 + timedelta(minutes=1))
    whole_day = Schedule.parse("wed 00:00-23:59", WIB)
    assert whole_day.is_open(datetime(2026, 12, 2, 16, 59, 59, tzinfo=UTC))  # 23:59:59 Wednesday WIB


@pytest.mark.parametrize("text", ["mon-fri", "fri-mon 07:00-08:00", "mon 14:00-07:00", "sun 25:00-26:00",
                                  "mon 07:00-14:00;tue 07:00-14:00", "xyz 07:00-08:00"])
def test_hours_that_cannot_be_read_say_what_is_expected(text: str) -> None:
    with pytest.raises(ScheduleError) as err:
        Schedule.parse(text, WIB)
    assert text.split(",")[0][:20] in str(err.value)


def test_unknown_zones_and_selectors_are_refused() -> None:
    with pytest.raises(ScheduleError, match="Asia/Makassar"):
        Schedule.parse("mon 07:00-08:00", "Asia/Balikpapan")
    for bad in ("room:7A", "site:SMPN 4", "tag:a&tag:b&tag:c&tag:d&tag:e", "area:/etc"):
        with pytest.raises(ValueError, match="names no cameras"):
            check_selector(bad)


def test_the_index_answers_what_matching_camera_by_camera_answers() -> None:
    rng = random.Random(7)
    areas = ["jawa-tengah/semarang", "jawa-tengah/semarang/krapyak", "jawa-tengah/semarang/krapyak/rw04",
             "jawa-tengah/semarang/krapyak/rw04/rt03", "jawa-tengah/semarang/krapyak-baru", None]
    cameras = {c.id: c for c in (cam(n, tags=rng.sample(["public", "classroom:7A", "pasar"], rng.randint(0, 2)),
                                     site=rng.choice(["smpn-4", "pasar-johar", None]), area=rng.choice(areas))
                                 for n in range(300))}
    index = CameraIndex.of(cameras)

    for selector in ["area:jawa-tengah/semarang/krapyak", "tag:public", "site:smpn-4&tag:classroom:7A",
                     "area:jawa-tengah/semarang/krapyak&tag:pasar", "camera:demo:S:17", "camera:demo:S:999",
                     "area:jawa-tengah/semarang/krapyak/rw04/rt03"]:
        assert index.select(selector) == {c.id for c in cameras.values() if selects(selector, c)}, selector
    # krapyak-baru is a sibling of krapyak, not below it
    assert not any(cameras[c].area == "jawa-tengah/semarang/krapyak-baru"
                   for c in index.select("area:jawa-tengah/semarang/krapyak"))


@pytest.fixture
async def store(tmp_path: Path):
    s = Store(database_url(None, tmp_path))
    await s.migrate()
    yield s
    await s.close()


async def test_a_parents_grant_opens_their_childs_classroom_in_school_hours_only(store: Store) -> None:
    grant = await store.grants.add("user:ibu.sari", [Action.VIEW_LIVE], ["site:smpn-4&tag:classroom:7A"],
                                   created_by="user:admin", hours="mon-fri 07:00-14:00", time_zone=WITA,
                                   valid_until=datetime(2027, 6, 30, tzinfo=UTC))
    policy = GrantPolicy(store.grants)
    assert await policy.refresh() and not await policy.refresh(), "reloads only when the table changed"
    now = [MONDAY_0659]
    engine = PolicyEngine([RolePolicy(), policy], clock=lambda: now[0])
    parent = Principal(id="user:ibu.sari", role=Role.PARENT)
    seven_a, seven_b, other_school = SCHOOL["demo:S:1"], SCHOOL["demo:S:2"], SCHOOL["demo:S:3"]
    index = CameraIndex.of(SCHOOL)

    async def live(camera: Camera) -> bool:
        return (await engine.evaluate(parent, Action.VIEW_LIVE, camera)).allowed

    assert not await live(seven_a), "06:59 in Balikpapan: not yet"
    assert policy.opens_at(parent, Action.VIEW_LIVE, seven_a, now[0]) == MONDAY_0659 + timedelta(minutes=1)
    now[0] += timedelta(minutes=1)
    assert await live(seven_a)
    assert not await live(seven_b) and not await live(other_school), "7A of this school, not 7B or 7A elsewhere"
    assert not (await engine.evaluate(parent, Action.PLAY_BACK, seven_a)).allowed
    assert await engine.visible(parent, Action.VIEW_LIVE, SCHOOL, index) == ["demo:S:1"]
    assert await engine.visible(parent, Action.PLAY_BACK, SCHOOL, index) == []
    assert await engine.visible(parent, Action.VIEW_INVENTORY, SCHOOL, index) == ["demo:S:1"]
    now[0] = datetime(2027, 7, 1, 1, 0, tzinfo=UTC)  # a Thursday in hours, after the grant's end
    assert not await live(seven_a)
    now[0] = datetime(2027, 6, 29, 1, 0, tzinfo=UTC)
    assert await live(seven_a)
    await store.grants.revoke(grant.id, by="user:admin")
    assert await policy.refresh()
    assert not await live(seven_a)
    assert (await store.grants.list(include_revoked=True))[0].revoked_by == "user:admin"


async def test_a_history_floor_keeps_older_footage_out_of_reach(store: Store) -> None:
    enrolled = datetime(2026, 7, 13, tzinfo=UTC)
    await store.grants.add("user:rt03", [Action.VIEW_LIVE, Action.PLAY_BACK], ["camera:demo:S:4"],
                           created_by="user:admin", history_from=enrolled)
    policy = GrantPolicy(store.grants)
    await policy.refresh()
    engine = PolicyEngine([RolePolicy(), policy])
    head = Principal(id="user:rt03", role=Role.AREA_HEAD)
    camera = SCHOOL["demo:S:4"]

    async def play(recorded: datetime | None) -> bool:
        return (await engine.evaluate(head, Action.PLAY_BACK, camera, {"recorded_from": recorded})).allowed

    assert await play(enrolled) and await play(enrolled + timedelta(days=30))
    assert not await play(enrolled - timedelta(seconds=1)) and not await play(None)
    assert policy.history_floor(head, camera, engine.clock()) == enrolled


async def test_grants_only_allow_scopes_still_confine(store: Store) -> None:
    await store.grants.add("token:abc", [Action.VIEW_LIVE], ["tag:public", "site:smpn-4"], created_by="user:admin")
    policy = GrantPolicy(store.grants)
    await policy.refresh()
    engine = PolicyEngine([RolePolicy(), policy])
    confined = Principal(id="token:abc", role=Role.VIEWER, scopes=["area:kalimantan-timur/balikpapan/klandasan"])
    index = CameraIndex.of(SCHOOL)
    # the role gives live view within its scope; the grant adds nothing outside it
    assert await engine.visible(confined, Action.VIEW_LIVE, SCHOOL, index) == ["demo:S:1", "demo:S:2", "demo:S:4"]
    brute = [c for c in SCHOOL if (await engine.evaluate(confined, Action.VIEW_LIVE, SCHOOL[c])).allowed]
    assert brute == ["demo:S:1", "demo:S:2", "demo:S:4"]


async def test_bad_grants_are_refused_with_what_to_write(store: Store) -> None:
    with pytest.raises(GrantError, match="no action 'watch'"):
        await store.grants.add("user:x", ["watch"], ["tag:public"], created_by="user:admin")  # type: ignore[list-item]
    with pytest.raises(GrantError, match="names its cameras"):
        await store.grants.add("user:x", [Action.VIEW_LIVE], [], created_by="user:admin")
    with pytest.raises(GrantError, match="mon-fri 07:00-14:00"):
        await store.grants.add("user:x", [Action.VIEW_LIVE], ["tag:public"], created_by="user:admin",
                               hours="weekdays 7-14")
    assert await store.grants.list() == []


async def test_a_users_token_acts_as_the_user_and_ends_with_them(store: Store) -> None:
    from hub.store.tokens import Tokens

    await store.users.add_user("rt03.krapyak", Role.AREA_HEAD, "Sandi-RT-03-Krapyak",
                               scopes=["area:jawa-tengah/semarang/krapyak/rw04/rt03"])
    token = await store.tokens.create_token(Role.ADMIN, "ponsel", owner="rt03.krapyak", scopes=["tag:gang"])
    who = await store.tokens.principal_for_token(token)
    assert who is not None and (who.id, who.role) == ("user:rt03.krapyak", Role.AREA_HEAD), "never more than the user"
    assert who.scopes == ["area:jawa-tengah/semarang/krapyak/rw04/rt03&tag:gang"]
    assert "token" in (who.name or "")
    with pytest.raises(LookupError):
        await store.tokens.create_token(Role.VIEWER, owner="nobody")
    await store.users.set_disabled("rt03.krapyak")
    assert await Tokens(store.db).principal_for_token(token) is None, "a disabled user's tokens stop too"
