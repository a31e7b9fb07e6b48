"""Benchmark: three hub nodes on one PostgreSQL, one killed, one paused, the database restarted.

    python bench/failover.py [--cameras 60] [--nodes 3] [--lease 5] [--segment 4]

A GStreamer RTSP server (this project's test camera: one encode shared by
every client) serves a small H.264 stream, recorded as ``--cameras`` cameras
(one RTSP source each) by ``--nodes`` real hubs (``pantau run``, each with its
own local storage) sharing a PostgreSQL of the bench's own; three demo NVRs
add motion events for the outbox, delivered to a Mosquitto of its own and
heard by a QoS 1 subscriber (``mosquitto_sub``).  Everything below is read
from PostgreSQL (the segment index, owners and moves), not from the nodes.

Once the cameras have spread and every one records:

1. PostgreSQL is restarted (``pg_ctl restart -m fast``, every session cut):
   no camera may move, and every camera records again afterwards.
2. The node owning the most cameras is killed with SIGKILL.  For each of its
   cameras: the seconds from the kill (the database's clock) to the start of
   its first segment from another node, and the longest time its recording
   does not cover.  Overlaps: pairs of segments of one camera from two nodes
   that overlap in time (after the start's hand-overs).
3. Another node is stopped with SIGSTOP for three leases and more, then
   continued: its cameras must be recorded by another node meanwhile (a
   stopped assigner is unseated), it must give them up within 2 s of waking
   (its log says when), and nothing of the epochs it held may be indexed more
   than 2 s after it woke.

At the end the outbox has drained and the bench compares what MQTT carried
with the rows delivered: rows delivered twice (a node killed between a
delivery and its record repeats it: at least once, with the event id as the
idempotency key) and rows lost.  The last lines are ``takeover p100: X s``,
``overlaps: N`` and ``cameras without a new segment: N``.  Targets: under
15 s, 0, 0.  Needs Debian's PostgreSQL, GStreamer RTSP server, Mosquitto and
mosquitto-clients (``make install`` as root installs them).  Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.cluster import APPLICATION  # noqa: E402
from hub.store.database import AdvisoryLock  # noqa: E402
from hub.testing.hubproc import HubProcess  # noqa: E402
from hub.testing.mqtt import MosquittoServer  # noqa: E402
from hub.testing.postgres import PostgresServer  # noqa: E402
from hub.testing.rtsp import RtspServer  # noqa: E402

DEMO = """\
  - type: demo
    name: nvr-{n}
    cameras: [{{name: Simpang {n}A}}, {{name: Simpang {n}B}}]
    width: 160
    height: 90
    sub_width: 160
    sub_height: 90
    fps: 5
    keyframe_seconds: 1
    motion_every: 2
