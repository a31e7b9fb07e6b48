"""Reading hub.yaml: YAML with the line of every key kept, and ``${ENV}`` substituted.

PyYAML composes the document; this reader turns its nodes into plain data
and remembers where each key stood, so every later problem names its line.
Anchors and aliases work, but what they expand to is capped: a few hundred
bytes of nested aliases would otherwise expand to gigabytes (the "billion
laughs"), and an alias inside its own anchor would never end.
"""

from __future__ import annotations

import os
import re
import typing
from dataclasses import dataclass
from typing import Any

import yaml

from hub.core.errors import ConfigError, ConfigProblem

#: Values (mappings, lists, scalars) a hub.yaml may expand to, aliases counted each time
#: they are used; a city's file with thousands of cameras holds a few tens of thousands.
MAX_VALUES = 200_000
#: Mappings and lists inside each other at most.
MAX_DEPTH = 64

_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Path_ = tuple[str | int, ...]


@dataclass
class _Doc:
    data: Any
    lines: dict[Path_, int]


class _TooBig(Exception):
    """The document expands beyond what a hub.yaml may hold (``MAX_VALUES``, ``MAX_DEPTH``)."""

    def __init__(self, line: int, path: Path_, message: str) -> None:
        self.line, self.path, self.message = line, path, message


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.problems: list[ConfigProblem] = []
        self._scalars = yaml.SafeLoader("")
        self._values = 0
        self._open: set[int] = set()  # ids of the collection nodes being converted (a cycle check)

    def problem(self, path: Path_, line: int | None, message: str) -> None:
        self.problems.append(ConfigProblem(self.file, line, dotted(path), message))

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        line = node.start_mark.line + 1
        self._values += 1
        if self._values > MAX_VALUES:
            raise _TooBig(line, path, f"the file expands to more than {MAX_VALUES:,} values (nested YAML aliases?)")
        if len(path) > MAX_DEPTH:
            raise _TooBig(line, path, f"mappings and lists nest deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self._open:
                raise _TooBig(line, path, "a YAML alias refers to a value that contains it")
            self._open.add(id(node))
            try:
                return self._collection(node, path)
            finally:
                self._open.discard(id(node))
        value = self._scalar(node, path)
        if isinstance(value, str):
            value = self.substitute(value, path, line)
        return value

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        """A scalar's value; a tag PyYAML's safe loader does not know (``!foo``) is a problem."""
        try:
            return self._scalars.construct_object(node)
        except yaml.YAMLError as err:
            tag = node.tag or ""
            message = (f"the YAML tag {tag[:40]!r} is not supported; write the plain value"
                       if tag.startswith("!") else f"the value cannot be read ({getattr(err, 'problem', None)})")
            self.problem(path, node.start_mark.line + 1, message)
            return None

    def _collection(self, node: yaml.Node, path: Path_) -> Any:
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node, path)
                if key == "<<":
                    self.problem(path, key_node.start_mark.line + 1, "YAML merge keys ('<<') are not supported")
                    continue
                if not isinstance(key, str | int):
                    self.problem(path, key_node.start_mark.line + 1, f"keys must be strings, got {key!r}")
                    continue
                if key in out:
                    self.problem(path + (key,), key_node.start_mark.line + 1, "duplicate key")
                    continue
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self.convert(value_node, path + (key,))
            return out
        return [self.convert(item, path + (i,)) for i, item in enumerate(node.value)]

    def substitute(self, value: str, path: Path_, line: int) -> str:
        def repl(m: re.Match[str]) -> str:
            if m.group(0) == "$$":
                return "$"
            name, default = m.group(1), m.group(2)
            found = os.environ.get(name)
            if found is None:
                if default is not None:
                    return default
                self.problem(path, line, f"environment variable {name} is not set")
                return ""
            return found

        return _ENV.sub(repl, value)


def read_yaml(text: str, file: str) -> _Doc:
    """Parse YAML keeping the line of every key; substitute ``${ENV}``."""
    reader = _Reader(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark else None
        message = " ".join(str(x) for x in (getattr(err, "context", None), getattr(err, "problem", None)) if x)
        raise ConfigError([ConfigProblem(file, line, "", f"YAML does not parse: {message or err}")]) from None
    try:
        data = reader.convert(root, ()) if root is not None else {}
    except _TooBig as err:
        raise ConfigError([ConfigProblem(file, err.line, dotted(err.path), err.message)]) from None
    except RecursionError:  # PyYAML composing a pathological document
        raise ConfigError([ConfigProblem(file, None, "", "the file nests too deeply")]) from None
    if reader.problems:
        raise ConfigError(reader.problems)
    return _Doc(data, reader.lines)


def dotted(path: typing.Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
