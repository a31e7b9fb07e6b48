"""pytest fixtures: ``postgres`` (a private cluster per session), ``pg_url``
(a fresh database per test), ``rtsp_server`` (a live RTSP camera), ``mosquitto``
(a broker), ``seaweedfs`` (an S3 server) and ``hub_factory`` (hubs as
subprocesses).  ``running`` starts a peer of your own the same way.

Load them from a ``conftest.py`` with ``pytest_plugins = ["hub.testing.fixtures"]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn, TypeVar

import pytest

from hub.testing.hubproc import HubProcess
from hub.testing.mqtt import MosquittoServer, MosquittoUnavailable
from hub.testing.postgres import PostgresServer, PostgresUnavailable
from hub.testing.rtsp import RtspServer, RtspUnavailable
from hub.testing.seaweed import SeaweedServer, SeaweedUnavailable

#: Set (to 1) where every test peer must run, as the project's own ``make test``
#: does after ``make install``: a peer that cannot start fails its tests
#: instead of skipping them, so a broken install never passes for a green run.
REQUIRE_PEERS = "PANTAU_REQUIRE_PEERS"

_Server = TypeVar("_Server")


def peer_unavailable(err: Exception) -> NoReturn:
    """Skip the test because a peer cannot run here (``err`` says why), or fail it
    under ``PANTAU_REQUIRE_PEERS=1``."""
    if os.environ.get(REQUIRE_PEERS) == "1":
        pytest.fail(f"{err} ({REQUIRE_PEERS}=1: every test peer must run here)")
    pytest.skip(str(err))


def running(make: Callable[[], _Server], unavailable: type[Exception], end: str = "stop") -> Iterator[_Server]:
    """A test peer made by ``make`` and started, for a fixture to ``yield from``;
    stopped afterwards (its method ``end``).  When this machine cannot run it
    (``unavailable``), the test is skipped with the reason, or fails with it
    under ``PANTAU_REQUIRE_PEERS=1``."""
    try:
        server = make()
        server.start()  # type: ignore[attr-defined]
    except unavailable as err:
        peer_unavailable(err)
    try:
        yield server
    finally:
        getattr(server, end)()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    yield from running(PostgresServer, PostgresUnavailable)


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    return postgres.create_database()


@pytest.fixture
def rtsp_server() -> Iterator[RtspServer]:
    """A live RTSP camera (GStreamer) with ``/main`` and ``/sub``, credentials ``kamera``/``Rahasia-99``."""
    yield from running(lambda: RtspServer(credentials=("kamera", "Rahasia-99")), RtspUnavailable)


@pytest.fixture
def mosquitto() -> Iterator[MosquittoServer]:
    """A private Mosquitto broker with persistence, started for the test."""
    yield from running(MosquittoServer, MosquittoUnavailable, end="close")


@pytest.fixture
def seaweedfs() -> Iterator[SeaweedServer]:
    """A private SeaweedFS S3 server with a bucket ``pantau``, started for the test."""
    yield from running(SeaweedServer, SeaweedUnavailable, end="close")


@pytest.fixture
def hub_factory(tmp_path: Path) -> Iterator[Callable[..., HubProcess]]:
    hubs: list[HubProcess] = []

    def make(config_text: str, env: dict[str, str] | None = None, start: bool = True) -> HubProcess:
        workdir = tmp_path / f"hub{len(hubs)}"
        workdir.mkdir()
        proc = HubProcess(config_text, workdir, env)
        hubs.append(proc)
        return proc.start() if start else proc

    yield make
    for proc in hubs:
        proc.kill()
    leaks = leaked(hubs)
    assert not leaks, f"secrets reached a hub's log: {leaks}"


def leaked(hubs: list[HubProcess]) -> list[str]:
    """What of each hub's secrets (``HubProcess.secrets``) its log holds, masked: the check
    every test that runs a hub makes at its end."""
    found = []
    for proc in hubs:
        text = proc.log()
        for secret in proc.secrets():
            if secret in text:
                found.append(f"{proc.workdir.name}: {secret[:3]}...{secret[-2:]} ({len(secret)} chars)")
    return found
