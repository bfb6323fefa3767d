"""YAML with a line number for every value, so any later check can point at the line that caused it.

Why: PyYAML's constructors drop positions. We compose the node tree and build plain Python data ourselves,
recording the line of each mapping key (or sequence item) under its path, e.g.
("phases", 1, "resources", "aks_vnet"). Building it ourselves is also where duplicate keys are refused:
PyYAML would silently keep the last one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError

PathT = tuple[str | int, ...]
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def fmt_path(path: PathT) -> str:
    """("phases", 1, "resources", "x", "tags", "a.b") -> 'phases[1].resources.x.tags["a.b"]'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out


@dataclass
class Source:
    """Parsed YAML data plus the line of every path in it."""

    file: str
    data: Any
    lines: dict[PathT, int] = field(default_factory=dict)

    def line(self, path: PathT) -> int:
        """The line of `path`, or of its nearest ancestor that exists (missing fields point at their parent)."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def error(self, path: PathT, message: str) -> SpecError:
        return SpecError(self.file, self.line(path), fmt_path(tuple(path)), message)


def load_yaml(path: str | Path, text: str | None = None) -> Source:
    """Read a YAML file (or `text` under that file name) into a `Source`."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(file, 0, "", f"cannot read: {exc.strerror or exc}") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        source = Source(file, None)
        if node is not None:
            source.lines[()] = node.start_mark.line + 1
            source.data = _build(node, (), source, loader)
        return source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SpecError(file, line, "", f"invalid YAML: {exc.problem or exc.context}") from None
    finally:
        loader.dispose()


def _build(node: yaml.Node, path: PathT, source: Source, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(node, path, source, loader)
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            source.lines[(*path, i)] = item.start_mark.line + 1
            items.append(_build(item, (*path, i), source, loader))
        return items
    return loader.construct_object(node, deep=True)


def _build_mapping(node: yaml.MappingNode, path: PathT, source: Source, loader: yaml.SafeLoader) -> dict:
    out: dict[Any, Any] = {}
    merged: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            merged.update(_merge_source(value_node, path, source, loader))
            continue
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) or isinstance(key, bool):
            key = str(key)
        line = key_node.start_mark.line + 1
        if key in out:
            raise SpecError(source.file, line, fmt_path((*path, str(key))),
                            f"duplicate key '{key}' (first at line {source.lines[(*path, key)]})")
        source.lines[(*path, key)] = line
        out[key] = _build(value_node, (*path, key), source, loader)
    return {**merged, **out}


def _merge_source(node: yaml.Node, path: PathT, source: Source, loader: yaml.SafeLoader) -> dict:
    """The mapping(s) behind a `<<:` merge key (an alias or a list of aliases)."""
    nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
    merged: dict[Any, Any] = {}
    for item in reversed(nodes):
        value = _build(item, path, source, loader)
        if not isinstance(value, dict):
            raise SpecError(source.file, item.start_mark.line + 1, fmt_path(path), "'<<' merges mappings only")
        merged.update(value)
    return merged
