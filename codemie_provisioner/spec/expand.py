"""From declarations to resource instances: for_each/count, field evaluation, refs, secrets.

Why: the engine works on instances with final addresses (`subnets["SystemSubnet"]`), ARM-shaped bodies and
explicit links to parent, group and scope. Expansion happens in two passes: first every resource's instances
are known (for_each/count/enabled may only use variables), so the second pass can check each `${ref...}`
against real addresses, including instance keys, while evaluating fields.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from .expr import NO_INDEX, ExprError, Scope, evaluate
from .markers import Call, Ref, Template, is_known
from .model import KindInfo, ResourceSpec, SecretSpec, SourceLine, StateSpec
from .schema import ResourceDecl, SecretDecl, SpecFile
from .yamlsrc import PathT, Source

KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# resource field -> key in the ARM body
BODY_FIELDS = (("location", "location"), ("tags", "tags"), ("sku", "sku"), ("identity", "identity"),
               ("arm_kind", "kind"), ("zones", "zones"), ("properties", "properties"))
SECRET_FIELDS = {"password": (None,), "ssh_key": (None, "public_key", "private_key")}
_KEYVAULT = "microsoft.keyvault/vaults"
_STORAGE = "microsoft.storage/storageaccounts"


class DisabledRef(ExprError):
    """A reference to a resource switched off with `enabled: false` (outputs using one are left out)."""


@dataclass
class Declared:
    key: str
    phase: str
    phase_index: int
    decl: ResourceDecl
    base: PathT
    instances: list[tuple[Any, dict | None, str]]     # (each key, each, address)
    multi: bool


def evaluate_at(source: Source, value: Any, scope: Scope, path: PathT, label: str = "") -> Any:
    try:
        return evaluate(value, scope, path)
    except ExprError as exc:
        raise source.error(exc.path or path, f"{label}{exc.message}") from None


def suggest(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


class Expander:
    def __init__(self, source: Source, spec: SpecFile, variables: Mapping[str, Any],
                 kinds: Mapping[str, KindInfo]) -> None:
        self.source, self.spec, self.variables, self.kinds = source, spec, variables, kinds
        self.declared: dict[str, Declared] = {}
        self.disabled: dict[str, str] = {}

    def var(self, name: str) -> Any:
        if name not in self.variables:
            raise ExprError(f"unknown variable '{name}'{suggest(name, self.variables)}")
        return self.variables[name]

    def var_scope(self, where: str) -> Scope:
        return Scope(var=self.var, where=where)

    # ---- pass 1: declarations and instances --------------------------------------------------------------

    def declare(self) -> None:
        phase_names: set[str] = set()
        for pi, phase in enumerate(self.spec.phases):
            if phase.name in phase_names:
                raise self.source.error(("phases", pi, "name"), f"phase '{phase.name}' is declared twice")
            phase_names.add(phase.name)
            phase_on = self._flag(phase.enabled, ("phases", pi, "enabled"))
            for key, decl in phase.resources.items():
                self._declare_one(pi, phase.name, key, decl, phase_on)

    def _declare_one(self, pi: int, phase: str, key: str, decl: ResourceDecl, phase_on: bool) -> None:
        base = ("phases", pi, "resources", key)
        if not KEY.fullmatch(key):
            raise self.source.error(base, f"resource key '{key}' must be letters, digits and '_', "
                                          "not starting with a digit")
        if key in self.declared or key in self.disabled:
            raise self.source.error(base, f"resource '{key}' is declared twice")
        if decl.kind not in self.kinds:
            raise self.source.error((*base, "kind"), f"unknown kind '{decl.kind}'{suggest(decl.kind, self.kinds)}")
        if not (phase_on and self._flag(decl.enabled, (*base, "enabled"))):
            self.disabled[key] = phase
            return
        instances, multi = self._instances(key, decl, base)
        self.declared[key] = Declared(key, phase, pi, decl, base, instances, multi)

    def _flag(self, value: Any, path: PathT) -> bool:
        value = evaluate_at(self.source, value, self.var_scope("enabled"), path)
        if not isinstance(value, bool):
            raise self.source.error(path, f"enabled must be true or false, got {value!r}")
        return value

    def _instances(self, key: str, decl: ResourceDecl, base: PathT) -> tuple[list, bool]:
        if decl.for_each is not None and decl.count is not None:
            raise self.source.error((*base, "count"), "use for_each or count, not both")
        if decl.for_each is not None:
            path = (*base, "for_each")
            coll = evaluate_at(self.source, decl.for_each, self.var_scope("for_each"), path)
            if isinstance(coll, dict):
                return [(str(k), {"key": str(k), "value": v, "index": i}, f"{key}[{json.dumps(str(k))}]")
                        for i, (k, v) in enumerate(coll.items())], True
            if isinstance(coll, list):
                return [(i, {"key": i, "value": v, "index": i}, f"{key}[{i}]") for i, v in enumerate(coll)], True
            raise self.source.error(path, f"for_each needs a map or a list, got {type(coll).__name__} {coll!r}")
        if decl.count is not None:
            path = (*base, "count")
            n = evaluate_at(self.source, decl.count, self.var_scope("count"), path)
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise self.source.error(path, f"count needs a whole number >= 0, got {n!r}")
            return [(i, {"index": i}, f"{key}[{i}]") for i in range(n)], True
        return [(None, None, key)], False

    # ---- refs and secrets ------------------------------------------------------------------------------

    def ref_resolver(self, phase_index: int | None) -> Callable[[str, Any], str]:
        def resolve(name: str, index: Any) -> str:
            target = self.declared.get(name)
            if target is None:
                if name in self.disabled:
                    raise DisabledRef(f"ref.{name}: that resource is disabled (enabled: false)")
                raise ExprError(f"ref.{name}: no resource '{name}' is declared{suggest(name, self.declared)}")
            if phase_index is not None and target.phase_index > phase_index:
                raise ExprError(f"ref.{name} is in a later phase ('{target.phase}'); a resource may only "
                                "refer to its own or earlier phases")
            return _instance_address(target, name, index)
        return resolve

    def check_secret(self, name: str, field: str | None) -> None:
        decl = self.spec.secrets.get(name)
        if decl is None:
            raise ExprError(f"unknown secret '{name}' (declared: {', '.join(self.spec.secrets) or 'none'})")
        if field not in SECRET_FIELDS[decl.generate]:
            fields = " or ".join(f"secret.{name}" + (f".{f}" if f else "") for f in SECRET_FIELDS[decl.generate])
            raise ExprError(f"secret.{name} is a generated {decl.generate}; use {fields}")

    def full_scope(self, where: str, phase_index: int | None, each: dict | None = None) -> Scope:
        return Scope(var=self.var, where=where, each=each, ref=self.ref_resolver(phase_index),
                     secret=self.check_secret)

    # ---- pass 2: instances -----------------------------------------------------------------------------

    def build(self, d: Declared, each_key: Any, each: dict | None, address: str) -> ResourceSpec:
        scope = self.full_scope(f"resource {address}", d.phase_index, each)
        label = f"{address}: " if d.multi else ""

        def field(name: str) -> Any:
            return evaluate_at(self.source, getattr(d.decl, name), scope, (*d.base, name), label)

        links = {name: self._link(field(name), (*d.base, name), label)
                 for name in ("parent", "resource_group", "scope")}
        body = {arm: value for name, arm in BODY_FIELDS if (value := field(name)) is not None}
        self._check_tags(body.get("tags"), (*d.base, "tags"), label)
        return ResourceSpec(
            address=address, phase=d.phase, kind=d.decl.kind, name=self._name(field("name"), d, label),
            body=body, source=SourceLine(self.source.file, self.source.line(d.base)), declared=d.key,
            key=each_key, parent=links["parent"][0], parent_id=links["parent"][1],
            resource_group=links["resource_group"][0], resource_group_name=links["resource_group"][1],
            scope=links["scope"][0], scope_id=links["scope"][1],
            subscription=self._subscription(field("subscription"), d, label),
            depends_on=self._depends_on(field("depends_on"), (*d.base, "depends_on"), label))

    def _subscription(self, value: Any, d: Declared, label: str) -> Any:
        """Only a resource group names its subscription; what it holds follows it through its id."""
        if value in (None, ""):
            return None
        if d.decl.kind != "resource_group":
            raise self.source.error((*d.base, "subscription"), f"{label}only a resource_group takes a "
                                    "subscription; other resources follow their group")
        if isinstance(value, str) and not re.fullmatch(r"[0-9a-fA-F-]{36}", value):
            raise self.source.error((*d.base, "subscription"), f"{label}'{value}' is not a subscription id")
        return value

    def _name(self, name: Any, d: Declared, label: str) -> Any:
        path = (*d.base, "name")
        if name is None:
            fixed = getattr(self.kinds[d.decl.kind], "fixed_name", None)
            if fixed:
                return fixed
            raise self.source.error(path, f"{label}required field is missing")
        if not isinstance(name, str | Template | Ref | Call):
            raise self.source.error(path, f"{label}name must be a string, got {name!r}")
        return name

    def _link(self, value: Any, path: PathT, label: str) -> tuple[str | None, Any]:
        """-> (address of a managed resource, literal id/name) for parent/resource_group/scope."""
        if value is None:
            return None, None
        if isinstance(value, Ref):
            if value.attr == "out":
                raise self.source.error(path, f"{label}expected ${{ref.<address>}}, not an output path")
            return value.address, None
        if isinstance(value, str | Template | Call):
            return None, value
        raise self.source.error(path, f"{label}expected ${{ref.<address>}} or an id/name, got {value!r}")

    def _check_tags(self, tags: Any, path: PathT, label: str) -> None:
        if tags is None or not is_known(tags):
            return
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise self.source.error(path, f"{label}tags must be a map of strings, got {json.dumps(tags)[:60]}")

    def _depends_on(self, items: list[Any], path: PathT, label: str) -> tuple[str, ...]:
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, Ref):
                raise self.source.error((*path, i), f"{label}depends_on entries must be ${{ref.<address>}}, "
                                                    f"got {str(item)!r}")
            out.append(item.address)
        return tuple(dict.fromkeys(out))

    def build_all(self) -> tuple[list[ResourceSpec], dict[str, PathT]]:
        """Every instance, plus the declaration path of each address (for later errors)."""
        resources, bases = [], {}
        for d in self.declared.values():
            for each_key, each, address in d.instances:
                resources.append(self.build(d, each_key, each, address))
                bases[address] = d.base
        return resources, bases

    def state(self) -> StateSpec | None:
        if self.spec.state is None:
            return None
        path = ("state", "backend")
        backend = evaluate_at(self.source, self.spec.state.backend, self.full_scope("state", None), path)
        address, literal = self._link(backend, path, "")
        self._expect_type(address, _STORAGE, path, "backend must be a storage account")
        return StateSpec(address, literal, self.spec.state.container)

    def _expect_type(self, address: str | None, arm_type: str, path: PathT, what: str) -> None:
        target = self.declared.get(address or "")
        if target is not None and self.kinds[target.decl.kind].arm_type.lower() != arm_type:
            raise self.source.error(path, f"{what}, but {address} is a {target.decl.kind}")

    def outputs(self) -> dict[str, Any]:
        """Evaluated outputs; an output that refers to a disabled resource is left out."""
        scope, out = self.full_scope("outputs", None), {}
        for name, value in self.spec.outputs.items():
            try:
                out[name] = evaluate(value, scope, ("outputs", name))
            except DisabledRef:
                continue
            except ExprError as exc:
                raise self.source.error(exc.path, exc.message) from None
        return out

    def secret(self, name: str, decl: SecretDecl) -> SecretSpec:
        base = ("secrets", name)
        scope = self.full_scope("secrets", None)
        scope.secret = None
        vault = evaluate_at(self.source, decl.vault, scope, (*base, "vault"))
        address, vault_id = self._link(vault, (*base, "vault"), "")
        self._expect_type(address, _KEYVAULT, (*base, "vault"), "vault must be a Key Vault")
        secret_name = evaluate_at(self.source, decl.name, scope, (*base, "name"))
        if not isinstance(secret_name, str | Template):
            raise self.source.error((*base, "name"), f"name must be a string, got {secret_name!r}")
        return SecretSpec(name, decl.generate, decl.length, address, vault_id, secret_name,
                          SourceLine(self.source.file, self.source.line(base)))


def _instance_address(target: Declared, name: str, index: Any) -> str:
    if not target.multi:
        if index is not NO_INDEX:
            raise ExprError(f"ref.{name} has no for_each or count; drop the [{json.dumps(index)}]")
        return target.instances[0][2]
    keys = {k: address for k, _, address in target.instances}
    if index is NO_INDEX:
        example = json.dumps(next(iter(keys), "key"))
        raise ExprError(f"ref.{name} has several instances; pick one, e.g. ref.{name}[{example}]")
    if index not in keys:
        shown = ", ".join(json.dumps(k) for k in keys) or "none"
        raise ExprError(f"ref.{name}[{json.dumps(index)}]: no such instance (have: {shown})")
    return keys[index]


def fail_for(source: Source, bases: Mapping[str, PathT]) -> Callable[[ResourceSpec, tuple, str], SpecError]:
    """A `fail(resource, body path, message)` for checks: the error lands on the declaration's field."""
    def fail(res: ResourceSpec, path: tuple, message: str) -> SpecError:
        path = ("arm_kind", *path[1:]) if path[:1] == ("kind",) else path
        prefix = f"{res.address}: " if res.key is not None else ""
        return source.error((*bases[res.address], *path), prefix + message)
    return fail
