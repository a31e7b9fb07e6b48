"""Stream health against real RTSP cameras: frozen and black pictures become events and a degraded camera."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hub.testing.fixtures import peer_unavailable
from hub.testing.rtsp import RtspServer, RtspUnavailable


@pytest.fixture
def cameras() -> Iterator[dict[str, RtspServer]]:
    """Three test cameras: one whose picture moves, one that stands still, one that is black."""
    servers: dict[str, RtspServer] = {}
    try:
        for name, pattern in (("moving", "ball"), ("frozen", "smpte"), ("black", "black")):
            servers[name] = RtspServer(fps=10, keyint=5, pattern=pattern).start()
    except RtspUnavailable as err:
        for server in servers.values():
            server.stop()
        peer_unavailable(err)
    yield servers
    for server in servers.values():
        server.stop()


def test_frozen_and_black_pictures_are_events_and_degrade_the_camera(cameras, hub_factory) -> None:
    sources = "".join(f"  - {{type: rtsp, name: {name}, url: '{server.url()}', device_id: cam-{name}}}\n"
                      for name, server in cameras.items())
    hub = hub_factory(f"""\
version: 1
recording: {{default: {{mode: continuous, segment_seconds: 2}}}}
health: {{interval_seconds: 1, confirm_checks: 1, picture_check_seconds: 1, frozen_seconds: 3, black_seconds: 3}}
sources:
{sources}""")
    with hub.client() as client:
        names = {c["id"]: c["name"] for c in client.get("/api/v1/cameras").json()}

        def problems() -> set[tuple[str, str, str]]:
            return {(names[e["camera_id"]], e["kind"], e["state"]) for e in client.get("/api/v1/events").json()
                    if e["kind"].startswith("stream_")}

        def status() -> dict[str, str]:
            return {c["name"]: c["status"] for c in client.get("/api/v1/cameras").json()}

        deadline = time.monotonic() + 40
        want = {("frozen", "stream_frozen", "start"), ("black", "stream_black", "start")}
        while not want <= problems() or status() != {"moving": "online", "frozen": "degraded", "black": "degraded"}:
            assert time.monotonic() < deadline, (problems(), status())
            time.sleep(0.5)
        assert not {p for p in problems() if p[0] == "moving"}  # a moving picture is left alone
        assert ("black", "stream_frozen", "start") not in problems()  # black says more than frozen
        frozen = next(e for e in client.get("/api/v1/events").json() if e["kind"] == "stream_frozen")
        assert frozen["data"]["stream"] == "main" and "unchanged for" in frozen["data"]["detail"]
        relays = {names[n["camera_id"]]: n["problems"] for n in client.get("/api/v1/streams").json()
                  if n["kind"] == "relay"}
        assert relays["moving"] == [] and relays["black"][0].startswith("black for")
        assert relays["frozen"][0].startswith("frozen (unchanged for")


async def test_a_frame_or_bit_rate_far_below_the_cameras_own_is_a_problem_until_it_recovers() -> None:
    import asyncio
    from types import SimpleNamespace

    from hub.core.models import Camera, Event, Stream, StreamRole
    from hub.core.streams import Relay
    from hub.graph import StreamGraph
    from hub.inventory import Inventory
    from hub.testing.waiting import until
    from tests.core.test_streams import demo_input  # 10 frames a second

    inventory = Inventory({})
    camera = Camera(id="demo:T:1", device_id="demo:T", channel=1, name="Gate",
                    streams=[Stream(role=StreamRole.MAIN, fps=25)])  # the camera says 25
    inventory.cameras[camera.id] = camera
    graph = StreamGraph(inventory)
    relay = Relay(camera.id, StreamRole.MAIN, demo_input)
    graph.relays[(camera.id, StreamRole.MAIN)] = relay
    relay.start()
    events: list[Event] = []
    first = asyncio.Event()

    def publish(event: Event) -> None:
        events.append(event)
        first.set()

    settings = SimpleNamespace(stall_seconds=5, low_fps_ratio=0.5, low_bitrate_ratio=0, picture_check_seconds=0)
    watcher = asyncio.create_task(graph.watch_health(publish, settings))
    try:
        await asyncio.wait_for(first.wait(), 20)  # the first figures come after a 5 s window
        assert [(e.kind, e.state) for e in events] == [("stream_low_fps", "start")]
        assert events[0].data["detail"].endswith("fps of the camera's 25")
        assert graph.problems_of(camera.id) == [f"main stream {events[0].data['detail']}"]
        inventory.cameras[camera.id] = camera.model_copy(update={"streams": [Stream(role=StreamRole.MAIN, fps=12)]})
        # The camera was reconfigured to 12 fps: 10 is close enough.
        await until(lambda: (events[-1].kind, events[-1].state) == ("stream_low_fps", "stop"))
        assert graph.problems_of(camera.id) == []
        # The camera says it sends 50 Mbit/s; a few hundred kbit/s arrive: a broken encoder or link.
        inventory.cameras[camera.id] = camera.model_copy(
            update={"streams": [Stream(role=StreamRole.MAIN, fps=10, bitrate=50_000_000, constant_bitrate=False)]})
        settings.low_bitrate_ratio = 0.5
        passes = graph.health_passes
        await until(lambda: graph.health_passes >= passes + 3)  # the watch looked again, three times
        assert [(e.kind, e.state) for e in events][-1] == ("stream_low_fps", "stop")  # VBR: a ceiling, no more
        inventory.cameras[camera.id] = camera.model_copy(
            update={"streams": [Stream(role=StreamRole.MAIN, fps=10, bitrate=50_000_000, constant_bitrate=True)]})
        await until(lambda: (events[-1].kind, events[-1].state) == ("stream_low_bitrate", "start"))
        assert "kbit/s of the camera's 50000" in events[-1].data["detail"]
    finally:
        watcher.cancel()
        await asyncio.to_thread(relay.stop)


def test_a_camera_that_starts_refusing_the_password_is_asked_a_few_times_then_rarely(hub_factory) -> None:  # noqa: ANN001
    """Devices lock an account after a few failed logins: three refusals, then one try every ten minutes."""
    try:
        server = RtspServer(fps=10, keyint=5, credentials=("kamera", "Rahasia-99")).start()
    except RtspUnavailable as err:
        peer_unavailable(err)
    try:
        hub = hub_factory(f"""\
