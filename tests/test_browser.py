"""The page at ``/`` in a real browser: Debian's headless Chromium, driven by Playwright.

Playwright's own browser builds are never downloaded (``playwright install``
needs the internet, and Chromium's open-source build plays no H.264); the
test drives the ``chromium`` that ``make install`` installs from Debian.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from hub.testing.fixtures import peer_unavailable
from hub.web.pages import VENDOR
from tests.conftest import demo_hub_yaml

#: axe-core, installed from npm with the pages' libraries (a development dependency).
AXE = VENDOR["hls.min.js"].parents[2] / "axe-core" / "axe.min.js"


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        peer_unavailable(RuntimeError("Debian's chromium is not installed (`make install` installs it as root)"))
    if not all(path.is_file() for path in [*VENDOR.values(), AXE]):
        peer_unavailable(RuntimeError("the pages' libraries are not installed (`make install` fetches them from npm)"))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--autoplay-policy=no-user-gesture-required"])
        try:
            yield browser
        finally:
            browser.close()


PASSWORD = "Sandi-Pak-RT-03"
TILE = bytes.fromhex(  # a 1x1 PNG: the tests serve the map's tiles themselves (no internet here)
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082")


def portal_hub(hub_factory):  # noqa: ANN001, ANN201
    return hub_factory(demo_hub_yaml(extra=(
        "live: {segment_seconds: 1}\nweb: {map_tiles: 'http://tiles.test/{z}/{x}/{y}.png', "
        "controller: Diskominfo Kota Uji, contact: ppid@uji.go.id}")).replace(
        "cameras: [{name: Gate A, tags: [public]}", "cameras: [{name: Gate A, tags: [public], "
        "location: {lat: -6.99, lon: 110.42}}"))


def add_user(hub, username: str, *options: str) -> None:  # noqa: ANN001
    """An account with the tests' password."""
    hub.add_user(username, PASSWORD, *options)


def sign_in(page, hub, username: str) -> None:  # noqa: ANN001
    """Sign in on /masuk as a person does; the page goes on to /saya."""
    page.goto(hub.url + "/masuk")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login button")
    page.wait_for_url(hub.url + "/saya", timeout=10_000)


def narrow_page(browser):  # noqa: ANN001, ANN201
    # A visitor in Indonesia whose phone's clock is set to another zone: the pages keep the hub's.
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID",
                                  timezone_id="America/New_York")
    context.route("http://tiles.test/**", lambda route: route.fulfill(body=TILE, content_type="image/png"))
    return context.new_page()


#: ``make guides`` sets it: the folder the user guides' screenshots go to (docs/guides/img).
SHOTS = os.environ.get("PANTAU_GUIDE_SHOTS")


def shot(page, name: str) -> None:  # noqa: ANN001
    """For the user guides (``make guides``): the page as its person sees it now, as
    ``NAME.LANG.png``, and the same address in the other language (as it first shows)."""
    if not SHOTS:
        return
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    lang = page.evaluate("document.documentElement.lang")
    page.screenshot(path=folder / f"{name}.{lang}.png")
    other = "en" if lang == "id" else "id"
    twin = page.context.new_page()
    joiner = "&" if "?" in page.url else "?"
    twin.goto(f"{page.url}{joiner}lang={other}")
    twin.wait_for_timeout(1_500)  # the map's tiles, the pictures
    twin.screenshot(path=folder / f"{name}.{other}.png")
    twin.goto(f"{page.url}{joiner}lang={lang}")  # the language of the page under test, as it was
    twin.close()


