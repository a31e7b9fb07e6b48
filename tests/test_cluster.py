"""Two hub nodes on one PostgreSQL (a private server of the test's own): the cameras shared out, each
recorded by exactly one node; a node killed with SIGKILL, and the other records all of its cameras
within 15 s, with no segment of two owners overlapping; placement keeps a device's cameras together."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from hub.cluster import BOUND, place
from hub.testing.hubproc import HubProcess
from hub.testing.waiting import waited
from tests.test_live import watch

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
    motion_every: 3
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


def test_two_nodes_share_the_cameras_serve_each_others_live_views_and_hand_cameras_over(  # noqa: PLR0915
        hub_factory, postgres, mosquitto) -> None:  # noqa: ANN001
    """One run of two nodes, in the order a city meets them: the cameras shared out and each recorded
    by its owner; a live view and a snapshot asked of the node that does not own the camera, played
    through its owner with one upstream session; every event reaching MQTT once; a node killed and
    its cameras recorded by the other within 15 s with no overlap; the node back, its cameras
    handed back, then drained: each hand-over without a gap longer than a segment."""
    url = postgres.create_database()
    sources = "".join(SOURCE.format(n=n) for n in range(1, 4))
    notifier = (f"notifiers:\n  - {{type: mqtt, name: broker, host: 127.0.0.1, port: {mosquitto.port}, "
                "retry_max_seconds: 1, ha_discovery: false}\n")
    subscriber = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(mosquitto.port), "-q", "1",
                                   "-t", "pantau/+/event", "-i", "city-dashboard", "-c"],
                                  stdout=subprocess.PIPE, text=True)
    heard: list[str] = []
    threading.Thread(target=lambda: heard.extend(iter(subscriber.stdout.readline, "")), daemon=True).start()
    a = hub_factory(NODE.format(url=url, node="node-a", sources=sources) + notifier)
    # nvr-9 is node-b's alone (a source of its own, as an edge's link that reached it): the assigner, node-a,
    # cannot place it, so node-b takes it.
    b = hub_factory(NODE.format(url=url, node="node-b", sources=sources + SOURCE.format(n=9)) + notifier)
    pg = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        owners = waited(lambda: settled_owners(pg, 8), 40, "both nodes own cameras, and no hand-over is under way")
        by_device: dict[str, set[str]] = {}
        for row in owners:
            by_device.setdefault(row["camera_id"].rsplit(":", 1)[0], set()).add(row["node"])
        assert all(len(nodes) == 1 for nodes in by_device.values()), f"an NVR's cameras stay together: {by_device}"
        owner = {r["camera_id"]: r["node"] for r in owners}
        own = [r["camera_id"] for r in query(pg, "SELECT camera_id FROM cluster_moves WHERE reason LIKE 'unplaced%'")]
        assert len(own) == 2 and all(owner[c] == "node-b" for c in own), "node-b took the cameras only it has"
        settled = query(pg, "SELECT now() AS t")[0]["t"]
        written = waited(lambda: len(found := recorded_since(pg, settled)) == 8 and found, 40, "every camera records")
        assert all(nodes == {owner[camera]} for camera, nodes in written.items()), \
            f"every camera is recorded by exactly one node, its owner: {written} {owner}"

        served_by_its_owner(a, b, next(c for c, n in owner.items() if n == "node-a"), own)
        figures = [metrics(node) for node in (a, b)]
        assert [f["pantau_cameras"] for f in figures] == [6, 8]
        assert sum(f["pantau_cameras_owned"] for f in figures) == 8 and all(f["pantau_cameras_owned"] for f in figures)

        waited(lambda: len(mqtt_events(heard)) >= 6, 30, "motion and health events reach MQTT")
        delivered = delivered_events(pg)
        seen = Counter(mqtt_events(heard))
        assert delivered and set(delivered) <= set(seen), "every delivered outbox row reached MQTT"
        assert all(seen[event] == 1 for event in delivered), \
            f"with two nodes running each row went out once: {[e for e in delivered if seen[e] != 1]}"

        a_had = {camera for camera, node in owner.items() if node == "node-a"}
        asking_b = b.client()
        a.kill()
        killed = time.monotonic()
        with asking_b:  # within the dead node's lease (2 s of it at least): it is named, not waited on
            graph = asking_b.get("/api/v1/streams")
        assert graph.status_code == 200 and graph.headers.get("Pantau-Unanswered-Nodes") == "node-a"
        assert graph.json() and {n["hub_node"] for n in graph.json()} == {"node-b"}
        killed_at = query(pg, "SELECT now() AS t")[0]["t"]
        waited(lambda: a_had <= {c for c, nodes in recorded_since(pg, killed_at).items() if "node-b" in nodes}, 15,
               "node-b records every camera of node-a within 15 s of its death")
        took = time.monotonic() - killed
        overlaps = query(pg, "SELECT count(*) AS n FROM segments x JOIN segments y ON x.camera_id = y.camera_id "
                             "AND x.node <> y.node AND x.start < y.end AND y.start < x.end "
                             "WHERE x.start > $1 AND y.start > $1", settled)[0]["n"]
        assert overlaps == 0, "no two owners' segments of one camera overlap after a failover"
        status = json.loads(b.pantau("cluster", "status", "--json", "-c", str(b.config),
                                     "--data-dir", str(b.data_dir)).stdout)
        nodes = {n["name"]: n for n in status["nodes"]}
        assert not nodes["node-a"]["alive"] and nodes["node-b"]["alive"] and nodes["node-b"]["cameras"] == 8
        after = [m for m in status["moves_last_hour"] if m["camera_id"] in a_had and m["from_node"] == "node-a"
                 and m["reason"] in ("dead", "handover") and datetime.fromisoformat(m["at"]) > killed_at]
        assert {m["camera_id"] for m in after} == a_had, "each camera of the dead node moved (or its hand-over ended)"
        assert all("peer_key" not in n for n in status["nodes"]), "a node's key is not shown"
        print(f"takeover of {len(a_had)} cameras: {took:.1f} s")
        waited(lambda: not undelivered(pg), 20, "what node-a kept and had not delivered goes out from node-b")

        back_at = query(pg, "SELECT now() AS t")[0]["t"]
        a.start()  # recovered: its cameras go back to it, made before broken
        waited(lambda: {r["node"] for r in query(pg, "SELECT node FROM cluster_owners")} == {"node-a", "node-b"},
               30, "a recovered node gets cameras back")
        time.sleep(3)
        drain_at = query(pg, "SELECT now() AS t")[0]["t"]
        b.pantau("cluster", "drain", "node-a", "-c", str(b.config), "--data-dir", str(b.data_dir))
        waited(lambda: {r["node"] for r in query(pg, "SELECT node FROM cluster_owners")} == {"node-b"}, 30,
               "a drained node hands every camera over")
        time.sleep(3)  # a segment or so after the last hand-over
        handed = {m["camera_id"] for m in query(pg, "SELECT camera_id FROM cluster_moves WHERE reason = "
                                                     "'handover' AND at > $1", back_at)}
        assert len(handed) >= 2, "the cameras went back and forth by hand-over"
        gaps = {camera: longest_gap(pg, camera, back_at) for camera in handed}
        assert max(gaps.values()) <= 2.0, f"no hand-over left a gap longer than one 2-s segment: {gaps}"
        print(f"drain: {len(handed)} cameras handed over, longest gap {max(gaps.values()):.2f} s "
              f"(since {drain_at:%H:%M:%S})")
        assert undelivered(pg) == 0
    finally:
        subscriber.kill()


def settled_owners(pg: str, cameras: int) -> list[asyncpg.Record] | None:
    """The owners, once every camera has one on either node and they stayed so for two seconds with no
    hand-over announced (a device's cameras are handed over one by one as each one's stream opens)."""
    sql = "SELECT camera_id, node, next_node FROM cluster_owners ORDER BY camera_id"
    first = query(pg, sql)
    time.sleep(2)
    rows = query(pg, sql)
    steady = [tuple(r) for r in rows] == [tuple(r) for r in first]
    if steady and len(rows) == cameras and {r["node"] for r in rows} == {"node-a", "node-b"} and \
            all(r["next_node"] is None for r in rows):
        return rows
    return None


def recorded_since(pg: str, moment: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in query(pg, "SELECT camera_id, node FROM segments WHERE start > $1", moment):
        out.setdefault(row["camera_id"], set()).add(row["node"])
    return out


def longest_gap(pg: str, camera_id: str, since: Any) -> float:
    """The longest time after ``since`` the camera's segments (any node's) do not cover, in seconds."""
    rows = query(pg, "SELECT start, \"end\" FROM segments WHERE camera_id = $1 AND start > $2 ORDER BY start",
                 camera_id, since)
    covered, longest = rows[0]["end"], 0.0
    for row in rows[1:]:
        longest = max(longest, (row["start"] - covered).total_seconds())
        covered = max(covered, row["end"])
    return longest


def served_by_its_owner(owner: HubProcess, other: HubProcess, camera_id: str, others: list[str]) -> None:
    """A live view and a snapshot of ``owner``'s camera asked of ``other``: they play, and only the owner
    holds a stream of the camera (the stream graph, asked of ``other``, says so, and lists ``others``,
    cameras ``other`` owns, as well)."""
    with httpx.Client(base_url=other.url, headers={"Authorization": f"Bearer {owner.token()}"},
                      timeout=30) as client:
        snap = client.get(f"/api/v1/cameras/{camera_id}/snapshot")
        assert snap.status_code == 200 and snap.content[:2] == b"\xff\xd8", snap.text[:200]
        view, frames = watch(client, camera_id)
        assert view["viewer"].startswith("node-a~"), "the view is held by the camera's owner"
        assert frames > 0, "the live view asked of the other node plays"
        forged = client.get(f"/api/v1/cameras/{camera_id}/snapshot", headers={"X-Pantau-Peer": "node-a not-its-key"})
        assert forged.status_code == 421, "a caller cannot pass for a node (and make this one open the stream)"
        graph = client.get("/api/v1/streams").json()  # every node's, asked of either
        held_by = {n["hub_node"] for n in graph if n["camera_id"] == camera_id}
        assert held_by == {"node-a"}, "the camera's streams are its owner's alone, listed by the other node"
        relays = [(n["camera_id"], n["stream_role"]) for n in graph if n["kind"] == "relay"]
        assert {c for c, _ in relays} >= set(others) and len(relays) == len(set(relays)), \
            "the other node's own cameras are in the graph too, and each camera's stream is held once"
        assert client.delete(f"/api/v1/live/{view['viewer']}").status_code == 204
    with owner.client() as client:
        relays = [n for n in client.get("/api/v1/streams").json()
                  if n.get("camera_id") == camera_id and n["id"].startswith("relay:")]
        assert relays and all(n["stats"]["packets"] > 0 for n in relays), \
            "its owner holds the camera's streams, receiving (what both nodes' viewers played)"


def metrics(hub: HubProcess) -> dict[str, float]:
    text = httpx.get(hub.url + "/metrics").text
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if not s.labels}


def mqtt_events(heard: list[str]) -> list[str]:
    """The ids of the events MQTT carried (each line a JSON event: mosquitto_sub without -v)."""
    return [json.loads(line)["id"] for line in list(heard) if line.startswith("{")]


def delivered_events(pg: str) -> list[str]:
    return [r["event_id"] for r in query(pg, "SELECT event_id FROM outbox WHERE notifier = 'broker' "
                                             "AND state = 'delivered'")]


def undelivered(pg: str) -> int:
    return int(query(pg, "SELECT count(*) AS n FROM outbox WHERE notifier = 'broker' AND state = 'pending' "
                         "AND created_at < now() - interval '5 seconds'")[0]["n"])
