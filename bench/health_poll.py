"""Benchmark: one full health-check cycle over simulated Hikvision NVRs.

    python bench/health_poll.py --cameras 14000 [--channels 32] [--concurrency 64]

The simulated NVRs (32 channels each, digest auth) run in a child process;
this process runs the hub's own health monitor, inventory and metadata store
(SQLite), as ``pantau run`` would, and times one full cycle after a warm-up
cycle.  As real devices do, a simulator's Digest nonce goes stale after
``--nonce-uses`` requests (default 4), so the cycle pays for the 401 round
trips of renewing it.  It checks its own work: every source's check
completed and no camera went offline (else the run fails).  It prints the
wall time, HTTP requests per second (counted by the simulators), the stale
nonces renewed and this process's resident memory; the last line is
``cycle: X s for N cameras, RSS Y MB``.  Not a test: figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def serve(count: int, channels: int, nonce_uses: int | None) -> None:
    """Child process: ``count`` simulated NVRs; prints their ports, then request counts on demand."""
    from hub.testing.sim import HikvisionSimulator

    sims = [await HikvisionSimulator(kind="nvr", channels=channels, heartbeat=3600, nonce_uses=nonce_uses).start()
            for _ in range(count)]
    print(json.dumps([{"port": s.port, "password": s.password} for s in sims]), flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        print(json.dumps({"requests": sum(len(s.requests) for s in sims),
                          "stale": sum(s.stale_answers for s in sims)}), flush=True)


async def run(child: subprocess.Popen[str], devices: list[dict[str, Any]], channels: int,
              concurrency: int) -> None:
    from hub.core.config import HealthConfig
    from hub.core.sources import SourceContext
    from hub.health import HealthMonitor
    from hub.inventory import Inventory
    from hub.store import Store, database_url
    from plugins.hikvision import HikvisionConfig, HikvisionSource

    logging.basicConfig(level=logging.ERROR)
    count = len(devices)

    def counts() -> dict[str, int]:
        child.stdin.write("\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
        return json.loads(child.stdout.readline())  # type: ignore[union-attr, no-any-return]

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(database_url(None, Path(tmp)))
        await store.migrate()
        ctx = SourceContext(Path(tmp), logging.getLogger("bench"))
        sources = {f"nvr{i}": HikvisionSource(HikvisionConfig(name=f"nvr{i}", host="127.0.0.1", port=d["port"],
                                                              password=d["password"], timeout=30), ctx)
                   for i, d in enumerate(devices)}
        inventory = Inventory(sources)
        published: list[Any] = []
        monitor = HealthMonitor(inventory, store, published.append,
                                HealthConfig(concurrency=concurrency, timeout_seconds=60))
        t0 = time.perf_counter()
        await inventory.probe(limit=120)
        warm = time.perf_counter() - t0
        total = len(inventory.cameras)
        before = counts()
        t0 = time.perf_counter()
        await asyncio.gather(*(monitor.check(name) for name in sources))
        cycle = time.perf_counter() - t0
        after = counts()
        done, stale = after["requests"] - before["requests"], after["stale"] - before["stale"]
        unchecked = [name for name in sources if monitor.checks_done.get(name, 0) != 1]
        offline = sorted({e.camera_id for e in published if e.kind in ("offline", "degraded")}
                         | {c.id for c in inventory.cameras.values() if c.status != "online"})
        for s in sources.values():
            await s.close()
        await store.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"devices: {count} NVRs x {channels} channels = {total} cameras (inventory probe {warm:.1f} s)")
    print(f"requests in the cycle: {done} ({done / cycle:.0f} requests/s), {stale} of them answered 'stale nonce' "
          f"and asked again")
    print(f"checks completed: {count - len(unchecked)} of {count} sources; cameras not online: {len(offline)}")
    print(f"cycle: {cycle:.1f} s for {total} cameras, RSS {rss:.0f} MB")
    if unchecked or offline or total != count * channels:
        sys.exit(f"the cycle did not do its work: {len(unchecked)} sources unchecked ({unchecked[:5]}), "
                 f"{len(offline)} cameras not online ({offline[:5]}), {total} of {count * channels} cameras known")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--nonce-uses", type=int, default=4,
                        help="requests a simulator's Digest nonce serves before it is stale (0: for ever)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.channels, args.nonce_uses or None))
        return
    count = math.ceil(args.cameras / args.channels)
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(count), "--channels", str(args.channels),
                              "--nonce-uses", str(args.nonce_uses)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        devices = json.loads(child.stdout.readline())
        asyncio.run(run(child, devices, args.channels, args.concurrency))
    finally:
        child.kill()
        child.wait()


if __name__ == "__main__":
    main()