def test_a_visitor_sees_the_public_portal_in_indonesian_and_a_camera_plays(hub_factory, browser) -> None:  # noqa: ANN001
    hub = portal_hub(hub_factory)
    with hub.client() as admin:
        cams = {c["name"]: c["id"] for c in admin.get("/api/v1/cameras").json()}
    hub.pantau("public", "approve", cams["Gate A"], "--url", hub.url, "-c", str(hub.config),
               "--data-dir", str(hub.data_dir))
    page = narrow_page(browser)
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    loaded: list[tuple[str, int]] = []
    page.on("response", lambda r: loaded.append((r.url, len(r.body()))) if r.request.resource_type in (
        "document", "stylesheet", "script") else None)
    page.goto(hub.url + "/")
    page.wait_for_load_state("networkidle")
    first_load = sum(size for _, size in loaded)
    assert 0 < first_load < 300_000, f"the portal's first load is {first_load} bytes: {loaded}"
    assert page.get_attribute("html", "lang") == "id"
    assert page.locator("h1").inner_text() == "Kamera publik"
    assert page.locator("#cameras .camera h3").all_inner_texts() == ["Gate A"], "public cameras only"
    assert "Diskominfo Kota Uji" in page.locator("footer").inner_text()
    page.locator(".leaflet-marker-icon, .marker-cluster").first.wait_for(timeout=10_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "fits a 360 px screen"
    shot(page, "portal")
    page.click("#cameras button.play")
    video = f'video[data-camera="{cams["Gate A"]}"]'
    page.wait_for_function(f"() => document.querySelector('{video}')?.currentTime > 1", timeout=30_000)
    first = page.eval_on_selector(video, "v => v.currentTime")
    page.wait_for_timeout(2_000)
    assert page.eval_on_selector(video, "v => v.currentTime") > first + 1, "it plays live"

    page.select_option("#lang", "en")
    page.wait_for_load_state()
    page.wait_for_function("() => document.documentElement.lang === 'en'", timeout=10_000)
    assert page.locator("h1").inner_text() == "Public cameras"
    assert page.locator("#cameras button.play").inner_text() == "Watch live"
    assert not problems


def test_a_user_signs_in_and_plays_their_camera(hub_factory, browser) -> None:  # noqa: ANN001
    hub = portal_hub(hub_factory)
    add_user(hub, "rt03", "--role", "viewer", "--scope", "tag:classroom:7A", "--name", "Pak RT 03")
    page = narrow_page(browser)
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.goto(hub.url + "/masuk")
    page.fill("#username", "rt03")
    page.fill("#password", "not-the-password")
    page.click("#login button")
    page.locator("#problem").wait_for(state="visible", timeout=10_000)
    assert page.locator("#problem").inner_text() == "Nama pengguna atau kata sandi salah."
    shot(page, "sign-in")
    page.fill("#password", PASSWORD)
    page.click("#login button")
    page.wait_for_url(hub.url + "/saya", timeout=10_000)
    assert page.locator(".camera h3").all_inner_texts() == ["Kelas 7A"]
    assert page.evaluate("Object.keys(localStorage).length + Object.keys(sessionStorage).length") == 0
    page.click("button.play")
    video = "video.live"
    page.wait_for_function(f"() => document.querySelector('{video}')?.currentTime > 1", timeout=30_000)
    # the low-latency path: MP4 fragments over the WebSocket, the picture at the live edge
    assert page.eval_on_selector(video, "v => v.dataset.transport") == "mse"
    assert page.eval_on_selector(video, "v => v.buffered.end(v.buffered.length - 1) - v.currentTime") < 1.5
    page.click("#sign-out")
    page.wait_for_url(hub.url + "/", timeout=10_000)
    assert page.locator("nav").inner_text().count("Masuk") == 1
    assert not problems


def test_a_form_sent_before_its_script_has_run_goes_nowhere(hub_factory, browser) -> None:  # noqa: ANN001
    # A slow phone, or scripts blocked: the browser's own way of sending the sign-in form would be a
    # GET of the page with the password in its address (and in every log on the way).
    hub = portal_hub(hub_factory)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(hub.url + "/masuk")
    assert page.locator("#login button").is_disabled()
    page.fill("#username", "rt03")
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_timeout(500)
    assert page.url == hub.url + "/masuk"
    context.close()
    page = narrow_page(browser)  # with its script the same button signs in
    page.goto(hub.url + "/masuk")
    assert page.locator("#login button").is_enabled()
    page.context.close()


def test_no_page_has_serious_accessibility_problems(hub_factory, browser) -> None:  # noqa: ANN001
    """axe-core (from npm) over each page at 360 px, in a context that lets the test inject it."""
    hub = portal_hub(hub_factory)
    with hub.client() as admin:
        gate = next(c["id"] for c in admin.get("/api/v1/cameras").json() if c["name"] == "Gate A")
    hub.pantau("public", "approve", gate, "--url", hub.url, "-c", str(hub.config), "--data-dir", str(hub.data_dir))
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID", bypass_csp=True)
    page = context.new_page()
    page.route("http://tiles.test/**", lambda route: route.fulfill(body=TILE, content_type="image/png"))
    def check(path: str) -> None:
        page.goto(hub.url + path)
        page.add_script_tag(path=str(AXE))
        found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                              ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id)")
        assert found == [], f"{path}: {found}"

    for path in ("/", "/masuk", "/?lang=en"):
        check(path)
    add_user(hub, "admin.axe", "--role", "admin", "--scope", "area:jawa-tengah")  # scoped: the request form too
    add_user(hub, "op.axe", "--role", "admin")
    for username, paths in (("admin.axe", ["/saya", f"/saya/kamera/{gate}", "/usulan"]),
                            ("op.axe", ["/konsol", "/konsol/kejadian", "/konsol/audit", "/konsol/bukti",
                                        "/konsol/pengguna", "/usulan", "/konsol?lang=en"])):
        sign_in(page, hub, username)
        for path in paths:
            check(path)
        page.click("#sign-out")
        page.wait_for_url(hub.url + "/")
    context.close()


