"""The `${...}` expression language: parse, then evaluate against variables, `each`, refs and secrets.

Why: a spec is data, but names, ranges and wiring between resources need small computations. The language
is deliberately tiny (paths, literals, lists and pure function calls; no operators, no conditionals), so every
expression can be checked before any Azure call and any unknown part becomes a typed marker (see markers.py).
A string that is exactly one `${...}` keeps the value's type; anything else is interpolated into a string.
`$${` writes a literal `${`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .functions import FunctionError, call_function, check_arity, to_text
from .markers import Call, ContextRef, Ref, SecretRef, Template, is_known
from .yamlsrc import PathT

NO_INDEX = object()
CONTEXT_NAMES = ("subscription_id", "tenant_id")
ROOTS = ("var", "each", "ref", "secret", "azure")
_TOKEN = re.compile(r"""\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
                    r"""|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[.\[\](),]))""")


class ExprError(ValueError):
    """An expression problem; `path` is where in the data it sits (filled while walking)."""

    def __init__(self, message: str, path: PathT = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass
class Scope:
    """What an expression may see. `ref`/`secret` None means that root is not allowed here (`where`)."""

    var: Callable[[str], Any]
    where: str
    each: dict[str, Any] | None = None
    ref: Callable[[str, Any], str] | None = None
    secret: Callable[[str, str | None], None] | None = None


# ---- parsing ---------------------------------------------------------------------------------------------

def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"cannot read '{text[pos:].strip()[:20]}' in expression '{text.strip()}'")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.pos = text.strip(), _tokenize(text), 0

    def fail(self, what: str) -> ExprError:
        return ExprError(f"{what} in expression '{self.text}'")

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise self.fail("unexpected end")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def expect(self, op: str) -> None:
        kind, value = self.take()
        if value != op or kind != "op":
            raise self.fail(f"expected '{op}' but found '{value}'")

    def parse(self) -> tuple:
        if not self.tokens:
            raise ExprError("empty expression '${}'")
        node = self.expr()
        if self.pos < len(self.tokens):
            raise self.fail(f"unexpected '{self.peek()}'")
        return node

    def items(self, close: str) -> list[tuple]:
        out: list[tuple] = []
        while self.peek() != close:
            out.append(self.expr())
            if self.peek() != close:
                self.expect(",")
        self.take()
        return out

    def expr(self) -> tuple:
        kind, value = self.take()
        if kind == "num":
            return ("lit", float(value) if "." in value else int(value))
        if kind == "str":
            return ("lit", re.sub(r"\\(.)", r"\1", value[1:-1]))
        if value == "[":
            return ("list", self.items("]"))
        if kind != "name":
            raise self.fail(f"unexpected '{value}'")
        if value in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[value])
        if self.peek() == "(":
            self.take()
            return ("call", value, self.items(")"))
        return ("path", value, self.steps())

    def steps(self) -> list[tuple]:
        steps: list[tuple] = []
        while self.peek() in (".", "["):
            if self.take()[1] == "[":
                steps.append(("index", self.expr()))
                self.expect("]")
                continue
            kind, value = self.take()
            if kind not in ("name", "num"):
                raise self.fail(f"expected a name after '.' but found '{value}'")
            steps.append(("attr", int(value) if kind == "num" else value))
        return steps


@lru_cache(maxsize=4096)
def parse(text: str) -> tuple:
    return _Parser(text).parse()


def split_template(text: str) -> list[Any]:
    """'a-${x}-b' -> ['a-', <ast>, '-b'] (string parts and parsed expressions, alternating)."""
    parts: list[Any] = [""]
    pos = 0
    while pos < len(text):
        if text.startswith("$${", pos):
            parts[-1] += "${"
            pos += 3
        elif text.startswith("${", pos):
            end = _closing_brace(text, pos + 2)
            parts += [parse(text[pos + 2:end]), ""]
            pos = end + 1
        else:
            parts[-1] += text[pos]
            pos += 1
    return parts


def _closing_brace(text: str, pos: int) -> int:
    quote = None
    while pos < len(text):
        ch = text[pos]
        if quote:
            quote = None if ch == quote else quote
            pos += 2 if ch == "\\" else 1
            continue
        if ch == "}":
            return pos
        quote = ch if ch in "'\"" else None
        pos += 1
    raise ExprError(f"unclosed '${{' in '{text}'")


# ---- evaluation ------------------------------------------------------------------------------------------