"""


def config(url: str, node: str, lease: float, segment: int, rtsp: str, cameras: int, mqtt: int) -> str:
    sources = "".join(f"  - {{type: rtsp, name: cam-{i:03d}, url: '{rtsp}', device_id: bench-{i:03d}}}\n"
                      for i in range(cameras))
    sources += "".join(DEMO.format(n=n) for n in range(1, 4))
    return (f"version: 1\nhub: {{name: Kota Uji}}\nlogging: {{level: info, format: json}}\n"
            f"database: {{url: '{url}'}}\n"
            f"cluster: {{enabled: true, node: {node}, lease_seconds: {lease}, moves_per_round: 100}}\n"
            f"recording: {{default: {{mode: continuous, segment_seconds: {segment}, retain_days: 1}}}}\n"
            f"notifiers:\n  - {{type: mqtt, name: broker, host: 127.0.0.1, port: {mqtt}, retry_max_seconds: 1, "
            f"ha_discovery: false}}\n"
            f"sources:\n{sources}")


class Database:
    """Queries of the bench's own on PostgreSQL (a connection per query: it survives a restart)."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql+asyncpg://", "postgresql://")

    def query(self, sql: str, *args: Any) -> list[Any]:
        import asyncpg

        async def run() -> list[Any]:
            conn = await asyncpg.connect(self.url)
            try:
                return list(await conn.fetch(sql, *args))
            finally:
                await conn.close()

        for attempt in range(30):
            try:
                return asyncio.run(run())
            except (OSError, asyncpg.PostgresError):
                if attempt == 29:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def now(self) -> datetime:
        return self.query("SELECT now() AS t")[0]["t"]

    def owners(self) -> dict[str, str]:
        return {r["camera_id"]: r["node"] for r in self.query("SELECT camera_id, node FROM cluster_owners")}

    def handing_over(self) -> int:
        return int(self.query("SELECT count(*) AS n FROM cluster_owners WHERE next_node IS NOT NULL")[0]["n"])

    def moves(self) -> int:
        return int(self.query("SELECT count(*) AS n FROM cluster_moves")[0]["n"])

    def first_segment(self, since: datetime, not_node: str | None = None) -> dict[str, datetime]:
        """Each camera's first segment starting after ``since`` (from a node other than ``not_node``)."""
        rows = self.query("SELECT camera_id, min(start) AS s FROM segments WHERE start > $1 "
                          "AND ($2::text IS NULL OR node <> $2) GROUP BY camera_id", since, not_node)
        return {r["camera_id"]: r["s"] for r in rows}

    def longest_gap(self, camera_id: str, since: datetime) -> float:
        """The longest time the camera's indexed segments do not cover, from the end of its last segment
        before ``since`` (what a killed node had not finished is lost: it counts) to its latest one."""
        before = self.query('SELECT max("end") AS e FROM segments WHERE camera_id = $1 AND "end" <= $2',
                            camera_id, since)[0]["e"]
        rows = self.query('SELECT start, "end" FROM segments WHERE camera_id = $1 AND "end" > $2 ORDER BY start',
                          camera_id, since)
        if not rows or before is None:
            return float("inf")
        covered, longest = before, 0.0
        for row in rows:
            longest = max(longest, (row["start"] - covered).total_seconds())
            covered = max(covered, row["end"])
        return longest

    def overlaps(self, since: datetime) -> int:
        return int(self.query(
            "SELECT count(*) AS n FROM segments x JOIN segments y ON x.camera_id = y.camera_id "
            'AND x.node < y.node AND x.start < y."end" AND y.start < x."end" '
            "WHERE x.start > $1 AND y.start > $1", since)[0]["n"])


def wait(what: str, predicate: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.5)
    raise SystemExit(f"gave up after {seconds:g} s waiting for {what}")


def database_load(db: Database, cameras: int, segment: int, nodes: int, seconds: float = 30.0) -> None:
    """What the cluster asks of PostgreSQL while it records: commits and rows written per second
    (``pg_stat_database``, the bench's own queries left out), per 1,000 cameras, and at 10-s segments."""
    def sample() -> tuple[float, Any, int]:
        row = db.query("SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database "
                       "WHERE datname = current_database()")[0]
        segments = int(db.query("SELECT count(*) AS n FROM segments")[0]["n"])
        return time.monotonic(), row, segments

    began, first, segs0 = sample()
    time.sleep(seconds)
    ended, last, segs1 = sample()
    span = ended - began
    rate = {k: (last[k] - first[k]) / span for k in ("xact_commit", "tup_inserted", "tup_updated", "tup_deleted")}
    per = 1000 / cameras
    indexed = (segs1 - segs0) / span
    print(f"PostgreSQL while recording ({cameras} cameras, {nodes} nodes, {segment}-s segments, {span:.0f} s): "
          f"{rate['xact_commit']:.1f} commits/s, {rate['tup_inserted']:.1f} rows inserted/s, "
          f"{rate['tup_updated']:.1f} updated/s, {indexed:.1f} segments indexed/s")
    print(f"  per 1,000 cameras: {rate['xact_commit'] * per:.0f} commits/s, "
          f"{rate['tup_inserted'] * per:.0f} inserted/s, {rate['tup_updated'] * per:.0f} updated/s, "
          f"{indexed * per:.0f} segments indexed/s ({indexed * per * segment / 10:.0f}/s at 10-s segments)")