def test_a_neighbourhood_head_plays_back_a_recorded_minute_from_the_timeline(hub_factory, browser) -> None:  # noqa: ANN001
    area = "jawa-tengah/semarang/krapyak/rw04/rt03"
    hub = hub_factory(demo_hub_yaml(extra="web: {map_tiles: 'http://tiles.test/{z}/{x}/{y}.png'}").replace(
        "    name: demo\n", f"    name: demo\n    area: {area}\n"))
    add_user(hub, "rt03.krapyak", "--role", "area_head", "--scope", f"area:{area}")
    with hub.client() as admin:  # a few segments recorded first
        gate = next(c["id"] for c in admin.get("/api/v1/cameras").json() if c["name"] == "Gate A")
        deadline = time.monotonic() + 40
        while len(admin.get(f"/api/v1/cameras/{gate}/recordings").json()) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.5)
    page = narrow_page(browser)
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    sign_in(page, hub, "rt03.krapyak")
    page.click(f'a[href="/saya/kamera/{gate}"]')
    recorded = page.locator("#timeline .recorded").first
    recorded.wait_for(timeout=10_000)
    assert page.get_attribute("html", "lang") == "id"
    box = recorded.bounding_box()
    line = page.locator("#timeline").bounding_box()
    page.mouse.move(line["x"] + line["width"] * 0.9, box["y"] + 5)  # a finger put down late in the day ...
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)  # ... drawn to the bar
    assert re.fullmatch(r"\d\d[.:]\d\d", page.locator("#state").inner_text()), "the time under the finger"
    page.mouse.up()
    page.wait_for_function("() => document.getElementById('playback').currentTime > 0.5", timeout=20_000)
    played = page.locator("#state").inner_text()
    hours = {f"{datetime.now(ZoneInfo('Asia/Jakarta')) - timedelta(minutes=m):%H}." for m in (0, 5)}
    assert "Diputar dari" in played and any(h in played for h in hours), f"in the hub's zone: {played}"
    shot(page, "timeline")
    assert not problems
    with hub.client() as admin:
        trail = admin.get("/api/v1/audit", params={"principal": "user:rt03.krapyak", "action": "play_back"}).json()
    assert trail and trail[0]["allowed"], "playback from the page is in the audit log"


