"""People sign in to the web with a username and password: a server-side session in a cookie,
CSRF on unsafe requests, the same scopes as tokens, and an end when they sign out or are disabled."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time

import httpx

from tests.conftest import demo_hub_yaml

PASSWORD = "Sandi-RT-03-Krapyak"


def add_user(hub, *args: str) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    return subprocess.run([sys.executable, "-m", "hub", "user", "add", *args, "--password-stdin",
                           "-c", str(hub.config), "--data-dir", str(hub.data_dir)], input=PASSWORD + "\n",
                          capture_output=True, text=True, cwd=hub.workdir, env=hub.env, timeout=60)


def test_a_user_signs_in_sees_their_cameras_needs_csrf_and_is_stopped_when_disabled(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    added = add_user(hub, "rt03", "--role", "viewer", "--name", "Pak RT 03", "--scope", "tag:classroom:7A")
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    with httpx.Client(base_url=hub.url, timeout=30) as web:
        wrong = web.post("/api/v1/session", json={"username": "rt03", "password": "not-the-password"})
        nobody = web.post("/api/v1/session", json={"username": "rt99", "password": PASSWORD})
        assert wrong.status_code == nobody.status_code == 401
        assert wrong.json()["detail"] == nobody.json()["detail"] == "wrong username or password"
        assert web.get("/api/v1/cameras").status_code == 401
        signed = web.post("/api/v1/session", json={"username": "rt03", "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain http here
        info = signed.json()
        assert (info["username"], info["name"], info["role"]) == ("rt03", "Pak RT 03", "viewer")
        cams = web.get("/api/v1/cameras").json()
        assert [c["name"] for c in cams] == ["Kelas 7A"]
        live = f"/api/v1/cameras/{cams[0]['id']}/live"
        assert web.post(live).status_code == 403, "an unsafe request with the cookie needs the CSRF token"
        assert web.post(live, headers={"X-CSRF-Token": "guess"}).status_code == 403
        assert web.post(live, headers={"X-CSRF-Token": info["csrf_token"]}).status_code == 201
        for body in (signed.text, json.dumps(web.get("/api/v1/cameras").json())):
            assert PASSWORD not in body and "argon2" not in body

        disabled = hub.pantau("user", "disable", "rt03", "-c", str(hub.config), "--data-dir", str(hub.data_dir))
        assert disabled.returncode == 0
        stopped = time.monotonic()
        while web.get("/api/v1/cameras").status_code == 200:
            assert time.monotonic() - stopped < 6, "a disabled user's session goes on"
            time.sleep(0.2)
        assert web.post("/api/v1/session", json={"username": "rt03", "password": PASSWORD}).status_code == 401
    listed = json.loads(hub.pantau("user", "list", "--json", "-c", str(hub.config),
                                   "--data-dir", str(hub.data_dir)).stdout)
    assert {u["username"]: u["disabled"] for u in listed} == {"admin": False, "rt03": True}
    assert "argon2" not in json.dumps(listed) and "hash" not in json.dumps(listed)
    audit = [line for line in hub.log().splitlines() if "sign-in failed" in line]
    assert audit and PASSWORD not in hub.log()


def test_the_first_start_makes_an_admin_whose_password_is_shown_once_and_never_logged(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    kept = hub.data_dir / "initial-admin-password"
    password = kept.read_text().strip()
    assert password in hub.secrets(), "the suite's leak check reads the hub's log for it at the end"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and len(password) >= 16
    assert str(kept) in hub.log()
    with httpx.Client(base_url=hub.url, timeout=30) as web:
        signed = web.post("/api/v1/session", json={"username": "admin", "password": password})
        assert signed.status_code == 200 and signed.json()["role"] == "admin"
        csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
        assert web.get("/api/v1/audit").status_code == 200
        assert web.delete("/api/v1/session").status_code == 403, "signing out needs the CSRF token too"
        assert web.delete("/api/v1/session", headers=csrf).status_code == 204
        assert web.get("/api/v1/audit").status_code == 401, "a session signed out is over"
    hub.stop()
    hub.start()  # an admin exists now: no second one, the file is left as it was
    listed = json.loads(hub.pantau("user", "list", "--json", "-c", str(hub.config),
                                   "--data-dir", str(hub.data_dir)).stdout)
    assert [u["username"] for u in listed] == ["admin"]


def test_failed_sign_ins_are_held_back_per_user(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml(extra="http: {auth_failures_per_minute: 3}\n"))
    assert add_user(hub, "rw04", "--role", "operator").returncode == 0
    with httpx.Client(base_url=hub.url, timeout=30) as web:
        answers = [web.post("/api/v1/session", json={"username": "rw04", "password": f"guess-{i}"}).status_code
                   for i in range(5)]
        held = web.post("/api/v1/session", json={"username": "rw04", "password": PASSWORD})
    assert answers[:3] == [401, 401, 401] and answers[3:] == [429, 429]
    assert held.status_code == 429 and int(held.headers["retry-after"]) > 0, "even the right password waits"