def evaluate(value: Any, scope: Scope, path: PathT = ()) -> Any:
    """Evaluate every string in `value` (dicts and lists walked, keys too: ARM keys some maps by resource id);
    errors carry the path where they happened."""
    if isinstance(value, dict):
        return {_key(evaluate(k, scope, (*path, k)), (*path, k)): evaluate(v, scope, (*path, k))
                for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, scope, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    try:
        return _interpolate(split_template(value), scope)
    except FunctionError as exc:
        raise ExprError(str(exc), path) from None
    except ExprError as exc:
        exc.path = exc.path or path
        raise


def _key(key: Any, path: PathT) -> Any:
    if isinstance(key, dict | list):
        raise ExprError("a map key must be a string, not a map or list", path)
    return key


def _interpolate(parts: list[Any], scope: Scope) -> Any:
    if len(parts) == 3 and parts[0] == "" and parts[2] == "":
        return _eval(parts[1], scope)
    out: list[Any] = []
    for i, part in enumerate(parts):
        value = part if i % 2 == 0 else _eval(part, scope)
        pieces = value.parts if isinstance(value, Template) else (value,)
        for piece in pieces:
            piece = piece if not is_known(piece) else to_text(piece)
            if isinstance(piece, str) and out and isinstance(out[-1], str):
                out[-1] += piece
            elif piece != "":
                out.append(piece)
    if all(isinstance(p, str) for p in out):
        return "".join(out)
    return Template(tuple(out))


def _eval(node: tuple, scope: Scope) -> Any:
    if node[0] == "lit":
        return node[1]
    if node[0] == "list":
        return [_eval(n, scope) for n in node[1]]
    if node[0] == "call":
        check_arity(node[1], len(node[2]))
        args = [_eval(n, scope) for n in node[2]]
        if is_known(args) or node[1] == "role":
            return call_function(node[1], args)
        return Call(node[1], tuple(args))
    root, steps = node[1], node[2]
    handler = _ROOT_HANDLERS.get(root)
    if handler is None:
        raise ExprError(f"unknown name '{root}' (expressions start with {', '.join(ROOTS)} or a function call)")
    return handler(steps, scope)


def _first_attr(steps: list[tuple], root: str) -> str:
    if not steps or steps[0][0] != "attr" or not isinstance(steps[0][1], str):
        raise ExprError(f"'{root}' must be followed by '.name'")
    return steps[0][1]


def _walk(value: Any, steps: list[tuple], label: str, scope: Scope) -> Any:
    for kind, arg in steps:
        key = arg if kind == "attr" else _eval(arg, scope)
        if _has(value, key):
            value = value[key]
        elif isinstance(value, dict | list):
            raise ExprError(f"{label} has no {'key' if isinstance(value, dict) else 'index'} {json.dumps(key)}")
        else:
            raise ExprError(f"{label} is {_type_name(value)}, it has no {json.dumps(key)}")
        label += f".{key}" if kind == "attr" else f"[{json.dumps(key)}]"
    return value


def _has(value: Any, key: Any) -> bool:
    if isinstance(value, dict):
        return key in value
    return isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool) \
        and -len(value) <= key < len(value)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a bool", int: "a number", float: "a number", str: "a string"}.get(type(value), "unknown")


def _eval_var(steps: list[tuple], scope: Scope) -> Any:
    name = _first_attr(steps, "var")
    return _walk(scope.var(name), steps[1:], f"var.{name}", scope)


def _eval_each(steps: list[tuple], scope: Scope) -> Any:
    attr = _first_attr(steps, "each")
    if scope.each is None:
        raise ExprError(f"each.{attr} is only available in a resource with for_each or count")
    if attr not in scope.each:
        hint = "each.index (count gives no key or value)" if "key" not in scope.each else "each.key, each.value"
        raise ExprError(f"each.{attr} is not available here; use {hint}")
    return _walk(scope.each[attr], steps[1:], f"each.{attr}", scope)


def _eval_ref(steps: list[tuple], scope: Scope) -> Any:
    name = _first_attr(steps, "ref")
    if scope.ref is None:
        raise ExprError(f"ref.{name}: references to resources are not allowed in {scope.where}")
    rest, index = steps[1:], NO_INDEX
    if rest and rest[0][0] == "index":
        index, rest = _eval(rest[0][1], scope), rest[1:]
    address = scope.ref(name, index)
    if not rest:
        return Ref(address)
    attr = rest[0][1]
    if attr in ("id", "name") and len(rest) == 1:
        return Ref(address, attr)
    if attr != "out":
        raise ExprError(f"ref.{name}: expected .id, .name or .out.<path> after the address, got '.{attr}'")
    path = tuple(arg if kind == "attr" else _eval(arg, scope) for kind, arg in rest[1:])
    if not path or not all(isinstance(p, str | int) for p in path):
        raise ExprError(f"ref.{name}.out needs a path of names or indexes, e.g. .out.properties.principalId")
    return Ref(address, "out", path)


def _eval_secret(steps: list[tuple], scope: Scope) -> SecretRef:
    name = _first_attr(steps, "secret")
    if scope.secret is None:
        raise ExprError(f"secret.{name}: secrets are not allowed in {scope.where}")
    field = steps[1][1] if len(steps) > 1 else None
    if len(steps) > 2 or (len(steps) == 2 and steps[1][0] != "attr"):
        raise ExprError(f"secret.{name}: only one field may follow a secret name")
    scope.secret(name, field)
    return SecretRef(name, field)


def _eval_azure(steps: list[tuple], scope: Scope) -> ContextRef:
    name = _first_attr(steps, "azure")
    if name not in CONTEXT_NAMES or len(steps) > 1:
        raise ExprError(f"azure.{name} is unknown (known: {', '.join('azure.' + n for n in CONTEXT_NAMES)})")
    return ContextRef(name)


_ROOT_HANDLERS: dict[str, Callable[[list[tuple], Scope], Any]] = {
    "var": _eval_var, "each": _eval_each, "ref": _eval_ref, "secret": _eval_secret, "azure": _eval_azure,
}
