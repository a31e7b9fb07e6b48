"""Benchmark: who sees which cameras, at a city's size.

    python bench/access.py [--cameras 14000] [--users 10000] [--requests 300]

A real hub (in this process, SQLite, no camera sources) is given an
inventory like Semarang's: a city of 16 kecamatan, 177 kelurahan, 8 RW each
and 5 RT per RW, two cameras in each of 7,000 RTs, 100 schools with 10
classrooms among them; and ``--users`` accounts: RT heads (``area_head``
scoped to their RT, as ``pantau users import`` makes them), parents (a
grant on one classroom of one school in school hours), community watch
(scoped to a kelurahan) and one admin.  (The accounts share one argon2
hash: hashing 10,000 passwords would take 15 minutes and is not measured.)

It times, over HTTP to the hub's own server, ``GET /api/v1/cameras`` for an
RT head, a parent and the admin (the admin's first page of 500), each
signed in with a session cookie, and one live-segment authorization
(the session's check and the policy's answer for one camera, as the live
route asks on every playlist and segment).  It checks its own work: each
list is exactly the cameras the rules give (the RT head's two, the
parent's classroom, the admin's first 500 of all), else it fails.  Lines:
p50/p99 of each, then ``p99 visible cameras: X ms`` (the worst of the three)
and ``p99 segment check: Y ms``.  Targets: under 20 ms and under 2 ms.
Not a test: figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CITY = "jawa-tengah/semarang"


def areas(count: int) -> list[str]:
    """RT paths of a city: 16 kecamatan > 177 kelurahan > 8 RW > 5 RT, as many as ``count`` asks."""
    rts = []
    for kel in range(177):
        kec = kel % 16
        for rw in range(1, 9):
            for rt in range(1, 6):
                rts.append(f"{CITY}/kec-{kec:02d}/kel-{kel:03d}/rw-{rw:02d}/rt-{rt:02d}")
    return rts[:count]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def main(cameras: int, users: int, requests: int) -> None:
    import httpx

    from hub.app import Hub
    from hub.core.config import load_config
    from hub.core.models import Action, Camera, Role, Stream, StreamRole
    from hub.core.plugins import Plugins
    from hub.http.auth import authenticate
    from hub.store.users import ImportedUser, hash_password

    work = Path(tempfile.mkdtemp(prefix="pantau-bench-access-"))
    (work / "hub.yaml").write_text("version: 1\nhttp: {port: 0}\nhealth: {enabled: false}\n"
                                   "logging: {level: warning}\nsources: []\n")
    plugins = Plugins()
    plugins.load()
    hub = Hub(load_config(work / "hub.yaml", plugins), plugins)
    await hub.start()
    try:
        rts = areas(cameras // 2)
        made: dict[str, Camera] = {}
        for n in range(cameras):
            rt = rts[(n // 2) % len(rts)]
            tags, site = [], None
            if n < 1000:  # 100 schools, 10 classrooms each
                site, tags = f"sch-{n // 10:03d}", [f"classroom:{7 + (n % 10) // 4}{'ABCD'[n % 4]}"]
            cam = Camera(id=f"demo:C{n:05d}:1", device_id=f"demo:C{n:05d}", channel=1, name=f"Kamera {n}",
                         area=rt, site=site, tags=tags,
                         streams=[Stream(role=StreamRole.MAIN, codec="h264", width=1920, height=1080)])
            made[cam.id] = cam
        hub.inventory.cameras.update(made)
        hub.inventory.version += 1

        shared_hash = hash_password("Sandi-Bench-Akses-2026")
        heads = min(len(rts), int(users * 0.7))
        parents = min(users - heads - 100, 1000 * 3)
        watchers = users - heads - parents - 1
        people = [ImportedUser(f"rt.{i:05d}", f"Ketua RT {i}", Role.AREA_HEAD, [f"area:{rts[i]}"], None)
                  for i in range(heads)]
        people += [ImportedUser(f"ortu.{i:05d}", f"Orang tua {i}", Role.PARENT, [], None) for i in range(parents)]
        people += [ImportedUser(f"fkdm.{i:05d}", f"FKDM {i}", Role.WATCH,
                                [f"area:{rts[i * 40].rsplit('/', 2)[0]}"], None) for i in range(watchers)]
        people.append(ImportedUser("kominfo", "Admin Diskominfo", Role.ADMIN, [], None))
        await hub.store.users.import_users(people, {p.username: shared_hash for p in people})
        until = datetime.now(UTC) + timedelta(days=200)
        for i in range(parents):
            room = made[f"demo:C{(i % 1000):05d}:1"]
            await hub.store.grants.add(f"user:ortu.{i:05d}", [Action.VIEW_LIVE],
                                       [f"site:{room.site}&tag:{room.tags[0]}"], created_by="bench",
                                       hours="mon-sun 00:00-23:59", time_zone="Asia/Jakarta", valid_until=until)
        await hub.grants.refresh()
        print(f"{len(hub.inventory.cameras)} cameras in {len(rts)} RTs, {len(people)} users, "
              f"{parents} parents' grants", flush=True)

        base = f"http://127.0.0.1:{hub.port}"
        clients = {}
        for who in ("rt.00123", "ortu.00042", "kominfo"):
            client = httpx.AsyncClient(base_url=base, timeout=30)
            signed = await client.post("/api/v1/session", json={"username": who,
                                                                "password": "Sandi-Bench-Akses-2026"})
            assert signed.status_code == 200, signed.text
            clients[who] = client
        expected = {
            "rt.00123": [c.id for c in made.values() if c.area == rts[123]],
            "ortu.00042": [c.id for c in made.values()
                           if c.site == made["demo:C00042:1"].site and c.tags == made["demo:C00042:1"].tags],
            "kominfo": list(hub.inventory.cameras)[:500],
        }
        worst = 0.0
        for who, client in clients.items():
            times = []
            for i in range(requests + 10):
                began = time.perf_counter()
                answer = await client.get("/api/v1/cameras")
                spent = time.perf_counter() - began
                if i >= 10:  # warm-up
                    times.append(spent)
                got = [c["id"] for c in answer.json()]
                if got != expected[who]:
                    raise SystemExit(f"{who} saw {len(got)} cameras, the rules give {len(expected[who])}: the run "
                                     "measured the wrong work")
            p50, p99 = percentiles(times)
            worst = max(worst, p99)
            print(f"GET /api/v1/cameras as {who} ({len(expected[who])} cameras): p50 {p50:.2f} ms, p99 {p99:.2f} ms",
                  flush=True)

        session = clients["rt.00123"].cookies.get("pantau_session")
        assert hub.server is not None
        scope = {"app": hub.server.config.app, "method": "GET", "client": ("127.0.0.1", 1)}
        headers = {"cookie": f"pantau_session={session}"}
        camera = made[expected["rt.00123"][0]]
        checks = []
        for i in range(requests * 10 + 100):
            began = time.perf_counter()
            who = await authenticate(scope, headers)
            verdict = await hub.policy.evaluate(who, Action.VIEW_LIVE, camera)
            spent = time.perf_counter() - began
            if not verdict.allowed:
                raise SystemExit("the RT head was refused their own camera: the run measured the wrong work")
            if i >= 100:
                checks.append(spent)
        p50, p99 = percentiles(checks)
        print(f"live segment authorization (session + policy): p50 {p50:.3f} ms, p99 {p99:.3f} ms", flush=True)
        for client in clients.values():
            await client.aclose()
        print(f"p99 visible cameras: {worst:.2f} ms")
        print(f"p99 segment check: {p99:.3f} ms")
    finally:
        await hub.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=14_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.cameras, args.users, args.requests))
