"""A partner's NVR on a private network (a network namespace of the test's own) submitted,
validated over its pinned address, approved, and in the running hub's inventory without a restart;
submissions the hub must not connect to refused with their reasons, and never connected to."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub import Area, Camera, Device, DeviceInventory, Location, Stream, StreamRole
from hub.testing.context import TestContext
from hub.testing.fixtures import peer_unavailable
from hub.testing.net import wait_for_port
from hub.testing.netns import NetnsUnavailable, PrivateHost
from hub.testing.rtsp import RtspServer, RtspUnavailable
from plugins.tower_partner.models import PermittedUses
from plugins.tower_partner.onboarding import Refused, _clock, _placed, _within_caps
from tests.conftest import demo_hub_yaml

PASSWORD = "Sandi-NVR-Toko-9"
SIMULATOR = """
import asyncio, sys
from hub.testing.sim.hikvision import HikvisionSimulator

async def main():
    await HikvisionSimulator(kind="nvr", channels=8, bind=sys.argv[1], port=int(sys.argv[2]),
                             password=sys.argv[3]).start()
    await asyncio.Event().wait()

asyncio.run(main())
"""
#: A "device" that sends every request elsewhere (here: to the hub itself, where a trap listens).
REDIRECTOR = """
import http.server, sys

