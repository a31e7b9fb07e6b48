"""A private PostgreSQL cluster for tests, made with the server's own initdb.

The cluster lives in a temporary folder, listens on 127.0.0.1 on a free port
with trust authentication and is removed afterwards; nothing depends on a
server the machine may or may not run.  As root, the server runs as the
``postgres`` system user (PostgreSQL refuses to run as root).
Set ``PANTAU_TEST_POSTGRES_URL`` to use an existing server instead.
"""

from __future__ import annotations

import concurrent.futures
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from hub.testing.net import free_port, wait_for_port


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("PostgreSQL server binaries (initdb) not found; run `make install` as root on Debian")


class PostgresServer:
    """Start with ``start()``, get databases with ``create_database()``, ``stop()`` at the end."""

    def __init__(self) -> None:
        self.external = os.environ.get("PANTAU_TEST_POSTGRES_URL")
        self.port = 0
        self._dir: Path | None = None
        self._user: str | None = None

    def _run(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def start(self) -> PostgresServer:
        if self.external:
            return self
        bindir = _bindir()
        self._dir = Path(tempfile.mkdtemp(prefix="pantau-pg-"))
        if os.geteuid() == 0:
            self._user = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self._dir, pw.pw_uid, pw.pw_gid)
        self.port = free_port()
        data = self._dir / "data"
        self._run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self._bindir = bindir
        self._ctl("start")
        return self

    def _ctl(self, *action: str) -> None:
        assert self._dir is not None
        self._run(str(self._bindir / "pg_ctl"), "-D", str(self._dir / "data"), "-l", str(self._dir / "log"), "-w",
                  "-t", "60", "-o", f"-p {self.port} -h 127.0.0.1 -k {self._dir} -F -c fsync=off "
                  "-c full_page_writes=off", *action)
        wait_for_port(self.port)

    def restart(self) -> float:
        """Stop the server (``-m fast``: every session cut) and start it again on the same port and
        data, as a database's failover or upgrade does; the seconds it took."""
        began = time.monotonic()
        self._ctl("-m", "fast", "restart")
        return time.monotonic() - began

    @property
    def base_url(self) -> str:
        return self.external or f"postgresql://postgres@127.0.0.1:{self.port}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import asyncio

        import asyncpg

        name = "pantau_" + uuid.uuid4().hex[:10]
        admin = self.base_url.rsplit("/", 1)[0] + "/postgres" if self.external else self.base_url + "/postgres"

        async def create() -> None:
            conn = await asyncpg.connect(admin)
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        # Run on a thread of its own: callers may be inside an event loop.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, create()).result()
        return (self.base_url.rsplit("/", 1)[0] if self.external else self.base_url) + f"/{name}"

    def stop(self) -> None:
        if self._dir is None:
            return
        try:
            self._run(str(self._bindir / "pg_ctl"), "-D", str(self._dir / "data"), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, AttributeError):
            pass
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None
