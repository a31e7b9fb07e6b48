"""Pydantic's validation errors as hub.yaml problems: the key path as written, its line,
and a message a person can act on ("unknown key 'pth'; did you mean 'path'?")."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Annotated, Any, Union

from pydantic import BaseModel

from hub.core.config.reader import Path_


def data_path(data: Any, loc: tuple[Any, ...]) -> Path_:
    """Map a pydantic error location onto the document, dropping union tags."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict | list):
            if isinstance(node, dict) and isinstance(part, str) and part not in node and part == loc[-1]:
                path.append(part)  # a missing field: name it
            continue
    return tuple(path)


def line_for(lines: dict[Path_, int], path: Path_) -> int | None:
    for i in range(len(path), -1, -1):
        if path[:i] in lines:
            return lines[path[:i]]
    return None


def _unwrap(t: Any, node: Any) -> Any:
    """Strip Annotated and Optional; pick a union member by the node's ``type``."""
    while True:
        origin = typing.get_origin(t)
        if origin is Annotated:
            t = typing.get_args(t)[0]
        elif origin is Union or isinstance(t, types.UnionType):
            args = [a for a in typing.get_args(t) if a is not type(None)]
            t = args[0] if len(args) == 1 else _pick(args, node)
        else:
            return t


def _pick(models: list[Any], data: Any) -> Any:
    """The union member whose ``type`` literal matches the data's ``type``."""
    tag = data.get("type") if isinstance(data, dict) else None
    for m in models:
        if isinstance(m, type) and issubclass(m, BaseModel) and "type" in m.model_fields:
            if typing.get_args(m.model_fields["type"].annotation) == (tag,):
                return m
    return models[0]


def _model_at(model: Any, data: Any, path: Path_) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at ``path``."""
    t: Any = model
    node = data
    for part in path:
        t = _unwrap(t, node)
        if isinstance(part, int):
            if typing.get_origin(t) is not list or not isinstance(node, list) or part >= len(node):
                return None
            t, node = typing.get_args(t)[0], node[part]
        else:
            if not (isinstance(t, type) and issubclass(t, BaseModel)) or part not in t.model_fields:
                return None
            t, node = t.model_fields[part].annotation, (node.get(part) if isinstance(node, dict) else None)
    t = _unwrap(t, node)
    return t if isinstance(t, type) and issubclass(t, BaseModel) else None


def friendly(err: Any, model: type[BaseModel], data: Any, path: Path_) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, data, path[:-1])
        known = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(str(path[-1]), known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else (f"; known keys: {', '.join(known)}" if known else "")
        return f"unknown key '{path[-1]}'{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown type {ctx.get('tag')!r}; installed plugins provide: {ctx.get('expected_tags')}"
    if kind == "literal_error" and path and path[-1] == "type":
        expected = err.get("ctx", {}).get("expected")
        return f"unknown type {err.get('input')!r}; installed plugins provide: {expected}"
    return str(err["msg"])
