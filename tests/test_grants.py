"""Grants end to end: a parent's classroom, given on the command line, watched live in school
hours only; revoking the grant or disabling the user stops the picture within 5 s."""

from __future__ import annotations

import contextlib
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hub.app import Hub
from hub.core.config import load_config
from hub.core.models import Action, Role
from hub.core.plugins import Plugins
from tests.conftest import demo_hub_yaml

PASSWORD = "Sandi-Ibu-Sari-7A"


def args(hub) -> list[str]:  # noqa: ANN001
    return ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]


def signed_in(base_url: str, username: str, password: str = PASSWORD) -> httpx.Client:
    web = httpx.Client(base_url=base_url, timeout=30)
    answer = web.post("/api/v1/session", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    web.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return web


def playing(web: httpx.Client, playlist: str) -> bool:
    """Fetch the playlist and its newest segment as a player does; whether both came."""
    listing = web.get(playlist)
    if listing.status_code != 200:
        return False
    segments = re.findall(r"^(s\d+_\d+\.m4s)$", listing.text, re.M)
    return bool(segments) and web.get(f"{playlist.rsplit('/', 1)[0]}/{segments[-1]}").status_code == 200


def stopped_within(web: httpx.Client, playlist: str) -> float:
    began = time.monotonic()
    while playing(web, playlist):
        assert time.monotonic() - began < 10, "the picture went on"
        time.sleep(0.2)
    return time.monotonic() - began


def test_a_parent_watches_their_classroom_and_a_revoked_grant_stops_the_picture(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    hub.add_user("ibu.sari", PASSWORD, "--role", "parent", "--name", "Ibu Sari")
    refused = hub.pantau("grant", "add", "ibu.sari", "--actions", "view_live", "--hours", "weekdays 7-14",
                         "--tag", "classroom:7A", *args(hub), check=False)
    assert refused.returncode != 0 and "mon-fri 07:00-14:00" in refused.stderr
    assert hub.pantau("grant", "add", "nobody", "--actions", "view_live", "--tag", "x", *args(hub),
                      check=False).returncode != 0
    made = hub.pantau("grant", "add", "ibu.sari", "--actions", "view_live", "--tag", "classroom:7A",
                      "--note", "anak: Budi, kelas 7A", *args(hub))
    grant_id = made.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{12}", grant_id), made.stdout
    with contextlib.closing(signed_in(hub.url, "ibu.sari")) as parent:
        deadline = time.monotonic() + 5
        while not (cams := parent.get("/api/v1/cameras").json()):
            assert time.monotonic() < deadline, "the running hub did not take the new grant"
            time.sleep(0.2)
        assert [c["name"] for c in cams] == ["Kelas 7A"]
        with hub.client() as admin:
            everything = {c["name"]: c["id"] for c in admin.get("/api/v1/cameras").json()}
        seven_a, gate = everything["Kelas 7A"], everything["Gate A"]
        assert parent.post(f"/api/v1/cameras/{gate}/live").status_code == 403
        assert parent.get(f"/api/v1/cameras/{seven_a}/recordings").status_code == 403, "never playback"
        assert parent.get(f"/api/v1/cameras/{seven_a}/export",
                          params={"start": "2026-12-01T07:00:00+08:00", "end": "2026-12-01T07:05:00+08:00"}
                          ).status_code == 403
        live = parent.post(f"/api/v1/cameras/{seven_a}/live")
        assert live.status_code == 201, live.text
        playlist = live.json()["playlist"]
        deadline = time.monotonic() + 20
        while not playing(parent, playlist):
            assert time.monotonic() < deadline, "no picture"
            time.sleep(0.3)

        hub.pantau("grant", "revoke", grant_id, *args(hub))
        assert stopped_within(parent, playlist) < 5
        assert parent.get("/api/v1/cameras").json() == []
        assert parent.post(f"/api/v1/cameras/{seven_a}/live").status_code == 403
    listed = hub.pantau("grant", "list", "ibu.sari", "--all", "--json", *args(hub)).stdout
    assert '"revoked_by": "cli:' in listed and grant_id in listed
    with hub.client() as admin:
        trail = admin.get("/api/v1/audit", params={"principal": "user:ibu.sari"}).json()
    assert {(a["action"], a["allowed"]) for a in trail} >= {("view_live", True), ("view_live", False),
                                                             ("play_back", False), ("export", False)}


def test_disabling_a_user_stops_their_live_view_within_5_s(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    hub.add_user("fkdm.01", PASSWORD, "--role", "watch", "--scope", "tag:public")
    with contextlib.closing(signed_in(hub.url, "fkdm.01")) as guard:
        gate = guard.get("/api/v1/cameras").json()[0]["id"]
        playlist = guard.post(f"/api/v1/cameras/{gate}/live").json()["playlist"]
        deadline = time.monotonic() + 20
        while not playing(guard, playlist):
            assert time.monotonic() < deadline, "no picture"
            time.sleep(0.3)
        hub.pantau("user", "disable", "fkdm.01", *args(hub))
        assert stopped_within(guard, playlist) < 5


async def test_school_hours_open_and_close_the_classroom_by_the_hubs_clock(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(demo_hub_yaml(extra="http: {port: 0}"))
    plugins = Plugins()
    plugins.load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    now = [datetime(2026, 11, 30, 22, 59, tzinfo=UTC)]  # Monday 06:59 in Balikpapan
    hub.policy.clock = lambda: now[0]
    try:
        await hub.store.users.add_user("ibu.sari", Role.PARENT, PASSWORD)
        grant = await hub.store.grants.add("user:ibu.sari", [Action.VIEW_LIVE], ["tag:classroom:7A"],
                                           created_by="test", hours="mon-fri 07:00-14:00",
                                           time_zone="Asia/Makassar")
        await hub.grants.refresh()
        seven_a = next(c for c in hub.inventory.cameras.values() if "classroom:7A" in c.tags)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{hub.port}", timeout=30) as web:
            signed = await web.post("/api/v1/session", json={"username": "ibu.sari", "password": PASSWORD})
            web.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
            assert (await web.post(f"/api/v1/cameras/{seven_a.id}/live")).status_code == 403, "06:59: not yet"
            assert [c["name"] for c in (await web.get("/api/v1/cameras")).json()] == ["Kelas 7A"], \
                "the classroom is in the parent's list outside school hours too (the page says when it opens)"
            now[0] = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 07:00
            live = await web.post(f"/api/v1/cameras/{seven_a.id}/live")
            assert live.status_code == 201, live.text
            assert [c["name"] for c in (await web.get("/api/v1/cameras")).json()] == ["Kelas 7A"]
            assert (await web.get(live.json()["playlist"])).status_code == 200
            now[0] = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 14:00: school is out
            assert (await web.get(live.json()["playlist"])).status_code == 403
            assert (await web.post(f"/api/v1/cameras/{seven_a.id}/live")).status_code == 403
        await hub.store.audit.flush(everything=True)  # refusals repeated within a minute are counted
        refusals = await hub.store.audit.entries(principal="user:ibu.sari", allowed=False)
        assert sum(r["count"] for r in refusals) >= 3 and all(r["camera_id"] == seven_a.id for r in refusals)
        assert grant.hours == "mon-fri 07:00-14:00"
    finally:
        await hub.stop()
