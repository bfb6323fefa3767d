"""YAML with a line number for every value, so any later check can point at the line that caused it.

Why: PyYAML's constructors drop positions. We compose the node tree and build plain Python data ourselves,
recording the line of each mapping key (or sequence item) under its path, e.g.
("phases", 1, "resources", "aks_vnet"). Building it ourselves is also where duplicate keys are refused:
PyYAML would silently keep the last one.

`${...}` expressions may be written unquoted even inside flow collections (`{addressPrefix: ${each.value}}`,
`[${ref.a}]`), where YAML would read their braces as structure: before parsing, each single-line expression
is swapped for a plain placeholder (lines do not move), and put back, unescaped as its scalar's quoting
requires, when the value is built.
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
    protected, raws = protect_expressions(text)
    loader = yaml.SafeLoader(protected)
    try:
        node = loader.get_single_node()
        source = Source(file, None)
        if node is not None:
            source.lines[()] = node.start_mark.line + 1
            source.data = _Builder(source, loader, raws).build(node, ())
        return source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SpecError(file, line, "", f"invalid YAML: {exc.problem or exc.context}") from None
    finally:
        loader.dispose()


_PLACEHOLDER = "__codemie_expr_{}__"
_PLACEHOLDER_RE = re.compile(r"__codemie_expr_(\d+)__")


def protect_expressions(text: str) -> tuple[str, list[str]]:
    """Swap every single-line `${...}` (not `$${`) for a placeholder; -> (text, the expressions in order)."""
    out, raws, pos = [], [], 0
    while (start := text.find("${", pos)) != -1:
        end = None if text[start - 1:start] == "$" else _expression_end(text, start + 2)
        if end is None:
            out.append(text[pos:start + 2])
            pos = start + 2
            continue
        out += [text[pos:start], _PLACEHOLDER.format(len(raws))]
        raws.append(text[start:end + 1])
        pos = end + 1
    out.append(text[pos:])
    return "".join(out), raws


def _expression_end(text: str, pos: int) -> int | None:
    """Index of the `}` closing an expression that starts at `pos`, or None if the line ends first."""
    quote = None
    while pos < len(text) and text[pos] != "\n":
        ch = text[pos]
        if ch == "\\":
            pos += 2
            continue
        if quote:
            quote = None if ch == quote else quote
        elif ch == "}":
            return pos
        elif ch in "'\"":
            quote = ch
        pos += 1
    return None


class _Builder:
    def __init__(self, source: Source, loader: yaml.SafeLoader, raws: list[str]) -> None:
        self.source, self.loader, self.raws = source, loader, raws

    def build(self, node: yaml.Node, path: PathT) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.source.lines[(*path, i)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, i)))
            return items
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        value = self.loader.construct_object(node, deep=True)
        if not isinstance(value, str) or "__codemie_expr_" not in value:
            return value
        return _PLACEHOLDER_RE.sub(lambda m: _unquote(self.raws[int(m[1])], node.style), value)

    def mapping(self, node: yaml.MappingNode, path: PathT) -> dict:
        out: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.update(self.merge(value_node, path))
                continue
            key = self.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | float) or isinstance(key, bool):
                key = str(key) if key is not None else str(self.build(key_node, path))
            line = key_node.start_mark.line + 1
            if key in out:
                raise SpecError(self.source.file, line, fmt_path((*path, str(key))),
                                f"duplicate key '{key}' (first at line {self.source.lines[(*path, key)]})")
            self.source.lines[(*path, key)] = line
            out[key] = self.build(value_node, (*path, key))
        return {**merged, **out}

    def merge(self, node: yaml.Node, path: PathT) -> dict:
        """The mapping(s) behind a `<<:` merge key; merged keys point at the anchor, explicit keys win."""
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[Any, Any] = {}
        scratch = _Builder(Source(self.source.file, None), self.loader, self.raws)
        for item in reversed(nodes):
            value = scratch.build(item, path)
            if not isinstance(value, dict):
                raise SpecError(self.source.file, item.start_mark.line + 1, fmt_path(path),
                                "'<<' merges mappings only")
            merged.update(value)
        for key, line in scratch.source.lines.items():
            self.source.lines.setdefault(key, line)
        return merged


def _unquote(raw: str, style: str | None) -> str:
    """An expression as the scalar's quoting means it (`\\"` in double quotes, `''` in single quotes)."""
    if style == '"':
        try:
            return yaml.safe_load(f'"{raw}"')
        except yaml.YAMLError:           # e.g. "${ref.x["k"]}": the placeholder let YAML accept it; keep as written
            return raw
    return raw.replace("''", "'") if style == "'" else raw
