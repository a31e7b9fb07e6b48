"""The example camera source (examples/pantau-lensa), as a third party would ship it: installed
with pip, found by the hub through its entry point, passing the conformance suite with its own
tests, type-checked against the installed hub with nothing ignored."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, assert_strictly_typed

EXAMPLE = ROOT / "examples" / "pantau-lensa"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(EXAMPLE)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return target


def env_with(installed: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")},
            "PYTHONPATH": str(installed)}


def test_the_installed_source_is_listed_and_probes_a_device_from_the_command_line(installed: Path) -> None:
    listed = subprocess.run([sys.executable, "-m", "hub", "plugins", "--json"], capture_output=True, text=True,
                            env=env_with(installed), check=True, timeout=60)
    plugin = {p["name"]: p for p in json.loads(listed.stdout)}["lensa"]
    assert (plugin["package"], plugin["source_types"], plugin["error"]) == ("pantau-lensa", ["lensa"], None)

    sys.path.insert(0, str(installed))
    try:
        from hub.testing.sim import SimulatorThread
        from pantau_lensa.simulator import LensaSimulator

        with SimulatorThread(LensaSimulator(channels=4, password="Kunci:Gerbang@7")) as sim:
            probed = subprocess.run(
                [sys.executable, "-m", "hub", "probe", "--json", f"lensa://admin:Kunci%3AGerbang%407@{sim.host}:{sim.port}"],
                capture_output=True, text=True, env=env_with(installed), timeout=60)
    finally:
        sys.path.remove(str(installed))
    assert probed.returncode == 0, probed.stderr
    found = json.loads(probed.stdout)
    assert [c["id"] for c in found["cameras"]] == [f"lensa:LX24A0001234:{n}" for n in range(1, 5)]
    assert "Kunci" not in probed.stdout + probed.stderr


def test_its_own_tests_pass_the_conformance_suite(installed: Path, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE / "tests", tmp_path / "tests")  # away from the hub's tests and its source tree
    shutil.copy(EXAMPLE / "pyproject.toml", tmp_path / "pyproject.toml")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
                         cwd=tmp_path, capture_output=True, text=True, env=env_with(installed), timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    passed = re.search(r"(\d+) passed", out.stdout)
    assert passed and int(passed.group(1)) >= 20, out.stdout[-500:]  # both conformance classes and its own


def test_it_type_checks_against_the_installed_hub_with_nothing_ignored(tmp_path: Path) -> None:
    assert_strictly_typed(EXAMPLE / "pantau_lensa", tmp_path)
