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


def hub_config(url: str, streams: int, data: Path, fsync: bool = True) -> str:
    sources = "".join(f"  - {{type: rtsp, name: cam-{i:03d}, url: '{url}', device_id: bench-{i:03d}}}\n"
                      for i in range(streams))
    return (f"version: 1\nhub: {{data_dir: '{data}'}}\nlogging: {{level: warning}}\nhealth: {{enabled: false}}\n"
            f"storage: {{type: local, fsync: {'true' if fsync else 'false'}}}\n"
            f"recording: {{default: {{mode: continuous, segment_seconds: {SEGMENT_SECONDS}}}}}\n"
            f"sources:\n{sources if streams else '  []'}\n")


def start_hub(work: Path, url: str, streams: int, fsync: bool = True) -> subprocess.Popen[bytes]:
    from hub.testing.net import free_port, wait_for_port

    work.mkdir(parents=True)
    (work / "hub.yaml").write_text(hub_config(url, streams, work / "data", fsync))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "hub", "run", "-c", str(work / "hub.yaml"), "--port", str(port)],
                            cwd=work, stdout=subprocess.DEVNULL, stderr=(work / "hub.log").open("wb"))
    wait_for_port(port, timeout=60)
    return proc


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
        idle = start_hub(work / "idle", url, 0)
        procs.append(idle)
        time.sleep(5)
        idle_rss = rss_mb(idle.pid)
        stop([idle])

        hub = start_hub(work / "hub", url, args.streams, args.fsync)
        ffmpegs = []
        for i in range(args.streams):
            ffmpegs.append(start_ffmpeg(work / "ffmpeg", url, i))
            time.sleep(0.1)
        procs = [hub, *ffmpegs]
        time.sleep(args.warmup)
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
        if camera.proc is None or camera.proc.poll() is not None:
            reason = camera.proc.stderr.read()[-2000:] if camera.proc and camera.proc.stderr else ""
            sys.exit(f"the test camera (GStreamer RTSP server) died during the run: {reason}")
        dead = [p.args[0] for p in procs if p.poll() is not None]
        if dead:
            sys.exit(f"a recorder exited during the run: {dead}; see {work}")
    finally:
        stop([*procs, anchor])
        camera.stop()
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
    print(f"ratio hub/ffmpeg CPU per stream: {hub_per / ff_per:.2f}")
    print(f"hub RSS per stream: {max(0.0, hub_rss - idle_rss) / n:.1f} MB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
