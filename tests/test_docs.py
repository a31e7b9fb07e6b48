"""The docs describe what landed: every hook, with its exact signature."""

from __future__ import annotations

import inspect
import re

from hub.core import hookspecs
from hub.core.plugins import Plugins
from tests.conftest import ROOT


def documented_hooks() -> dict[str, str]:
    text = (ROOT / "docs" / "hooks.md").read_text()
    return {m.group(1): m.group(2) for m in re.finditer(r"^## (\w+)\(([^)]*)\)\s*$", text, re.M)}


def test_every_hook_is_documented_with_its_signature() -> None:
    docs = documented_hooks()
    for name in Plugins.hook_names():
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert name in docs, f"docs/hooks.md has no heading for hook {name}"
        assert docs[name] == params, f"docs/hooks.md: {name}({docs[name]}) but the spec is {name}({params})"


def test_no_documented_hook_is_missing_from_the_specs() -> None:
    assert set(documented_hooks()) == set(Plugins.hook_names())


def test_every_hookspec_has_a_docstring_saying_how_often_it_is_called() -> None:
    for name in Plugins.hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert "Called" in doc, f"hookspec {name} does not say when it is called"


def _snippets() -> list[tuple[str, str]]:
    found = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", page.read_text(), re.S)):
            found.append((f"{page.relative_to(ROOT)}#{i}", block))
    return found


def _commented_sources(text: str) -> str:
    """The commented-out source examples of hub.yaml, uncommented."""
    lines = [line[4:] if line.startswith("  # ") else "" for line in text.splitlines()
             if line.startswith("  # ") and (line.startswith("  # -") or line.startswith("  #   "))]
    return "sources:\n" + "\n".join("  " + line for line in lines if line) + "\n"


def _commented_notifiers(text: str) -> str:
    """The commented-out ``notifiers:`` block of hub.yaml, uncommented."""
    lines = text.splitlines()
    start = lines.index("# notifiers:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[2:])
    return "\n".join(block) + "\n"


def test_every_yaml_example_in_the_docs_and_hub_yaml_is_valid(tmp_path, monkeypatch) -> None:
    import importlib

    from hub.core.config import load_config
    from hub.core.errors import ConfigError

    # The walkthroughs configure the example plugins: load them as if installed.
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "pantau-eventlog"))
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "pantau-lensa"))
    plugins = Plugins()
    plugins.add(importlib.import_module("pantau_eventlog"), "eventlog")
    plugins.add(importlib.import_module("pantau_lensa"), "lensa")
    plugins.load()

    shipped = (ROOT / "hub.yaml").read_text()
    examples = _snippets() + [("hub.yaml (commented sources)", _commented_sources(shipped)),
                              ("hub.yaml (commented notifiers)", _commented_notifiers(shipped))]
    assert len(examples) >= 6
    for where, text in examples:
        for name in re.findall(r"\$\{([A-Z0-9_]+)", text):
            monkeypatch.setenv(name, "example-secret")
        cfg = tmp_path / "hub.yaml"
        cfg.write_text("version: 1\n" + text)
        try:
            load_config(cfg, plugins)
        except ConfigError as err:
            raise AssertionError(f"{where}: {err}") from None


def test_each_user_guide_is_in_both_languages_with_its_screenshots() -> None:
    guides = ROOT / "docs" / "guides"
    listed = re.findall(r"\]\(([\w-]+)\.(id|en)\.md\)", (guides / "README.md").read_text())
    people = {name for name, _ in listed}
    assert len(people) == 5 and len(listed) == 10, listed
    shown: set[str] = set()
    for person in people:
        for lang in ("id", "en"):
            text = (guides / f"{person}.{lang}.md").read_text()
            pictures = re.findall(r"!\[[^\]]+\]\(img/([\w-]+)\.(id|en)\.png\)", text)
            assert pictures and all(pic_lang == lang for _, pic_lang in pictures), f"{person}.{lang}: {pictures}"
            shown |= {f"{name}.{lang}.png" for name, _ in pictures}
    taken = {p.name for p in (guides / "img").glob("*.png")}
    assert shown <= taken, f"screenshots to take (make guides): {sorted(shown - taken)}"
    # every screenshot the browser tests take is in a guide (or the test should stop taking it)
    assert {n.rsplit(".", 2)[0] for n in taken} <= {n.rsplit(".", 2)[0] for n in shown}, sorted(taken - shown)