class Moved(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:8899" + self.path)
        self.end_headers()

http.server.HTTPServer((sys.argv[1], 8080), Moved).serve_forever()
"""


#: Semarang, roughly (a box around the city), as hub.yaml's GeoJSON outline of the area.
CITY = """
areas:
  - path: jawa-tengah/semarang
    name: Kota Semarang
    level: city
    outline: {type: Polygon, coordinates: [[[110.27, -7.12], [110.50, -7.12], [110.50, -6.93], [110.27, -6.93],
                                            [110.27, -7.12]]]}
"""
INSIDE, OUTSIDE = "-6.9932,110.4203", "-7.2575,112.7521"  # Simpang Lima; Surabaya


@pytest.fixture
def shop() -> Iterator[PrivateHost]:
    """A shop's network: a namespace on 10.214.N.0/24 with a Hikvision NVR simulator at .2:8000 and its
    eight channels' streams at .2:554 (GStreamer's RTSP server, at the NVR's own paths)."""
    try:
        with PrivateHost() as host:
            device = subprocess.Popen(host.command([sys.executable, "-c", SIMULATOR, host.far, "8000", PASSWORD]),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            moved = subprocess.Popen(host.command([sys.executable, "-c", REDIRECTOR, host.far]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            mounts = {f"/Streaming/Channels/{c}0{n}": "main" if n == 1 else "sub" for c in range(1, 9) for n in (1, 2)}
            streams = RtspServer(width=320, height=180, fps=5, keyint=5, kbits=256, address=host.far, port=554,
                                 mounts=mounts, wrap=host.command)
            try:
                wait_for_port(8000, 20, host=host.far)
                wait_for_port(8080, 20, host=host.far)
                try:
                    streams.start()
                except RtspUnavailable as err:
                    peer_unavailable(err)
                yield host
            finally:
                streams.stop()
                for process in (device, moved):
                    process.kill()
                    process.wait(5)
    except NetnsUnavailable as err:
        peer_unavailable(err)


class Listener:
    """A TCP port that counts who connects to it (the hub must never)."""

    def __init__(self, host: str, port: int) -> None:
        self.port = port
        self.connections = 0
        self._socket = socket.create_server((host, self.port))
        self._socket.settimeout(0.2)
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self._socket.close()


def submit(hub: Any, host: str, port: int, password: str = PASSWORD,
           at: str = INSIDE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", "partner", "submit", "toko-sinar", "--type", "hikvision",
                           "--host", host, "--port", str(port), "--password-stdin", "--url", hub.url, "--at", at,
                           "--area", "jawa-tengah/semarang",
                           "-c", str(hub.config), "--data-dir", str(hub.data_dir)],
                          input=password + "\n", capture_output=True, text=True, cwd=hub.workdir, env=hub.env,
                          timeout=120)


def test_a_partners_nvr_is_validated_approved_and_joins_the_running_hub(hub_factory, shop) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml(CITY))
    args = ["-c", str(hub.config), "--data-dir", str(hub.data_dir)]
    hub.pantau("partner", "add", "toko-sinar", "--name", "Toko Sinar Jaya", "--kind", "shop",
               "--network", shop.network, *args)
    hub.pantau("partner", "agreement", "toko-sinar", "--document", "PKS 7/DISKOMINFO/2026", "--controller",
               "Pemerintah Kota Semarang", "--processor", "Toko Sinar Jaya", "--retention-days", "30",
               "--max-kbps", "1024", *args)
    traps = [Listener("127.0.0.1", 8899), Listener(shop.near, 8000)]  # where a careless hub would connect
    try:
        refused = submit(hub, "127.0.0.1", 8899)  # the command's contract: exit 2, the reason, never the password
        assert refused.returncode == 2 and "loopback" in refused.stderr, refused.stderr
        assert PASSWORD not in refused.stderr + refused.stdout
        with hub.client() as api:  # the rest through the API the command calls
            for host, port, why in (("169.254.169.254", 80, "link-local"),
                                    ("192.168.77.5", 80, "outside the networks registered"),
                                    (shop.near, 8000, "the hub's own addresses"), (shop.far, 22, "port 22"),
                                    (shop.far, 8080, "answered with a redirect (302)")):
                answer = api.post("/api/v1/partners/toko-sinar/submissions", json={
                    "type": "hikvision", "host": host, "port": port, "password": PASSWORD,
                    "location": {"lat": -6.9932, "lon": 110.4203}, "area": "jawa-tengah/semarang"})
                assert answer.status_code == 201 and answer.json()["state"] == "refused", answer.text
                assert why in answer.json()["reason"] and PASSWORD not in answer.text, (host, answer.text)
        assert [t.connections for t in traps] == [0, 0], "the hub opened no connection to a refused address"
    finally:
        for trap in traps:
            trap.close()
    wrong = submit(hub, shop.far, 8000, password="bukan-sandinya")
    assert wrong.returncode == 2 and "refused the username or password" in wrong.stderr
    away = submit(hub, shop.far, 8000, at=OUTSIDE)
    assert away.returncode == 2 and "lies outside Kota Semarang" in away.stderr

    valid = submit(hub, shop.far, 8000)
    assert valid.returncode == 0, valid.stderr
    assert "8 cameras" in valid.stderr
    for check in ("signed in: 8 cameras", "8 streams within the agreement's cap", "clock ", "location inside Kota"):
        assert f"ok: {check}" in valid.stderr, (check, valid.stderr)
    submission = valid.stdout.strip().splitlines()[-1]
    shown = json.loads(hub.pantau("partner", "show", "toko-sinar", "--json", *args).stdout)
    assert shown["agreements"][0]["state"] == "pending_approval"

    with hub.client() as admin:
        before = {c["id"] for c in admin.get("/api/v1/cameras").json()}
        hub.pantau("partner", "approve", submission, "--url", hub.url, *args)
        cameras = [c for c in admin.get("/api/v1/cameras").json() if c["id"] not in before]
        assert len(cameras) == 8 and all("partner:toko-sinar" in c["tags"] for c in cameras)
        listed = admin.get("/api/v1/partners/toko-sinar/submissions").json()
        assert [s["state"] for s in listed].count("refused") == 8 and listed[-1]["state"] == "approved"
        assert {s["reason_code"] for s in listed if s["state"] == "refused"} == {
            "address", "credentials", "location", "unreachable"}
        detail = admin.get(f"/api/v1/cameras/{cameras[0]['id']}").json()
        assert [s["role"] for s in detail["streams"]] == ["sub"], "the agreement shares the substream only"
        assert detail["location"] == {"lat": -6.9932, "lon": 110.4203}
        assert admin.post(f"/api/v1/public/cameras/{cameras[0]['id']}/approve").status_code == 404, \
            "the agreement keeps it off the public portal: not even a candidate"
        owner = httpx.Client(base_url=hub.url, timeout=30, headers={
            "Authorization": f"Bearer {hub.token('partner_owner', ('tag:partner:toko-sinar',))}"})

        def recorded(camera: str) -> bool:
            answer = owner.get(f"/api/v1/cameras/{camera}/recordings")
            assert answer.status_code == 200, answer.text
            return bool(answer.json())

        deadline = time.monotonic() + 40
        while not all(recorded(c["id"]) for c in cameras):
            assert time.monotonic() < deadline, "every camera of the NVR records, on the city's hub"
            time.sleep(1)
        assert admin.get(f"/api/v1/cameras/{cameras[0]['id']}/recordings").status_code == 403, \
            "recordings leave only on an approved evidence request: the city does not browse them"
        assert all("password" not in s and PASSWORD not in json.dumps(s) for s in listed)
        head = httpx.Client(base_url=hub.url, timeout=30, headers={
            "Authorization": f"Bearer {hub.token('area_head', ('tag:partner:toko-sinar',))}"})
        with head:
            refused = head.post(f"/api/v1/cameras/{cameras[0]['id']}/live")
            assert refused.status_code == 403, "the agreement shares nothing with area heads"
            assert head.get(f"/api/v1/cameras/{cameras[0]['id']}").status_code == 200, "that it exists, yes"
        first = cameras[0]["id"]
        assert admin.post(f"/api/v1/cameras/{first}/live").status_code == 201, "the city watches live"
        trail = admin.get("/api/v1/audit", params={"action": "view_live", "allowed": "false"}).json()
        assert any(row["reason"] == "denied by tower_partner" for row in trail)

        def watched() -> bool:
            return any(n["kind"] == "live" and n["camera_id"] == first for n in admin.get("/api/v1/streams").json())

        assert watched()
        with contextlib.closing(owner):
            mine = owner.get("/api/v1/partners/toko-sinar").json()
            assert len(mine["cameras"]) == 8 and all(c["sharing"] for c in mine["cameras"])
            assert mine["agreements"][0]["state"] == "active"
            viewers = owner.get(f"/api/v1/cameras/{first}/viewers").json()
            assert any(v["action"] == "view_live" and v["allowed"] for v in viewers), "the partner sees who watched"
            stopped = owner.post(f"/api/v1/partners/toko-sinar/cameras/{first}/sharing",
                                 json={"sharing": False, "note": "renovasi toko"})
            assert stopped.status_code == 204, stopped.text
            began = time.monotonic()
            while watched():
                assert time.monotonic() - began < 5, "stop sharing now: the live view ends within 5 s"
                time.sleep(0.2)
            assert admin.post(f"/api/v1/cameras/{first}/live").status_code == 403
            assert not next(c for c in owner.get("/api/v1/partners/toko-sinar").json()["cameras"]
                            if c["id"] == first)["sharing"]
            assert owner.get("/api/v1/partners/menara-lain").status_code in (403, 404), "not another partner's"
        pressed = admin.get("/api/v1/audit", params={"action": "stop_sharing"}).json()
        assert pressed and pressed[0]["camera_id"] == first and pressed[0]["reason"] == "renovasi toko"
        assert pressed[0]["principal"].startswith("token:"), "who pressed it"
    history = json.loads(hub.pantau("partner", "show", "toko-sinar", "--json", *args).stdout)["agreements"][0]
    assert history["state"] == "active" and history["history"][-1]["note"].startswith("approved with device")

    def partner_cameras(admin: httpx.Client) -> int:
        return len([c for c in admin.get("/api/v1/cameras").json() if "partner:toko-sinar" in c["tags"]])

    with hub.client() as admin:
        hub.pantau("partner", "suspend", "toko-sinar", "--note", "izin lokasi ditinjau ulang", *args)
        began = time.monotonic()
        while partner_cameras(admin):
            assert time.monotonic() - began < 5, "a suspension takes the cameras out within 5 s"
            time.sleep(0.2)
        hub.pantau("partner", "resume", "toko-sinar", *args)
        deadline = time.monotonic() + 10
        while partner_cameras(admin) < 8:
            assert time.monotonic() < deadline, "a resumption brings them back"
            time.sleep(0.2)
        steps = admin.get("/api/v1/audit", params={"action": "agreement_suspended"}).json()
        assert steps and steps[0]["principal"].startswith("cli:") and "izin lokasi" in steps[0]["reason"], \
            "a step taken on the command line is in the hub's audit log, with who took it"
        assert admin.get("/api/v1/audit", params={"action": "agreement_active"}).json()
    hub.stop()
    hub.start()
    with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {hub.token()}"}, timeout=30) as admin:
        deadline = time.monotonic() + 20
        while len([c for c in admin.get("/api/v1/cameras").json() if "partner:toko-sinar" in c["tags"]]) < 8:
            assert time.monotonic() < deadline, "the approved NVR came back with the hub"
            time.sleep(0.5)


def _nvr(*streams: tuple[str, int | None], drift: float | None = None) -> list[DeviceInventory]:
    camera = Camera(id="hikvision:X:1", device_id="hikvision:X", channel=1, name="Kamera 01",
                    streams=[Stream(role=StreamRole(role), bitrate=bitrate) for role, bitrate in streams])
    return [DeviceInventory(device=Device(id="hikvision:X", source="s", vendor="Hikvision", serial="X"),
                            cameras=[camera], clock_drift_seconds=drift)]


def test_validation_holds_the_streams_to_the_agreements_cap_and_the_clock_to_the_hubs() -> None:
    both = _nvr(("main", 4_096_000), ("sub", 512_000))
    assert _within_caps(both, PermittedUses(max_kbps=1024)) == "1 streams within the agreement's cap"
    assert _within_caps(both, PermittedUses(substream_only=False)) == "2 streams within the agreement's cap"
    with pytest.raises(Refused, match=r"'Kamera 01' has no stream .*at most 256 kbit/s.*sub 512 kbit/s") as tight:
        _within_caps(both, PermittedUses(max_kbps=256))
    assert tight.value.code == "stream_cap"
    with pytest.raises(Refused, match="the substream only"):
        _within_caps(_nvr(("main", None)), PermittedUses())
    assert _clock(_nvr(("sub", None), drift=-4)) == "clock -4 s off the hub's"
    with pytest.raises(Refused, match=r"\+900 s off the hub's"):
        _clock(_nvr(("sub", None), drift=900))


def test_a_location_is_checked_against_the_areas_outlines(tmp_path: Path) -> None:
    outline = {"type": "Polygon", "coordinates": [[[110.27, -7.12], [110.5, -7.12], [110.5, -6.93],
                                                   [110.27, -6.93], [110.27, -7.12]]]}
    city = Area(path="jawa-tengah/semarang", name="Kota Semarang", outline=outline)
    context = TestContext(tmp_path, areas=[city, Area(path="jawa-tengah/semarang/candisari", name="Candisari")])
    assert _placed(context, Location(lat=-6.99, lon=110.42), None) == "location inside Kota Semarang"
    assert _placed(context, Location(lat=-6.99, lon=110.42), "jawa-tengah/semarang/candisari") \
        == "location inside Kota Semarang", "an area without an outline: the city's decides"
    with pytest.raises(Refused, match="lies outside the city's areas"):
        _placed(context, Location(lat=-7.26, lon=112.75), "jawa-tengah/semarang/candisari")
    with pytest.raises(Refused, match="is not one of the hub's areas"):
        _placed(context, None, "jawa-timur/surabaya")
    with pytest.raises(ValueError, match="rings cross themselves"):
        Area(path="x", name="X", outline={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1],
                                                                              [0, 0]]]})