def log_time(hub: HubProcess, message: str, after: float) -> float | None:
    """The wall-clock time of the node's first log record saying ``message`` after ``after``."""
    for record in hub.log_records():
        if record.get("message") == message and "time" in record:
            at = datetime.fromisoformat(record["time"]).timestamp()
            if at >= after:
                return at
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", type=int, default=60)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--lease", type=float, default=5.0, help="lease seconds of every node")
    parser.add_argument("--segment", type=int, default=4, help="segment seconds")
    parser.add_argument("--keep", action="store_true", help="keep the nodes' folders (hub.yaml, log, data)")
    args = parser.parse_args()
    for tool in ("mosquitto_sub", "mosquitto"):
        if shutil.which(tool) is None and not Path("/usr/sbin/mosquitto").exists():
            raise SystemExit(f"{tool} is missing: make install (as root) installs Debian's mosquitto packages")

    work = Path(tempfile.mkdtemp(prefix="pantau-failover-"))
    pg, camera, broker = PostgresServer().start(), RtspServer(320, 180, fps=10, keyint=10, kbits=200).start(), \
        MosquittoServer().start()
    heard: list[str] = []
    listener = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t",
                                 "pantau/+/event", "-i", "bench-dashboard", "-c"], stdout=subprocess.PIPE, text=True)
    threading.Thread(target=lambda: heard.extend(iter(listener.stdout.readline, "")),  # type: ignore[union-attr]
                     daemon=True).start()
    nodes: dict[str, HubProcess] = {}
    try:
        url = pg.create_database()
        db = Database(url)
        total = args.cameras + 6
        for i in range(args.nodes):
            name = f"node-{chr(ord('a') + i)}"
            (work / name).mkdir()
            nodes[name] = HubProcess(config(url, name, args.lease, args.segment, camera.url(with_credentials=False),
                                            args.cameras, broker.port), work / name)
            nodes[name].start(timeout=90)
        print(f"{args.nodes} nodes, {args.cameras} RTSP cameras and 6 demo ones, lease {args.lease:g} s, "
              f"segments of {args.segment} s")

        try:
            wait("every camera owned, spread over every node, no hand-over under way",
                 lambda: len(o := db.owners()) == total and len(set(o.values())) == args.nodes
                 and not db.handing_over(), 120)
        except SystemExit:
            alive = db.query("SELECT name, lease_until > now() AS alive FROM cluster_nodes")
            print(f"owned: {Counter(db.owners().values())}, handing over: {db.handing_over()}, "
                  f"nodes: {[dict(r) for r in alive]}")
            raise
        settled = db.now()
        wait("every camera recording", lambda: len(db.first_segment(settled)) == total, 60)
        per_node = Counter(db.owners().values())
        print("cameras per node: " + ", ".join(f"{n} {c}" for n, c in sorted(per_node.items())))
        database_load(db, total, args.segment, args.nodes)

        # 1. The database restarts: no camera moves, every camera records again.
        before = db.moves()
        down = pg.restart()
        restarted = db.now()
        time.sleep(3 * args.lease)
        recording_again = len(db.first_segment(restarted))
        moved_by_restart = db.moves() - before
        print(f"PostgreSQL restart ({down:.1f} s): cameras moved {moved_by_restart}, "
              f"recording again {recording_again}/{total}")

        # 2. kill -9 the node with the most cameras.
        victim = max(per_node, key=lambda n: (per_node[n], n))
        had = {c for c, n in db.owners().items() if n == victim}
        nodes[victim].kill()
        killed = db.now()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not had <= db.first_segment(killed, victim).keys():
            time.sleep(0.5)
        firsts = db.first_segment(killed, victim)
        without = sorted(had - firsts.keys())
        takeover = sorted((firsts[c] - killed).total_seconds() for c in had if c in firsts)
        time.sleep(args.segment + 1)
        gaps = sorted(db.longest_gap(c, killed) for c in had)
        overlaps = db.overlaps(settled)
        print(f"kill -9 {victim} ({len(had)} cameras): takeover p50 {takeover[len(takeover) // 2]:.1f} s, "
              f"p100 {takeover[-1]:.1f} s; longest gap p50 {gaps[len(gaps) // 2]:.1f} s, max {gaps[-1]:.1f} s")

        # 3. SIGSTOP another node for more than two leases, then SIGCONT.
        # The assigner, the harder case: the others must unseat it (its lock lives on while it is stopped).
        holder = db.query("SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a "
                          "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                          "AND ((l.classid::bigint << 32) | l.objid::bigint) = $1", int(AdvisoryLock.ASSIGNER))
        living = {n: c for n, c in Counter(db.owners().values()).items() if n != victim}
        assigner = holder[0]["name"].removeprefix(APPLICATION) if holder else None
        paused = assigner if assigner in living else max(living, key=lambda n: (living[n], n))
        paused_had = {c for c, n in db.owners().items() if n == paused}
        was_assigner = paused == assigner
        nodes[paused].proc.send_signal(signal.SIGSTOP)  # type: ignore[union-attr]
        stopped = db.now()
        time.sleep(3 * args.lease + 3)
        taken_in_pause = set(db.first_segment(stopped, paused))
        woke = time.time()
        nodes[paused].proc.send_signal(signal.SIGCONT)  # type: ignore[union-attr]
        time.sleep(2)
        indexed_by_then = int(db.query("SELECT coalesce(max(id), 0) AS n FROM segments")[0]["n"])
        time.sleep(args.segment)
        gave_up = log_time(nodes[paused], "lease lapsed; giving up every camera until the cluster says again", woke)
        # Segments of the epochs it held before the pause, indexed more than 2 s after it woke (ids go up).
        late = int(db.query("SELECT count(*) AS n FROM segments s JOIN cluster_moves m ON m.camera_id = s.camera_id "
                            "AND m.from_node = $1 AND m.epoch = s.epoch + 1 AND m.at > $2 "
                            "WHERE s.node = $1 AND s.id > $3", paused, stopped, indexed_by_then)[0]["n"])
        print(f"SIGSTOP {paused}{' (the assigner)' if was_assigner else ''} ({len(paused_had)} cameras) "
              f"for {3 * args.lease + 3:g} s: "
              f"gave them up {'%.2f s' % (gave_up - woke) if gave_up else 'never'} after waking; "
              f"segments of its old epochs indexed more than 2 s after waking: {late}; "
              f"recorded by another node while it was stopped: {len(paused_had & taken_in_pause)}/{len(paused_had)}")

        # The outbox drains; what MQTT carried against the rows delivered.
        wait("the outbox to drain", lambda: not db.query(
            "SELECT 1 FROM outbox WHERE notifier = 'broker' AND state = 'pending' LIMIT 1"), 60)
        time.sleep(1)
        delivered = {r["event_id"] for r in db.query(
            "SELECT event_id FROM outbox WHERE notifier = 'broker' AND state = 'delivered'")}
        seen = Counter(json.loads(line)["id"] for line in list(heard) if line.startswith("{"))
        twice = sum(1 for e in delivered if seen[e] > 1)
        lost = sum(1 for e in delivered if seen[e] == 0)
        print(f"outbox rows delivered: {len(delivered)}; delivered twice: {twice}; lost: {lost}")

        problems = []
        if moved_by_restart or recording_again < total:
            problems.append("the database restart moved cameras or stopped recording")
        if gave_up is None or gave_up - woke > 2 or late:
            problems.append("the paused node was not fenced within 2 s")
        if not paused_had <= taken_in_pause:
            problems.append("the paused node's cameras were not taken over while it was stopped")
        if lost or not delivered:
            problems.append("outbox rows did not reach MQTT")
        print(f"takeover p100: {takeover[-1] if takeover else float('inf'):.1f} s")
        print(f"overlaps: {overlaps}")
        print(f"cameras without a new segment: {len(without)}")
        if problems or without or overlaps or not takeover or takeover[-1] >= 15:
            raise SystemExit("targets missed: " + "; ".join(problems or ["takeover, overlaps or cameras left"]))
    finally:
        if args.keep and "db" in locals():  # what the database held, beside the nodes' folders
            tables = {t: [{k: str(v) for k, v in dict(r).items()} for r in db.query(f"SELECT * FROM {t}")]
                      for t in ("cluster_owners", "cluster_moves", "cluster_nodes")}
            tables["segments"] = [{k: str(v) for k, v in dict(r).items()} for r in db.query(
                'SELECT camera_id, start, "end", node, epoch, storage_key FROM segments ORDER BY camera_id, start')]
            (work / "database.json").write_text(json.dumps(tables, indent=1))
        listener.kill()
        for hub in nodes.values():
            if hub.proc is not None and hub.proc.poll() is None:
                hub.proc.send_signal(signal.SIGCONT)
            hub.kill()
        broker.stop()
        camera.stop()
        pg.stop()
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
