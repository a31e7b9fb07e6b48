"""`pantau probe` and hub.yaml sources against simulated devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from hub.testing.sim import DahuaSimulator, HikvisionSimulator, SimulatorThread
from tests.conftest import ROOT


def pantau(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def nvr():
    with SimulatorThread(HikvisionSimulator(kind="nvr", channels=32)) as sim:
        yield sim


def test_probe_a_32_channel_hikvision_nvr(nvr) -> None:
    result = pantau("probe", f"hikvision://admin:{nvr.password}@127.0.0.1:{nvr.port}", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["device"] | {"id": None, "host": None} == {
        "id": None, "host": None, "vendor": "Hikvision", "model": "DS-7732NI-M4", "serial": nvr.serial,
        "firmware": "V4.62.210 build 230119", "kind": "nvr"}
    assert len(found["cameras"]) == 32
    for cam in found["cameras"]:
        assert [s["role"] for s in cam["streams"]] == ["main", "sub"]
        assert set(cam["streams"][0]) >= {"role", "codec", "width", "height", "fps", "bitrate"}
        assert cam["id"] == f"hikvision:{nvr.serial}:{cam['channel']}"
    assert nvr.password not in result.stdout + result.stderr and "rtsp://" not in result.stdout


def test_probe_a_dahua_nvr() -> None:
    with SimulatorThread(DahuaSimulator(kind="nvr", channels=8)) as sim:
        result = pantau("probe", f"dahua://admin:{sim.password}@127.0.0.1:{sim.port}", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    device = found["device"]
    assert (device["vendor"], device["kind"], device["serial"]) == ("Dahua", "nvr", sim.serial)
    assert [c["channel"] for c in found["cameras"]] == list(range(1, 9))
    assert all([s["role"] for s in c["streams"]] == ["main", "sub"] for c in found["cameras"])
    assert sim.password not in result.stdout


def test_probe_human_output_and_a_wrong_password(nvr) -> None:
    human = pantau("probe", f"hikvision://admin:{nvr.password}@127.0.0.1:{nvr.port}")
    assert "Hikvision DS-7732NI-M4 (nvr)" in human.stdout and "32 cameras" in human.stdout
    wrong = pantau("probe", f"hikvision://admin:N0t-The-Pw@127.0.0.1:{nvr.port}")
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == f"error: 127.0.0.1:{nvr.port}: the device refused the credentials"
    assert "N0t-The-Pw" not in wrong.stderr + wrong.stdout


def test_probe_refuses_an_unknown_scheme() -> None:
    result = pantau("probe", "uniview://admin:pw@127.0.0.1:80")
    assert result.returncode == 2
    assert "no plugin handles uniview://" in result.stderr and "hikvision://" in result.stderr


def test_configured_devices_appear_in_pantau_cameras_and_the_api(nvr, hub_factory) -> None:
    config = f"""\
version: 1
logging: {{format: json}}
recording: {{default: {{mode: "off"}}}}
sources:
  - type: hikvision
    name: nvr-simpang-lima
    host: 127.0.0.1
    port: {nvr.port}
    password: ${{NVR_PASSWORD}}
    tags: [public]
