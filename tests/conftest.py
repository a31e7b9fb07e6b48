from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["hub.testing.fixtures"]

ROOT = Path(__file__).resolve().parent.parent

# A small, quick demo hub: 2 s segments, a keyframe every second.
DEMO_HUB = """\
version: 1
hub: {{name: Test Hub}}
logging: {{level: info, format: json}}
recording:
  default: {{mode: continuous, segment_seconds: 2, retain_days: 1}}
{extra}
sources:
  - type: demo
    name: demo
    cameras: [{{name: Gate A, tags: [public]}}, {{name: Kelas 7A, tags: ["classroom:7A"]}}]
    width: 320
    height: 180
    sub_width: 160
    sub_height: 90
    fps: 10
    keyframe_seconds: 1
    motion_every: {motion_every}
"""


def demo_hub_yaml(extra: str = "", motion_every: float = 0) -> str:
    return DEMO_HUB.format(extra=extra, motion_every=motion_every)


@pytest.fixture(scope="session")
def plugins():
    from hub.core.plugins import Plugins

    return Plugins().load()


# -- one suite-wide check: no secret leaves an in-process hub ------------------------------------------


class LeakWatch:
    """The secrets a test's in-process hubs were configured with (every ``SecretStr`` of their
    hub.yaml, the password of each URL in it, every token the store made, every user's password,
    every session id and CSRF token) and what left them:
    each log record as the hub's formatter writes it, and whatever a test hands to ``saw``
    (MQTT payloads, API answers).  Checked at the end of every test."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.seen: list[tuple[str, str]] = []

    def secret(self, *values: str) -> None:
        from urllib.parse import unquote, urlsplit

        for value in values:
            if len(value) >= 6:
                self.secrets.add(value)
            if "://" in value:
                try:
                    password = urlsplit(value).password
                except ValueError:
                    password = None
                if password and len(unquote(password)) >= 6:
                    self.secrets.update({password, unquote(password)})

    def secrets_of(self, model: object) -> None:
        from pydantic import BaseModel, SecretStr

        if isinstance(model, SecretStr):
            self.secret(model.get_secret_value())
        elif isinstance(model, BaseModel):
            for name in type(model).model_fields:
                self.secrets_of(getattr(model, name))
        elif isinstance(model, list | tuple):
            for item in model:
                self.secrets_of(item)
        elif isinstance(model, dict):
            for item in model.values():
                self.secrets_of(item)

    def saw(self, where: str, payload: bytes | str) -> None:
        self.seen.append((where, payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload))

    def leaks(self) -> list[str]:
        return [f"{where}: {secret[:3]}...{secret[-2:]} ({len(secret)} chars)"
                for where, text in self.seen for secret in self.secrets if secret in text]


@pytest.fixture(autouse=True)
def leak_watch(monkeypatch):  # noqa: ANN001, ANN201
    import logging

    from hub import app
    from hub.logs import JsonFormatter
    from hub.store import schools, tokens, users

    watch = LeakWatch()
    made_hub = app.Hub.__init__

    def hub_init(self, loaded, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        watch.secrets_of(loaded.model)
        made_hub(self, loaded, *args, **kwargs)

    monkeypatch.setattr(app.Hub, "__init__", hub_init)
    made_token = tokens.Tokens.create_token

    async def create_token(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        token = await made_token(self, *args, **kwargs)
        watch.secret(token)
        return token

    monkeypatch.setattr(tokens.Tokens, "create_token", create_token)
    made_user, made_session = users.Users.add_user, users.Users.start_session

    async def add_user(self, username, role, password, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        watch.secret(password)
        return await made_user(self, username, role, password, *args, **kwargs)

    async def start_session(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        session = await made_session(self, *args, **kwargs)
        watch.secret(session.id, session.csrf_token)
        return session

    monkeypatch.setattr(users.Users, "add_user", add_user)
    monkeypatch.setattr(users.Users, "start_session", start_session)
    made_invite = schools.Schools.add_invite

    async def add_invite(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        token, expires = await made_invite(self, *args, **kwargs)
        watch.secret(token)
        return token, expires

    monkeypatch.setattr(schools.Schools, "add_invite", add_invite)
    formatter = JsonFormatter()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            watch.saw(f"log {record.name}", formatter.format(record))

    handler = Watch(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        yield watch
    finally:
        logging.getLogger().removeHandler(handler)
    leaks = watch.leaks()
    assert not leaks, f"secrets left an in-process hub: {leaks}"


def assert_strictly_typed(package: Path, tmp_path: Path) -> None:
    """``package`` (an example plugin's) uses only the hub's public surface, ignores no type error, and
    passes ``mypy --strict`` against the installed hub, copied away from the hub's source tree, with
    no MYPYPATH or PYTHONPATH to lean on."""
    import os
    import shutil
    import subprocess
    import sys

    shutil.copytree(package, tmp_path / package.name)
    source = "".join(p.read_text() for p in package.rglob("*.py"))
    assert "type: ignore" not in source and "hub.core" not in source, "only hub's public surface, typed"
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", package.name],
                         cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
