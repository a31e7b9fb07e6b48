"""Benchmark: many anonymous viewers on one public camera, the hub against ffmpeg and nginx.

    python bench/public_fanout.py [--viewers 500] [--seconds 60]

One GStreamer RTSP camera (this project's test camera, 640x360 at 15 fps)
is a public camera of a real hub (``pantau run``: its substream's public
HLS, one output for everyone), and at the same time, the way a city would do
it without the hub, ``ffmpeg -c copy -f hls`` from the same camera writes
HLS that nginx serves.  Each side gets ``--viewers`` simulated HLS players on
loopback (a process of their own per side, so the players' CPU is neither
side's): each fetches the playlist every segment and every segment it has
not fetched.  Both run side by side through the same window.

It prints, per side, the segments fetched, p50/p99 of a segment fetch and
the CPU of the serving processes (the hub; ffmpeg and nginx) per viewer,
and last ``viewers: N``, ``p99 segment: X ms`` (the hub's) and ``hub CPU:
Y % of one core``.  It checks its own work: both sides' players fetched
segments, within a factor of two of each other, with no errors, else it
fails.  Target: 500 viewers with p99 under 500 ms on the 2-core machine.
Needs Debian's ffmpeg, nginx and GStreamer RTSP server (``make install``).
Not a test: figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TICK = os.sysconf("SC_CLK_TCK")
SEGMENT = 2.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def players(playlist: str, count: int, seconds: float) -> dict[str, object]:
    """``count`` HLS players on ``playlist`` for ``seconds``: segment fetch times, errors."""
    import aiohttp

    base = playlist.rsplit("/", 1)[0]
    times: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=0)

    async def one(n: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        seen: set[str] = set()
        await asyncio.sleep(n * SEGMENT / max(count, 1))  # players arrive over one segment, as they would
        while time.monotonic() < stop_at:
            try:
                async with session.get(playlist) as answer:
                    text = await answer.text() if answer.status == 200 else ""
                for name in re.findall(r"^([^#\s][^\s]*)$", text, re.M)[-2:]:
                    if name in seen:
                        continue
                    began = time.monotonic()
                    async with session.get(f"{base}/{name}") as answer:
                        await answer.read()
                        if answer.status != 200:
                            errors += 1
                            continue
                    times.append(time.monotonic() - began)
                    seen.add(name)
            except aiohttp.ClientError:
                errors += 1
            await asyncio.sleep(SEGMENT)

    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(one(n, session) for n in range(count)))
    return {"segments": len(times), "errors": errors,
            "p50": statistics.median(times) * 1000 if times else None,
            "p99": sorted(times)[int(len(times) * 0.99)] * 1000 if times else None}


def nginx(root: Path, port: int, work: Path) -> subprocess.Popen[bytes]:
    conf = work / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {work}/tmp;
  types {{ application/vnd.apple.mpegurl m3u8; video/mp4 mp4 m4s; }}
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    return subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def main(viewers: int, seconds: float) -> None:
    from hub.testing.hubproc import HubProcess
    from hub.testing.net import free_port, wait_for_port
    from hub.testing.rtsp import RtspServer

    for tool in ("ffmpeg", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing (`make install` as root installs it from Debian)")
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-fanout-"))
    work.chmod(0o755)  # nginx's workers drop to an unprivileged user and must reach the files
    camera = RtspServer(640, 360, 15, keyint=15, kbits=1000).start()
    hub = None
    procs: list[subprocess.Popen[bytes]] = []
    try:
        (work / "hub").mkdir()
        hub = HubProcess(f"""\
version: 1
logging: {{level: warning}}
recording: {{default: {{mode: "off"}}}}
live: {{segment_seconds: {SEGMENT:g}, idle_seconds: 120}}
public: {{requests_per_minute: 100000000, check_seconds: 3600}}
sources:
  - {{type: rtsp, name: gerbang, url: "{camera.url('main')}", tags: [public]}}
""", work / "hub").start()
        with hub.client() as admin:
            camera_id = admin.get("/api/v1/cameras").json()[0]["id"]
            assert admin.post(f"/api/v1/public/cameras/{camera_id}/approve").status_code == 200
        hub_playlist = f"{hub.url}/api/v1/public/cameras/{camera_id}/live/index.m3u8"
        hls = work / "ffmpeg-hls"
        hls.mkdir()
        procs.append(subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", camera.url("main"),
             "-c", "copy", "-f", "hls", "-hls_time", f"{SEGMENT:g}", "-hls_list_size", "6",
             "-hls_flags", "delete_segments+independent_segments", "-hls_segment_type", "fmp4",
             str(hls / "index.m3u8")], stdout=subprocess.DEVNULL))
        port = free_port()
        (work / "tmp").mkdir()
        procs.append(nginx(hls, port, work))
        wait_for_port(port)
        import httpx

        for url in (hub_playlist, f"http://127.0.0.1:{port}/index.m3u8"):
            deadline = time.monotonic() + 30
            while httpx.get(url, timeout=30).status_code != 200:
                if time.monotonic() > deadline:
                    raise SystemExit(f"no playlist at {url}")
                time.sleep(0.5)
        sides = {"hub": hub_playlist, "ffmpeg+nginx": f"http://127.0.0.1:{port}/index.m3u8"}
        assert hub.proc is not None
        pids = {"hub": [hub.proc.pid], "ffmpeg+nginx": [p.pid for p in procs]}
        before = {side: sum(cpu_seconds(p) for p in pids[side]) for side in sides}
        began = time.monotonic()
        runs = {side: subprocess.Popen([sys.executable, __file__, "--play", url, "--viewers", str(viewers),
                                        "--seconds", str(seconds)], stdout=subprocess.PIPE, text=True)
                for side, url in sides.items()}
        results = {side: json.loads(run.communicate(timeout=seconds + 120)[0]) for side, run in runs.items()}
        wall = time.monotonic() - began
        cpu = {side: sum(cpu_seconds(p) for p in pids[side]) - before[side] for side in sides}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
        if hub is not None:
            hub.stop()
        camera.stop()
    for side, result in results.items():
        if not result["segments"] or result["errors"]:
            raise SystemExit(f"{side}: {result['segments']} segments, {result['errors']} errors: "
                             "the run measured the wrong work")
    counts = [r["segments"] for r in results.values()]
    if max(counts) > 2 * min(counts):
        raise SystemExit(f"the sides fetched {counts} segments: not the same work")
    for side, result in results.items():
        share = cpu[side] / wall * 100
        print(f"{side}: {result['segments']} segments fetched, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
              f"CPU {share:.1f} % of one core, {share / viewers * 1000:.2f} milli-% per viewer")
    print(f"viewers: {viewers}")
    print(f"p99 segment: {results['hub']['p99']:.0f} ms")
    others = cpu["ffmpeg+nginx"] / wall * 100
    print(f"hub CPU: {cpu['hub'] / wall * 100:.1f} % of one core (ffmpeg+nginx: {others:.1f} %)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--play", help=argparse.SUPPRESS)  # the players' own process
    args = parser.parse_args()
    if args.play:
        print(json.dumps(asyncio.run(players(args.play, args.viewers, args.seconds))))
    else:
        main(args.viewers, args.seconds)
