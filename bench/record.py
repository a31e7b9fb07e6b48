"""Benchmark: recording N RTSP streams with the hub against N ``ffmpeg -c copy -f segment``.

    python bench/record.py --streams 8 --seconds 60 [--size 1920x1080 --fps 25 --kbits 4000]

One GStreamer RTSP server (this project's test camera, shared pipeline: one
encode however many clients) serves an H.264 stream.  A real hub
(``pantau run``, local storage, 10 s fragmented-MP4 segments) records it as
N cameras (N RTSP sessions), and at the same time N ffmpeg processes record
it the way Frigate does (``-c copy -f segment``, 10 s segments).  Both run
side by side through the same window, so the machine's noise falls on both.

CPU is user + system time from ``/proc`` over the window after a warm-up,
as seconds per stream-hour and as a share of one core per stream.  Memory
is resident set size: for ffmpeg per process; for the hub the whole
process, and per stream above an idle hub (same config, no cameras)
measured first.  Snapshot cost is one keyframe decoded and encoded as JPEG
(the hub's ``KeyframeSnapshots``), timed here in-process.

The hub runs with its defaults, stream health and health checks on
(``--health off`` for the figure without them).  After both sides stopped
cleanly the bench checks its own work: every segment the hub indexed is read
back (size, SHA-256, no key twice, each starting where the one before ended),
the frames and payload bytes of every stored segment of both sides are
demuxed and compared with the frames the hub's relays received, and it
prints ``bytes written hub/ffmpeg: X`` (bytes per second of video stored;
1.0 when both kept the same stream).  A hub camera that reconnected, or lost
or spoiled a segment, during the window fails the run.

Needs Debian's ``ffmpeg`` and GStreamer RTSP server (``make install`` as
root installs both).  The last lines are ``ratio hub/ffmpeg CPU per stream: X``
and ``hub RSS per stream: Y MB``.  Not a test: figures only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TICK = os.sysconf("SC_CLK_TCK")
SEGMENT_SECONDS = 10


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def hub_config(url: str, streams: int, data: Path, fsync: bool = True, health: bool = True) -> str:
    sources = "".join(f"  - {{type: rtsp, name: cam-{i:03d}, url: '{url}', device_id: bench-{i:03d}}}\n"
                      for i in range(streams))
    return (f"version: 1\nhub: {{data_dir: '{data}'}}\nlogging: {{level: warning}}\n"
            f"{'' if health else 'health: {enabled: false}' + chr(10)}"
            f"storage: {{type: local_storage, fsync: {'true' if fsync else 'false'}}}\n"
            f"recording: {{default: {{mode: continuous, segment_seconds: {SEGMENT_SECONDS}}}}}\n"
            f"sources:\n{sources if streams else '  []'}\n")


class BenchHub:
    """``pantau run`` on a config of its own, with an admin token to read its relays' figures."""

    def __init__(self, work: Path, url: str, streams: int, fsync: bool = True, health: bool = True) -> None:
        from hub.testing.net import free_port, wait_for_port

        work.mkdir(parents=True)
        self.data = work / "data"
        config = work / "hub.yaml"
        config.write_text(hub_config(url, streams, self.data, fsync, health))
        made = subprocess.run([sys.executable, "-m", "hub", "token", "create", "--role", "admin", "-c", str(config)],
                              cwd=work, capture_output=True, text=True, check=True)
        self.token = made.stdout.strip().splitlines()[-1]
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "-c", str(config), "--port", str(self.port)],
            cwd=work, stdout=subprocess.DEVNULL, stderr=(work / "hub.log").open("wb"))
        wait_for_port(self.port, timeout=60)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def relays(self) -> dict[str, dict[str, int]]:
        """Each camera's main relay: packets (frames) and payload bytes received, reconnects."""
        import httpx

        nodes = httpx.get(f"http://127.0.0.1:{self.port}/api/v1/streams", timeout=30,
                          headers={"Authorization": f"Bearer {self.token}"}).json()
        return {n["camera_id"]: {k: n["stats"][k] for k in ("packets", "bytes", "reconnects")}
                for n in nodes if n["kind"] == "relay" and n["stream_role"] == "main"}


