"""Synthetic video for demo cameras: a moving pattern with a name and a clock.

``Painter`` draws RGB frames with NumPy and Pillow.  ``SyntheticStream`` is
the demo "device": a thread that paints frames in real time, encodes them
with libx264 and muxes MPEG-TS into a pipe, which the hub then opens like any
camera stream.  This keeps the stream graph blind to where packets come from.
"""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import datetime
from fractions import Fraction
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hub import MediaInput

TS_CLOCK = Fraction(1, 90_000)


#: Bits of the time code: milliseconds since 1970 (2**42 ms is the year 2109).
TIME_CODE_BITS = 42


class Painter:
    """Paints frames for one camera at one resolution.

    With ``time_code`` the bottom of each frame carries the time it was painted, in milliseconds
    since 1970, as ``TIME_CODE_BITS`` blocks (white 1, black 0, most significant first, the
    first block one block in from the left): a player that reads them back knows how old the
    frame it shows is (``bench/live_latency.py``).
    """

    def __init__(self, name: str, width: int, height: int, hue: int, time_code: bool = False) -> None:
        self.name = name
        self.width = width
        self.height = height
        self.time_code = time_code
        x = np.linspace(0, 2 * np.pi, width, endpoint=False)
        base = np.stack([np.sin(x + hue), np.sin(x + hue + 2.1), np.sin(x + hue + 4.2)], axis=-1)
        self._row = ((base + 1) * 0.35 * 255).astype(np.uint8)  # one row of a soft colour wave
        self._size, self._small_size = max(12, height // 14), max(10, height // 22)
        self._font = ImageFont.load_default(size=self._size)
        self._small = ImageFont.load_default(size=self._small_size)

    def frame(self, t: float) -> Image.Image:
        shift = int(t * self.width / 8) % self.width
        rows = np.broadcast_to(np.roll(self._row, shift, axis=0), (self.height, self.width, 3)).copy()
        box = max(8, self.height // 6)
        bx = int((np.sin(t * 0.9) * 0.5 + 0.5) * (self.width - box))
        by = int((np.cos(t * 1.3) * 0.5 + 0.5) * (self.height - box))
        rows[by:by + box, bx:bx + box] = (240, 240, 240)
        img = Image.fromarray(rows, "RGB")
        draw = ImageDraw.Draw(img)
        pad = max(4, self.height // 40)
        draw.rectangle((0, 0, self.width, pad * 2 + self._size + self._small_size + 4), fill=(0, 0, 0))
        draw.text((pad, pad), self.name, font=self._font, fill=(255, 255, 255))
        clock = datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S.%f")[:-5]
        draw.text((pad, pad + self._size + 4), clock, font=self._small, fill=(255, 220, 80))
        if self.time_code:
            self._paint_time_code(draw, round(t * 1000))
        return img

    def _paint_time_code(self, draw: ImageDraw.ImageDraw, millis: int) -> None:
        block = self.width // (TIME_CODE_BITS + 2)
        top = self.height - max(8, block)
        draw.rectangle((0, top, self.width, self.height), fill=(0, 0, 0))
        for i in range(TIME_CODE_BITS):
            if millis >> (TIME_CODE_BITS - 1 - i) & 1:
                draw.rectangle(((i + 1) * block, top, (i + 2) * block - 1, self.height), fill=(255, 255, 255))

    def jpeg(self, t: float, quality: int = 85) -> bytes:
        buf = io.BytesIO()
        self.frame(t).save(buf, format="JPEG", quality=quality)
        return buf.getvalue()


class SyntheticStream(MediaInput):
    """A live H.264 stream in MPEG-TS, painted and encoded in a thread."""

    def __init__(self, painter: Painter, fps: int, keyframe_seconds: float, label: str) -> None:
        self.painter = painter
        self.fps = fps
        self.gop = max(1, round(fps * keyframe_seconds))
        self.label = label
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reader: Any = None

    def open(self) -> av.container.InputContainer:
        read_fd, write_fd = os.pipe()
        # Unbuffered: read() returns what the pipe holds instead of waiting to fill a buffer.
        self._reader = os.fdopen(read_fd, "rb", buffering=0)
        writer = os.fdopen(write_fd, "wb", buffering=0)
        self._thread = threading.Thread(target=self._produce, args=(writer,), name=f"demo:{self.label}", daemon=True)
        self._thread.start()
        # A short analysis: the demuxer needs only the first keyframe to know the stream.
        return av.open(self._reader, format="mpegts", options={"analyzeduration": "500000", "probesize": "65536"})

    def _produce(self, writer: Any) -> None:
        try:
            # flush_packets: hand each packet to the pipe at once, like a camera on the wire
            out = av.open(writer, "w", format="mpegts", options={"flush_packets": "1"})
            stream = out.add_stream("libx264", rate=self.fps, options={
                "preset": "ultrafast", "tune": "zerolatency", "g": str(self.gop), "bf": "0", "threads": "1"})
            stream.width, stream.height, stream.pix_fmt = self.painter.width, self.painter.height, "yuv420p"
            stream.time_base = TS_CLOCK
            start = time.monotonic()
            index = 0
            while not self._stop.is_set():
                due = start + index / self.fps
                delay = due - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                    if self._stop.is_set():
                        break
                frame = av.VideoFrame.from_image(self.painter.frame(time.time()))
                frame.pts = int(index / self.fps / TS_CLOCK)
                frame.time_base = TS_CLOCK
                for packet in stream.encode(frame):
                    out.mux(packet)
                index += 1
            for packet in stream.encode():
                out.mux(packet)
            out.close()
        except (BrokenPipeError, av.error.FFmpegError, OSError, ValueError):
            pass  # the reader went away: the relay is stopping
        finally:
            try:
                writer.close()
            except OSError:
                pass

    def interrupt(self) -> None:
        # The producer finishes its frame and closes the pipe: the demuxer sees EOF.
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if self._reader is not None:
            try:
                self._reader.close()  # a producer still writing gets a broken pipe and ends
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
