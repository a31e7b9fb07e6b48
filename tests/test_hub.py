"""The hub as a user meets it: `pantau run` as a subprocess on a free port."""

from __future__ import annotations

import hashlib
import io
import json
import time

import av
import httpx
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import demo_hub_yaml


def wait_for_recording(client: httpx.Client, camera_id: str, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        segments = client.get(f"/api/v1/cameras/{camera_id}/recordings").json()
        if segments:
            return segments
        time.sleep(0.5)
    raise AssertionError(f"no recording of {camera_id} within {timeout} s")


def prometheus_figures(text: str) -> dict[str, float]:
    """The samples of a /metrics answer without labels, by name (read with prometheus-client's parser)."""
    return {sample.name: sample.value for family in text_string_to_metric_families(text)
            for sample in family.samples if not sample.labels}


def decoded_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as c:
        frames = list(c.decode(video=0))
    return float((frames[-1].pts - frames[0].pts) * frames[0].time_base) + 0.1


def test_a_demo_hub_serves_cameras_snapshots_and_recordings(hub_factory) -> None:
    hub = hub_factory(demo_hub_yaml())
    assert httpx.get(hub.url + "/healthz").json()["status"] == "ok"
    assert httpx.get(hub.url + "/api/v1/cameras").status_code == 401
    bad = httpx.get(hub.url + "/api/v1/cameras", headers={"Authorization": "Bearer pt_0000000000000000_nope"})
    assert bad.status_code == 401
    with hub.client() as client:
        cameras = client.get("/api/v1/cameras").json()
        assert [c["name"] for c in cameras] == ["Gate A", "Kelas 7A"]
        assert all("url" not in s for c in cameras for s in c["streams"])
        cam = cameras[0]["id"]
        assert client.get(f"/api/v1/cameras/{cam}").json()["tags"] == ["public"]
        assert client.get("/api/v1/cameras/demo:nope:1").status_code == 404

        snap = client.get(f"/api/v1/cameras/{cam}/snapshot")
        assert snap.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(snap.content)).size == (320, 180)

        segment = wait_for_recording(client, cam)[0]
        assert segment["start"] < segment["end"] and segment["download_url"]
        video = client.get(segment["download_url"])
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        assert hashlib.sha256(video.content).hexdigest() == segment["sha256"] == video.headers["x-content-sha256"]
        assert decoded_seconds(video.content) >= 1.0

        nodes = {n["id"]: n for n in client.get("/api/v1/streams").json()}
        relay = nodes[f"relay:{cam}:main"]
        assert relay["stats"]["packets"] > 0 and relay["stats"]["last_packet_at"]

        figures = prometheus_figures(httpx.get(hub.url + "/metrics").text)  # a scraper has no token
        assert figures["pantau_cameras"] == figures["pantau_cameras_owned"] == 2
        assert figures["pantau_streams_up"] >= 1 and figures["pantau_segments_written_total"] >= 1
        assert figures["pantau_segment_bytes_written_total"] >= len(video.content)

        openapi = httpx.get(hub.url + "/api/openapi.json").json()
        assert "/api/v1/cameras/{camera_id}/recordings" in openapi["paths"]
        assert "Test Hub" in httpx.get(hub.url + "/").text


def test_sigterm_finishes_open_segments_within_ten_seconds(hub_factory) -> None:
    hub = hub_factory(demo_hub_yaml())
    with hub.client() as client:
        cam = client.get("/api/v1/cameras").json()[0]["id"]
        wait_for_recording(client, cam)
    took = hub.stop()
    assert took < 10, f"the hub took {took:.1f} s to stop"
    assert hub.proc.returncode == 0
    spool = list((hub.data_dir / "spool").rglob("*.mp4"))
    assert spool == [], "every open segment is finished and stored on stop"
    stored = sorted((hub.data_dir / "storage" / "recordings").rglob("*.mp4"))
    assert stored
    for path in stored:
        assert decoded_seconds(path.read_bytes()) > 0
    records = hub.log_records()
    assert any(r.get("message") == "hub stopped" for r in records)


def test_roles_are_enforced_and_video_access_is_audited(hub_factory) -> None:
    hub = hub_factory(demo_hub_yaml())
    with hub.client("viewer") as viewer, hub.client() as admin:
        cam = viewer.get("/api/v1/cameras").json()[0]["id"]
        assert viewer.get(f"/api/v1/cameras/{cam}/snapshot").status_code == 200
        denied = viewer.get(f"/api/v1/cameras/{cam}/recordings")
        assert denied.status_code == 403 and "no policy allows it" in denied.json()["detail"]
        assert viewer.get("/api/v1/audit").status_code == 403
        audit = admin.get("/api/v1/audit").json()
    decisions = [(a["action"], a["camera_id"], a["allowed"]) for a in audit]
    assert ("play_back", cam, False) in decisions and ("view_live", cam, True) in decisions