class ThreadedSimulator:
    """A Hikvision NVR simulator on an event loop of its own thread (the browser tests are not async)."""

    def __init__(self) -> None:
        import asyncio
        import threading

        from hub.testing.sim import HikvisionSimulator

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sim = self.run(HikvisionSimulator(kind="nvr", channels=4).start())

    def run(self, coro):  # noqa: ANN001, ANN201
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.run(self.sim.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_an_operator_in_english_sees_an_offline_camera_and_invites_a_parent(hub_factory, browser) -> None:  # noqa: ANN001
    nvr = ThreadedSimulator()
    try:
        hub = hub_factory(demo_hub_yaml(extra=(
            "health: {interval_seconds: 1, confirm_checks: 1, timeout_seconds: 2}\n"
            "sites: [{id: smpn-4, name: SMP Negeri 4}]\n"
            "web: {map_tiles: 'http://tiles.test/{z}/{x}/{y}.png'}")).replace(
            "sources:\n", "sources:\n  - {type: hikvision, name: nvr, host: 127.0.0.1, "
            f"port: {nvr.sim.port}, password: {nvr.sim.password}, timeout: 1, events: false}}\n").replace(
            "    name: demo\n", "    name: demo\n    site: smpn-4\n"))
        args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
        add_user(hub, "op.budi", "--role", "operator", "--locale", "en")
        hub.pantau("classroom", "add", "smpn-4", "7A", "--hours", "mon-fri 07:00-14:00", "--consent", "SK-4/2026",
                   *args)
        page = narrow_page(browser)
        problems: list[str] = []
        page.on("pageerror", lambda err: problems.append(str(err)))
        sign_in(page, hub, "op.budi")
        page.goto(hub.url + "/konsol")
        assert page.get_attribute("html", "lang") == "en", "the user's own setting"
        assert page.locator("h1").inner_text() == "Operator console"
        page.locator("tr.status-online").first.wait_for(timeout=15_000)
        gate_row = page.locator("#board tr", has_text="Gate A").inner_text()
        assert "100.0 %" in gate_row and re.search(r"\d:\d\d", gate_row), f"uptime and latest picture: {gate_row}"
        # The area's 24 h uptime: its share of known time online (the NVR's channels may have missed a check
        # on a loaded machine with a 1 s timeout, so not necessarily 100 %).
        assert page.locator("#areas li").count() == 1 and re.search(r"\b\d{1,3}\.\d% up", page.locator("#areas")
                                                                   .inner_text())
        nvr.run(nvr.sim.stop())  # the NVR stops answering
        began = time.monotonic()
        page.locator("tr.status-offline").first.wait_for(timeout=20_000)
        assert time.monotonic() - began < 15, "marked within a few health intervals"
        shot(page, "console")
        assert "offline" in page.locator("tr.status-offline").first.inner_text()
        page.fill("#classroom", "7A")
        page.fill("#parent-name", "Ibu Sari")
        page.fill("#until", "2027-06-30")
        page.click("#invite button")
        page.locator("#invited").wait_for(state="visible", timeout=10_000)
        assert "ortu.sari" in page.locator("#invited").inner_text()
        link = page.locator("#invite-link").inner_text()
        assert "/invite/" in link
        hub.tokens.append(link.rsplit("/", 1)[-1])
        assert not problems
    finally:
        nvr.close()


def test_a_school_admin_invites_and_revokes_parents_from_the_schools_page(hub_factory, browser) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml(extra="sites: [{id: smpn-4, name: SMP Negeri 4}]").replace(
        "    name: demo\n", "    name: demo\n    site: smpn-4\n"))
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    add_user(hub, "tu.smpn4", "--role", "school_admin", "--scope", "site:smpn-4")
    hub.pantau("classroom", "add", "smpn-4", "7A", "--hours", "mon-fri 07:00-14:00", "--consent", "SK-4/2026", *args)
    first = hub.pantau("parent", "invite", "--site", "smpn-4", "--classroom", "7A", "--name", "Bapak Budi",
                       "--until", "2027-06-30", *args)
    hub.tokens.append(first.stdout.strip().rsplit("/", 1)[-1])
    page = narrow_page(browser)
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    sign_in(page, hub, "tu.smpn4")
    page.click('a[href="/sekolah/smpn-4"]')
    assert page.locator("h1").inner_text() == "Sekolah SMP Negeri 4"
    assert page.locator("#parents tbody tr").all_inner_texts()[0].startswith("ortu.budi")
    page.fill("#parent-name", "Ibu Sari")
    page.fill("#until", "2027-06-30")
    page.click("#invite button")
    page.locator("#invited").wait_for(state="visible", timeout=10_000)
    assert "ortu.sari" in page.locator("#invited").inner_text()
    hub.tokens.append(page.locator("#invite-link").inner_text().rsplit("/", 1)[-1])
    page.click('button.revoke[data-username="ortu.budi"]')
    page.locator("#revoked").wait_for(state="visible", timeout=10_000)
    assert "ortu.budi" in page.locator("#revoked").inner_text()
    shot(page, "school")
    listed = {p["username"]: p for p in json.loads(hub.pantau("parent", "list", "--json", *args).stdout)}
    assert set(listed) == {"ortu.budi", "ortu.sari"}
    users = {u["username"]: u["disabled"] for u in json.loads(
        hub.pantau("user", "list", "--json", *args).stdout)}
    assert users["ortu.budi"] and not users["ortu.sari"], "the revoked parent's account is disabled"
    assert page.evaluate("fetch('/sekolah/sdn-12').then(r => r.status)") == 404, "not another school's page"

    page.fill("#room-name", "7B")
    page.fill("#room-hours", "weekdays 7-14")  # not the hub's way of writing hours: said in her language
    page.fill("#room-consent", "SK-4/2026")
    page.click("#room button")
    page.locator("#room-problem").wait_for(state="visible", timeout=10_000)
    assert page.locator("#room-problem").inner_text().startswith("Data sekolah tidak dapat disimpan")
    page.fill("#room-hours", "mon-fri 07:00-13:00")
    page.click("#room button")
    page.locator("button.edit-room[data-name='7B']").wait_for(timeout=10_000)
    page.wait_for_load_state()  # the page came again: its script is there before the next click
    assert "mon-fri 07:00-13:00" in page.locator("table.board").first.inner_text()
    page.click("button.edit-room[data-name='7A']")  # the consent withdrawn: 7A's parent loses access at once
    page.fill("#room-consent", "")
    page.click("#room button")
    page.wait_for_function("() => document.querySelector('table.board').innerText.includes('tertutup untuk orang tua')",
                           timeout=10_000)
    grants = json.loads(hub.pantau("grant", "list", "ortu.sari", "--json", *args).stdout)
    assert grants == [], "Ibu Sari's grant of 7A ended with the consent"
    assert not problems


