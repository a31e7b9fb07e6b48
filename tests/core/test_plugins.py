"""The plugin manager: entry points, allow-list, failures reported by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest

from hub import hookimpl
from hub.core.errors import PluginError
from hub.core.plugins import Plugins
from hub.core.sources import SourceConfig
from tests.conftest import ROOT


def pantau_json(*args: str, env: dict[str, str] | None = None) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "hub", *args, "--json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env={**os.environ, **(env or {})}, check=True)
    return json.loads(out.stdout)


def fake_distribution(site: Path, name: str, module: str, code: str) -> None:
    """A minimal installed distribution with a ``pantau`` entry point."""
    (site / f"{module}.py").write_text(code)
    info = site / f"{name}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[pantau]\n{name} = {module}\n")


def test_builtin_plugins_load_through_entry_points() -> None:
    infos = {p["name"]: p for p in pantau_json("plugins")}
    assert {"demo", "local_storage", "roles"} <= set(infos)
    assert infos["demo"]["hooks"] == ["register_source_types"]
    assert infos["demo"]["source_types"] == ["demo"]
    assert infos["local_storage"]["storage_types"] == ["local_storage"]
    assert infos["roles"]["access_policies"] == ["roles"]
    assert all(p["error"] is None for p in infos.values())


def test_a_plugin_that_fails_to_import_is_reported_and_skipped(tmp_path: Path) -> None:
    fake_distribution(tmp_path, "pantau-broken", "pantau_broken", "import no_such_module_here\n")
    env = {"PYTHONPATH": str(tmp_path)}
    infos = {p["name"]: p for p in pantau_json("plugins", env=env)}
    assert "ModuleNotFoundError" in infos["pantau-broken"]["error"]
    assert infos["demo"]["error"] is None
    # The hub still works without it.
    check = subprocess.run([sys.executable, "-m", "hub", "check-config", "-c", str(ROOT / "hub.yaml")],
                           capture_output=True, text=True, env={**os.environ, **env}, timeout=60)
    assert check.returncode == 0, check.stderr


def test_allow_list_limits_what_loads() -> None:
    infos = pantau_json("plugins", env={"PANTAU_PLUGINS": "demo, roles"})
    assert sorted(p["name"] for p in infos) == ["demo", "roles"]


def test_misspelt_hook_name_is_an_error() -> None:
    class Typo:
        @hookimpl
        def hub_statup(self, context):  # noqa: ANN001
            pass

    plugins = Plugins()
    plugins.add(Typo(), "typo")
    with pytest.raises(PluginError, match="hub_statup"):
        plugins.load()


def test_a_source_type_registered_twice_names_both_plugins() -> None:
    class DupConfig(SourceConfig):
        type: Literal["demo"] = "demo"

    class Dup:
        @hookimpl
        def register_source_types(self, register):  # noqa: ANN001
            register(DupConfig, object)

    plugins = Plugins()
    plugins.add(Dup(), "copycat")
    with pytest.raises(PluginError, match="already registered by plugin"):
        plugins.load()


def test_config_model_without_literal_type_is_refused() -> None:
    class Loose(SourceConfig):
        pass

    class P:
        @hookimpl
        def register_source_types(self, register):  # noqa: ANN001
            register(Loose, object)

    plugins = Plugins()
    plugins.add(P(), "loose")
    with pytest.raises(PluginError, match="Literal"):
        plugins.load()


async def test_hooks_go_through_pluggy_await_and_isolate_failures(caplog) -> None:
    calls = []

    class Good:
        @hookimpl
        async def hub_startup(self, context):  # noqa: ANN001
            calls.append(("good", context))

    class Bad:
        @hookimpl
        def hub_startup(self, context):  # noqa: ANN001
            raise RuntimeError("boom")

    class BadLater:
        @hookimpl
        async def hub_startup(self, context):  # noqa: ANN001
            raise RuntimeError("boom, later")

    class Wrapper:  # a hook wrapper sees the call only when the core calls through pm.hook
        @hookimpl(wrapper=True)
        def hub_startup(self, context):  # noqa: ANN001
            calls.append(("wrapper", context))
            return (yield)

    plugins = Plugins()
    plugins.add(Bad(), "bad")
    plugins.add(BadLater(), "bad-later")
    plugins.add(Good(), "good")
    plugins.add(Wrapper(), "wrapper")
    plugins.load()
    await plugins.acall("hub_startup", context="C")
    assert calls == [("wrapper", "C"), ("good", "C")]
    failed = {getattr(r, "plugin", None) for r in caplog.records if r.getMessage() == "plugin hook failed"}
    # (the installed plugins' own hub_startup meets a context that is a string here, and may fail too)
    assert failed & {"bad", "bad-later", "good", "wrapper"} == {"bad", "bad-later"}


def test_tracing_logs_each_hook_call(monkeypatch, caplog) -> None:  # noqa: ANN001
    import logging

    monkeypatch.setenv("PANTAU_TRACE_PLUGINS", "1")
    with caplog.at_level(logging.INFO, logger="hub.core.plugins"):
        Plugins().load()
    traced = [r.getMessage() for r in caplog.records if r.getMessage().startswith("plugin hook:")]
    assert any("register_source_types" in m for m in traced), traced


def test_a_register_callback_knows_the_plugin_that_calls_it() -> None:
    class Mine(SourceConfig):
        type: Literal["mine"] = "mine"

    class P:
        @hookimpl
        def register_source_types(self, register):  # noqa: ANN001
            register(Mine, object)

    plugins = Plugins()
    plugins.add(P(), "pantau-mine")
    plugins.load()
    assert plugins.source_types["mine"].plugin == "pantau-mine"
    assert plugins.info["pantau-mine"].source_types == ["mine"]
    assert plugins.source_types["demo"].plugin == "demo"


def test_load_is_idempotent() -> None:
    plugins = Plugins()
    assert plugins.load() is plugins.load()
    assert "demo" in plugins.source_types and plugins.info["demo"].hooks == ["register_source_types"]
