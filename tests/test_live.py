"""Live view (HLS) against a real RTSP server: shared upstream, viewers coming and going."""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import av
import httpx

from hub.testing.hubproc import HubProcess


def config(rtsp_server: Any, record: bool = True, idle: float = 5) -> str:
    # One stream only (many cheap cameras and partner links have no substream):
    # live view falls back to the main stream, the one being recorded.
    return f"""\
version: 1
recording: {{default: {{mode: {'continuous' if record else 'off'}, segment_seconds: 2}}}}
health: {{enabled: false}}
live: {{segment_seconds: 1, idle_seconds: {idle}}}
sources:
  - type: rtsp
    name: gerbang-timur
    url: rtsp://kamera:${{CAM_PASSWORD}}@127.0.0.1:{rtsp_server.port}/main
"""


def start(hub_factory: Callable[..., HubProcess], rtsp_server: Any, **kw: Any) -> tuple[HubProcess, str]:
    hub = hub_factory(config(rtsp_server, **kw), env={"CAM_PASSWORD": "Rahasia-99"})
    with hub.client() as client:
        return hub, client.get("/api/v1/cameras").json()[0]["id"]


def nodes(client: httpx.Client) -> list[tuple[str, str]]:
    return sorted((n["kind"], n["stream_role"]) for n in client.get("/api/v1/streams").json())


def wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def watch(client: httpx.Client, camera: str) -> tuple[dict[str, Any], int]:
    """Join, fetch the playlist, then the init segment and the newest media segment;
    returns the join answer and how many frames that segment decodes to."""
    live = client.post(f"/api/v1/cameras/{camera}/live")
    assert live.status_code == 201, live.text
    answer = live.json()
    playlist = client.get(answer["playlist"])
    assert playlist.status_code == 200 and playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    text = playlist.text
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
    segments = re.findall(r"^(s\d+_\d+\.m4s)$", text, re.M)
    assert init and segments, text
    base = answer["playlist"].rsplit("/", 1)[0]
    body = client.get(f"{base}/{init.group(1)}").content + client.get(f"{base}/{segments[-1]}").content
    with av.open(io.BytesIO(body), format="mp4") as media:
        frames = sum(1 for _ in media.decode(video=0))
    return answer, frames


def test_ten_viewers_and_a_recorder_hold_one_rtsp_session(rtsp_server, hub_factory) -> None:
    hub, camera = start(hub_factory, rtsp_server, idle=120)
    with hub.client() as client:
        wait(lambda: any(n["kind"] == "recorder" and n["stats"]["packets"] > 0
                         for n in client.get("/api/v1/streams").json()), 30, "the recorder's first packets")
        sessions = rtsp_server.connections  # the probe's and the recorder's
        results: list[tuple[dict[str, Any], int]] = []
        errors: list[BaseException] = []

        def viewer() -> None:
            try:
                with hub.client() as own:
                    results.append(watch(own, camera))
            except BaseException as err:  # surfaced below
                errors.append(err)

        threads = [threading.Thread(target=viewer) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(results) == 10 and len({r[0]["viewer"] for r in results}) == 10
        assert all(frames > 0 for _, frames in results)  # every viewer got video that decodes
        assert rtsp_server.connections == sessions  # no viewer opened a connection to the camera
        assert nodes(client) == [("live", "main"), ("recorder", "main"), ("relay", "main"), ("snapshotter", "main")]
        relay = next(n for n in client.get("/api/v1/streams").json() if n["kind"] == "relay")
        assert relay["stats"]["reconnects"] == 0

        # The operator's view of the same graph, from the command line.
        listed = json.loads(hub.pantau("streams", "--json", "--url", hub.url, "-c", str(hub.config),
                                       "--data-dir", str(hub.data_dir)).stdout)
        assert sorted(n["kind"] for n in listed) == ["live", "recorder", "relay", "snapshotter"]
        hub.env["COLUMNS"] = "200"  # a wide terminal: one line per node
        table = hub.pantau("streams", "--url", hub.url, "-c", str(hub.config), "--data-dir", str(hub.data_dir))
        rows = [line for line in table.stdout.splitlines() if camera in line]
        assert sorted(line.split("│")[2].strip() for line in rows) == ["live", "recorder", "relay", "snapshotter"]
        assert table.stderr == ""  # no library chatter (onvif-zeep-async configures logging at import)

        for answer, _ in results:  # everyone leaves: the live output stops, recording goes on
            assert client.delete(f"/api/v1/live/{answer['viewer']}").status_code == 204
        wait(lambda: ("live", "main") not in nodes(client), 10, "the live output to stop")
        assert nodes(client) == [("recorder", "main"), ("relay", "main"), ("snapshotter", "main")]
        audit = client.get("/api/v1/audit").json()
        assert sum(1 for a in audit if a["action"] == "view_live" and a["allowed"]) == 10
    assert "Rahasia-99" not in hub.log()


def test_an_unrecorded_camera_is_received_only_while_someone_watches(rtsp_server, hub_factory) -> None:
    hub, camera = start(hub_factory, rtsp_server, record=False)
    with hub.client() as client:
        assert nodes(client) == []  # nobody records or watches: no connection to the camera
        sessions = rtsp_server.connections
        answer, frames = watch(client, camera)
        assert frames > 0 and answer["stream"] == "main"
        assert rtsp_server.connections == sessions + 1
        assert ("relay", "main") in nodes(client)
        # The viewer stops fetching (a closed tab): after live.idle_seconds the hub lets go of the camera.
        wait(lambda: nodes(client) == [], 20, "the idle viewer to time out")
        gone = client.get(answer["playlist"])
        assert gone.status_code == 404 and "join again" in gone.json()["detail"]


def test_a_viewer_belongs_to_the_token_that_joined(rtsp_server, hub_factory) -> None:
    hub, camera = start(hub_factory, rtsp_server, record=False)
    with hub.client() as owner, hub.client("viewer") as other:
        answer = owner.post(f"/api/v1/cameras/{camera}/live").json()
        assert other.get(answer["playlist"]).status_code == 404
        assert other.delete(f"/api/v1/live/{answer['viewer']}").status_code == 404
        assert httpx.get(hub.url + answer["playlist"]).status_code == 401
        base = answer["playlist"].rsplit("/", 1)[0]
        for sneaky in ("..%2F..%2Fpantau.db", "..%2F..%2Flink-secret", "index.m3u8%0A", "init0.mp4.tmp"):
            answer_ = owner.get(f"{base}/{sneaky}")
            assert answer_.status_code == 404, sneaky
            assert b"SQLite format" not in answer_.content and answer_.headers["content-type"].endswith("json")
        assert owner.post(f"/api/v1/cameras/{camera}/live", params={"stream": "sub"}).status_code == 404
        assert owner.delete(f"/api/v1/live/{answer['viewer']}").status_code == 204


def test_pantau_streams_says_when_no_hub_answers(tmp_path) -> None:  # noqa: ANN001
    from hub.testing.net import free_port
    from tests.test_cli import pantau

    (tmp_path / "hub.yaml").write_text("version: 1\n")
    result = pantau("streams", "--url", f"http://127.0.0.1:{free_port()}", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: no hub answers at http://127.0.0.1:") and "pantau run" in result.stderr
