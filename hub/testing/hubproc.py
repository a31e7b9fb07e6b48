"""``pantau run`` as a subprocess, for end-to-end tests of a hub and its plugins."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from hub.testing.net import free_port

#: Names of environment variables and hub.yaml keys that hold secrets.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PASSPHRASE", re.I)
SECRET_VALUE = re.compile(r"\b(password|secret_key|api_key|link_secret|token)\s*:\s*([^\s,}#]+)", re.I)
URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^:/@\s]+:([^@/\s]+)@", re.I)


class HubProcess:
    """A hub started from a hub.yaml text with its own data directory and port."""

    def __init__(self, config_text: str, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.config = workdir / "hub.yaml"
        self.config.write_text(config_text)
        self.data_dir = workdir / "data"
        self.port = free_port()
        self.env = {**os.environ, **(env or {})}
        self._extra_env = dict(env or {})
        #: Tokens made for this hub (``token``), checked for in its log at the end of a test.
        self.tokens: list[str] = []
        self.log_path = workdir / "hub.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pantau(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run another ``pantau`` command against this hub's config (``stdin`` as its input)."""
        return subprocess.run([sys.executable, "-m", "hub", *args], cwd=self.workdir, env=self.env, input=stdin,
                              capture_output=True, text=True, check=check, timeout=120)

    def add_user(self, username: str, password: str, *options: str) -> None:
        """``pantau user add USERNAME OPTIONS... --password-stdin`` for this hub; the password is
        then one of the secrets its log is checked for."""
        made = self.pantau("user", "add", username, *options, "--password-stdin", "-c", str(self.config),
                           "--data-dir", str(self.data_dir), stdin=password + "\n", check=False)
        if made.returncode != 0:
            raise RuntimeError(f"pantau user add {username} failed: {made.stderr}")
        self.tokens.append(password)

    def start(self, timeout: float = 40.0) -> HubProcess:
        self._close_log()
        log = self._log_file = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "-c", str(self.config), "--port", str(self.port),
             "--data-dir", str(self.data_dir)],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"hub did not answer /healthz within {timeout} s:\n{self.log()}")

    def token(self, role: str = "admin", scopes: tuple[str, ...] = ()) -> str:
        """A token of ``role`` (``pantau token create``), limited to ``scopes`` when given; one
        admin token is made once and kept."""
        if self._token is None or role != "admin" or scopes:
            limits = [arg for scope in scopes for arg in ("--scope", scope)]
            out = self.pantau("token", "create", "--role", role, *limits, "-c", str(self.config),
                              "--data-dir", str(self.data_dir))
            token = out.stdout.strip().splitlines()[-1]
            self.tokens.append(token)
            if role != "admin" or scopes:
                return token
            self._token = token
        return self._token

    def secrets(self) -> set[str]:
        """Every secret this hub was given: its tokens, the secret-looking variables of its
        environment, the passwords and keys written in its hub.yaml, those inside URLs, the first
        admin's password the hub made."""
        found = set(self.tokens)
        first_admin = self.data_dir / "initial-admin-password"
        if first_admin.exists():
            found.add(first_admin.read_text().strip())
        found |= {v for k, v in self._extra_env.items() if SECRET_NAME.search(k) and len(v) >= 6}
        text = self.config.read_text() if self.config.exists() else ""
        for match in SECRET_VALUE.finditer(text):
            value = match.group(2).strip().strip("'\"")
            if len(value) >= 6 and "${" not in value:
                found.add(value)
        found |= {m.group(1) for m in URL_PASSWORD.finditer(text) if len(m.group(1)) >= 6 and "${" not in m.group(1)}
        return found

    def client(self, role: str = "admin", scopes: tuple[str, ...] = ()) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token(role, scopes)}"},
                            timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_records(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"unparsed": line})
        return out

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def stop(self, timeout: float = 15.0) -> float:
        """SIGTERM, wait; returns the seconds it took to exit."""
        if self.proc is None or self.proc.poll() is not None:
            self._close_log()
            return 0.0
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self._close_log()
        return time.monotonic() - start

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_log()
