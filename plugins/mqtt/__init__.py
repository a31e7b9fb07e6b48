"""MQTT notifier with Home Assistant discovery (``type: mqtt``), with aiomqtt.

Topics, under ``topic_prefix`` (default ``pantau``):

- ``pantau/status``: ``online`` / ``offline`` (retained; ``offline`` is the
  last will, so it shows when the hub dies);
- ``pantau/<camera>/event``: every event as JSON (QoS 1; the event ``id`` is
  the idempotency key, since QoS 1 may repeat a message);
- ``pantau/<camera>/motion``: ``ON`` / ``OFF`` (retained);
- ``pantau/<camera>/status``: ``online`` / ``offline`` (retained);
- ``pantau/<camera>/snapshot``: a JPEG (retained), on motion, and on connect
  when Home Assistant discovery is on (its image entities show it).  It is
  fetched beside the delivery, never in its way: the motion event goes out at
  once, the picture when the camera gives it (one fetch per camera at a time,
  at most ``SNAPSHOTS_IN_FLIGHT`` in all; a motion start while its camera's
  picture is still coming adds none).

``<camera>`` is the camera id with ``:`` as ``_``.  With ``ha_discovery``,
each camera appears in Home Assistant as a device with a motion sensor, a
connectivity sensor and an image entity; discovery is sent again when Home
Assistant announces itself on ``homeassistant/status``.  The connection is
kept in the background and re-made with backoff and jitter; while it is
down, ``deliver`` fails and the outbox keeps the events.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import ssl
from typing import Any

import aiomqtt

from hub import (
    Backoff,
    Camera,
    Event,
    EventKind,
    EventState,
    Notifier,
    NotifyError,
    PartlyDelivered,
    RegisterNotifier,
    hookimpl,
)
from plugins.mqtt._paho import Message, batched_socket, publish_each, quick_pubacks, send_batch
from plugins.mqtt.config import MqttConfig

__all__ = ["MqttConfig", "MqttNotifier"]


#: paho's own cap on QoS 1 messages in flight: none (0).  Its cap rescans every
#: message in flight on each acknowledgement, which at a few hundred in flight
#: costs more than the publish itself; the outbox bounds what is in flight
#: instead (at most 200 events, each one or two messages, per batch).
INFLIGHT = 0
#: Retained messages (discovery, status) sent at once when announcing cameras.
ANNOUNCE_BATCH = 100


def safe_id(camera_id: str) -> str:
    return camera_id.replace(":", "_").replace("/", "_").replace(" ", "_")


class MqttNotifier(Notifier):
    config: MqttConfig
    #: One connection keeps QoS 1 messages in order: later batches go out while earlier ones wait for acks.
    batches_in_flight = 4
    #: Snapshots fetched for motion at once, at most (each a device request, or a keyframe decoded).
    SNAPSHOTS_IN_FLIGHT = 16

    def __init__(self, config: MqttConfig, log: logging.Logger) -> None:
        super().__init__(config, log)
        self.where = f"{config.host}:{config.port}"
        self._client: aiomqtt.Client | None = None
        self._in_order = asyncio.Lock()  # batches go on the wire in the order they were handed over
        self._cameras: list[Camera] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._fetching: dict[str, asyncio.Task[None]] = {}  # camera -> its snapshot on its way
        # aiomqtt warns once per publish while more than 10 are in flight; the
        # outbox paces delivery itself, so that warning is noise.
        self._client_log = logging.getLogger(f"pantau.notifier.{config.name}.client")
        self._client_log.setLevel(logging.ERROR)

    def topic(self, *parts: str) -> str:
        return "/".join((self.config.topic_prefix, *parts))

    @property
    def _node(self) -> str | None:
        context = getattr(self, "context", None)
        return context.node if context is not None else None

    @property
    def _client_id(self) -> str:
        """One client id per node (a broker drops the older of two connections sharing one)."""
        return f"{self.config.client_id}-{self._node}" if self._node else self.config.client_id

    @property
    def _will_topic(self) -> str:
        """Where the broker says this connection died: with several nodes, that node's own status
        (``nodes/NODE/status``), since the hub stays online through its other nodes."""
        return self.topic("nodes", self._node, "status") if self._node else self.topic("status")

    # -- connection ---------------------------------------------------------------

    def _new_client(self) -> aiomqtt.Client:
        cfg = self.config
        tls = None
        if cfg.tls:
            tls = ssl.create_default_context(cafile=cfg.ca_file)
        return aiomqtt.Client(
            cfg.host, cfg.port, username=cfg.username,
            password=cfg.password.get_secret_value() if cfg.password else None,
            identifier=self._client_id, clean_session=False, tls_context=tls, timeout=cfg.timeout,
            will=aiomqtt.Will(self._will_topic, "offline", qos=1, retain=True),
            logger=self._client_log, max_inflight_messages=INFLIGHT,
        )

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"mqtt:{self.config.name}")

    async def _run(self) -> None:
        retry = Backoff(self.log, "MQTT broker connection", cap=30.0, extra={"broker": self.where})
        while not self._stopping:
            try:
                client = self._new_client()
                quick_pubacks(client)
                batched_socket(client)
                async with client:
                    self._client = client
                    retry.succeeded()
                    await client.publish(self.topic("status"), "online", qos=1, retain=True)
                    if self._node:
                        await client.publish(self._will_topic, "online", qos=1, retain=True)
                    await self._announce(client)
                    if self.config.ha_discovery:
                        await client.subscribe(f"{self.config.discovery_prefix}/status", qos=1)
                    async for message in client.messages:
                        if message.payload in (b"online", "online"):
                            await self._announce(client)  # Home Assistant restarted
            except aiomqtt.MqttError as err:
                reason = str(err)
            else:
                reason = "the broker closed the connection"
            finally:
                self._client = None
            if self._stopping:
                return
            await asyncio.sleep(retry.failed(reason))

    async def close(self) -> None:
        self._stopping = True
        for task in list(self._fetching.values()):
            task.cancel()
        client = self._client
        if client is not None:
            try:
                await client.publish(self._will_topic, "offline", qos=1, retain=True, timeout=2)
            except (aiomqtt.MqttError, TimeoutError):
                pass
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # -- Home Assistant -------------------------------------------------------------

    async def cameras_changed(self, cameras: list[Camera]) -> None:
        self._cameras = list(cameras)
        if self._client is not None:
            await self._announce(self._client)

    def discovery(self, camera: Camera) -> list[tuple[str, dict[str, Any]]]:
        """Home Assistant discovery messages for one camera: ``[(topic, config), ...]``."""
        cid = safe_id(camera.id)
        prefix = self.config.discovery_prefix
        device = {"identifiers": [f"pantau_{cid}"], "name": camera.name, "manufacturer": "Pantau Hub",
                  "model": camera.device_id.split(":", 1)[0], "via_device": "pantau_hub"}
        available = [{"topic": self.topic("status")}]
        return [
            (f"{prefix}/binary_sensor/pantau_{cid}/motion/config", {
                "name": "Motion", "unique_id": f"pantau_{cid}_motion", "device_class": "motion",
                "state_topic": self.topic(cid, "motion"), "payload_on": "ON", "payload_off": "OFF",
                "availability": available, "device": device}),
            (f"{prefix}/binary_sensor/pantau_{cid}/online/config", {
                "name": "Online", "unique_id": f"pantau_{cid}_online", "device_class": "connectivity",
                "entity_category": "diagnostic", "state_topic": self.topic(cid, "status"),
                "payload_on": "online", "payload_off": "offline", "availability": available, "device": device}),
            (f"{prefix}/image/pantau_{cid}/snapshot/config", {
                "name": "Snapshot", "unique_id": f"pantau_{cid}_snapshot", "image_topic": self.topic(cid, "snapshot"),
                "content_type": "image/jpeg", "availability": available, "device": device}),
        ]

    async def _announce(self, client: aiomqtt.Client) -> None:
        """Discovery and each camera's status, pipelined; then, for Home Assistant's
        image entities, a snapshot of each camera, one at a time."""
        messages: list[tuple[str, str]] = []
        for camera in self._cameras:
            cid = safe_id(camera.id)
            if self.config.ha_discovery:
                messages += [(topic, json.dumps(payload)) for topic, payload in self.discovery(camera)]
            messages.append((self.topic(cid, "status"), "offline" if camera.status.value == "offline" else "online"))
        for i in range(0, len(messages), ANNOUNCE_BATCH):
            await asyncio.gather(*(client.publish(topic, payload, qos=1, retain=True)
                                   for topic, payload in messages[i:i + ANNOUNCE_BATCH]))
        if self.config.ha_discovery:
            for camera in self._cameras:
                await self._publish_snapshot(client, camera.id)

    async def _publish_snapshot(self, client: aiomqtt.Client, camera_id: str) -> None:
        if self.context is not None and (jpeg := await self._snapshot_of(camera_id)) is not None:
            await client.publish(self.topic(safe_id(camera_id), "snapshot"), jpeg, qos=0, retain=True)

    # -- events -----------------------------------------------------------------------

    async def deliver(self, event: Event) -> None:
        await self.deliver_many([event])

    async def deliver_many(self, events: list[Event]) -> None:
        """Publish a batch pipelined: every message in flight at once, in order on
        the wire; the events whose messages the broker acknowledged count as delivered.

        Batches handed over while earlier ones wait for their acknowledgements
        (``batches_in_flight``) go on the wire in the order they were given.
        """
        client = self._client
        if client is None:
            raise PartlyDelivered(0, NotifyError(f"mqtt {self.config.name}: broker {self.where} is not connected"))
        try:
            async with self._in_order:
                messages: list[list[Message]] = [self._messages(e) for e in events]
                sent = send_batch(client, messages)
                if sent is None:  # aiomqtt without the internals send_batch uses
                    delivered, problem = await publish_each(client, messages, self.config.timeout)
            if sent is not None:
                delivered, problem = await sent.acknowledged(self.config.timeout)
        except (aiomqtt.MqttError, TimeoutError) as err:
            raise PartlyDelivered(0, self._error(err)) from None
        self._snapshots(events[:delivered])
        if delivered < len(events):
            raise PartlyDelivered(delivered, self._error(problem or "no acknowledgement in time"))

    def _messages(self, event: Event) -> list[Message]:
        """The messages one event makes: (topic, payload, qos, retain)."""
        cid = safe_id(event.camera_id) if event.camera_id else "hub"
        out: list[Message] = [(self.topic(cid, "event"), event.model_dump_json(), 1, False)]
        if event.camera_id and event.kind == EventKind.MOTION and event.state != EventState.PULSE:
            out.append((self.topic(cid, "motion"), "ON" if event.state == EventState.START else "OFF", 1, True))
        elif event.camera_id and event.kind in (EventKind.OFFLINE, EventKind.ONLINE):
            out.append((self.topic(cid, "status"), event.kind.value, 1, True))
        return out

    def _snapshots(self, events: list[Event]) -> None:
        """Fetch and publish a JPEG for each camera whose motion starts in ``events`` (Home
        Assistant's image entity), beside the delivery: one fetch per camera at a time."""
        if self.context is None:
            return
        for event in events:
            cid = event.camera_id
            if (not cid or event.kind != EventKind.MOTION or event.state != EventState.START
                    or cid in self._fetching or len(self._fetching) >= self.SNAPSHOTS_IN_FLIGHT):
                continue
            task = asyncio.create_task(self._publish_motion_snapshot(cid), name=f"mqtt-snapshot:{cid}")
            self._fetching[cid] = task
            task.add_done_callback(functools.partial(self._fetched, cid))

    def _fetched(self, camera_id: str, task: asyncio.Task[None]) -> None:
        self._fetching.pop(camera_id, None)

    async def _publish_motion_snapshot(self, camera_id: str) -> None:
        jpeg = await self._snapshot_of(camera_id)
        client = self._client
        if jpeg is None or client is None:
            return
        try:
            await client.publish(self.topic(safe_id(camera_id), "snapshot"), jpeg, qos=0, retain=True)
        except aiomqtt.MqttError as err:  # the next motion brings the next picture
            self.log.info("snapshot not published", extra={"camera": camera_id, "error": str(err)})

    async def _snapshot_of(self, camera_id: str) -> bytes | None:
        assert self.context is not None
        try:
            return await self.context.snapshot(camera_id)
        except Exception as err:  # a camera without a picture is no reason to fail delivery
            self.log.info("no snapshot for MQTT", extra={"camera": camera_id, "error": type(err).__name__})
            return None

    def _error(self, err: BaseException | str) -> NotifyError:
        return NotifyError(f"mqtt {self.config.name}: publishing to {self.where} failed ({err})")


@hookimpl
def register_notifiers(register: RegisterNotifier) -> None:
    register(MqttConfig, MqttNotifier)
