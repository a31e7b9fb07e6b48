"""Benchmark: events from simulated cameras through the hub to Mosquitto at QoS 1.

    python bench/events.py --cameras 1000 --seconds 20 [--rate 6000]

Everything is real except the cameras: simulated Dahua NVRs (64 channels
each, in a child process) send ``eventManager`` event parts at ``--rate``
events per second in all, each stamped with its send time (``UTC``) and a
sequence number; a ``Hub`` in this process (SQLite store, the outbox, the
MQTT notifier) reads the streams, normalises the events, publishes them on
its bus, persists them, and delivers them; a QoS 1 subscriber (Mosquitto's
``mosquitto_sub`` when installed, else a paho client in a child process)
receives them from a Mosquitto this script starts (``set_tcp_nodelay
true``).  Latency is the subscriber's receive time minus the simulator's
send time (one machine, one clock).

Events come as real devices send them, ``Start`` and then ``Stop`` for each
channel in turn (each a separate event, and a retained motion state the
MQTT notifier keeps); ``--mode pulse`` sends one-off ``Pulse`` parts, the
cheapest path (one message, no retained state).

Prints the offered rate, the sustained rate (distinct events received over
the time from the first send to the last receipt: below the offered rate
when the hub falls behind), p50/p99 latency, the events lost after a drain,
the CPU of each process while sending and until the outbox drained, and
``stored: N``, the motion events the hub's store holds at the end (equal to
the events sent); the last lines are ``events/s: X``, ``p99: Y ms``,
``lost: N`` and ``stored: N``.  Not a test: figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHANNELS = 64


async def cameras(count: int, channels: int, rate: float, mode: str) -> None:
    """Child: NVR simulators; on 'go SECONDS' they send events at ``rate``, then print how many.

    ``start-stop``: each channel's events alternate ``Start`` and ``Stop``; ``pulse``: every one a ``Pulse``."""
    from hub.testing.sim import DahuaSimulator

    sims = [DahuaSimulator(kind="nvr", channels=channels) for _ in range(count)]
    for sim in sims:
        await sim.start()
    print(json.dumps([{"port": s.port, "password": s.password} for s in sims]), flush=True)
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    seconds = float(line.split()[1])
    sent = 0
    start = time.monotonic()
    tick = 0.005
    started: set[tuple[int, int]] = set()  # (simulator, channel) with a motion under way
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) - sent
        for _ in range(due):
            index = sent % count
            channel = random.randint(1, channels)
            if mode == "pulse":
                action = "Pulse"
            else:
                action = "Stop" if (index, channel) in started else "Start"
                started.symmetric_difference_update({(index, channel)})
            sims[index].push_event(channel, "VideoMotion", action, {"UTC": time.time(), "Name": str(sent)})
            sent += 1
        await asyncio.sleep(tick)
    print(sent, flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)


