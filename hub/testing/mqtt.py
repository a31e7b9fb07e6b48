"""A private Mosquitto broker for tests, on a free port of 127.0.0.1.

Persistence is on (in a temporary folder) so a broker stopped and started
again keeps its durable sessions and their queued QoS 1 messages, as a
production broker would; ``set_tcp_nodelay`` avoids Nagle's algorithm
delaying QoS 1 acknowledgements.  Needs Debian's ``mosquitto``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from hub.testing.net import free_port, wait_for_port


class MosquittoUnavailable(RuntimeError):
    pass


class MosquittoServer:
    def __init__(self, password_file: Path | None = None) -> None:
        binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
        if binary is None:
            raise MosquittoUnavailable("mosquitto not found (Debian package mosquitto; `make install` installs it)")
        self.binary = binary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pantau-mqtt-"))
        auth = f"allow_anonymous false\npassword_file {password_file}\n" if password_file else "allow_anonymous true\n"
        self.config = self.dir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n{auth}persistence true\npersistence_location {self.dir}/\n"
            f"autosave_interval 1\nset_tcp_nodelay true\nmax_queued_messages 100000\nlog_dest stderr\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MosquittoServer:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout=15)
        return self

    def stop(self) -> None:
        """A clean stop: the broker saves its sessions first."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
