"""The command line as an operator uses it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def pantau(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_version() -> None:
    from hub import __version__

    result = pantau("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"pantau {__version__}"


def test_console_script_is_installed() -> None:
    exe = shutil.which("pantau", path=str(Path(sys.executable).parent))
    assert exe, "the pantau console script is installed next to the interpreter"
    assert subprocess.run([exe, "--help"], capture_output=True, text=True).stdout.count("check-config") == 1


def test_token_create_prints_the_token_last_and_it_works_in_the_store(tmp_path: Path) -> None:
    import asyncio

    from hub.store import Store, database_url

    result = pantau("token", "create", "--role", "operator", "--name", "RT 02", "--data-dir", str(tmp_path),
                    cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("pt_")

    async def lookup() -> object:
        store = Store(database_url(None, tmp_path))
        try:
            return await store.tokens.principal_for_token(token)
        finally:
            await store.close()

    who = asyncio.run(lookup())
    assert who is not None and who.role == "operator" and who.name == "RT 02"
    assert token not in (tmp_path / "pantau.db").read_bytes().decode("latin-1")


def test_token_create_refuses_an_unknown_role(tmp_path: Path) -> None:
    result = pantau("token", "create", "--role", "superuser", "--data-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "superuser" in result.stderr


def test_run_without_config_uses_hub_yaml_in_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text("version: 1\nhttp:\n  prot: 1\n")
    result = pantau("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "hub.yaml:3: http.prot: unknown key 'prot'; did you mean 'port'?"


def test_a_notifier_type_no_plugin_provides(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text("version: 1\nnotifiers:\n  - type: whatsapp\n    name: grup-rt\n")
    result = pantau("check-config", cwd=tmp_path)
    assert result.returncode == 2
    assert "hub.yaml:3: notifiers[0]: unknown type 'whatsapp'" in result.stderr
    assert "'mqtt'" in result.stderr and "'jaki_reports'" in result.stderr


def test_tokens_are_listed_without_secrets_and_revoked_by_id_or_whole(tmp_path: Path) -> None:
    import json

    def create(name: str) -> str:
        result = pantau("token", "create", "--role", "viewer", "--name", name, "--data-dir", str(tmp_path),
                        cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    rt, parent = create("RT 02 Jatingaleh"), create("orang tua kelas 3B")
    (_, rt_id, rt_secret), (_, _, parent_secret) = rt.split("_", 2), parent.split("_", 2)
    listed = json.loads(pantau("token", "list", "--json", "--data-dir", str(tmp_path), cwd=tmp_path).stdout)
    assert [t["name"] for t in listed] == ["RT 02 Jatingaleh", "orang tua kelas 3B"]
    shown = pantau("token", "list", "--data-dir", str(tmp_path), cwd=tmp_path).stdout
    assert rt_id in shown and rt_secret not in shown and "orang tua" in shown
    by_id = pantau("token", "revoke", rt_id, "--data-dir", str(tmp_path), cwd=tmp_path)
    whole = pantau("token", "revoke", parent, "--data-dir", str(tmp_path), cwd=tmp_path)
    assert by_id.returncode == 0 and whole.returncode == 0, (by_id.stderr, whole.stderr)
    assert parent_secret not in whole.stderr + whole.stdout, "the secret is not echoed"
    assert json.loads(pantau("token", "list", "--json", "--data-dir", str(tmp_path), cwd=tmp_path).stdout) == []
    ended = json.loads(pantau("token", "list", "--json", "--all", "--data-dir", str(tmp_path), cwd=tmp_path).stdout)
    assert all(t["revoked_at"] for t in ended) and len(ended) == 2
    again = pantau("token", "revoke", rt_id, "--data-dir", str(tmp_path), cwd=tmp_path)
    assert again.returncode != 0 and "no live token" in again.stderr


def test_pantau_streams_sends_its_token_nowhere_but_the_address_given(tmp_path: Path) -> None:
    import http.server
    import threading

    from hub.testing.net import free_port

    seen: list[str | None] = []

    class Thief(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args: object) -> None:
            pass

    thief = http.server.HTTPServer(("127.0.0.1", free_port()), Thief)

    class Redirector(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{thief.server_port}/api/v1/streams")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    redirector = http.server.HTTPServer(("127.0.0.1", free_port()), Redirector)
    for server in (thief, redirector):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "hub.yaml").write_text("version: 1\n")
        result = pantau("streams", "--url", f"http://127.0.0.1:{redirector.server_port}", cwd=tmp_path)
        assert result.returncode == 1 and "redirect" in result.stderr, result.stderr
        assert seen == [], "the token was sent on across the redirect"
        plain = pantau("streams", "--url", "http://203.0.113.7:8080", cwd=tmp_path)
        assert plain.returncode == 2 and "in the clear" in plain.stderr, plain.stderr
    finally:
        thief.shutdown()
        redirector.shutdown()
