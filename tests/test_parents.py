"""Parents (Balikpapan): a classroom with a consent basis, a single-use invitation, the parent's
own password, their child's classroom live and nothing else, and the school revoking them."""

from __future__ import annotations

import contextlib
import json
import re
import time

import httpx

from tests.conftest import demo_hub_yaml

HUB = demo_hub_yaml(extra="hub: {name: SMPN 4 Balikpapan, time_zone: Asia/Makassar}").replace(
    "hub: {name: Test Hub}\n", "").replace("    name: demo\n", "    name: demo\n    site: smpn-4\n") + (
    "sites:\n  - {id: smpn-4, name: SMP Negeri 4 Balikpapan}\n")
PASSWORD = "Kelas-Tujuh-A-2026"
ALL_DAY = "mon-sun 00:00-23:59"  # the schedule itself is tried with a clock in tests/test_grants.py


def test_an_invited_parent_sets_a_password_and_watches_only_their_classroom(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(HUB)
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    hub.pantau("classroom", "add", "smpn-4", "7A", "--hours", ALL_DAY, *args)
    closed = hub.pantau("parent", "invite", "--site", "smpn-4", "--classroom", "7A", "--name", "Ibu Sari",
                        "--until", "2027-06-30", *args, check=False)
    assert closed.returncode != 0 and "no consent basis" in closed.stderr, closed.stderr
    hub.pantau("classroom", "add", "smpn-4", "7A", "--hours", ALL_DAY, "--consent", "SK-SMPN4/2026/031", *args)
    rooms = json.loads(hub.pantau("classroom", "list", "--json", *args).stdout)
    assert rooms == [{"site": "smpn-4", "name": "7A", "tag": "classroom:7A", "hours": ALL_DAY,
                      "time_zone": "Asia/Makassar", "consent": "SK-SMPN4/2026/031"}]
    invited = hub.pantau("parent", "invite", "--site", "smpn-4", "--classroom", "7A", "--name", "Ibu Sari",
                         "--until", "2027-06-30", *args)
    link = invited.stdout.strip().splitlines()[-1]
    token = re.fullmatch(r"http://127.0.0.1:8080/invite/([\w-]+)", link)  # http.port of hub.yaml
    assert token, link
    hub.tokens.append(token.group(1))  # the suite's leak check looks for it in the log
    assert "ortu.sari" in invited.stderr
    path = f"/invite/{token.group(1)}"
    with httpx.Client(base_url=hub.url, timeout=30) as browser:
        page = browser.get(path)
        assert page.status_code == 200 and 'lang="id"' in page.text and "kelas 7A" in page.text
        assert "script" not in page.headers["content-security-policy"].replace("default-src 'none'", "")
        differ = browser.post(path, data={"password": PASSWORD, "confirm": PASSWORD + "x"})
        assert differ.status_code == 400 and "tidak sama" in differ.text
        short = browser.post(path, data={"password": "pendek", "confirm": "pendek"})
        assert short.status_code == 400 and "paling sedikit" in short.text
        done = browser.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
        assert done.status_code == 200 and "ortu.sari" in done.text, done.text
        again = browser.post(path, data={"password": "Lain-Lagi-2026-x", "confirm": "Lain-Lagi-2026-x"})
        assert again.status_code == 410 and "sudah dipakai" in again.text
        assert browser.post(f"/api/v1/invites/{token.group(1)}", json={"password": "x" * 12}).status_code == 410

    with contextlib.closing(httpx.Client(base_url=hub.url, timeout=30)) as parent:
        signed = parent.post("/api/v1/session", json={"username": "ortu.sari", "password": PASSWORD})
        assert signed.status_code == 200 and signed.json()["role"] == "parent"
        parent.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        deadline = time.monotonic() + 5  # the running hub takes grants made elsewhere within a second or so
        while not (cams := parent.get("/api/v1/cameras").json()):
            assert time.monotonic() < deadline, "the running hub did not take the parent's grant"
            time.sleep(0.2)
        assert [c["name"] for c in cams] == ["Kelas 7A"]
        with hub.client() as admin:
            gate = next(c["id"] for c in admin.get("/api/v1/cameras").json() if c["name"] == "Gate A")
        assert parent.post(f"/api/v1/cameras/{cams[0]['id']}/live").status_code == 201
        assert parent.post(f"/api/v1/cameras/{gate}/live").status_code == 403
        assert parent.get(f"/api/v1/cameras/{cams[0]['id']}/recordings").status_code == 403
        assert parent.get(f"/api/v1/cameras/{gate}/viewers").status_code == 404
        watched = parent.get(f"/api/v1/cameras/{cams[0]['id']}/viewers").json()
        assert any(v["who"] == "Ibu Sari" and v["action"] == "view_live" and v["allowed"] for v in watched)

        school_admin(hub)
        with contextlib.closing(httpx.Client(base_url=hub.url, timeout=30)) as school:
            signed = school.post("/api/v1/session", json={"username": "tu.smpn4", "password": PASSWORD})
            school.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
            listed = school.get("/api/v1/sites/smpn-4/parents").json()
            assert [(p["username"], p["classroom"], p["invitation"]) for p in listed] == \
                [("ortu.sari", "7A", "accepted")]
            assert school.get("/api/v1/sites/sdn-12/parents").status_code == 403, "another school's parents"
            more = school.post("/api/v1/sites/smpn-4/parents",
                               json={"classroom": "7A", "name": "Bapak Budi Santoso", "until": "2027-06-30"})
            assert more.status_code == 201 and more.json()["username"] == "ortu.budi-santoso"
            hub.tokens.append(more.json()["link"].rsplit("/", 1)[-1])
            assert school.post("/api/v1/sites/smpn-4/parents", json={
                "classroom": "9Z", "name": "Ibu Ani", "until": "2027-06-30"}).status_code == 404
            trail = school.get("/api/v1/audit", params={"limit": 1000}).json()
            assert trail and all(r["camera_id"] in {c["id"] for c in cams} | {gate} for r in trail), \
                "a school admin reads the entries about the school's cameras, not the hub's sign-ins"
            assert school.delete("/api/v1/parents/ortu.sari").status_code == 204
        assert parent.get("/api/v1/cameras").status_code == 401, "a revoked parent is signed out"
    states = {p["username"]: p["invitation"] for p in json.loads(hub.pantau("parent", "list", "--json", *args).stdout)}
    assert states == {"ortu.sari": "accepted", "ortu.budi-santoso": "invited"}
    assert PASSWORD not in hub.log()


def school_admin(hub) -> None:  # noqa: ANN001
    hub.add_user("tu.smpn4", PASSWORD, "--role", "school_admin", "--scope", "site:smpn-4")
