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
