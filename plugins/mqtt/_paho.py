"""What the MQTT notifier does inside paho (aiomqtt's client), for speed; private.

paho frames, queues and acknowledges every message with Python objects of
its own; at thousands of events a second those cost more than the rest of
the hub.  Three shims reach into paho 2.x internals and step aside (return
False or None) when those are not there, so a paho upgrade may make the
notifier slower, never wrong; the MQTT tests tell:

- ``send_batch``: QoS 1 messages framed here (``publish_packet``) and queued
  as one write per batch, their PUBACKs matched to the batch;
- ``quick_pubacks``: 3.1.1 PUBACKs taken without paho's MQTT 5 objects;
- ``batched_socket``: one 64 KB ``recv`` for paho's three reads per packet,
  and queued packets joined into one ``send``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
from paho.mqtt.client import DISCONNECT, PUBLISH, MQTTv311
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

#: Attribute of a paho client holding the QoS 1 messages ``send_batch`` wrote itself, by message id.
_OURS = "_pantau_own_messages"

#: One MQTT message: (topic, payload, qos, retain).
Message = tuple[str, str | bytes, int, bool]


class _Acks:
    """Counts a batch's acknowledgements down; aiomqtt calls ``set`` on PUBACK."""

    __slots__ = ("left", "done")

    def __init__(self, left: int, done: asyncio.Future[None]) -> None:
        self.left = left
        self.done = done

    def set(self) -> None:
        self.left -= 1
        if self.left <= 0 and not self.done.done():
            self.done.set_result(None)


