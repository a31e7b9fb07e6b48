"""The MQTT notifier against a real Mosquitto: Home Assistant discovery, and
a broker that goes away for 30 s while events flow."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiomqtt
import pytest

from hub.app import Hub
from hub.core.config import load_config
from hub.core.models import Camera, Event, EventKind, EventState
from hub.core.plugins import Plugins
from hub.testing.context import TestContext
from tests.conftest import demo_hub_yaml

#: The hub's broker password: the broker takes anyone, the password must still never be published.
BROKER_PASSWORD = "Sandi-Broker-42"


def make_hub(tmp_path: Path, port: int) -> Hub:
    cfg = tmp_path / "hub.yaml"
    extra = (f"http: {{port: 0}}\nnotifiers:\n  - {{type: mqtt, name: broker, host: 127.0.0.1, port: {port},"
             f" username: pantau, password: {BROKER_PASSWORD}, retry_max_seconds: 1, timeout: 3}}\n")
    cfg.write_text(demo_hub_yaml(extra=extra).replace("mode: continuous", 'mode: "off"'))
    plugins = Plugins().load()
    return Hub(load_config(cfg, plugins), plugins)


async def collect(port: int, topics: list[str], into: dict[str, list[bytes]], stop: asyncio.Event,
                  client_id: str) -> None:
    """A durable QoS 1 subscriber that reconnects, as Home Assistant does."""
    while not stop.is_set():
        try:
            async with aiomqtt.Client("127.0.0.1", port, identifier=client_id, clean_session=False) as client:
                for topic in topics:
                    await client.subscribe(topic, qos=1)
                async for message in client.messages:
                    into.setdefault(str(message.topic), []).append(bytes(message.payload))  # type: ignore[arg-type]
        except aiomqtt.MqttError:
            await asyncio.sleep(0.3)


async def wait_until(predicate, seconds: float) -> bool:  # noqa: ANN001
    for _ in range(int(seconds * 10)):
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return predicate()


async def test_home_assistant_sees_each_camera_with_motion_online_and_snapshot(mosquitto, tmp_path: Path,
                                                                              leak_watch) -> None:  # noqa: ANN001
    hub = make_hub(tmp_path, mosquitto.port)
    got: dict[str, list[bytes]] = {}
    stop = asyncio.Event()
    listener = asyncio.create_task(collect(mosquitto.port, ["homeassistant/#", "pantau/#"], got, stop, "ha-1"))
    await hub.start()
    try:
        cams = sorted(hub.inventory.cameras)
        configs = [f"homeassistant/{kind}/pantau_{c.replace(':', '_')}/{obj}/config"
                   for c in cams for kind, obj in (("binary_sensor", "motion"), ("binary_sensor", "online"),
                                                   ("image", "snapshot"))]
        assert await wait_until(lambda: all(t in got for t in configs), 15), sorted(got)
        hub.publish(Event(camera_id=cams[0], kind=EventKind.MOTION, state=EventState.START))
        cid = cams[0].replace(":", "_")
        assert await wait_until(lambda: f"pantau/{cid}/motion" in got and f"pantau/{cid}/event" in got, 15)
    finally:
        await hub.stop()
        assert await wait_until(lambda: got.get("pantau/status", [b""])[-1] == b"offline", 5)
        stop.set()
        listener.cancel()
    motion = json.loads(got[configs[0]][-1])
    assert motion["device_class"] == "motion" and motion["state_topic"] == f"pantau/{cid}/motion"
    assert motion["device"]["name"] == hub.inventory.cameras[cams[0]].name
    assert json.loads(got[configs[2]][-1])["content_type"] == "image/jpeg"
    assert got[f"pantau/{cid}/snapshot"][-1][:3] == b"\xff\xd8\xff"
    assert got[f"pantau/{cid}/motion"][-1] == b"ON"
    assert got[f"pantau/{cid}/status"][-1] == b"online"
    assert json.loads(got[f"pantau/{cid}/event"][-1])["kind"] == "motion"
    assert got["pantau/status"][0] == b"online"
    for topic, payloads in got.items():  # the suite's secret check reads every payload too
        for payload in payloads:
            leak_watch.saw(f"mqtt {topic}", payload)
    assert BROKER_PASSWORD in leak_watch.secrets


async def test_a_broker_down_for_30_seconds_loses_nothing(mosquitto, tmp_path: Path) -> None:
    hub = make_hub(tmp_path, mosquitto.port)
    got: dict[str, list[bytes]] = {}
    stop = asyncio.Event()
    listener = asyncio.create_task(collect(mosquitto.port, ["pantau/+/event"], got, stop, "ha-durable"))
    await hub.start()
    sent: list[Event] = []
    try:
        cams = sorted(hub.inventory.cameras)

        def received() -> list[dict]:
            return [json.loads(p) for topic, payloads in got.items() for p in payloads]

        async def flow(n: int) -> None:
            for _ in range(n):
                event = Event(camera_id=cams[len(sent) % 2], kind=EventKind.OFFLINE, data={"seq": len(sent)})
                sent.append(event)
                hub.publish(event)
                await asyncio.sleep(0.1)

        await flow(20)
        assert await wait_until(lambda: len(received()) >= 20, 15)
        mosquitto.stop()
        await flow(200)  # 20 s of events while the broker is down...
        await asyncio.sleep(10)  # ...and 10 s more of outage
        mosquitto.start()
        await flow(20)
        assert await wait_until(lambda: len({e["id"] for e in received()}) >= len(sent), 60)
    finally:
        stop.set()
        listener.cancel()
        await hub.stop()
    events = received()
    ids = [e["id"] for e in events]
    assert set(ids) == {e.id for e in sent}, "every event arrives"
    assert len(ids) - len(set(ids)) <= 2, "repeats only where QoS 1 allows (an unacknowledged message)"
    for cam in cams:
        seqs = [e["data"]["seq"] for e in events if e["camera_id"] == cam]
        firsts = list(dict.fromkeys(seqs))
        assert firsts == sorted(firsts), f"in order per camera ({cam})"


async def test_batches_arrive_in_order_through_the_fast_path_and_through_aiomqtts_public_one(
        mosquitto, tmp_path: Path) -> None:
    import logging

    from plugins.mqtt import MqttConfig, MqttNotifier

    notifier = MqttNotifier(MqttConfig(name="batch", port=mosquitto.port, ha_discovery=False, client_id="batch"),
                            logging.getLogger("test"))
    got: dict[str, list[bytes]] = {}
    stop = asyncio.Event()
    listener = asyncio.create_task(collect(mosquitto.port, ["pantau/#"], got, stop, "batch-sub"))
    await notifier.start()
    try:
        assert await wait_until(lambda: notifier._client is not None and "pantau/status" in got, 10)
        # 400 events, motion starting and stopping on 4 cameras: 2 messages each, the last state retained.
        events = [Event(camera_id=f"demo:x:{i % 4}", kind=EventKind.MOTION,
                        state=EventState.START if i % 8 < 4 else EventState.STOP, data={"seq": i})
                  for i in range(400)]
        # Handed over back to back (as the outbox does): the first batch's snapshots come slowly,
        # and still the second batch goes on the wire after it.
        slow = [0.5]

        async def snapshot(camera_id: str) -> bytes:
            await asyncio.sleep(slow.pop() if slow else 0)
            return b"\xff\xd8 jpeg"

        cameras = [Camera(id=f"demo:x:{i}", device_id="demo:x", channel=i + 1, name=f"x{i}") for i in range(4)]
        notifier.context = TestContext(tmp_path, cameras, snapshot=snapshot)
        await asyncio.gather(notifier.deliver_many(events[:200]), notifier.deliver_many(events[200:]))

        class PublicOnly:  # an aiomqtt client seen through its public API only: the fallback path
            def __init__(self, client: aiomqtt.Client) -> None:
                self.publish = client.publish

        tail = [Event(camera_id="demo:x:0", kind=EventKind.TAMPER, data={"seq": 400 + i}) for i in range(50)]
        real = notifier._client
        assert real is not None
        notifier._client = PublicOnly(real)  # type: ignore[assignment]
        try:
            await notifier.deliver_many(tail)
        finally:
            notifier._client = real
        total = len(events) + len(tail)
        assert await wait_until(lambda: sum(len(v) for k, v in got.items() if k.endswith("/event")) >= total, 15)
    finally:
        stop.set()
        listener.cancel()
        await notifier.close()
    for cam in range(4):
        seqs = [json.loads(p)["data"]["seq"] for p in got[f"pantau/demo_x_{cam}/event"]]
        expected = [e.data["seq"] for e in [*events, *tail] if e.camera_id == f"demo:x:{cam}"]
        assert seqs == expected, f"in order, once each (camera {cam})"
        assert got[f"pantau/demo_x_{cam}/motion"][-1] == b"OFF"  # events 396-399 stop motion


async def test_pubacks_take_the_quick_path_and_everything_else_pahos_own(mosquitto) -> None:
    from plugins.mqtt._paho import quick_pubacks

    assert not quick_pubacks(aiomqtt.Client("127.0.0.1", mosquitto.port, protocol=aiomqtt.ProtocolVersion.V5)), \
        "MQTT 5 acknowledgements carry reason codes: paho reads them"
    client = aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="acks")
    assert quick_pubacks(client)
    paho = client._client
    confirmed: list[int] = []
    paho.on_publish, own = (lambda c, u, mid, rc, props: (confirmed.append(mid), own(c, u, mid, rc, props))), \
        paho.on_publish
    got: dict[str, list[bytes]] = {}
    stop = asyncio.Event()
    listener = asyncio.create_task(collect(mosquitto.port, ["acks/#"], got, stop, "acks-sub"))
    try:
        await asyncio.sleep(0.5)
        async with client:
            await asyncio.wait_for(asyncio.gather(*(client.publish(f"acks/{i}", str(i), qos=1) for i in range(50))), 5)
            await asyncio.wait_for(client.publish("acks/exactly-once", "2", qos=2), 5)  # PUBREC, PUBREL, PUBCOMP
        assert await wait_until(lambda: len(got) == 51, 5)
    finally:
        stop.set()
        listener.cancel()
    assert len(confirmed) == 51 and not paho._out_messages, "each publish confirmed once, none left waiting"


async def test_batched_socket_io_keeps_every_message_whole_and_in_order(mosquitto) -> None:
    from plugins.mqtt._paho import _OURS, batched_socket, quick_pubacks, send_batch

    client = aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="batched", max_inflight_messages=1000)
    assert quick_pubacks(client) and batched_socket(client)
    paho = client._client
    sends: list[int] = []
    own_send = paho._sock_send
    paho._sock_send = lambda data: (sends.append(len(data)), own_send(data))[1]
    got: dict[str, list[bytes]] = {}
    stop = asyncio.Event()
    listener = asyncio.create_task(collect(mosquitto.port, ["batched/#"], got, stop, "batched-sub"))
    big = bytes(range(256)) * 1200  # 300 KB: a snapshot, read back over many socket reads
    try:
        await asyncio.sleep(0.5)
        async with client:
            await client.subscribe("batched/big", qos=1)
            batches = [[(f"batched/{i % 7}", f"{i}".encode(), 1, False)] for i in range(2000)]
            sent = [send_batch(client, batches[i:i + 500]) for i in range(0, 2000, 500)]  # 2,000 in flight
            results = await asyncio.gather(*(s.acknowledged(10) for s in sent if s is not None))
            assert [r for r in results] == [(500, None)] * 4, "every message acknowledged, once"
            await client.publish("batched/qos0", "zero", qos=0)  # completion reported by paho itself
            await client.publish("batched/qos2", "two", qos=2)
            assert await send_batch(client, [[("batched/big", big, 1, False)]]).acknowledged(10) == (1, None)
            async with asyncio.timeout(10):
                async for message in client.messages:  # our own big message comes back whole
                    assert message.payload == big
                    break
        assert await wait_until(lambda: sum(len(v) for v in got.values()) >= 2003, 10)
    finally:
        stop.set()
        listener.cancel()
    for k in range(7):
        assert got[f"batched/{k}"] == [f"{i}".encode() for i in range(k, 2000, 7)], "in order, once each"
    assert got["batched/qos0"] == [b"zero"] and got["batched/qos2"] == [b"two"] and got["batched/big"] == [big]
    assert len(sends) < 400, f"2,000 messages went out in {len(sends)} writes, not one each"
    assert not paho._out_messages and not getattr(paho, _OURS), "nothing left awaiting an acknowledgement"


@pytest.mark.parametrize(("remaining", "length_bytes"), [
    (5, b"\x05"), (127, b"\x7f"), (128, b"\x80\x01"), (16383, b"\xff\x7f"), (16384, b"\x80\x80\x01"),
    (2097152, b"\x80\x80\x80\x01"),
])
def test_publish_packets_are_framed_as_mqtt_3_1_1_says(remaining: int, length_bytes: bytes) -> None:
    from plugins.mqtt._paho import publish_packet

    payload = b"x" * (remaining - 5)  # topic "t": 2 + 1 bytes, message id: 2
    packet = publish_packet("t", payload, 513, retain=True)
    assert packet == b"\x33" + length_bytes + b"\x00\x01t\x02\x01" + payload  # QoS 1, retained; the spec's examples
    assert publish_packet("t", "é", 1, retain=False)[:2] == b"\x32\x07", "text goes out as UTF-8"
