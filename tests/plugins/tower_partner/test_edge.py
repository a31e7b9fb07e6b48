"""A shop camera behind its router: the edge (``pantau edge``) runs in a network namespace whose
camera the city hub cannot reach, dials the hub, and the camera plays live and records on the hub,
under the partner's agreement; a refused link is retried with backoff and shows on both sides."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import av
import httpx
import pytest

from hub.testing.fixtures import peer_unavailable
from hub.testing.netns import NetnsUnavailable, PrivateHost
from hub.testing.rtsp import RtspServer, RtspUnavailable
from hub.testing.waiting import waited
from tests.conftest import demo_hub_yaml

EDGE_YAML = """\
version: 1
hub: {name: Toko Sinar edge}
sources:
  - type: rtsp
    name: kasir
    url: rtsp://127.0.0.1:8554/main
    sub_url: rtsp://127.0.0.1:8554/sub
    camera_name: Kasir
"""


@pytest.fixture
def shop() -> Iterator[PrivateHost]:
    """The shop: a namespace with a camera on its own loopback (no one outside reaches it)."""
    try:
        with PrivateHost() as host:
            camera = RtspServer(width=320, height=180, fps=10, keyint=10, kbits=256, port=8554, wrap=host.command)
            try:
                camera.start()
            except RtspUnavailable as err:
                peer_unavailable(err)
            try:
                yield host
            finally:
                camera.stop()
    except NetnsUnavailable as err:
        peer_unavailable(err)


def test_a_camera_behind_an_edge_plays_live_and_records_on_the_city_hub(hub_factory, shop, tmp_path) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml(f"http: {{host: 0.0.0.0, allowed_hosts: ['127.0.0.1', '{shop.near}']}}"))
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    hub.pantau("partner", "add", "toko-sinar", "--name", "Toko Sinar Jaya", "--kind", "shop", *args)
    hub.pantau("partner", "agreement", "toko-sinar", "--document", "PKS 9/DISKOMINFO/2026", "--controller",
               "Pemerintah Kota Semarang", "--processor", "Toko Sinar Jaya", "--playback", *args)
    with pytest.raises(OSError):
        socket.create_connection((shop.far, 8554), timeout=2).close()  # the city cannot reach the camera

    site = tmp_path / "site"
    site.mkdir()
    (site / "edge.yaml").write_text(EDGE_YAML)
    token = hub.token("partner_owner", ("tag:partner:toko-sinar",))

    def edge(token: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(shop.command([
            sys.executable, "-m", "hub", "edge", "--hub", f"http://{shop.near}:{hub.port}", "--partner",
            "toko-sinar", "--insecure", "-c", str(site / "edge.yaml"), "--data-dir", str(site / "data")]),
            env={**hub.env, "PANTAU_EDGE_TOKEN": token}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def status() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hub", "edge", "--status", "-c", str(site / "edge.yaml"),
                               "--data-dir", str(site / "data")], capture_output=True, text=True, timeout=60)

    state = site / "data" / "edge-status.json"

    def edge_state() -> dict[str, Any]:
        return json.loads(state.read_text()) if state.exists() else {}

    wrong = edge(hub.token("partner_owner", ("tag:partner:menara-lain",)))
    try:
        waited(lambda: edge_state().get("state") == "retrying", 30, "the edge says its link is refused")
        refused = status()
        assert refused.returncode == 3, refused.stdout
        assert "refused the link (403)" in refused.stdout and "next attempt in" in refused.stdout
    finally:
        wrong.kill()
        wrong.wait(5)

    link = edge(token)
    try:
        with hub.client() as admin:
            submitted = waited(lambda: [s for s in admin.get("/api/v1/partners/toko-sinar/submissions").json()
                                       if s["type"] == "edge"], 30, "the edge's first hello is a submission")
            assert submitted[0]["state"] == "pending_approval" and submitted[0]["found"] == ["Kasir"]
            assert not [c for c in admin.get("/api/v1/cameras").json() if "partner:toko-sinar" in c["tags"]], \
                "nothing joins before an operator approves"
            hub.pantau("partner", "approve", submitted[0]["id"], "--url", hub.url, *args)
            [camera] = waited(lambda: [c for c in admin.get("/api/v1/cameras").json()
                                      if "partner:toko-sinar" in c["tags"]], 10, "the edge's camera joins")
            assert camera["id"] == "edge:toko-sinar:rtsp:kasir:1" and camera["name"] == "Kasir"
            assert [s["role"] for s in camera["streams"]] == ["sub"], "the agreement's substream only"
            def recorded() -> list[dict[str, Any]]:
                answer = admin.get(f"/api/v1/cameras/{camera['id']}/recordings")
                assert answer.status_code == 200, answer.text
                return answer.json()  # type: ignore[no-any-return]

            waited(recorded, 40, "the edge's camera records on the city hub")
            assert watch(admin, camera["id"]) > 0, "and plays live there"
            shown = admin.get("/api/v1/partners/toko-sinar").json()["edge"]
            assert shown["connected"] and shown["edge"] == "Toko Sinar edge" and shown["cameras"] == 1
            assert edge_state()["state"] == "connected"
            picture = admin.get(f"/api/v1/cameras/{camera['id']}/snapshot")
            assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8", "its picture comes over the link"

            link.kill()
            link.wait(5)
            waited(lambda: not admin.get("/api/v1/partners/toko-sinar").json()["edge"]["connected"], 10,
                  "the city sees the link gone")
            link = edge(token)
            waited(lambda: admin.get("/api/v1/partners/toko-sinar").json()["edge"]["connected"], 30,
                  "the edge dials again")
            latest = recorded()[-1]["end"]
            waited(lambda: recorded()[-1]["end"] > latest, 40, "recording goes on over the new link")
            trail = admin.get("/api/v1/audit", params={"action": "edge_link"}).json()
            assert any(not row["allowed"] for row in trail) and any(row["allowed"] for row in trail)
    finally:
        link.kill()
        link.wait(5)
    assert "PANTAU_EDGE_TOKEN" not in hub.log() and token not in hub.log()


def watch(client: httpx.Client, camera: str) -> int:
    """Frames in the newest segment of the camera's live view (HLS), once it has one."""
    answer = client.post(f"/api/v1/cameras/{camera}/live")
    assert answer.status_code == 201, answer.text
    playlist_url = answer.json()["playlist"]
    text = waited(lambda: (p := client.get(playlist_url)).status_code == 200 and "#EXTINF" in p.text and p.text,
                 30, "the live playlist's first segment")
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
    segments = re.findall(r"^(s\d+_\d+\.m4s)$", text, re.M)
    assert init and segments, text
    base = playlist_url.rsplit("/", 1)[0]
    body = client.get(f"{base}/{init.group(1)}").content + client.get(f"{base}/{segments[-1]}").content
    with av.open(io.BytesIO(body), format="mp4") as media:
        return sum(1 for _ in media.decode(video=0))