def test_an_rt_head_asks_for_a_camera_on_the_map_and_reads_the_operators_answer(hub_factory, browser) -> None:  # noqa: ANN001
    area = "dki-jakarta/jakarta-timur/cakung/rw07/rt02"
    hub = hub_factory(demo_hub_yaml(extra=(
        "web: {map_tiles: 'http://tiles.test/{z}/{x}/{y}.png'}\n"
        f"areas: [{{path: {area}, name: RT 02 RW 07 Cakung}}]")).replace(
        "    name: demo\n", f"    name: demo\n    area: {area}\n").replace(
        "{name: Gate A, tags: [public]}", "{name: Gate A, tags: [public], location: {lat: -6.1806, lon: 106.9452}}"))
    add_user(hub, "rt02.cakung", "--role", "area_head", "--scope", f"area:{area}", "--name", "Pak Harun")
    add_user(hub, "op.sinta", "--role", "operator", "--locale", "en")
    page = narrow_page(browser)
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    sign_in(page, hub, "rt02.cakung")
    page.click('nav a[href="/usulan"]')
    assert page.locator("h1").inner_text() == "Usulan kamera"
    page.wait_for_function("() => document.querySelector('#map .leaflet-tile-loaded')", timeout=10_000)
    page.click("#map", position={"x": 180, "y": 120})  # a tap on the map chooses the spot
    assert page.input_value("#lat") and page.input_value("#lon")
    page.fill("#reason", "Gang sempit di belakang pasar, sering ada jambret malam hari.")
    page.click("#ask button")
    page.locator("#requests .request").first.wait_for(timeout=10_000)
    mine = page.locator("#requests .request").first
    assert "menunggu jawaban" in mine.inner_text() and "Pak Harun" in mine.inner_text()
    shot(page, "requests")
    page.locator("#map .leaflet-interactive").first.wait_for(timeout=10_000)  # the map's script has drawn it
    assert page.locator("#map .leaflet-interactive").count() == 1, "the request is a dot on the map"

    operator = narrow_page(browser)
    operator.on("pageerror", lambda err: problems.append(str(err)))
    sign_in(operator, hub, "op.sinta")
    operator.goto(hub.url + "/usulan")
    assert operator.locator("h2#list-title").inner_text() == "All requests"
    operator.select_option("form.answer .new-state", "declined")
    operator.click("form.answer button")  # declined without saying why: the API says no, by its code
    shown = operator.locator("form.answer .problem")
    shown.wait_for(state="visible", timeout=10_000)
    assert shown.inner_text() == "This cannot be saved so: a request needs a spot and a reason, and a refusal says why."
    operator.select_option("form.answer .new-state", "planned")
    operator.fill("form.answer .note", "Masuk anggaran 2027, triwulan pertama.")
    operator.click("form.answer button")
    operator.locator(".request .state-planned").wait_for(timeout=10_000)
    shot(operator, "requests-answered")

    page.reload()
    answered = page.locator("#requests .request").first.inner_text()
    assert "direncanakan" in answered and "Masuk anggaran 2027" in answered
    with hub.client() as admin:
        other = admin.post("/api/v1/camera-requests", json={"latitude": -6.2, "longitude": 106.8, "reason": "x" * 12})
        assert other.status_code == 400 and other.json()["code"] == "invalid_input", "an admin names the area"
        trail = admin.get("/api/v1/audit", params={"action": "request_camera"}).json()
    assert trail and trail[0]["principal"] == "user:rt02.cakung"
    from tests.test_grants import signed_in

    with contextlib.closing(signed_in(hub.url, "rt02.cakung", PASSWORD)) as head:
        next_door = head.post("/api/v1/camera-requests", json={
            "area": "dki-jakarta/jakarta-timur/cakung/rw07/rt03", "latitude": -6.18, "longitude": 106.94,
            "reason": "Bukan wilayah saya, tetapi saya coba."})
        assert next_door.status_code == 403, "an RT head asks within their own RT only"
        assert head.post("/api/v1/camera-requests/x/answer", json={"state": "planned"}).status_code == 403
        assert len(head.get("/api/v1/camera-requests").json()) == 1
    assert not problems