def demuxed(paths: list[Path]) -> tuple[int, int, float]:
    """Frames, payload bytes and seconds of video in ``paths`` (one stream's segments, in order)."""
    import av

    frames = payload = 0
    seconds = 0.0
    for path in paths:
        with av.open(str(path)) as media:
            video = media.streams.video[0]
            first = last = None
            for packet in media.demux(video):
                if not packet.size:
                    continue
                frames += 1
                payload += packet.size
                if packet.pts is not None:
                    first = packet.pts if first is None else min(first, packet.pts)
                    last = packet.pts if last is None else max(last, packet.pts)
            if first is not None and last is not None and video.time_base is not None:
                seconds += float((last - first) * video.time_base) + 1 / float(video.average_rate or 25)
    return frames, payload, seconds


def check_index(data: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Every segment the hub indexed, read back: its files per camera, and what is wrong."""
    import asyncio
    import hashlib

    from hub.store import Store, database_url

    async def read() -> tuple[dict[str, list[Path]], list[str]]:
        store = Store(database_url(None, data))
        files: dict[str, list[Path]] = {}
        problems: list[str] = []
        keys: set[str] = set()
        try:
            for camera in await store.recordings.recorded_cameras():
                previous = None
                for segment in await store.recordings.segments(camera, limit=100_000):
                    found = await store.recordings.segment(segment.id)
                    assert found is not None
                    key = found[1]
                    path = data / "storage" / key
                    if key in keys:
                        problems.append(f"{camera}: key {key} indexed twice")
                    keys.add(key)
                    if not path.is_file():
                        problems.append(f"{camera}: {key} is indexed but gone")
                        continue
                    body = path.read_bytes()
                    if len(body) != segment.size or hashlib.sha256(body).hexdigest() != segment.sha256:
                        problems.append(f"{camera}: {key} is not what was indexed (size or SHA-256)")
                    if previous is not None:
                        gap = (segment.start - previous.end).total_seconds()
                        if gap < -0.01:
                            problems.append(f"{camera}: {key} overlaps the segment before by {-gap:.2f} s")
                        elif gap > 0.5:
                            problems.append(f"{camera}: {gap:.1f} s missing before {key}")
                    previous = segment
                    files.setdefault(camera, []).append(path)
        finally:
            await store.close()
        return files, problems

    return asyncio.run(read())


def start_ffmpeg(work: Path, url: str, index: int) -> subprocess.Popen[bytes]:
    out = work / f"ffmpeg-{index:03d}"
    out.mkdir(parents=True)
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
         "-c", "copy", "-f", "segment", "-segment_time", str(SEGMENT_SECONDS), "-reset_timestamps", "1",
         "-segment_format", "mp4", str(out / "%05d.mp4")],
        stdout=subprocess.DEVNULL, stderr=(out / "ffmpeg.log").open("wb"))


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def bytes_under(folder: Path, suffix: str) -> int:
    return sum(p.stat().st_size for p in folder.rglob(f"*{suffix}") if p.is_file())


def snapshot_cost(url: str, rounds: int = 20) -> float:
    """CPU milliseconds for one snapshot: a keyframe decoded and encoded as JPEG."""
    import av

    from hub.core.models import StreamRole
    from hub.core.streams import KeyframeSnapshots

    snaps = KeyframeSnapshots("bench", StreamRole.MAIN, cache_seconds=0)
    with av.open(url, options={"rtsp_transport": "tcp"}) as media:
        stream = media.streams.video[0]
        snaps.begin(stream)
        for packet in media.demux(stream):
            if packet.is_keyframe and packet.size:
                snaps.packet(packet, time.time())
                break
    snaps.jpeg()  # warm up the decoder and encoder code paths
    start = time.process_time()
    for _ in range(rounds):
        snaps._cached = None  # each round pays the decode and the encode
        assert snaps.jpeg() is not None
    return (time.process_time() - start) / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=8, help="Streams recorded by each side (N).")
    parser.add_argument("--seconds", type=float, default=60, help="Measured window, after the warm-up.")
    parser.add_argument("--warmup", type=float, default=15, help="Seconds before measuring.")
    parser.add_argument("--size", default="1920x1080", help="Picture size of the test camera.")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--no-fsync", dest="fsync", action="store_false",
                        help="Store segments without fsync (ffmpeg does not sync either; the hub does by default).")
    parser.add_argument("--kbits", type=int, default=4000, help="Video bit rate of the test camera.")
    parser.add_argument("--health", choices=("on", "off"), default="on",
                        help="The hub's stream health and health checks (on: the hub's default).")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is not installed (Debian: apt-get install ffmpeg; `make install` does as root)")

    from hub.testing.rtsp import RtspServer

    width, height = (int(v) for v in args.size.split("x"))
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-record-"))
    # Filler keeps the bit rate at --kbits, as a camera's CBR does, without the cost of encoding noise.
    camera = RtspServer(width, height, args.fps, keyint=args.fps * 2, kbits=args.kbits,
                        x264="nal-hrd=cbr:filler=1").start()
    url = camera.url("main")
    # GStreamer's RTSP server asserts (gst_rtsp_media_get_rates) when clients join a shared
    # media while its last client leaves; one client held throughout keeps the media up.
    anchor = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "quiet", "-rtsp_transport", "tcp", "-i", url,
                               "-c", "copy", "-f", "null", "-"], stdout=subprocess.DEVNULL)
    time.sleep(2)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        idle = BenchHub(work / "idle", url, 0)
        procs.append(idle.proc)
        time.sleep(5)
        idle_rss = rss_mb(idle.pid)
        stop([idle.proc])

        hub = BenchHub(work / "hub", url, args.streams, args.fsync, args.health == "on")
        ffmpegs = []
        for i in range(args.streams):
            ffmpegs.append(start_ffmpeg(work / "ffmpeg", url, i))
            time.sleep(0.1)
        procs = [hub.proc, *ffmpegs]
        time.sleep(args.warmup)
        relays0 = hub.relays()
        hub0 = cpu_seconds(hub.pid)
        ff0 = sum(cpu_seconds(p.pid) for p in ffmpegs)
        hub_bytes0 = bytes_under(work / "hub" / "data", ".mp4")
        ff_bytes0 = bytes_under(work / "ffmpeg", ".mp4")
        t0 = time.monotonic()
        time.sleep(args.seconds)
        wall = time.monotonic() - t0
        hub_cpu = cpu_seconds(hub.pid) - hub0
        ff_cpu = sum(cpu_seconds(p.pid) for p in ffmpegs) - ff0
        hub_rss = rss_mb(hub.pid)
        ff_rss = sum(rss_mb(p.pid) for p in ffmpegs) / len(ffmpegs)
        hub_bytes = bytes_under(work / "hub" / "data", ".mp4") - hub_bytes0
        ff_bytes = bytes_under(work / "ffmpeg", ".mp4") - ff_bytes0
        relays1 = hub.relays()
        if camera.proc is None or camera.proc.poll() is not None:
            reason = camera.proc.stderr.read()[-2000:] if camera.proc and camera.proc.stderr else ""
            sys.exit(f"the test camera (GStreamer RTSP server) died during the run: {reason}")
        dead = [p.args[0] for p in procs if p.poll() is not None]
        if dead:
            sys.exit(f"a recorder exited during the run: {dead}; see {work}")
    finally:
        stop([*procs, anchor])
        camera.stop()
    received = {cam: relays1[cam]["packets"] for cam in relays1}
    reconnected = sorted(cam for cam in relays1
                         if relays1[cam]["reconnects"] > relays0.get(cam, {}).get("reconnects", 0))
    hub_files, problems = check_index(hub.data)
    hub_frames = hub_payload = 0
    hub_seconds = 0.0
    short: list[str] = []
    for cam in sorted(received):
        frames, payload, seconds = demuxed(hub_files.get(cam, []))
        hub_frames, hub_payload, hub_seconds = hub_frames + frames, hub_payload + payload, hub_seconds + seconds
        # The recorder starts on the first keyframe (one GOP at most before it) and stops with the hub.
        if frames < received[cam] - 2 * args.fps * 2:
            short.append(f"{cam}: {frames} frames stored of {received[cam]} received")
    ff_frames = ff_payload = 0
    ff_seconds = 0.0
    for folder in sorted((work / "ffmpeg").iterdir()):
        frames, payload, seconds = demuxed(sorted(folder.glob("*.mp4")))
        ff_frames, ff_payload, ff_seconds = ff_frames + frames, ff_payload + payload, ff_seconds + seconds
    hub_written = sum(p.stat().st_size for paths in hub_files.values() for p in paths)
    ff_written = bytes_under(work / "ffmpeg", ".mp4")
    with RtspServer(width, height, args.fps, keyint=args.fps, kbits=args.kbits) as still_camera:
        snap_ms = snapshot_cost(still_camera.url())

    n = args.streams
    hours = wall / 3600
    hub_per = hub_cpu / n / hours
    ff_per = ff_cpu / n / hours
    print(f"streams: {n} x {width}x{height} {args.fps} fps {args.kbits} kbit/s H.264 over RTSP/TCP, "
          f"{wall:.0f} s measured after {args.warmup:.0f} s warm-up, {os.cpu_count()} cores")
    print(f"{'':8}{'CPU s per stream-hour':>22}{'% core per stream':>19}{'RSS MB':>9}{'MB written/s':>14}")
    print(f"{'hub':8}{hub_per:>22.1f}{hub_per / 36:>19.2f}{hub_rss:>9.0f}{hub_bytes / wall / 1e6:>14.2f}")
    print(f"{'ffmpeg':8}{ff_per:>22.1f}{ff_per / 36:>19.2f}{ff_rss:>9.0f}{ff_bytes / wall / 1e6:>14.2f}"
          "   (RSS per process)")
    print(f"idle hub RSS: {idle_rss:.0f} MB; hub total RSS {hub_rss:.0f} MB for {n} streams")
    print(f"snapshot (keyframe decode + JPEG, {width}x{height}): {snap_ms:.1f} ms CPU; one per camera per minute "
          f"costs {snap_ms / 600:.3f} % of a core per camera ({snap_ms / 60:.2f} cores per 1,000 cameras)")
    print(f"health: {args.health}; stored and demuxed afterwards: hub {hub_frames} frames, {hub_payload / 1e6:.1f} MB "
          f"payload, {hub_seconds:.0f} s of video in {sum(map(len, hub_files.values()))} segments "
          f"({sum(received.values())} frames received); ffmpeg {ff_frames} frames, {ff_payload / 1e6:.1f} MB, "
          f"{ff_seconds:.0f} s")
    print(f"index: every segment read back, {len(problems)} problems")
    print(f"bytes written hub/ffmpeg: {(hub_written / hub_seconds) / (ff_written / ff_seconds):.3f} "
          f"(file bytes per second of video stored; payload alone "
          f"{(hub_payload / hub_seconds) / (ff_payload / ff_seconds):.3f})")
    print(f"ratio hub/ffmpeg CPU per stream: {hub_per / ff_per:.2f}")
    print(f"hub RSS per stream: {max(0.0, hub_rss - idle_rss) / n:.1f} MB")
    failures = problems + short + [f"{cam}: reconnected during the window" for cam in reconnected]
    if failures:
        sys.exit("the hub lost or spoiled recordings; these figures do not count:\n  " + "\n  ".join(failures[:40])
                 + f"\n(the run's files are kept in {work})")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
