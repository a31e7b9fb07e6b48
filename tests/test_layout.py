"""The shape of the tree: core knows no app, plugins use the public surface, no circles.

Read from the source with ``ast`` (every import counts, those under
``TYPE_CHECKING`` and inside functions too: a circle of type hints is still a
circle a reader has to untangle).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PLUGIN_MAY_IMPORT = ("hub", "hub.devices", "hub.testing")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports() -> dict[str, set[str]]:
    """Every module of ``hub`` and ``plugins`` and the project modules it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted([*(ROOT / "hub").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]):
        if "migrations" in path.parts:
            continue
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
                targets.add(base)
                targets.update(f"{base}.{a.name}" for a in node.names)  # ``from hub.core import models``
        found[name] = {t for t in targets if t.split(".")[0] in ("hub", "plugins")}
    modules = set(found)
    return {m: {t for t in ts if t in modules and t != m} for m, ts in found.items()}


def test_core_imports_nothing_of_the_app() -> None:
    for module, targets in imports().items():
        if module.startswith("hub.core"):
            outside = sorted(t for t in targets if not t.startswith("hub.core"))
            assert not outside, f"{module} imports {outside}: hub.core holds contracts only"


def test_plugins_use_the_public_surface_and_only_their_own_code() -> None:
    for module, targets in imports().items():
        if not module.startswith("plugins."):
            continue
        own = ".".join(module.split(".")[:2])
        for target in targets:
            if target.startswith("plugins"):
                assert target == "plugins" or target.startswith(own), f"{module} imports another plugin: {target}"
            else:
                assert target in PLUGIN_MAY_IMPORT or target.startswith(("hub.devices.", "hub.testing.")), \
                    f"{module} imports {target}; a plugin may import only hub (its __all__), hub.devices, hub.testing"


def test_no_module_imports_itself_round_a_circle() -> None:
    graph = imports()
    # Importing a package's __init__ is importing the package's face, not a circle through it.
    graph = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                circle = stack[stack.index(target):] + [target]
                raise AssertionError("import circle: " + " -> ".join(circle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_hub_exports_what_plugins_import() -> None:
    import hub

    for name in hub.__all__:
        assert hasattr(hub, name), f"hub.__all__ names {name}, which hub does not have"