def test_a_hub_on_postgresql_keeps_secrets_out_of_logs_and_api(hub_factory, postgres) -> None:
    db = postgres.create_database()
    password = "Rahasia-Kota-2026"  # trust auth accepts it; it must still never be shown
    url = db.replace("postgresql://postgres@", "postgresql://postgres:${PANTAU_DB_PASSWORD}@")
    hub = hub_factory(demo_hub_yaml(extra=f"database:\n  url: {url}\n", motion_every=0.5),
                      env={"PANTAU_DB_PASSWORD": password})
    token = hub.token()
    with hub.client() as client:
        cam = client.get("/api/v1/cameras").json()[0]["id"]
        wait_for_recording(client, cam)
        deadline = time.monotonic() + 20
        while not client.get("/api/v1/events").json() and time.monotonic() < deadline:
            time.sleep(0.5)
        events = client.get("/api/v1/events").json()
        assert events and events[0]["kind"] == "motion"
        every_response = json.dumps([client.get(p).json() for p in
                                     ("/api/v1/cameras", "/api/v1/sources", "/api/v1/streams", "/api/openapi.json")])
    hub.stop()
    log = hub.log()
    for secret in (password, token, token.split("_", 2)[2]):
        assert secret not in log and secret not in every_response
    records = hub.log_records()
    assert records and all("unparsed" not in r for r in records), "every log line is one JSON object"
    assert (hub.data_dir / "pantau.db").exists() is False, "the PostgreSQL hub must not fall back to SQLite"


def test_pantau_cameras_lists_what_the_api_lists(hub_factory) -> None:
    hub = hub_factory(demo_hub_yaml(), start=False)
    listed = json.loads(hub.pantau("cameras", "--json", "-c", str(hub.config)).stdout)
    hub.start()
    with hub.client() as client:
        api_ids = [c["id"] for c in client.get("/api/v1/cameras").json()]
    assert [c["id"] for c in listed["cameras"]] == api_ids
    assert listed["devices"][0]["kind"] == "nvr" and listed["errors"] == {}


def test_a_busy_port_is_a_clear_error(hub_factory) -> None:
    import socket

    hub = hub_factory(demo_hub_yaml(), start=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", hub.port))
        s.listen()
        with pytest.raises(RuntimeError) as info:
            hub.start()
    assert "Traceback" not in str(info.value)
    assert hub.proc.returncode == 1
    assert f"error: HTTP server could not listen on 127.0.0.1:{hub.port} (is the port in use?)" in str(info.value)


def test_after_sigkill_the_torn_segment_is_recovered_and_plays(hub_factory) -> None:
    config = demo_hub_yaml().replace("segment_seconds: 2", "segment_seconds: 30")
    hub = hub_factory(config)
    spool = hub.data_dir / "spool"
    deadline = time.monotonic() + 30
    # Wait until a segment has been open for a few seconds (several fragments written).
    while time.monotonic() < deadline:
        sizes = [p.stat().st_size for p in spool.rglob("*.mp4")]
        if len(sizes) >= 2 and min(sizes) > 20_000:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"fragments did not reach the disk: {sizes}")
    hub.kill()  # a power cut: no chance to finish anything
    assert list(spool.rglob("*.mp4")), "the open segments are still in the spool"
    hub.start()
    with hub.client() as client:
        cameras = [c["id"] for c in client.get("/api/v1/cameras").json()]
        for cam in cameras:
            segments = client.get(f"/api/v1/cameras/{cam}/recordings").json()
            assert segments, f"the torn segment of {cam} was recovered"
            video = client.get(segments[0]["download_url"]).content
            assert hashlib.sha256(video).hexdigest() == segments[0]["sha256"]
            with av.open(io.BytesIO(video)) as c:
                frames = 0
                for packet in c.demux(video=0):
                    try:
                        frames += len(packet.decode())
                    except av.error.InvalidDataError:
                        pass  # the torn end
            assert frames >= 10 and abs(frames / 10 - segments[0]["duration"]) < 0.5
            assert segments[0]["duration"] < 30, "it is the torn segment, not a finished one"
    assert any("recovered segments" in (r.get("message") or "") for r in hub.log_records())


def test_the_shipped_hub_yaml_runs_as_make_run_does(hub_factory) -> None:
    from tests.conftest import ROOT

    hub = hub_factory((ROOT / "hub.yaml").read_text())  # started: /healthz answered within 40 s
    with hub.client() as client:
        cameras = client.get("/api/v1/cameras").json()
        assert len(cameras) >= 2
        snap = client.get(f"/api/v1/cameras/{cameras[0]['id']}/snapshot")
        assert snap.content[:3] == b"\xff\xd8\xff"
        segment = wait_for_recording(client, cameras[0]["id"], timeout=60)[0]
        assert decoded_seconds(client.get(segment["download_url"]).content) >= 1.0
    assert hub.stop() < 10
