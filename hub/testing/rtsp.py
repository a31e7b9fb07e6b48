"""A real RTSP server for tests: GStreamer's, in a subprocess.

Needs Debian's ``python3-gi``, ``gir1.2-gst-rtsp-server-1.0`` and the
GStreamer base, good, ugly and bad plugins (``make install`` installs them as
root on Debian).  ``RtspUnavailable`` says what is missing.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from hub.testing.net import free_port, wait_for_port

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("rtsp_server.py")


class RtspUnavailable(RuntimeError):
    """GStreamer's RTSP server cannot run here."""


def check() -> None:
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); "
         "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
         "assert all(Gst.ElementFactory.find(e) for e in "
         "('x264enc', 'rtph264pay', 'x265enc', 'rtph265pay', 'jpegenc', 'rtpjpegpay'))"],
        capture_output=True, text=True)
    if probe.returncode != 0:
        raise RtspUnavailable("GStreamer RTSP server not usable (install python3-gi gir1.2-gst-rtsp-server-1.0 "
                              "gstreamer1.0-plugins-{base,good,ugly,bad}; `make install` does as root)")


class RtspServer:
    """A live camera at ``rtsp://127.0.0.1:PORT/main`` and ``/sub`` (and ``mounts``: other paths
    serving one of them, such as a Hikvision NVR's ``/Streaming/Channels/102``).

    ``address`` and ``wrap`` put it elsewhere: ``RtspServer(address=host.far, port=554,
    wrap=host.command)`` serves inside a ``PrivateHost``'s namespace."""

    def __init__(self, width: int = 640, height: int = 360, fps: int = 15, keyint: int = 15,
                 credentials: tuple[str, str] | None = None, kbits: int = 2048, x264: str = "",
                 pattern: str = "ball", codec: str = "h264", bframes: int = 0, auth: str = "basic",
                 address: str = "127.0.0.1", port: int | None = None, mounts: dict[str, str] | None = None,
                 wrap: Callable[[list[str]], list[str]] | None = None) -> None:
        self.address, self.mounts, self.wrap = address, dict(mounts or {}), wrap
        self.port = port or free_port()
        self.width, self.height, self.fps, self.keyint, self.kbits = width, height, fps, keyint, kbits
        self.x264 = x264  # extra x264 options, e.g. "nal-hrd=cbr:filler=1" for a constant bit rate
        self.pattern = pattern  # videotestsrc pattern: "ball" moves, "smpte" stands still, "black"
        self.credentials = credentials
        self.codec, self.bframes, self.auth = codec, bframes, auth
        self.proc: subprocess.Popen[str] | None = None
        self.connections = 0  # RTSP connections clients opened since start

    def url(self, mount: str = "main", with_credentials: bool = True) -> str:
        auth = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials and with_credentials else ""
        return f"rtsp://{auth}{self.address}:{self.port}/{mount}"

    def start(self) -> RtspServer:
        check()
        args = [SYSTEM_PYTHON, str(SCRIPT), "--port", str(self.port), "--size", f"{self.width}x{self.height}",
                "--fps", str(self.fps), "--keyint", str(self.keyint), "--kbits", str(self.kbits), "--x264", self.x264,
                "--pattern", self.pattern, "--codec", self.codec, "--bframes", str(self.bframes), "--auth", self.auth]
        if self.credentials:
            args += ["--credentials", ":".join(self.credentials)]
        args += ["--address", self.address, *(f"--mount={p}={w}" for p, w in self.mounts.items())]
        if self.wrap is not None:
            args = self.wrap(args)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            reason = self.proc.stderr.read() if self.proc.stderr else ""
            self.stop()
            raise RtspUnavailable(f"RTSP server did not start: {reason}")
        if self.wrap is None:  # elsewhere "ready" says it listens: this side may not reach it
            wait_for_port(self.port, host=self.address)
        self.connections = 0
        threading.Thread(target=self._count, args=(self.proc.stdout,), daemon=True).start()
        return self

    def _count(self, out: IO[str]) -> None:
        """Count the RTSP connections clients open (``connections``)."""
        try:
            for line in out:
                if line.strip() == "client-connected":
                    self.connections += 1
        except ValueError:  # closed by stop()
            pass

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()
            self.proc = None

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
