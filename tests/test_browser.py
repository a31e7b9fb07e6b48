"""The page at ``/`` in a real browser: Debian's headless Chromium, driven by Playwright.

Playwright's own browser builds are never downloaded (``playwright install``
needs the internet, and Chromium's open-source build plays no H.264); the
test drives the ``chromium`` that ``make install`` installs from Debian.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from hub.http.page import ASSETS
from hub.testing.fixtures import peer_unavailable
from tests.conftest import demo_hub_yaml


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        peer_unavailable(RuntimeError("Debian's chromium is not installed (`make install` installs it as root)"))
    if not ASSETS["hls.min.js"].is_file():
        peer_unavailable(RuntimeError("hls.js is not installed (`make install` fetches it from npm)"))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--autoplay-policy=no-user-gesture-required"])
        try:
            yield browser
        finally:
            browser.close()


def test_the_page_plays_a_camera_live(hub_factory, browser) -> None:
    hub = hub_factory(demo_hub_yaml(extra="live: {segment_seconds: 1}"))
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.goto(hub.url + "/")
    page.fill("#token", hub.token("viewer"))
    page.click("#login button")
    button = page.locator("button.live").first
    button.wait_for(timeout=10_000)
    camera = button.get_attribute("data-camera")
    button.click()

    video = f'video[data-camera="{camera}"]'
    page.wait_for_function(f"() => document.querySelector('{video}')?.currentTime > 1", timeout=30_000)
    first = page.eval_on_selector(video, "v => v.currentTime")
    page.wait_for_timeout(2_000)
    later = page.eval_on_selector(video, "v => [v.currentTime, v.videoWidth, v.paused]")
    assert later[0] > first + 1  # the picture moves on: it is live, not a still
    assert later[1] == 160 and not later[2]  # the substream, playing

    with hub.client() as admin:
        live = [n for n in admin.get("/api/v1/streams").json() if n["kind"] == "live"]
        assert [(n["camera_id"], n["stream_role"]) for n in live] == [(camera, "sub")]
        button.click()  # Stop: the page says it left, and the hub stops the live output at once
        page.wait_for_timeout(1_000)
        assert not [n for n in admin.get("/api/v1/streams").json() if n["kind"] == "live"]
    assert not problems