def test_an_admin_works_the_console_events_audit_evidence_and_a_csv_of_accounts(hub_factory, browser) -> None:  # noqa: ANN001
    from tests.test_evidence import LETTER

    hub = hub_factory(demo_hub_yaml(motion_every=1, extra="web: {map_tiles: 'http://tiles.test/{z}/{x}/{y}.png'}"))
    add_user(hub, "admin.dina", "--role", "admin", "--locale", "en")
    with hub.client() as admin, hub.client("investigator") as police:
        gate = next(c["id"] for c in admin.get("/api/v1/cameras").json() if c["name"] == "Gate A")
        now = time.time()
        stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))  # noqa: E731
        filed = police.post("/api/v1/evidence", json={**LETTER, "camera_ids": [gate], "start": stamp(now - 60),
                                                      "end": stamp(now)})
        assert filed.status_code == 201, filed.text
        assert police.get(f"/api/v1/cameras/{gate}/recordings").status_code == 403  # a refusal for the audit log
        deadline = time.monotonic() + 20
        while not admin.get("/api/v1/events", params={"limit": 5}).json():
            assert time.monotonic() < deadline, "no motion from the demo camera"
            time.sleep(0.5)
    page = narrow_page(browser)
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    sign_in(page, hub, "admin.dina")
    page.select_option("#grup", "public")  # the grid by group
    page.click("form.filter button")
    assert page.locator(".camera h3").all_inner_texts() == ["Gate A"]
    page.goto(hub.url + "/saya")
    page.click("#watch-all")  # every camera of the grid live at once, each over MSE
    page.wait_for_function("() => [...document.querySelectorAll('video.live')].every(v => v.currentTime > 1)",
                           timeout=30_000)
    assert page.eval_on_selector_all("video.live", "vs => vs.map(v => v.dataset.transport)") == ["mse", "mse"]

    page.goto(hub.url + "/konsol/kejadian")
    assert page.locator("h1").inner_text() == "Events and reports"
    assert page.locator("#per-area li").count() >= 1, "a chart of events per area"
    assert int(page.locator("#per-area .count").first.inner_text()) >= 1
    assert "motion" in page.locator("#events tbody").inner_text()
    shot(page, "console-events")

    page.click('nav.tabs a[href="/konsol/audit"]')
    page.select_option("#outcome", "refused")
    page.click("form.filters button")
    page.wait_for_url("**/konsol/audit?*outcome=refused*")
    refused = page.locator("#audit tbody tr")
    outcomes = page.locator("#audit tbody td:nth-child(5)").all_inner_texts()
    assert refused.count() >= 1 and set(outcomes) == {"no"}
    assert "play_back" in page.locator("#audit tbody").inner_text()
    shot(page, "console-audit")

    page.click('nav.tabs a[href="/konsol/bukti"]')
    waiting = page.locator("#waiting .request")
    assert waiting.count() == 1 and "LP/B/456/XI/2026" in waiting.inner_text()
    shot(page, "console-evidence")
    page.click("#waiting .refuse")  # a refusal needs a note: the API says no, and the page says why
    page.locator("#waiting .problem").wait_for(state="visible", timeout=10_000)
    page.fill("#waiting .note", "Surat diverifikasi, sesuai KUHAP.")
    page.click("#waiting .approve")
    page.locator("#decided tbody tr").first.wait_for(timeout=10_000)
    assert "approved" in page.locator("#decided tbody").inner_text()

    page.click('nav.tabs a[href="/konsol/pengguna"]')
    bad = ("username,name,role,area,phone\n"
           "rt01.tugu,Pak Joko,area_head,jawa-tengah/semarang/tugu/rw01/rt01,\nX,,boss,,\n")
    page.set_input_files("#csv", files=[{"name": "rt.csv", "mimeType": "text/csv", "buffer": bad.encode()}])
    page.click("#import button")
    page.locator("#import-problems li").first.wait_for(timeout=10_000)
    listed = page.locator("#import-problems").inner_text()
    assert "3: username" in listed and "3: role" in listed, listed
    good = "".join(f"rt{n:02d}.tugu,Ketua RT {n},area_head,jawa-tengah/semarang/tugu/rw01/rt{n:02d},\n"
                   for n in range(1, 41))
    page.set_input_files("#csv", files=[{"name": "rt.csv", "mimeType": "text/csv",
                                         "buffer": ("username,name,role,area,phone\n" + good).encode()}])
    page.click("#import button")
    page.locator("#passwords").wait_for(state="visible", timeout=60_000)
    assert page.locator("#import-state").inner_text() == "40 new accounts, 0 updated."
    shot(page, "console-accounts")
    with page.expect_download() as download:
        page.click("#passwords")
    handed_out = Path(download.value.path()).read_text().splitlines()
    assert handed_out[0] == "username,password" and len(handed_out) == 41
    name, password = handed_out[5].split(",")
    hub.tokens.append(password)  # a secret: never in the hub's log
    with httpx.Client(base_url=hub.url) as head:
        assert head.post("/api/v1/session", json={"username": name, "password": password}).status_code == 200

    page.click('nav.tabs a[href="/konsol/akses"]')
    page.fill("#principal", name)
    page.check(".action[value=play_back]")
    page.fill("#cameras", "area:jawa-tengah/semarang/tugu")
    page.fill("#hours", "weekdays 7-14")
    page.click("#give button")
    page.locator("#give-problem").wait_for(state="visible", timeout=10_000)
    said = page.locator("#give-problem").inner_text()
    assert said == "The access cannot be given so; check the cameras and the hours.", said
    page.fill("#hours", "mon-fri 07:00-14:00")
    page.fill("#note", "SK Lurah Tugu 12/2026")
    page.click("#give button")
    row = page.locator("#grants tbody tr", has_text=name)
    row.wait_for(timeout=10_000)
    assert "view_live, play_back" in row.inner_text() and "mon-fri 07:00-14:00" in row.inner_text()
    shot(page, "console-grants")
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    [given] = json.loads(hub.pantau("grant", "list", name, "--json", *args).stdout)
    assert given["created_by"] == "user:admin.dina" and given["note"] == "SK Lurah Tugu 12/2026"
    row.locator("button.revoke").click()
    row.wait_for(state="detached", timeout=10_000)
    assert json.loads(hub.pantau("grant", "list", name, "--json", *args).stdout) == []
    assert not problems


