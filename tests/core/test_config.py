"""hub.yaml: the shipped file passes; every kind of mistake is reported with
file, line and key path, exit code 2 and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.core.config import load_config
from hub.core.errors import ConfigError
from tests.conftest import ROOT


def pantau(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd or ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def check(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(text)
    return pantau("check-config", "-c", str(cfg), env=env)


def test_shipped_hub_yaml_passes() -> None:
    result = pantau("check-config", "-c", str(ROOT / "hub.yaml"))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_misspelt_key_names_file_line_and_suggestion(tmp_path: Path) -> None:
    result = check(tmp_path, "version: 1\nrecording:\n  default:\n    segmnet_seconds: 5\n")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{tmp_path / 'hub.yaml'}:4: recording.default.segmnet_seconds: "
        "unknown key 'segmnet_seconds'; did you mean 'segment_seconds'?"
    )
    assert "Traceback" not in result.stderr


def test_misspelt_key_inside_a_plugin_source(tmp_path: Path) -> None:
    result = check(tmp_path, "version: 1\nsources:\n  - type: demo\n    name: d\n    fsp: 5\n")
    assert result.returncode == 2
    assert ":5: sources[0].fsp: unknown key 'fsp'; did you mean 'fps'?" in result.stderr


def test_unparsable_yaml(tmp_path: Path) -> None:
    result = check(tmp_path, "version: 1\nhttp:\n  port: 8080\n   host: x\n")
    assert result.returncode == 2
    assert result.stderr.startswith(f"{tmp_path / 'hub.yaml'}:4: ")
    assert "YAML does not parse" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_type(tmp_path: Path) -> None:
    result = check(tmp_path, "version: 1\nhttp:\n  port: eighty\n")
    assert result.returncode == 2
    assert ":3: http.port: " in result.stderr
    assert "integer" in result.stderr


def test_missing_secret_names_the_variable(tmp_path: Path) -> None:
    text = "version: 1\ndatabase:\n  url: postgresql://hub:${PANTAU_TEST_NO_SUCH_VAR}@db/hub\n"
    result = check(tmp_path, text)
    assert result.returncode == 2
    assert ":3: database.url: environment variable PANTAU_TEST_NO_SUCH_VAR is not set" in result.stderr


def test_env_substitution_and_default(tmp_path: Path, plugins) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text("version: 1\nhub:\n  name: ${HUB_NAME}\nhttp:\n  port: ${HUB_PORT:-9123}\n"
                   "database:\n  url: postgresql://u:${DB_PW}@h/d\n")
    import os

    os.environ.update(HUB_NAME="Kota Semarang", DB_PW="s3cr3t-pw")
    try:
        loaded = load_config(cfg, plugins)
    finally:
        del os.environ["HUB_NAME"], os.environ["DB_PW"]
    assert loaded.model.hub.name == "Kota Semarang"
    assert loaded.model.http.port == 9123
    assert loaded.model.database.url.get_secret_value() == "postgresql://u:s3cr3t-pw@h/d"
    assert "s3cr3t-pw" not in repr(loaded.model)


def test_version_is_required(tmp_path: Path) -> None:
    result = check(tmp_path, "http:\n  port: 8080\n")
    assert result.returncode == 2
    assert ":1: version: required key is missing" in result.stderr


def test_unknown_source_type_lists_the_installed_ones(tmp_path: Path) -> None:
    result = check(tmp_path, "version: 1\nsources:\n  - type: uniview\n    name: u\n")
    assert result.returncode == 2
    assert ":3: sources[0]" in result.stderr
    assert "uniview" in result.stderr and "demo" in result.stderr


def test_references_and_duplicates_are_checked(tmp_path: Path) -> None:
    text = ("version: 1\nsources:\n  - type: demo\n    name: a\n    owner: nobody\n"
            "  - type: demo\n    name: a\n")
    result = check(tmp_path, text)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any(":5: sources[0].owner: unknown owner 'nobody'" in line for line in lines)
    assert any(":7: sources[1].name: duplicate name 'a'" in line for line in lines)


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    result = check(tmp_path, "version: 1\nhttp:\n  port: 1\n  port: 2\n")
    assert result.returncode == 2
    assert ":4: http.port: duplicate key" in result.stderr


def test_all_problems_reported_at_once(tmp_path: Path, plugins) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text("version: 1\nhttp:\n  port: -1\n  hots: x\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg, plugins)
    assert [(p.line, p.path) for p in info.value.problems] == [(3, "http.port"), (4, "http.hots")]


def test_missing_file(tmp_path: Path) -> None:
    result = pantau("check-config", "-c", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml: (top level): file not found" in result.stderr


def test_schema_is_generated_from_the_models_and_plugins() -> None:
    result = pantau("config", "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"version"}
    assert "DemoSourceConfig" in schema["$defs"]
    demo = schema["$defs"]["DemoSourceConfig"]
    assert demo["additionalProperties"] is False
    assert all("description" in f for name, f in demo["properties"].items() if name != "type")


@pytest.mark.parametrize(("text", "seconds"), [("6d", 518400), ("2h", 7200), ("1h30m", 5400), ("-1d", -86400),
                                               ("0s", 0), (90, 90), ("1.5h", 5400)])
def test_durations_read_as_people_write_them(text: object, seconds: float) -> None:
    from hub.core.models import format_duration, parse_duration

    assert parse_duration(text).total_seconds() == seconds
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize("text", ["two hours", "6 days", "h", "", "1d-2h"])
def test_a_wrong_duration_says_how_to_write_one(text: str) -> None:
    from hub.core.models import parse_duration

    with pytest.raises(ValueError, match="write e.g. 30s, 10m, 2h"):
        parse_duration(text)


def laughs(levels: int) -> str:
    """A hub.yaml of a few hundred bytes whose aliases expand to 10 ** levels values."""
    lines = ["version: 1", "areas:", "  - path: a", "    name: &l0 [ha, ha, ha, ha, ha, ha, ha, ha, ha, ha]"]
    lines += [f"x{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_nested_aliases_are_refused_quickly_with_the_line_and_little_memory(tmp_path: Path) -> None:
    import resource
    import time

    text = laughs(9)  # a billion values if expanded
    assert len(text) < 600
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(text)
    code = ("import resource, sys\nfrom hub.cli import main\nsys.argv = ['pantau', 'check-config', '-c', sys.argv[1]]\n"
            "try:\n    main()\nfinally:\n"
            "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code, str(cfg)], capture_output=True, text=True, timeout=60)
    took = time.monotonic() - began
    *messages, peak_kb = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert messages[0].startswith(f"{cfg}:") and "expands to more than 200,000 values" in messages[0], messages
    assert "Traceback" not in result.stderr
    assert int(peak_kb) < 400_000, f"{int(peak_kb) // 1024} MB to refuse a {len(text)}-byte file"
    assert took < 30
    del resource


def test_an_alias_inside_its_own_anchor_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = check(tmp_path, "version: 1\nhub: &me\n  name: x\n  data_dir: *me\n")
    assert result.returncode == 2, result.stderr
    assert "a YAML alias refers to a value that contains it" in result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr


def test_aliases_people_use_still_work(tmp_path: Path) -> None:
    text = ("version: 1\nsources:\n"
            "  - {type: demo, name: a, tags: &park [public, taman]}\n  - {type: demo, name: b, tags: *park}\n")
    result = check(tmp_path, text)
    assert result.returncode == 0, result.stderr
    from hub.core.config import load_config
    from hub.core.plugins import Plugins

    loaded = load_config(tmp_path / "hub.yaml", Plugins().load())
    assert [s.tags for s in loaded.model.sources] == [["public", "taman"], ["public", "taman"]]


def test_the_older_type_names_still_load_as_the_plugins_names(tmp_path: Path, plugins) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text("version: 1\nstorage:\n  type: s3\n  endpoint: http://127.0.0.1:8333\n  bucket: rekaman\n"
                   "  access_key: k\n  secret_key: s\nnotifiers:\n  - type: open311\n    name: jaki\n"
                   "    endpoint: http://127.0.0.1:9/open311/v2\n    api_key: x\n"
                   "    rules:\n      - name: tamper\n        kinds: [tamper]\n        service_code: VANDALISME\n")
    loaded = load_config(cfg, plugins)
    assert loaded.model.storage.type == "s3_storage"
    assert [n.type for n in loaded.model.notifiers] == ["jaki_reports"]
    cfg.write_text("version: 1\nstorage:\n  type: local\n")
    assert load_config(cfg, plugins).model.storage.type == "local_storage"
    cfg.write_text("version: 1\n")
    assert load_config(cfg, plugins).model.storage.type == "local_storage"  # the default


def test_every_hub_yaml_field_of_the_hub_and_its_plugins_is_described(plugins) -> None:
    from hub.core.config.sections import json_schema

    schema = json_schema(plugins)
    models = {"HubConfig": schema, **schema["$defs"]}
    bare = [f"{name}.{field}" for name, model in models.items()
            for field, spec in (model.get("properties") or {}).items() if not spec.get("description")]
    assert not bare, f"fields without a description (pantau config schema shows none): {bare}"


def test_a_yaml_tag_is_a_problem_with_its_line_not_a_traceback(tmp_path: Path) -> None:
    result = check(tmp_path, "version: 1\nsources:\n  - type: hikvision\n    name: nvr\n    host: !ip 10.0.0.1\n"
                             "    password: x\n")  # found by `make fuzz`
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "hub.yaml:5: sources[0].host: the YAML tag '!ip' is not supported; write the plain value" in result.stderr
