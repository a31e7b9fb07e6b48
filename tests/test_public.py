"""The public portal: only approved public cameras, to anyone, cacheable, rate-limited; and the gate
that takes a camera off the portal the moment its picture departs from the approved scene."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx
import pytest

from hub.access import scene
from hub.access.public import PUBLIC_WITHDRAWN, PublicGate
from hub.app import Hub
from hub.core.config import load_config
from hub.core.models import Camera, Owner, OwnerKind
from hub.core.plugins import Plugins
from plugins.demo.synth import Painter
from tests import scenes
from tests.conftest import demo_hub_yaml

STREET = scenes.street(1)


@pytest.mark.parametrize("name", ["night", "rain", "traffic", "night and traffic", "rain and traffic", "dusk"])
def test_the_same_scene_by_night_in_rain_and_traffic_keeps_its_layout(name: str) -> None:
    seen = {"night": scenes.night(STREET), "rain": scenes.rain(STREET), "traffic": scenes.traffic(STREET),
            "night and traffic": scenes.traffic(scenes.night(STREET), 3),
            "rain and traffic": scenes.traffic(scenes.rain(STREET), 5),
            "dusk": scenes.ImageEnhance.Brightness(STREET).enhance(0.6)}[name]
    alike = scene.likeness(scene.layout(scenes.jpeg(STREET)), scene.layout(scenes.jpeg(seen)))
    assert alike >= scene.DEPARTED + 0.05, f"{name}: {alike:.3f}"


@pytest.mark.parametrize("name", ["room", "room at night", "turned aside", "covered", "noise"])
def test_another_scene_has_departed(name: str) -> None:
    import numpy as np
    from PIL import Image

    seen = {"room": scenes.room(), "room at night": scenes.night(scenes.room()),
            "turned aside": scenes.knocked(STREET, 120), "covered": Image.new("RGB", (640, 360)),
            "noise": Image.fromarray(np.random.default_rng(1).integers(0, 255, (360, 640, 3), dtype=np.uint8))}[name]
    alike = scene.likeness(scene.layout(scenes.jpeg(STREET)), scene.layout(scenes.jpeg(seen)))
    assert alike < scene.DEPARTED - 0.1, f"{name}: {alike:.3f}"


def test_the_demo_cameras_moving_picture_stays_its_scene() -> None:
    painter = Painter("Gate A", 320, 180, 0)
    reference = scene.layout(painter.jpeg(1000.0))
    worst = min(scene.likeness(reference, scene.layout(painter.jpeg(1000.0 + t / 2))) for t in range(1, 80))
    assert worst >= scene.DEPARTED + 0.1, worst


def test_owners_decide_whether_their_public_cameras_may_be_on_the_portal() -> None:
    owners = {"diskominfo": Owner(id="diskominfo", name="Diskominfo"),
              "menara": Owner(id="menara", name="PT Menara", kind=OwnerKind.PARTNER),
              "toko": Owner(id="toko", name="Toko Sinar", kind=OwnerKind.PARTNER, public=True),
              "dishub": Owner(id="dishub", name="Dishub", public=False)}
    gate = PublicGate(None, None, lambda: None, owners, None, None)  # type: ignore[arg-type]

    def cam(owner: str | None, tags: tuple[str, ...] = ("public",)) -> Camera:
        return Camera(id="x:1:1", device_id="x:1", channel=1, name="x", owner=owner, tags=list(tags))

    assert gate.eligible(cam(None)) and gate.eligible(cam("diskominfo")) and gate.eligible(cam("toko"))
    assert not gate.eligible(cam("menara")) and not gate.eligible(cam("dishub"))
    assert not gate.eligible(cam("diskominfo", ())), "only cameras tagged public"
    assert not gate.eligible(cam("unknown-owner"))


PORTAL = demo_hub_yaml(extra="public: {check_seconds: 5, requests_per_minute: 40, cache_seconds: 5}")


def test_anyone_sees_approved_public_cameras_and_nothing_else(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(PORTAL)
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    web = httpx.Client(base_url=hub.url, timeout=30)
    try:
        assert web.get("/api/v1/public/cameras").json() == [], "nothing is public before an operator approves it"
        with hub.client() as admin:
            cams = {c["name"]: c["id"] for c in admin.get("/api/v1/cameras").json()}
        not_public = hub.pantau("public", "approve", cams["Kelas 7A"], "--url", hub.url, *args, check=False)
        assert not_public.returncode != 0 and "not tagged 'public'" in not_public.stderr
        hub.pantau("public", "approve", cams["Gate A"], "--url", hub.url, *args)
        listed = web.get("/api/v1/public/cameras")
        assert listed.status_code == 200 and listed.headers["cache-control"] == "public, max-age=5"
        [gate] = listed.json()
        assert (gate["id"], gate["name"]) == (cams["Gate A"], "Gate A")
        assert set(gate) == {"id", "name", "area", "area_name", "location", "direction", "picture_at", "snapshot",
                             "live"}, "no device details, streams, owner or status"
        picture = web.get(gate["snapshot"])
        assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8"
        assert picture.headers["cache-control"].startswith("public")
        playlist = web.get(gate["live"])
        assert playlist.status_code == 200, playlist.text
        segment = re.findall(r"^(s\d+_\d+\.m4s)$", playlist.text, re.M)[-1]
        again = httpx.get(hub.url + gate["live"].rsplit("/", 1)[0] + "/" + segment, timeout=30)
        assert again.status_code == 200, "another viewer gets the same URLs (one output, cacheable)"
        assert web.get(f"/api/v1/public/cameras/{cams['Kelas 7A']}/snapshot").status_code == 404
        assert web.get(f"/api/v1/public/cameras/{cams['Kelas 7A']}/live/index.m3u8").status_code == 404
        anonymous_gets_nothing_else(web, cams["Gate A"])

        # The demo's picture moves all the time; its scene stays, and so does the camera.
        deadline = time.monotonic() + 20
        with hub.client() as admin:
            while not (checked := [s for s in admin.get("/api/v1/public/scenes").json()
                                   if s["checked_at"] != s["approved_at"]]):
                assert time.monotonic() < deadline, "the gate never checked"
                time.sleep(0.5)
        assert checked[0]["state"] == "approved" and checked[0]["likeness"] >= scene.DEPARTED
        assert [c["name"] for c in web.get("/api/v1/public/cameras").json()] == ["Gate A"]
        for _ in range(40):
            if web.get("/api/v1/public/cameras").status_code == 429:
                break
        else:
            pytest.fail("the public portal's rate limit never held")
        hub.pantau("public", "withdraw", cams["Gate A"], "--url", hub.url, *args)
        listed_states = hub.pantau("public", "list", "--json", *args).stdout
        assert '"state": "withdrawn"' in listed_states
    finally:
        web.close()


def anonymous_gets_nothing_else(web: httpx.Client, camera_id: str) -> None:
    """Every other route of the API answers an anonymous caller 401 (or takes no anonymous call)."""
    spec = web.get("/api/openapi.json").json()
    open_paths = {"/api/v1/session", "/api/v1/invites/{token}"}
    tried = 0
    for path, methods in spec["paths"].items():
        if path in open_paths or not path.startswith("/api/v1/") or (
                path.startswith("/api/v1/public/cameras") and "approve" not in path):
            continue  # /healthz says only that the hub runs
        for method in methods:
            url = re.sub(r"\{[^}]+\}", lambda m: camera_id if "camera" in m.group(0) else "1", path)
            answer = web.request(method.upper(), url, json={} if method in ("post", "put", "patch") else None)
            assert answer.status_code == 401, f"{method.upper()} {path}: {answer.status_code}"
            tried += 1
    assert tried > 25


async def test_a_picture_that_departs_from_its_scene_takes_the_camera_off_the_portal_at_once(
        tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(demo_hub_yaml(extra="http: {port: 0}\npublic: {check_seconds: 3600}"))
    plugins = Plugins()
    plugins.load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    shown = [scenes.jpeg(STREET)]

    async def camera_picture(camera_id: str, limit: float) -> bytes:  # the scene the camera sees now
        return shown[0]

    hub.public._snapshot = camera_picture
    withdrawn = hub.bus.subscribe("test")
    try:
        gate = next(c for c in hub.inventory.cameras.values() if "public" in c.tags)
        from hub.core.models import Principal, Role

        await hub.public.approve(gate, Principal(id="user:operator", role=Role.OPERATOR))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{hub.port}", timeout=30) as web:
            assert [c["id"] for c in (await web.get("/api/v1/public/cameras")).json()] == [gate.id]
            live = await web.get(f"/api/v1/public/cameras/{gate.id}/live/index.m3u8")
            assert live.status_code == 200
            shown[0] = scenes.jpeg(scenes.night(scenes.traffic(STREET)))  # night falls, a bus passes
            assert (await hub.public.check_all()) and [c.id for c in hub.public.cameras()] == [gate.id]
            shown[0] = scenes.jpeg(scenes.room())  # taken into a house for repair
            hub.public._pictures.clear()  # the cached picture has aged
            assert (await web.get(f"/api/v1/public/cameras/{gate.id}/snapshot")).status_code == 404, \
                "the first picture of the room is never served"
            assert (await web.get("/api/v1/public/cameras")).json() == []
            assert (await web.get(f"/api/v1/public/cameras/{gate.id}/live/index.m3u8")).status_code == 404
            assert not [v for v in hub.live.viewers.values() if v.principal.id == "public"], "the live view ended"
            event = await asyncio.wait_for(anext(aiter(withdrawn)), 5)
            while event.kind != PUBLIC_WITHDRAWN:
                event = await asyncio.wait_for(anext(aiter(withdrawn)), 5)
            assert event.camera_id == gate.id and event.data["likeness"] < scene.DEPARTED
            shown[0] = scenes.jpeg(STREET)  # back on its pole: it stays off until approved again
            await hub.public.check_all()
            assert (await web.get("/api/v1/public/cameras")).json() == []
            states = await hub.store.scenes.states()
            assert [(s["camera_id"], s["state"]) for s in states] == [(gate.id, "departed")]
            trail = await hub.store.audit.entries(camera_id=gate.id, action="public_departed")
            assert trail and not trail[0]["allowed"]
    finally:
        await hub.stop()
