"""A third-party plugin in its own package, installed with pip, works with no
change to the hub: listed with its hooks, configurable, delivering events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, assert_strictly_typed, demo_hub_yaml


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(ROOT / "examples" / "pantau-eventlog")],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return target


def test_the_installed_plugin_is_listed_with_its_hooks(installed: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "hub", "plugins", "--json"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(installed)}, check=True, timeout=60)
    plugin = {p["name"]: p for p in json.loads(out.stdout)}["eventlog"]
    assert plugin["package"] == "pantau-eventlog" and plugin["version"] == "0.1.0"
    assert plugin["hooks"] == ["register_commands", "register_migrations", "register_notifiers"]
    assert plugin["notifier_types"] == ["eventlog"]
    assert plugin["error"] is None


def test_its_notifier_receives_the_hubs_events_and_its_command_runs(installed: Path, hub_factory) -> None:
    log_file = installed.parent / "events.jsonl"
    extra = f"notifiers:\n  - type: eventlog\n    name: motion-log\n    path: {log_file}\n    kinds: [motion]\n"
    hub = hub_factory(demo_hub_yaml(extra=extra, motion_every=0.3), env={"PYTHONPATH": str(installed)})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (log_file.exists() and len(log_file.read_text().splitlines()) >= 2):
        time.sleep(0.3)
    hub.stop()
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert len(events) >= 2 and {e["kind"] for e in events} == {"motion"}
    assert {e["state"] for e in events} <= {"start", "stop"}
    summary = hub.pantau("eventlog-summary", str(log_file))
    assert summary.stdout.startswith("motion\t")
    # Its own table, made by its own migration, counted what it wrote.
    counted = hub.pantau("eventlog-counts", "-c", str(hub.config), "--data-dir", str(hub.data_dir))
    [line] = counted.stdout.splitlines()
    notifier, kind, n = line.split("\t")
    assert (notifier, kind) == ("motion-log", "motion") and int(n) >= len(events)


def test_a_typo_in_its_config_is_reported_like_the_hubs_own(installed: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text("version: 1\nnotifiers:\n  - type: eventlog\n    name: x\n    pth: /tmp/x\n")
    out = subprocess.run([sys.executable, "-m", "hub", "check-config", "-c", str(cfg)], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(installed)}, timeout=60)
    assert out.returncode == 2
    assert f"{cfg}:5: notifiers[0].pth: unknown key 'pth'; did you mean 'path'?" in out.stderr


def test_the_example_type_checks_against_the_installed_hub_with_nothing_ignored(tmp_path: Path) -> None:
    assert_strictly_typed(ROOT / "examples" / "pantau-eventlog" / "pantau_eventlog", tmp_path)