class Subscriber:
    """The receiving end: a QoS 1 subscriber to ``pantau/+/event`` in a process of its own.

    Mosquitto's own ``mosquitto_sub`` (C) when it is installed, stamping each
    message with its receive time, so that the measuring end takes little of
    the machine from the hub; otherwise a paho client in a child process.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.native = shutil.which("mosquitto_sub") is not None
        self.out = tempfile.NamedTemporaryFile("w+", suffix=".sub", delete=False)  # noqa: SIM115
        if self.native:
            cmd = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-i", "bench-subscriber",
                   "-t", "pantau/+/event", "-F", "%U %p"]
            self.proc = subprocess.Popen(cmd, stdout=self.out, stdin=subprocess.DEVNULL)
        else:
            self.proc = subprocess.Popen([sys.executable, __file__, "--serve-subscriber", str(port)],
                                         stdin=subprocess.PIPE, stdout=self.out, text=True)
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Publish a probe until the subscriber shows it: then it is subscribed."""
        import paho.mqtt.publish as publish

        for _ in range(100):
            publish.single("pantau/bench-probe/event", '{"probe": 1}', qos=1, hostname="127.0.0.1", port=self.port)
            time.sleep(0.1)
            if Path(self.out.name).read_text().strip():
                return
        raise SystemExit("the bench's MQTT subscriber did not come up")

    def received(self) -> list[tuple[int, float, float]]:
        """Stop; (sequence number, receive time, latency) of every event message received."""
        from datetime import datetime

        time.sleep(1)
        if self.native:
            self.proc.terminate()
        else:
            self.proc.stdin.write("\n")  # type: ignore[union-attr]
            self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(30)
        got = []
        for line in Path(self.out.name).read_text().splitlines():
            stamp, _, payload = line.partition(" ")
            event = json.loads(payload)
            seq = event.get("data", {}).get("name") if "at" in event else None
            if seq is not None:
                now = float(stamp)
                got.append((int(seq), now, now - datetime.fromisoformat(event["at"]).timestamp()))
        os.unlink(self.out.name)
        return got

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def subscriber(port: int) -> None:
    """Child (without mosquitto_sub): a paho QoS 1 subscriber printing ``<receive time> <payload>`` per message."""
    import paho.mqtt.client as mqtt

    lines: list[str] = []

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        lines.append(f"{time.time():.6f} {msg.payload.decode()}")

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-subscriber", clean_session=True)
    client.on_message = on_message
    client.on_connect = lambda c, *a: c.subscribe("pantau/+/event", qos=1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    sys.stdin.readline()
    client.loop_stop()
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


def hub_yaml(path: Path, devices: list[dict[str, Any]], broker: int, workers: int) -> Path:
    sources = "".join(f"  - {{type: dahua, name: nvr{i}, host: 127.0.0.1, port: {d['port']}, "
                      f"password: {d['password']}, heartbeat: 30}}\n" for i, d in enumerate(devices))
    cfg = path / "hub.yaml"
    cfg.write_text(f"""\
version: 1
http: {{port: 0}}
logging: {{level: warning}}
recording: {{default: {{mode: "off"}}}}
health: {{enabled: false}}
events: {{workers: {workers}}}
sources:
{sources}notifiers:
  - {{type: mqtt, name: broker, port: {broker}, ha_discovery: false, kinds: [motion]}}
""")
    return cfg


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class GcPauses:
    """How long the hub's garbage collector held everything up, per generation."""

    def __init__(self) -> None:
        import gc

        self.longest = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            gen = info["generation"]
            self.count[gen] += 1
            self.longest[gen] = max(self.longest[gen], time.perf_counter() - self._started)

    def __str__(self) -> str:
        return ", ".join(f"generation {g}: {self.count[g]} runs, longest {self.longest[g] * 1000:.1f} ms"
                         for g in range(3))


class CpuMeter:
    """CPU seconds of named processes over a window, read from ``/proc``."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start = {name: cpu_seconds(pid) for name, pid in pids.items()}

    def stop(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) - self.start[name] for name, pid in self.pids.items()}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def measure(args: argparse.Namespace) -> None:
    """Start the broker, the simulated cameras and the subscriber; run the hub; print the figures."""
    from hub.testing.mqtt import MosquittoServer

    logging.basicConfig(level=logging.ERROR)
    nvrs = max(1, math.ceil(args.cameras / CHANNELS))
    channels = min(CHANNELS, max(4, math.ceil(args.cameras / nvrs)))
    broker = MosquittoServer().start()
    here = [sys.executable, __file__]
    sims = subprocess.Popen([*here, "--serve-cameras", str(nvrs), "--channels", str(channels),
                             "--rate", str(args.rate), "--mode", args.mode],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    sub = Subscriber(broker.port)
    try:
        devices = json.loads(sims.stdout.readline())  # type: ignore[union-attr]
        others = {"simulators": sims.pid, "mosquitto": broker.proc.pid,  # type: ignore[union-attr]
                  "subscriber": sub.proc.pid}
        sent, window, hub_cpu, rss, shares, drained, stored = asyncio.run(
            run(args, sims, devices, broker.port, nvrs, others))
        got = sub.received()
    finally:
        sims.kill()
        sims.wait()
        sub.kill()
        broker.close()
    print(f"subscriber: {'mosquitto_sub' if sub.native else 'paho (install mosquitto-clients for mosquitto_sub)'}")
    print(f"mode: {args.mode}")
    print("CPU while sending, % of a core: " + ", ".join(f"{name} {sec / window * 100:.0f}"
                                                         for name, sec in shares.items()))
    total = sum(drained[1].values())
    print(f"CPU until the outbox drained ({drained[0]:.1f} s): " + ", ".join(
        f"{name} {sec:.1f} s" for name, sec in drained[1].items())
        + f"; {total / max(1, sent) * 1e6:.0f} us of CPU per event in all")
    report(got, sent, window, hub_cpu, rss)
    print(f"stored: {stored}")
    if stored != sent:
        sys.exit(f"the hub's store holds {stored} motion events of the {sent} sent")


async def run(args: argparse.Namespace, sims: subprocess.Popen[str], devices: list[dict[str, Any]], broker: int,
              nvrs: int, others: dict[str, int]
              ) -> tuple[int, float, float, float, dict[str, float], tuple[float, dict[str, float]], int]:
    """The hub's part: start it, let the cameras send, wait for the backlog.

    Returns (sent, window, hub CPU s, hub RSS MB, CPU s of each process while sending,
    (seconds from the first send until the outbox drained, CPU s of each process in them),
    motion events stored).
    """
    from sqlalchemy import func, select

    from hub.app import Hub
    from hub.core.config import load_config
    from hub.core.plugins import Plugins
    from hub.store.events import EventRow

    def tell(line: str) -> None:
        sims.stdin.write(line + "\n")  # type: ignore[union-attr]
        sims.stdin.flush()  # type: ignore[union-attr]

    with tempfile.TemporaryDirectory() as tmp:
        plugins = Plugins().load()
        hub = Hub(load_config(hub_yaml(Path(tmp), devices, broker, args.workers), plugins), plugins)
        await hub.start()
        try:
            print(f"{len(hub.inventory.cameras)} cameras on {nvrs} simulated NVRs; offering {args.rate:g} "
                  f"events/s for {args.seconds:g} s", flush=True)
            await asyncio.sleep(2)  # event streams attach
            workers = {f"event worker {w['worker']}": w["pid"] for w in hub.event_workers.status() if w["pid"]}
            meter = CpuMeter({"hub": os.getpid(), **workers, **others})
            pauses = GcPauses()
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            start = time.monotonic()
            tell(f"go {args.seconds}")
            sent = int(await asyncio.to_thread(sims.stdout.readline))  # type: ignore[union-attr]
            window = time.monotonic() - start
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            shares = meter.stop()
            print(f"hub garbage collection while sending: {pauses}")
            for w in hub.event_workers.status():
                print(f"event worker {w['worker']}: {w['events']} events in {w['frames']} frames")
            drained = time.monotonic()
            while time.monotonic() - drained < args.drain:
                summary = await hub.store.events.outbox_summary()
                if summary.get("broker", {}).get("pending", 1) == 0:
                    break
                await asyncio.sleep(0.1)
            until_drained = (time.monotonic() - start, meter.stop())
            await asyncio.sleep(1)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            async with hub.store.db.session() as session:
                stored = int(await session.scalar(
                    select(func.count()).select_from(EventRow).where(EventRow.kind == "motion")) or 0)
        finally:
            await hub.stop()
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    print(f"hub user {cpu1.ru_utime - cpu0.ru_utime:.2f} s, system {cpu1.ru_stime - cpu0.ru_stime:.2f} s, "
          f"context switches {cpu1.ru_nvcsw - cpu0.ru_nvcsw} voluntary, {cpu1.ru_nivcsw - cpu0.ru_nivcsw} forced")
    return sent, window, cpu, rss, shares, until_drained, stored


def report(got: list[tuple[int, float, float]], sent: int, window: float, hub_cpu: float, rss: float) -> None:
    seqs = {int(seq) for seq, _, _ in got}
    latencies = [lat * 1000 for _, _, lat in got]
    lost = len(set(range(sent)) - seqs)
    # Sustained rate: distinct events delivered over the time from the first send to the last receipt.
    first_sent = min((recv - lat for _, recv, lat in got), default=0.0)
    last_received = max((recv for _, recv, _ in got), default=0.0)
    rate = len(seqs) / max(1e-9, last_received - first_sent)
    print(f"offered: {sent / window:,.0f} events/s ({sent} events in {window:.1f} s)")
    print(f"received: {len(got)} messages, {len(seqs)} distinct, {len(got) - len(seqs)} repeats, "
          f"the last {last_received - first_sent:.1f} s after the first was sent")
    print(f"hub CPU while sending: {hub_cpu / window * 100:.0f} % of a core; hub RSS {rss:.0f} MB")
    print(f"p50: {percentile(latencies, 50):.1f} ms")
    print(f"events/s: {rate:,.0f}")
    print(f"p99: {percentile(latencies, 99):.1f} ms")
    print(f"lost: {lost}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=6000, help="events per second offered by all cameras")
    parser.add_argument("--workers", type=int, default=1,
                        help="events.workers: processes reading the event streams (0: the hub process)")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for the backlog afterwards")
    parser.add_argument("--mode", choices=("start-stop", "pulse"), default="start-stop",
                        help="how the cameras send motion: Start then Stop (as devices do), or one-off Pulses")
    parser.add_argument("--channels", type=int, default=CHANNELS, help=argparse.SUPPRESS)
    parser.add_argument("--serve-cameras", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-subscriber", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_cameras:
        asyncio.run(cameras(args.serve_cameras, args.channels, args.rate, args.mode))
    elif args.serve_subscriber:
        subscriber(args.serve_subscriber)
    else:
        os.environ.setdefault("PANTAU_PLUGINS", "dahua,mqtt,local_storage,roles")
        measure(args)


if __name__ == "__main__":
    main()
