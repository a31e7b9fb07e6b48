"""Video for tests and benchmarks: the demo camera's moving picture, encoded in memory."""

from __future__ import annotations

import io

import av


def demo_h264(seconds: int, width: int, height: int, fps: int, name: str = "Gate A") -> bytes:
    """``seconds`` of the demo camera's picture as H.264 in MPEG-TS, a keyframe a second (as cameras send)."""
    from plugins.demo.synth import Painter

    painter = Painter(name, width, height, 0)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = fps
        stream.codec_context.options = {"preset": "veryfast", "tune": "zerolatency"}
        for n in range(seconds * fps):
            frame = av.VideoFrame.from_image(painter.frame(1000.0 + n / fps))
            frame.pts = n
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()