def test_a_parent_sets_a_password_and_sees_one_classroom_live_and_the_other_closed(hub_factory, browser) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml(extra="sites: [{id: smpn-4, name: SMP Negeri 4}]").replace(
        "    name: demo\n", "    name: demo\n    site: smpn-4\n").replace(
        '{name: Kelas 7A, tags: ["classroom:7A"]}', '{name: Kelas 7A, tags: ["classroom:7A"]}, '
        '{name: Kelas 7B, tags: ["classroom:7B"]}'))
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    zone = ZoneInfo("Asia/Jakarta")
    later = datetime.now(zone) + timedelta(hours=3)  # 7B's school day starts three hours from now
    hours = f"mon-sun {later:%H}:00-{later:%H}:30"
    hub.pantau("classroom", "add", "smpn-4", "7A", "--hours", "mon-sun 00:00-23:59", "--consent", "SK-4/2026", *args)
    hub.pantau("classroom", "add", "smpn-4", "7B", "--hours", hours, "--consent", "SK-4/2026", *args)
    invited = hub.pantau("parent", "invite", "--site", "smpn-4", "--classroom", "7A", "--name", "Ibu Sari",
                         "--until", "2027-06-30", *args)
    link = invited.stdout.strip().splitlines()[-1]
    token = link.rsplit("/", 1)[-1]
    hub.tokens.append(token)
    hub.pantau("grant", "add", "ortu.sari", "--actions", "view_live", "--tag", "classroom:7B", "--hours", hours,
               "--note", "adik: Rina, kelas 7B", *args)
    page = narrow_page(browser)
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.goto(f"{hub.url}/invite/{token}")
    assert page.get_attribute("html", "lang") == "id"
    shot(page, "invite")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("form button")
    page.wait_for_load_state()
    assert "ortu.sari" in page.locator("main").inner_text()
    page.goto(hub.url + "/masuk")
    page.fill("#username", "ortu.sari")
    page.fill("#password", PASSWORD)
    page.click("#login button")
    page.wait_for_url(hub.url + "/saya", timeout=10_000)
    rooms = {r.locator("h3").inner_text(): r for r in page.locator(".camera").all()}
    assert set(rooms) == {"Kelas 7A", "Kelas 7B"}, "the two classrooms and nothing else"
    closed = rooms["Kelas 7B"].inner_text()
    assert "Sedang tutup. Buka pukul" in closed and f"{later:%H}.00" in closed, closed
    assert rooms["Kelas 7B"].locator("button.play").count() == 0
    rooms["Kelas 7A"].locator("button.play").click()
    page.wait_for_function("() => document.querySelector('video.live')?.currentTime > 1", timeout=30_000)
    shot(page, "parent")
    with hub.client() as admin:
        gate = next(c["id"] for c in admin.get("/api/v1/cameras").json() if c["name"] == "Gate A")
    assert page.evaluate(f"fetch('/api/v1/cameras/{gate}/live', {{method: 'POST', headers: "
                         "{'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}})"
                         ".then(r => r.status)") == 403, "no other camera by its address"
    page.goto(f"{hub.url}/saya/kamera/{gate}")
    assert page.locator("h1").inner_text() == "Tidak ada (lagi).", "an error page, in her language"
    assert not problems


