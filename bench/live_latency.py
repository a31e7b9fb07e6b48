"""Benchmark: glass-to-glass delay of live view, MSE over a WebSocket against HLS, in one browser.

    python bench/live_latency.py [--seconds 30]

A real hub (``pantau run``) has one demo camera whose frames carry the time
they were painted (``time_code: true``: 42 blocks along the bottom edge,
milliseconds since 1970).  Headless Chromium (Debian's) signs in as an
operator on the hub's own page and plays the camera twice at once, the way
the pages do: over MSE (``/static/mse.js``, fragments over the WebSocket)
and over HLS (``/static/pages.js``, hls.js, the hub's default segments).
For every frame presented (``requestVideoFrameCallback``) the page reads the
blocks back from the picture and takes the delay: the presentation time
minus the painted time, on the one clock of this machine.  The first
seconds (joining, the first segments) are left out.

It prints, per path, the frames measured, p50 and p90, then ``mse p50: X
ms`` and ``hls p50: Y ms``.  It checks its own work first: both paths
presented frames at the camera's rate (at least half of it) and nearly all
of their time codes read back, else it fails.  Targets: MSE p50 under
1,000 ms, HLS under 5,000 ms.  Not a test: figures only.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FPS = 15
PASSWORD = "Sandi-Bench-Latency-1"
WARM_UP = 6.0

MEASURE = """
async ({camera, seconds, warmUp, bits}) => {
  const { play, csrf } = await import("/static/pages.js");
  const { playMse } = await import("/static/mse.js");
  const join = async (transport) => (await fetch(
    `/api/v1/cameras/${encodeURIComponent(camera)}/live?transport=${transport}`,
    { method: "POST", headers: { "X-CSRF-Token": csrf() } })).json();
  const video = () => {
    const v = document.createElement("video");
    v.muted = true; v.playsInline = true; v.width = 640; v.height = 360;
    document.body.prepend(v);
    return v;
  };
  // The frame's time code: the blocks along its bottom edge, white 1, black 0.
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  function painted(v, width, height) {
    canvas.width = width; canvas.height = height;
    context.drawImage(v, 0, 0, width, height);
    const block = Math.floor(width / (bits + 2));
    const row = context.getImageData(0, height - Math.floor(Math.max(8, block) / 2), width, 1).data;
    let millis = 0;
    for (let i = 0; i < bits; i++) millis = millis * 2 + (row[((i + 1) * block + (block >> 1)) * 4] > 128 ? 1 : 0);
    return millis;
  }
  function measure(v, start, end) {
    return new Promise((resolve) => {
      const delays = []; let unreadable = 0;
      const frame = (now, meta) => {
        if (now >= start) {
          const delay = performance.timeOrigin + meta.expectedDisplayTime - painted(v, meta.width, meta.height);
          if (delay > -100 && delay < 60000) delays.push(delay); else unreadable++;
        }
        if (now < end) v.requestVideoFrameCallback(frame); else resolve({ delays, unreadable });
      };
      v.requestVideoFrameCallback(frame);
    });
  }
  const mse = video(), hls = video();
  const mseView = await join("mse"), hlsView = await join("hls");
  if (!(await playMse(mse, mseView.websocket))) throw new Error("this browser cannot play the camera over MSE");
  await play(hls, hlsView.playlist);
  const start = performance.now() + warmUp * 1000, end = start + seconds * 1000;
  const [m, h] = await Promise.all([measure(mse, start, end), measure(hls, start, end)]);
  return { mse: m, hls: h };
}
"""


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1] if len(values) > 1 else values[0]


def main(seconds: float) -> None:
    from playwright.sync_api import sync_playwright

    from hub.testing.hubproc import HubProcess
    from plugins.demo.synth import TIME_CODE_BITS

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is missing (`make install` as root installs it)")
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-latency-"))
    hub = HubProcess(f"""\
version: 1
logging: {{level: warning}}
recording: {{default: {{mode: "off"}}}}
live: {{stream: main, idle_seconds: 120}}
sources:
  - type: demo
    name: jam
    cameras: [{{name: Jam}}]
    width: 640
    height: 360
    fps: {FPS}
    keyframe_seconds: 1
    motion_every: 0
    time_code: true
""", work).start()
    try:
        hub.add_user("bench", PASSWORD, "--role", "operator")
        with hub.client() as admin:
            camera = admin.get("/api/v1/cameras").json()[0]["id"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium,
                                         args=["--autoplay-policy=no-user-gesture-required"])
            page = browser.new_page()
            page.goto(hub.url + "/masuk")
            page.fill("#username", "bench")
            page.fill("#password", PASSWORD)
            page.click("#login button")
            page.wait_for_url(hub.url + "/saya", timeout=20_000)
            print(f"measuring {seconds:g} s of each path after {WARM_UP:g} s to start ...", file=sys.stderr)
            found = page.evaluate(MEASURE, {"camera": camera, "seconds": seconds, "warmUp": WARM_UP,
                                            "bits": TIME_CODE_BITS})
            browser.close()
    finally:
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)

    from hub.core.config.sections import LiveConfig

    print(f"hls: segments of {LiveConfig().segment_seconds:g} s (the default), hls.js 2 segments behind the edge")
    for path in ("mse", "hls"):
        delays, unreadable = found[path]["delays"], found[path]["unreadable"]
        if len(delays) < seconds * FPS / 2:
            raise SystemExit(f"{path}: only {len(delays)} frames presented in {seconds:g} s at {FPS} fps")
        if unreadable > len(delays) / 20:
            raise SystemExit(f"{path}: {unreadable} frames' time codes did not read back ({len(delays)} did)")
        print(f"{path}: {len(delays)} frames, p50 {percentile(delays, 50):.0f} ms, "
              f"p90 {percentile(delays, 90):.0f} ms")
    print(f"mse p50: {percentile(found['mse']['delays'], 50):.0f} ms")
    print(f"hls p50: {percentile(found['hls']['delays'], 50):.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds measured per path (at once)")
    main(parser.parse_args().seconds)
