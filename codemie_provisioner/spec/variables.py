"""Variables: one value per declared knob, from the command line, the environment, or the default.

Why: deployment.conf drives the reference deployment through `TF_VAR_*` variables, so the environment is a
first-class source, with the same meaning as there: an empty value means "not set". Precedence is
CLI (`--var`, `--var-file`, already merged by the caller) > environment (first non-empty name in `env`) >
default. Only defaults may contain expressions (`${var.other}` and functions), so a value a user types is
never evaluated. Values given as text for non-string types are parsed (JSON for list/map/object).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .expr import ExprError, Scope, evaluate
from .markers import is_known
from .schema import VariableDecl
from .yamlsrc import Source

_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "number": (int, float), "bool": (bool,), "list": (list,), "map": (dict,), "object": (dict,),
}


def resolve_variables(source: Source, decls: Mapping[str, VariableDecl], overrides: Mapping[str, Any],
                      environ: Mapping[str, str]) -> dict[str, Any]:
    """Every variable's final value, in declaration order; the first problem raises SpecError."""
    for name in overrides:
        if name not in decls:
            raise source.error(("variables",), f"unknown variable '{name}' given on the command line "
                               f"(declared: {', '.join(decls) or 'none'})")
    resolver = _Resolver(source, decls, overrides, environ)
    return {name: resolver.get(name) for name in decls}


class _Resolver:
    def __init__(self, source: Source, decls: Mapping[str, VariableDecl], overrides: Mapping[str, Any],
                 environ: Mapping[str, str]) -> None:
        self.source, self.decls, self.overrides, self.environ = source, decls, overrides, environ
        self.values: dict[str, Any] = {}
        self.stack: list[str] = []
        self.scope = Scope(var=self._lookup, where="variables")

    def _lookup(self, name: str) -> Any:
        if name not in self.decls:
            raise ExprError(f"unknown variable '{name}' (declared: {', '.join(self.decls) or 'none'})")
        return self.get(name)

    def get(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.stack:
            cycle = [*self.stack[self.stack.index(name):], name]
            raise self.source.error(("variables", cycle[0], "default"), f"variable cycle: {' -> '.join(cycle)}")
        self.stack.append(name)
        try:
            value, path, origin = self._raw(name)
            self.values[name] = _check(self.source, name, self.decls[name], value, path, origin)
        finally:
            self.stack.pop()
        return self.values[name]

    def _raw(self, name: str) -> tuple[Any, tuple, str]:
        """(value, path for errors, where it came from)."""
        decl = self.decls[name]
        if name in self.overrides:
            return self.overrides[name], ("variables", name), "from the command line"
        for env_name in decl.env:
            if self.environ.get(env_name, "") != "":
                return self.environ[env_name], ("variables", name, "env"), f"from ${env_name}"
        if "default" not in decl.model_fields_set:
            hint = f" or set ${decl.env[0]}" if decl.env else ""
            raise self.source.error(("variables", name), f"variable '{name}' has no value: give --var {name}=...{hint}")
        path = ("variables", name, "default")
        try:
            return evaluate(decl.default, self.scope, path), path, ""
        except ExprError as exc:
            raise self.source.error(exc.path, exc.message) from None


def _check(source: Source, name: str, decl: VariableDecl, value: Any, path: tuple, origin: str) -> Any:
    origin = f" ({origin})" if origin else ""
    if not is_known(value):
        return value
    try:
        value = coerce(value, decl.type)
    except ValueError as exc:
        raise source.error(path, f"variable '{name}'{origin}: {exc}") from None
    if decl.pattern is not None and isinstance(value, str) and not re.fullmatch(decl.pattern, value):
        hint = f": {decl.description}" if decl.description else ""
        raise source.error(path, f"variable '{name}'{origin}: {value!r} does not match {decl.pattern}{hint}")
    if decl.allowed is not None and value not in decl.allowed:
        raise source.error(path, f"variable '{name}'{origin}: {value!r} is not one of {decl.allowed}")
    return value


def coerce(value: Any, type_name: str) -> Any:
    """`value` as `type_name`; text is parsed for non-string types; null stays null (an unset optional).
    ValueError says what is wrong."""
    if value is None:
        return None
    if isinstance(value, str) and type_name not in ("string", "any") and "${" not in value:
        value = _parse_text(value, type_name)
    wanted = _PY_TYPES.get(type_name)
    bad_bool = isinstance(value, bool) and type_name == "number"
    if wanted and (not isinstance(value, wanted) or bad_bool):
        raise ValueError(f"expected {type_name}, got {_describe(value)}")
    return value


def _parse_text(text: str, type_name: str) -> Any:
    if type_name == "bool":
        if text.strip().lower() not in _BOOLS:
            raise ValueError(f"expected bool (true/false), got {text!r}")
        return _BOOLS[text.strip().lower()]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        how = "" if type_name == "number" else " written as JSON"
        raise ValueError(f"expected {type_name}{how}, got {text[:60]!r}") from None


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"[:80]