def test_switching_the_language_changes_every_visible_string(hub_factory, browser) -> None:  # noqa: ANN001
    """On each page, in each language, no string of the other language's catalog is shown."""
    from babel.messages.pofile import read_po

    from hub.web import i18n

    with i18n.catalog_path("id").open("rb") as po:  # English is the message ids, Indonesian their strings
        pairs = [(m.id, m.string) for m in read_po(po) if m.id and m.string and m.id != m.string]
    catalogs = {"en": {english for english, _ in pairs}, "id": {indonesian for _, indonesian in pairs}}
    hub = portal_hub(hub_factory)
    add_user(hub, "admin.lang", "--role", "admin")
    page = narrow_page(browser)
    sign_in(page, hub, "admin.lang")
    for path in ("/", "/masuk", "/saya", "/konsol", "/konsol/kejadian", "/konsol/audit", "/konsol/bukti",
                 "/konsol/pengguna", "/konsol/akses", "/usulan"):
        for lang, other in (("en", "id"), ("id", "en")):
            page.goto(f"{hub.url}{path}{'&' if '?' in path else '?'}lang={lang}")
            shown = page.locator("body").inner_text() + " ".join(
                page.eval_on_selector_all("[aria-label], [placeholder], [title]", "els => els.map(e => "
                                          "[e.getAttribute('aria-label'), e.title].join(' '))"))
            stray = sorted(s for s in catalogs[other] if len(s) >= 12 and "%(" not in s and s in shown)
            assert not stray, f"{path} in {lang} shows {other} strings: {stray}"
            assert page.get_attribute("html", "lang") == lang
