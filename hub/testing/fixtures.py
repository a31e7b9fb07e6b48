"""pytest fixtures: ``postgres`` (a private cluster per session), ``pg_url``
(a fresh database per test), ``rtsp_server`` (a live RTSP camera), ``mosquitto``
(a broker), ``seaweedfs`` (an S3 server) and ``hub_factory`` (hubs as
subprocesses).

Load them from a ``conftest.py`` with ``pytest_plugins = ["hub.testing.fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.testing.hubproc import HubProcess
from hub.testing.mqtt import MosquittoServer, MosquittoUnavailable
from hub.testing.postgres import PostgresServer, PostgresUnavailable
from hub.testing.rtsp import RtspServer, RtspUnavailable
from hub.testing.seaweed import SeaweedServer, SeaweedUnavailable


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as err:
        pytest.skip(str(err))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    return postgres.create_database()


@pytest.fixture
def rtsp_server() -> Iterator[RtspServer]:
    """A live RTSP camera (GStreamer) with ``/main`` and ``/sub``, credentials ``kamera``/``Rahasia-99``."""
    server = RtspServer(credentials=("kamera", "Rahasia-99"))
    try:
        server.start()
    except RtspUnavailable as err:
        pytest.skip(str(err))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mosquitto() -> Iterator[MosquittoServer]:
    """A private Mosquitto broker with persistence, started for the test."""
    try:
        broker = MosquittoServer()
    except MosquittoUnavailable as err:
        pytest.skip(str(err))
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def seaweedfs() -> Iterator[SeaweedServer]:
    """A private SeaweedFS S3 server with a bucket ``pantau``, started for the test."""
    try:
        server = SeaweedServer()
        server.start()
    except SeaweedUnavailable as err:
        pytest.skip(str(err))
    try:
        yield server
    finally:
        server.close()


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
