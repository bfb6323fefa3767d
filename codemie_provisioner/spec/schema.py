"""The shape of a spec file as pydantic models (extra fields forbidden), before any expression is evaluated.

Why: structure errors (unknown or missing fields, wrong literal types) are best caught by a schema, and
pydantic reports each with a `loc` path that maps straight back to a YAML line (see yamlsrc.Source). Fields
that may hold `${...}` expressions are typed `Any` here; their types are checked after evaluation.
"""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import SpecError
from .yamlsrc import Source

# pydantic error types -> our wording (the rest keep pydantic's message)
_PLAIN = {"model_type": "expected a mapping", "dict_type": "expected a mapping", "list_type": "expected a list",
          "string_type": "expected a string", "int_type": "expected a whole number",
          "int_parsing": "expected a whole number", "int_from_float": "expected a whole number"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariableDecl(_Strict):
    type: Literal["string", "number", "bool", "list", "map", "object", "any"] = "string"
    default: Any = None
    pattern: str | None = None
    allowed: list[Any] | None = None
    env: list[str] = Field(default_factory=list)
    description: str = ""

    @field_validator("env", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class SecretDecl(_Strict):
    generate: Literal["password", "ssh_key"]
    length: int | None = Field(default=None, ge=8, le=4096)
    vault: Any
    name: Any


class StateDecl(_Strict):
    backend: Any = None
    container: str = "tfstate"


class ResourceDecl(_Strict):
    kind: str
    name: Any = None
    for_each: Any = None
    count: Any = None
    enabled: Any = True
    parent: Any = None
    resource_group: Any = None
    scope: Any = None
    subscription: Any = None
    location: Any = None
    tags: Any = None
    sku: Any = None
    identity: Any = None
    arm_kind: Any = None
    zones: Any = None
    properties: Any = None
    depends_on: list[Any] = Field(default_factory=list)
    description: str = ""


class PhaseDecl(_Strict):
    name: str
    enabled: Any = True
    description: str = ""
    resources: dict[str, ResourceDecl] = Field(default_factory=dict)


class SpecFile(_Strict):
    version: Literal[1]
    deployment: Any
    description: str = ""
    variables: dict[str, VariableDecl] = Field(default_factory=dict)
    secrets: dict[str, SecretDecl] = Field(default_factory=dict)
    state: StateDecl | None = None
    phases: list[PhaseDecl]
    outputs: dict[str, Any] = Field(default_factory=dict)


def validate(source: Source) -> SpecFile:
    """The typed file, or the first schema error as a SpecError at its line. Top-level keys starting with
    `x-` are free for YAML anchors (`x-defaults: &defaults {...}`) and otherwise ignored."""
    if not isinstance(source.data, dict):
        raise source.error((), "a spec must be a mapping with version, deployment and phases")
    data = {k: v for k, v in source.data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    try:
        return SpecFile.model_validate(data)
    except ValidationError as exc:
        raise _to_spec_error(source, exc.errors()[0]) from None


def _to_spec_error(source: Source, err: dict) -> SpecError:
    path = _data_path(source.data, err["loc"])
    if err["type"] == "missing":
        return source.error(path, "required field is missing")
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(_model_at(path[:-1]).model_fields)
        return source.error(path, f"unknown field '{path[-1]}' (allowed: {allowed})")
    given = err.get("input")
    shown = f"{given!r}: " if isinstance(given, str | int | float | bool) or given is None else ""
    message = _PLAIN.get(err["type"]) or err["msg"].replace("Input should be", "must be")
    return source.error(path, f"{shown}{message}")


def _data_path(data: Any, loc: tuple) -> tuple:
    """The part of pydantic's `loc` that exists in the data, plus a missing key (drops union tags)."""
    path: list[Any] = []
    for part in loc:
        if isinstance(data, dict) and part in data or isinstance(data, list) and isinstance(part, int):
            path.append(part)
            data = data[part]
            continue
        if isinstance(data, dict) and isinstance(part, str):
            path.append(part)
        break
    return tuple(path)


def _model_at(path: tuple) -> Any:
    """The model class that validates the mapping at `path` (for listing its allowed fields)."""
    model: Any = SpecFile
    skip = False
    for part in path:
        if skip:
            skip = False
            continue
        annotation = model.model_fields[part].annotation
        if get_origin(annotation) in (dict, list):
            model, skip = get_args(annotation)[-1], True
        else:
            model = next((a for a in get_args(annotation) if a is not type(None)), annotation)
    return model