"""
    env = {"NVR_PASSWORD": nvr.password}
    hub = hub_factory(config, env=env, start=False)
    listed = json.loads(hub.pantau("cameras", "--json", "-c", str(hub.config)).stdout)
    assert len(listed["cameras"]) == 32 and listed["errors"] == {}
    hub.start()
    with hub.client() as client:
        cams = client.get("/api/v1/cameras").json()
        assert [c["id"] for c in cams] == [c["id"] for c in listed["cameras"]]
        assert cams[0]["tags"] == ["public"] and cams[0]["status"] == "online"
        snap = client.get(f"/api/v1/cameras/{cams[0]['id']}/snapshot")
        assert snap.status_code == 200 and snap.content[:3] == b"\xff\xd8\xff"
        for _ in range(50):
            if nvr.listeners:
                break
            time.sleep(0.1)
        assert nvr.listeners >= 1, "the hub subscribed to the alertStream"
        nvr.push_alert(7, "fielddetection", target="human")
        for _ in range(50):
            events = client.get("/api/v1/events").json()
            if events:
                break
            time.sleep(0.1)
        assert events[0]["kind"] == "intrusion" and events[0]["camera_id"].endswith(":7")
        assert events[0]["data"]["targets"] == ["human"]
        detail = client.get("/api/v1/sources/nvr-simpang-lima").json()
        assert detail["cameras"] == 32 and detail["diagnostics"]["storage"][0]["status"] == "ok"
        assert abs(detail["diagnostics"]["clock_drift_seconds"]) < 5
        assert client.get("/api/v1/sources/nope").status_code == 404
        assert nvr.password not in json.dumps(detail)
    hub.stop()
    assert nvr.password not in hub.log()


def test_probe_an_onvif_camera() -> None:
    from hub.testing.sim import OnvifSimulator

    with SimulatorThread(OnvifSimulator()) as sim:
        result = pantau("probe", f"onvif://admin:{sim.password}@127.0.0.1:{sim.port}", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert (found["device"]["vendor"], found["device"]["serial"]) == ("Bosch", sim.serial)
    assert [s["role"] for s in found["cameras"][0]["streams"]] == ["main", "sub"]
    assert sim.password not in result.stdout


def test_an_onvif_camera_is_recorded_from_its_rtsp_stream_and_moved_through_the_api(rtsp_server, hub_factory) -> None:
    from hub.testing.sim import OnvifSimulator

    # The ONVIF camera reports credential-less stream URIs on the real RTSP server;
    # the hub adds the credentials, as cameras with one account for both expect.
    sim = OnvifSimulator(username="kamera", password="Rahasia-99", rtsp_base=f"rtsp://127.0.0.1:{rtsp_server.port}")
    with SimulatorThread(sim):
        config = f"""\
version: 1
logging: {{format: json}}
recording: {{default: {{mode: continuous, segment_seconds: 2}}}}
sources:
  - type: onvif
    name: ptz-simpang-lima
    host: 127.0.0.1
    port: {sim.port}
    username: kamera
    password: ${{ONVIF_PASSWORD}}
"""
        hub = hub_factory(config, env={"ONVIF_PASSWORD": "Rahasia-99"})
        with hub.client() as client, hub.client("viewer") as viewer:
            cam = client.get("/api/v1/cameras").json()[0]["id"]
            deadline = time.monotonic() + 40
            while not client.get(f"/api/v1/cameras/{cam}/recordings").json() and time.monotonic() < deadline:
                time.sleep(0.5)
            assert client.get(f"/api/v1/cameras/{cam}/recordings").json(), "recorded from the ONVIF stream URI"
            moved = client.post(f"/api/v1/cameras/{cam}/ptz", json={"action": "move", "pan": 0.3})
            assert moved.status_code == 204
            assert [p["name"] for p in client.get(f"/api/v1/cameras/{cam}/ptz/presets").json()] == ["Gerbang", "Parkir"]
            assert viewer.post(f"/api/v1/cameras/{cam}/ptz", json={"action": "stop"}).status_code == 403
            audit = client.get("/api/v1/audit").json()
        hub.stop()
    assert ("ContinuousMove", "0.3") == (sim.ptz_calls[0][0], sim.ptz_calls[0][1]["PanTilt.x"])
    assert [(a["action"], a["allowed"]) for a in audit if a["action"] == "control_ptz"][:2] == [
        ("control_ptz", False), ("control_ptz", True)]
    assert "Rahasia-99" not in hub.log()


def test_a_device_sending_garbage_does_not_stop_the_hub(hub_factory) -> None:
    from tests.conftest import demo_hub_yaml

    sim = HikvisionSimulator(kind="nvr", channels=4)
    sim.faults.garbage = True
    with SimulatorThread(sim):
        config = demo_hub_yaml().replace("sources:\n", f"""sources:
  - type: hikvision
    name: nvr-rusak
    host: 127.0.0.1
    port: {sim.port}
    password: ${{NVR_PASSWORD}}
    timeout: 2
""", 1)
        hub = hub_factory(config, env={"NVR_PASSWORD": sim.password})
        with hub.client() as client:
            cameras = client.get("/api/v1/cameras").json()
            sources = {s["name"]: s for s in client.get("/api/v1/sources").json()}
    assert len(cameras) == 2, "the demo cameras are served"
    assert sources["nvr-rusak"]["cameras"] == 0
    assert sources["nvr-rusak"]["error"].startswith(f"127.0.0.1:{sim.port}: ")
    assert sim.password not in str(sources)
