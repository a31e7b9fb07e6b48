"""The low-latency live view: MP4 fragments over a WebSocket, as a page's Media Source Extensions
player reads them, behind the same authentication and the same access re-checks as HLS."""

from __future__ import annotations

import contextlib
import io
import json
import time
from typing import Any

import av
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import demo_hub_yaml
from tests.test_grants import PASSWORD, args, signed_in


def socket(hub: Any, path: str, headers: dict[str, str], origin: str | None = None) -> ClientConnection:
    return connect(hub.url.replace("http://", "ws://") + path, additional_headers=headers,
                   origin=origin, open_timeout=20)  # type: ignore[arg-type]


def read(ws: ClientConnection, seconds: float) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The text and binary messages of ``seconds``."""
    texts: list[dict[str, Any]] = []
    binaries: list[bytes] = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            message = ws.recv(timeout=left)
        except TimeoutError:
            break
        if isinstance(message, str):
            texts.append(json.loads(message))
        else:
            binaries.append(message)
    return texts, binaries


def test_an_mse_view_is_an_init_segment_then_a_decodable_fragment_per_frame(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    with hub.client() as client:
        camera = next(c["id"] for c in client.get("/api/v1/cameras").json() if c["name"] == "Gate A")
        joined = client.post(f"/api/v1/cameras/{camera}/live", params={"transport": "mse"})
        assert joined.status_code == 201, joined.text
        view = joined.json()
        assert view["transport"] == "mse" and view["playlist"] is None and view["websocket"].endswith("/ws")
        with socket(hub, view["websocket"], {"Authorization": client.headers["Authorization"]}) as ws:
            texts, binaries = read(ws, 4)
            streams = client.get("/api/v1/streams").json()
        # the browser's MediaSource.addSourceBuffer needs the codec string: the demo is H.264 baseline
        assert texts[0]["type"] == "init" and texts[0]["mime"].startswith('video/mp4; codecs="avc1.42')
        init, fragments = binaries[0], binaries[1:]
        assert init[4:8] == b"ftyp" and b"moov" in init[:2000]
        assert all(f[4:8] == b"moof" for f in fragments)
        assert 25 <= len(fragments) <= 50, len(fragments)  # 10 frames a second, one fragment each
        with av.open(io.BytesIO(init + b"".join(fragments)), format="mp4") as media:
            frames = [f for f in media.decode(video=0)]
        assert len(frames) == len(fragments) and frames[0].key_frame
        mse = [n for n in streams if n["id"].startswith("live-mse:")]
        assert len(mse) == 1 and mse[0]["camera_id"] == camera
        # the socket's close is the viewer leaving: its output stops with it
        deadline = time.monotonic() + 10
        while any(n["id"].startswith("live-mse:") for n in client.get("/api/v1/streams").json()):
            assert time.monotonic() < deadline, "the MSE output went on without a viewer"
            time.sleep(0.2)


def test_a_socket_from_another_site_without_credentials_or_for_anothers_view_is_refused(
        hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    with hub.client() as admin, hub.client("operator") as operator:
        camera = admin.get("/api/v1/cameras").json()[0]["id"]
        view = admin.post(f"/api/v1/cameras/{camera}/live", params={"transport": "mse"}).json()
        bearer = {"Authorization": admin.headers["Authorization"]}
        attempts = {
            "no credentials": ({}, None),
            "another's viewer": ({"Authorization": operator.headers["Authorization"]}, None),
            "another site's page": (bearer, "http://evil.example"),
        }
        for what, (headers, origin) in attempts.items():
            try:
                with socket(hub, view["websocket"], headers, origin) as ws:
                    ws.recv(timeout=5)
            except InvalidStatus as refused:
                assert refused.response.status_code == 403, what
            else:
                pytest.fail(f"{what}: the socket was opened")
        with socket(hub, view["websocket"], bearer, hub.url) as ws:  # the hub's own page: its origin
            assert json.loads(ws.recv(timeout=20))["type"] == "init"
        trail = admin.get("/api/v1/audit", params={"action": "http_401"}).json()
        assert any("WEBSOCKET /api/v1/live/" in (row["reason"] or "") for row in trail)


def test_a_disabled_users_mse_view_closes_within_5_s(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    hub.add_user("rt.04", PASSWORD, "--role", "area_head", "--scope", "tag:public")
    with contextlib.closing(signed_in(hub.url, "rt.04")) as head:
        gate = head.get("/api/v1/cameras").json()[0]["id"]
        view = head.post(f"/api/v1/cameras/{gate}/live", params={"transport": "mse"}).json()
        cookie = "; ".join(f"{k}={v}" for k, v in head.cookies.items())
        with socket(hub, view["websocket"], {"Cookie": cookie}, hub.url) as ws:
            texts, binaries = read(ws, 2)
            assert texts and len(binaries) > 5, "no picture"
            hub.pantau("user", "disable", "rt.04", *args(hub))
            began = time.monotonic()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=10)
            assert time.monotonic() - began < 5
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