version: 1
recording: {{default: {{mode: continuous, segment_seconds: 2}}}}
health: {{interval_seconds: 1, confirm_checks: 1, stall_seconds: 2}}
sources:
  - {{type: rtsp, name: gate, url: '{server.url()}', device_id: cam-gate}}
""")
        with hub.client() as client:
            def relay() -> dict:
                return next(n for n in client.get("/api/v1/streams").json() if n["kind"] == "relay")

            deadline = time.monotonic() + 30
            while relay()["stats"]["packets"] == 0:
                assert time.monotonic() < deadline, "the camera never streamed"
                time.sleep(0.3)
            server.stop()  # the camera restarts with another password (someone changed it)
            server.credentials = ("kamera", "Kata-Sandi-Baru")
            server.start()
            events: list[dict] = []
            deadline = time.monotonic() + 40
            while not any(e["kind"] == "auth_failed" for e in events):
                assert time.monotonic() < deadline, relay()["stats"]
                time.sleep(0.5)
                events = client.get("/api/v1/events").json()
            # The health check, which leaves a stream the hub received in the last stall_seconds
            # alone, tries once too, is refused, and pauses as long as the relay.
            time.sleep(4)
            asked = server.connections
            time.sleep(5)  # long enough for the old rate (a dozen DESCRIBEs), short of the slow retry
            assert server.connections == asked, "the camera was asked again at once"
            assert asked <= 7, f"{asked} logins tried since the camera started (3 of them its relay's refusals)"
            camera = client.get("/api/v1/cameras").json()[0]
            assert camera["status"] == "degraded", camera
            assert "refused the credentials" in relay()["problems"][0]
        assert "Kata-Sandi-Baru" not in hub.log() and "Rahasia-99" not in hub.log()
    finally:
        server.stop()
