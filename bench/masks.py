"""Benchmark: what a privacy mask costs a camera's public stream.

    python bench/masks.py [--seconds 60] [--size 640x360] [--fps 10]

A camera without masks has its public stream copied packet by packet; one
with masks has each frame decoded, the masks painted and the frame encoded
again (``hub.masks.MaskedHlsOutput``: libx264 ``ultrafast``).  This encodes
``--seconds`` of the demo camera's moving picture at the public stream's
size once, then feeds the same packets to the copying output and to the
masked one, side by side in this process, timing the CPU each takes.  It
checks both did the work: each wrote segments, and the masked output's
frames decode to as many frames as went in, with the masked region grey.
Lines: CPU per second of video for each, the ratio, and ``masked stream: X %
of one core per camera``.  Not a test: figures only.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def feed(data: bytes, output: object) -> tuple[float, int]:
    """Every packet of ``data`` through ``output`` as a relay would; (CPU seconds, packets)."""
    import av

    with av.open(io.BytesIO(data), format="mpegts") as media:
        stream = media.streams.video[0]
        packets = [p for p in media.demux(stream) if p.size]
        began = time.process_time()
        output.begin(stream)  # type: ignore[attr-defined]
        for packet in packets:
            output.packet(packet, time.time())  # type: ignore[attr-defined]
        output.end()  # type: ignore[attr-defined]
        spent = time.process_time() - began
    return spent, len(packets)


def main(seconds: int, width: int, height: int, fps: int) -> None:
    import av
    import numpy as np

    from hub.core.models import PrivacyMask, StreamRole
    from hub.core.streams import HlsOutput
    from hub.masks import MaskedHlsOutput
    from hub.testing.media import demo_h264

    data = demo_h264(seconds, width, height, fps)
    masks = [PrivacyMask(name="jendela", polygon=[(0.5, 0.4), (0.95, 0.4), (0.95, 0.95), (0.5, 0.95)])]
    with tempfile.TemporaryDirectory(prefix="pantau-bench-masks-") as work:
        plain = HlsOutput("demo:B:1", StreamRole.SUB, Path(work) / "plain", 2.0, 1000)
        masked = MaskedHlsOutput("demo:B:1", StreamRole.SUB, Path(work) / "masked", masks, 2.0, 1000)
        copy_cpu, packets = feed(data, plain)
        mask_cpu, masked_packets = feed(data, masked)
        segments = {name: sorted((Path(work) / name).glob("*.m4s")) for name in ("plain", "masked")}
        if not segments["plain"] or not segments["masked"] or packets != masked_packets:
            raise SystemExit("an output wrote nothing: the run measured the wrong work")
        if masked.stats.errors:
            raise SystemExit(f"the masked output failed: {masked.stats.last_error}")
        init = next((Path(work) / "masked").glob("init*.mp4")).read_bytes()
        frames = 0
        for segment in segments["masked"]:
            with av.open(io.BytesIO(init + segment.read_bytes()), format="mp4") as media:
                for frame in media.decode(video=0):
                    frames += 1
                    last = frame.to_ndarray(format="gray")
        h, w = last.shape
        inside = last[int(0.5 * h):int(0.85 * h), int(0.6 * w):int(0.85 * w)].astype(np.float32)
        if frames < packets - 2 * 2 * fps or inside.std() > 4:  # the open segment (2 s) is not on disk yet
            raise SystemExit(f"the masked output holds {frames} of {packets} frames, mask spread "
                             f"{inside.std():.1f}: the run measured the wrong work")
        plain.close()
        masked.close()
    print(f"{seconds} s of {width}x{height} at {fps} fps: {packets} packets; masked output decodes to {frames} frames")
    print(f"copy (no mask): {copy_cpu / seconds * 1000:.2f} ms CPU per second of video")
    print(f"masked (decode, paint, encode): {mask_cpu / seconds * 1000:.1f} ms CPU per second of video")
    print(f"ratio masked/copy: {mask_cpu / max(copy_cpu, 1e-9):.0f}")
    print(f"masked stream: {mask_cpu / seconds * 100:.1f} % of one core per camera")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--fps", type=int, default=10)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    main(args.seconds, w, h, args.fps)