class _Sent:
    """A batch on the wire: its messages' acknowledgement state."""

    def __init__(self, client: aiomqtt.Client, pending: dict[int, Any], ours: dict[int, _Sent] | None) -> None:
        self.client = client
        self.pending = pending
        self.ours = ours
        self.acks = _Acks(0, asyncio.get_running_loop().create_future())
        #: Per event, its QoS 1 messages: a message id written here, or paho's MQTTMessageInfo.
        self.tracked: list[list[Any]] = []
        self.mids: list[int] = []  # paho's, registered in ``pending``
        self.own: list[int] = []  # written here, registered in ``ours``
        self.acked: set[int] = set()  # of ``own``
        self.problem: str | None = None

    def confirm(self, mid: int) -> None:
        """The broker acknowledged message ``mid`` (one of ``own``)."""
        self.acked.add(mid)
        self.acks.set()

    async def acknowledged(self, ack_seconds: float) -> tuple[int, str | None]:
        """Wait up to ``ack_seconds`` for the acknowledgements: (how many leading events
        had all their QoS 1 messages acknowledged, what went wrong if not all did)."""
        try:
            if self.acks.left > 0:
                disconnected = getattr(self.client, "_disconnected", None)
                waits: list[asyncio.Future[Any]] = [self.acks.done]
                if isinstance(disconnected, asyncio.Future):
                    waits.append(disconnected)  # the connection broke: no acknowledgement is coming
                await asyncio.wait(waits, timeout=ack_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for mid in self.mids:
                if self.pending.get(mid) is self.acks:
                    del self.pending[mid]
            if self.ours is not None:
                for mid in self.own:
                    if self.ours.get(mid) is self:
                        del self.ours[mid]
        delivered = 0
        for messages in self.tracked:
            if not all(m in self.acked if isinstance(m, int) else m.is_published() for m in messages):
                break
            delivered += 1
        return delivered, self.problem


def send_batch(client: aiomqtt.Client, batches: list[list[Message]]) -> _Sent | None:
    """Put every message of ``batches`` (one list per event) on the wire now, in order;
    None when this aiomqtt lacks the internals used (then use its public ``publish``).

    aiomqtt's ``publish`` waits for one message at a time with a task, a timer and a
    scan of every pending call each, several times the cost of the publish itself
    at hundreds in flight.  Here the messages go to aiomqtt's paho client directly
    and one countdown, registered where aiomqtt's acknowledgement callback looks
    (``_pending_publishes``), waits for them all.  With ``quick_pubacks`` in place
    (MQTT 3.1.1), QoS 1 messages skip paho's ``publish`` as well: their packets
    are built here and queued as one write, and their PUBACKs come straight back
    to the batch (paho keeps no copy to send again after a reconnect; the outbox
    sends what was not acknowledged).
    """
    paho = getattr(client, "_client", None)
    pending = getattr(client, "_pending_publishes", None)
    if paho is None or not isinstance(pending, dict):
        return None
    ours: dict[int, _Sent] | None = getattr(paho, _OURS, None)
    sent = _Sent(client, pending, ours)
    if ours is not None and paho._sock is None:  # paho's publish would say so itself, message by message
        sent.problem = str(aiomqtt.MqttCodeError(MQTTErrorCode.MQTT_ERR_NO_CONN, "could not publish"))
        return sent
    chunk: list[bytes] = []  # QoS 1 packets built here, not yet queued

    def flush() -> None:
        if chunk:
            data = b"".join(chunk)
            paho._out_packet.append({"command": PUBLISH, "mid": sent.own[-1], "qos": 1, "pos": 0,
                                     "to_process": len(data), "packet": data, "info": None})
            chunk.clear()
            paho._call_socket_register_write()

    for messages in batches:
        tracked: list[Any] = []
        for topic, payload, qos, retain in messages:
            if qos == 1 and ours is not None and "+" not in topic and "#" not in topic:
                mid = paho._mid_generate()
                while mid in ours or mid in paho._out_messages:  # still awaited from 65,535 messages ago
                    mid = paho._mid_generate()
                chunk.append(publish_packet(topic, payload, mid, retain))
                ours[mid] = sent
                sent.own.append(mid)
                sent.acks.left += 1
                tracked.append(mid)
                continue
            flush()  # in order on the wire
            info = paho.publish(topic, payload, qos, retain)
            if info.rc != 0:
                sent.problem = str(aiomqtt.MqttCodeError(info.rc, "could not publish"))
                break
            if qos:
                tracked.append(info)
                if not info.is_published():
                    pending[info.mid] = sent.acks
                    sent.mids.append(info.mid)
                    sent.acks.left += 1
        if sent.problem is not None:
            break
        sent.tracked.append(tracked)
    flush()
    return sent


def publish_packet(topic: str, payload: str | bytes, mid: int, retain: bool) -> bytes:
    """An MQTT 3.1.1 QoS 1 PUBLISH packet (``topic`` without wildcards)."""
    name = topic.encode()
    body = payload.encode() if isinstance(payload, str) else payload
    remaining = 4 + len(name) + len(body)
    header = bytearray((0x32 | retain,))
    while True:  # the remaining length, 7 bits a byte, lowest first
        byte, remaining = remaining & 0x7F, remaining >> 7
        header.append(byte | 0x80 if remaining else byte)
        if not remaining:
            break
    return b"".join((header, len(name).to_bytes(2, "big"), name, mid.to_bytes(2, "big"), body))


async def publish_each(client: aiomqtt.Client, batches: list[list[Message]],
                        ack_seconds: float) -> tuple[int, str | None]:
    """The same through aiomqtt's public ``publish``, one awaited message each."""
    async def one(messages: list[Message]) -> None:
        for topic, payload, qos, retain in messages:
            await client.publish(topic, payload, qos=qos, retain=retain, timeout=ack_seconds)

    results = await asyncio.gather(*(one(m) for m in batches), return_exceptions=True)
    for i, result in enumerate(results):
        if isinstance(result, BaseException):
            return i, str(result)
    return len(results), None


def quick_pubacks(client: aiomqtt.Client) -> bool:
    """Let ``client`` take MQTT 3.1.1 PUBACKs without paho's MQTT 5 objects; True when it does.

    paho 2 decodes every PUBACK into a fresh ``ReasonCode`` (copying a table
    of 50 names) and a ``Properties`` even on MQTT 3.1.1, whose PUBACK is just
    a message id: a third of the notifier's CPU per event at thousands of
    events per second.  Here a 3.1.1 PUBACK (two bytes) is matched to its
    message and confirmed as paho itself does (``_do_on_publish``), with one
    success code and one empty property set for all; anything else (QoS 2's
    PUBCOMP, an odd packet) goes to paho's own handler.  Reaches paho's
    internals, so nothing happens when they are not there (another paho).
    """
    paho = getattr(client, "_client", None)
    needed = ("_handle_pubackcomp", "_in_packet", "_out_message_mutex", "_out_messages", "_do_on_publish")
    if paho is None or getattr(paho, "_protocol", None) != MQTTv311 or not all(hasattr(paho, n) for n in needed):
        return False
    own = paho._handle_pubackcomp
    ours: dict[int, _Sent] = {}
    success = ReasonCode(PacketTypes.PUBACK)
    no_properties = Properties(PacketTypes.PUBACK)

    def handle(cmd: str) -> MQTTErrorCode:
        packet = paho._in_packet["packet"]
        if cmd != "PUBACK" or len(packet) != 2:
            return own(cmd)
        mid = int.from_bytes(packet, "big")
        sent = ours.pop(mid, None)
        if sent is not None:  # one of send_batch's own
            sent.confirm(mid)
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        with paho._out_message_mutex:
            if mid in paho._out_messages:  # confirmed once only, as paho does
                return paho._do_on_publish(mid, success, no_properties)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    paho._handle_pubackcomp = handle
    setattr(paho, _OURS, ours)
    return True


def batched_socket(client: aiomqtt.Client) -> bool:
    """Let ``client``'s paho read and write its socket in batches; True when it does.

    paho reads a packet with three ``recv`` calls (its type, its length, its
    body) and writes each queued packet with a ``send`` of its own: at
    thousands of QoS 1 messages a second, four system calls per message for
    a 4-byte PUBACK and a short PUBLISH.  Here reads come from one ``recv``
    of up to 64 KB, served to paho piece by piece, and every ``loop_read``
    goes on until that buffer is empty (the socket would not wake the loop
    for bytes already taken from it, as aiomqtt knows of TLS's); writes join
    the queued packets that need nothing done once written (all but QoS 0
    PUBLISH and DISCONNECT, whose completion paho reports) into one ``send``.
    Measured on one client with 400 messages in flight: 59 against 70 us of
    CPU per message (median of five runs each).  Reaches paho's internals,
    so nothing happens when they are not there (another paho).
    """
    paho = getattr(client, "_client", None)
    needed = ("_sock_recv", "loop_read", "_packet_write", "_out_packet")
    if paho is None or not all(hasattr(paho, n) for n in needed):
        return False
    own_recv, own_loop_read, own_write = paho._sock_recv, paho.loop_read, paho._packet_write
    queue = paho._out_packet
    held: list[Any] = [b"", 0, None]  # bytes read, how far paho has taken them, from which socket

    def sock_recv(bufsize: int) -> bytes:
        data, pos, sock = held
        if pos >= len(data) or sock is not paho._sock:
            data, pos = own_recv(65536), 0  # raises BlockingIOError when there is nothing
            held[2] = paho._sock
            if not data:
                held[0], held[1] = b"", 0
                return data  # the broker closed the connection
        piece = data[pos:pos + bufsize]
        held[0], held[1] = data, pos + len(piece)
        return piece

    def loop_read(max_packets: int = 1) -> MQTTErrorCode:
        rc = own_loop_read(max_packets)
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and held[1] < len(held[0]) and paho._sock is not None:
            rc = own_loop_read(max_packets)
        return rc  # type: ignore[no-any-return]

    def packet_write() -> MQTTErrorCode:
        if len(queue) > 1 and queue[0]["pos"] == 0:
            parts, last = [], None
            while queue:
                packet = queue[0]
                command = packet["command"] & 0xF0
                if packet["pos"] or (command == PUBLISH and packet["qos"] == 0) or command == DISCONNECT:
                    break
                parts.append(packet["packet"])
                last = queue.popleft()
            if last is not None:
                data = b"".join(parts) if len(parts) > 1 else parts[0]
                queue.appendleft({**last, "packet": data, "pos": 0, "to_process": len(data), "info": None})
        return own_write()  # type: ignore[no-any-return]

    paho._sock_recv, paho.loop_read, paho._packet_write = sock_recv, loop_read, packet_write
    return True
