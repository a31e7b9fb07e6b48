"""Two hub nodes on one PostgreSQL (a private server of the test's own): the cameras shared out, each
recorded by exactly one node; a node killed with SIGKILL, and the other records all of its cameras
within 15 s, with no segment of two owners overlapping; placement keeps a device's cameras together."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg

from hub.cluster import BOUND, place
from hub.testing.waiting import waited

NODE = """\
version: 1
hub: {{name: Kota Uji}}
logging: {{level: info, format: json}}
database: {{url: "{url}"}}
cluster: {{enabled: true, node: {node}, lease_seconds: 3}}
recording:
  default: {{mode: continuous, segment_seconds: 2, retain_days: 1}}
sources:
{sources}"""
SOURCE = """\
  - type: demo
    name: nvr-{n}
    cameras: [{{name: Simpang {n}A}}, {{name: Simpang {n}B}}]
    width: 320
    height: 180
    sub_width: 160
    sub_height: 90
    fps: 5
    keyframe_seconds: 1
"""


def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_placement_keeps_devices_whole_weighs_capacity_and_bounds_the_load() -> None:
    devices = {f"nvr-{i}": 4 for i in range(60)}
    placed = place(devices, {"a": 1.0, "b": 1.0, "c": 2.0})
    load = {n: sum(devices[d] for d, p in placed.items() if p == n) for n in "abc"}
    assert sum(load.values()) == 240 and load["c"] > load["a"] and load["c"] > load["b"], load
    assert max(load["a"], load["b"]) <= BOUND * 60 + 4 and load["c"] <= BOUND * 120 + 4, load
    again = place(devices, {"a": 1.0, "b": 1.0, "c": 2.0})
    assert again == placed, "the same nodes place the same way"
    without_c = place(devices, {"a": 1.0, "b": 1.0})
    kept = sum(1 for d, p in placed.items() if p != "c" and without_c[d] == p)
    assert kept >= 0.8 * sum(1 for p in placed.values() if p != "c"), "a node leaving moves little else"


def test_two_nodes_share_the_cameras_and_one_takes_over_when_the_other_is_killed(hub_factory, postgres) -> None:  # noqa: ANN001
    url = postgres.create_database()
    sources = "".join(SOURCE.format(n=n) for n in range(1, 4))
    a = hub_factory(NODE.format(url=url, node="node-a", sources=sources))
    b = hub_factory(NODE.format(url=url, node="node-b", sources=sources))
    pg = url.replace("postgresql+asyncpg://", "postgresql://")

    owners = waited(lambda: (rows := query(pg, "SELECT camera_id, node FROM cluster_owners")) and len(rows) == 6
                   and {r["node"] for r in rows} == {"node-a", "node-b"} and rows, 30, "both nodes own cameras")
    by_device: dict[str, set[str]] = {}
    for row in owners:
        by_device.setdefault(row["camera_id"].rsplit(":", 1)[0], set()).add(row["node"])
    assert all(len(nodes) == 1 for nodes in by_device.values()), f"an NVR's cameras stay together: {by_device}"
    settled = query(pg, "SELECT now() AS t")[0]["t"]

    def recorded_since(moment: Any) -> dict[str, set[str]]:
        rows = query(pg, 'SELECT camera_id, node FROM segments WHERE start > $1', moment)
        out: dict[str, set[str]] = {}
        for row in rows:
            out.setdefault(row["camera_id"], set()).add(row["node"])
        return out

    written = waited(lambda: len(found := recorded_since(settled)) == 6 and found, 40, "every camera records")
    owner = {r["camera_id"]: r["node"] for r in owners}
    assert all(nodes == {owner[camera]} for camera, nodes in written.items()), \
        f"every camera is recorded by exactly one node, its owner: {written} {owner}"

    a_had = {camera for camera, node in owner.items() if node == "node-a"}
    a.kill()
    killed = time.monotonic()
    killed_at = query(pg, "SELECT now() AS t")[0]["t"]
    waited(lambda: a_had <= {c for c, nodes in recorded_since(killed_at).items() if "node-b" in nodes}, 15,
          "node-b records every camera of node-a within 15 s of its death")
    took = time.monotonic() - killed
    overlaps = query(pg, "SELECT count(*) AS n FROM segments x JOIN segments y ON x.camera_id = y.camera_id "
                         "AND x.node <> y.node AND x.start < y.end AND y.start < x.end")[0]["n"]
    assert overlaps == 0, "no two owners' segments of one camera overlap"
    status = json.loads(b.pantau("cluster", "status", "--json", "-c", str(b.config),
                                 "--data-dir", str(b.data_dir)).stdout)
    nodes = {n["name"]: n for n in status["nodes"]}
    assert not nodes["node-a"]["alive"] and nodes["node-b"]["alive"] and nodes["node-b"]["cameras"] == 6
    assert sum(1 for m in status["moves_last_hour"] if m["reason"] == "dead") == len(a_had)
    print(f"takeover of {len(a_had)} cameras: {took:.1f} s")
