"""Event streams read by worker processes (``events.workers``)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from hub.app import Hub
from hub.core.config import load_config
from hub.core.models import Event, EventKind, EventState
from hub.core.plugins import Plugins
from hub.testing.sim import DahuaSimulator
from hub.testing.waiting import collect_events, until


@pytest.fixture
async def nvrs():
    sims = [await DahuaSimulator(kind="nvr", channels=4).start() for _ in range(2)]
    yield sims
    for sim in sims:
        await sim.stop()


async def start_hub(tmp_path: Path, sims: list[DahuaSimulator], workers: int,
                    passwords: list[str] | None = None) -> tuple[Hub, list[Event]]:
    passwords = passwords or [s.password for s in sims]
    sources = "".join(f"  - {{type: dahua, name: nvr{i}, host: 127.0.0.1, port: {s.port}, password: {pw}, "
                      f"heartbeat: 1, timeout: 2}}\n" for i, (s, pw) in enumerate(zip(sims, passwords, strict=True)))
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"""\
version: 1
http: {{port: 0}}
recording: {{default: {{mode: "off"}}}}
health: {{enabled: false}}
events: {{workers: {workers}}}
sources:
{sources}""")
    plugins = Plugins().load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    return hub, collect_events(hub)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}").exists() \
        else "X"
    return state != "Z"


async def test_a_worker_reads_the_streams_and_the_hub_gets_every_event_in_order(nvrs, tmp_path: Path) -> None:
    hub, seen = await start_hub(tmp_path, nvrs, workers=1)
    try:
        assert hub.event_workers.read_by == {"nvr0": "worker 0", "nvr1": "worker 0"}
        (status,) = hub.event_workers.status()
        assert status["running"] and status["pid"] != os.getpid()
        await until(lambda: all(s.listeners for s in nvrs), 20)
        for seq in range(50):
            nvrs[seq % 2].push_event(2, "VideoMotion", "Pulse", {"Name": str(seq)})
        nvrs[1].push_event(3, "CrossLineDetection", "Pulse", {"Direction": "LeftToRight"})
        await until(lambda: len(seen) >= 51, 20)
    finally:
        await hub.stop()
    motion = [e for e in seen if e.kind == EventKind.MOTION]
    for i, sim in enumerate(nvrs):
        seqs = [int(e.data["name"]) for e in motion if e.camera_id == f"dahua:{sim.serial}:2"]
        assert seqs == list(range(i, 50, 2)), "every event, once, in the order the device sent them"
    (line,) = [e for e in seen if e.kind == EventKind.LINE_CROSSING]
    assert (line.camera_id, line.state, line.data["direction"]) == (
        f"dahua:{nvrs[1].serial}:3", EventState.PULSE, "LeftToRight")
    assert not alive(status["pid"]), "the worker exits with the hub"


async def test_a_killed_worker_is_started_again_and_its_streams_come_back(
        nvrs, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hub, seen = await start_hub(tmp_path, nvrs[:1], workers=1)
    try:
        await until(lambda: nvrs[0].listeners, 20)
        (before,) = hub.event_workers.status()
        with caplog.at_level(logging.WARNING, logger="pantau.events"):
            os.kill(before["pid"], signal.SIGKILL)
            # The device notices a dead connection only when it next writes to it: forget it now,
            # so that the listener awaited below is the new worker's.
            await nvrs[0].drop_streams()
            await until(lambda: hub.event_workers.status()[0]["starts"] == 2, 20)
        warning = next(r for r in caplog.records if r.getMessage() == "event worker failed; retrying with backoff")
        # -9 as the OS reports a SIGKILL (asyncio's child watcher may say 255 when it lost the pid)
        assert warning.worker == 0 and warning.error in ("exit code -9", "exit code 255"), warning.error
        await until(lambda: nvrs[0].listeners, 20)
        nvrs[0].push_event(1, "VideoBlind", "Start")
        await until(lambda: any(e.kind == EventKind.TAMPER for e in seen), 20)
        (after,) = hub.event_workers.status()
        assert after["running"] and after["pid"] != before["pid"]
    finally:
        await hub.stop()


async def test_ctrl_c_or_sigterm_to_the_process_group_leaves_the_workers_to_the_hub(
        nvrs, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hub, seen = await start_hub(tmp_path, nvrs[:1], workers=1)
    try:
        await until(lambda: nvrs[0].listeners, 20)
        (before,) = hub.event_workers.status()
        with caplog.at_level(logging.WARNING, logger="pantau.events"):
            os.kill(before["pid"], signal.SIGINT)  # what a terminal's Ctrl-C sends the whole group
            os.kill(before["pid"], signal.SIGTERM)  # and systemd's stop
            await asyncio.sleep(1.0)
            nvrs[0].push_event(1, "VideoMotion", "Pulse")
            await until(lambda: any(e.kind == EventKind.MOTION for e in seen), 20)
        (after,) = hub.event_workers.status()
        assert (after["pid"], after["starts"], after["running"]) == (before["pid"], 1, True)
        assert not [r for r in caplog.records if r.name == "pantau.events"], "no worker died, none restarted"
    finally:
        await hub.stop()
    assert not alive(before["pid"]), "it ends with the hub"


async def test_what_a_worker_logs_names_the_worker_and_the_source_and_never_a_password(
        nvrs, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    wrong = "salah-sandi-rahasia"
    hub, _ = await start_hub(tmp_path, nvrs[:1], workers=1, passwords=[wrong])
    try:
        err = ""
        for _ in range(300):  # the worker writes its log lines to the hub's stderr
            err += capfd.readouterr().err
            if '"event_worker": 0' in err and "refused the credentials" in err:
                break
            await asyncio.sleep(0.1)
    finally:
        await hub.stop()
    lines = [line for line in err.splitlines() if '"event_worker": 0' in line]
    assert any('"source": "nvr0"' in line and "refused the credentials" in line for line in lines), err
    assert wrong not in err


async def test_sources_a_worker_cannot_load_stay_in_the_hub(nvrs, tmp_path: Path) -> None:
    from hub.event_workers import EventWorkers

    plugins = Plugins().load()
    hub, _ = await start_hub(tmp_path, nvrs[:1], workers=0)
    try:
        assert hub.event_workers.read_by == {"nvr0": "hub"}
        assert hub.event_workers.status() == []
        # A source type registered with Plugins.add (not an entry point) cannot be built by a worker.
        dahua = plugins.source_types["dahua"].plugin
        plugins.info[dahua].entry_point = False
        workers = EventWorkers(2, plugins, tmp_path, lambda e: None)
        assert workers.place(hub.inventory.sources) == ["nvr0"]
        assert workers.workers == []
    finally:
        await hub.stop()
