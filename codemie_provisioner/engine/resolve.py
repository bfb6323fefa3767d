"""Resolution: from a spec resource (with markers) to an ARM id and a concrete body.

Why: the spec refers to other resources (`${ref.kv}`, `${ref.aks.out.properties.oidcIssuerProfile.issuerURL}`),
to the target (`${azure.tenant_id}`) and to generated secrets. Ids are known before anything exists (they
follow from names); values Azure fills are known only once the resource exists. Resolution therefore has two
outcomes per field: a concrete value, or "known after apply", which planning shows and applying resolves after
the dependency ran. Fields fed by a secret are reported by path so they are treated as write-only everywhere
(never diffed, stored, planned or logged). The marker walking itself is the spec package's `finish`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..spec.markers import ContextRef, Ref, SecretRef, finish, is_known, iter_markers
from .diff import MISSING, get_path
from .ids import build_id, resource_group_id
from .kinds import KINDS


@dataclass
class Resolved:
    body: dict
    unknown: list[tuple] = field(default_factory=list)     # paths whose value is not known yet
    secret_paths: list[tuple] = field(default_factory=list)


class Resolver:
    """Resolves ids and bodies against known ids and observed bodies (by address)."""

    def __init__(self, specs: dict[str, Any], subscription_id: str, *, tenant_id: str | None = None,
                 secret_value: Callable[[SecretRef], str] | None = None):
        self.specs = specs
        self.subscription_id = subscription_id
        self.tenant_id = tenant_id
        self.observed: dict[str, dict] = {}
        self.ids: dict[str, str] = {}
        self.secret_value = secret_value

    # ids ---------------------------------------------------------------------------------------------
    def id_of(self, address: str) -> str:
        if address not in self.ids:
            self.ids[address] = self._build_id(self.specs[address])
        return self.ids[address]

    def _build_id(self, spec: Any) -> str:
        k = KINDS[spec.kind]
        sub = str(self._known(spec.subscription, spec)) if getattr(spec, "subscription", None) else \
            self.subscription_id
        return build_id(k, self.name_of(spec), subscription_id=sub, rg_id=self._rg(spec, sub),
                        parent_id=self._container(spec.parent, getattr(spec, "parent_id", None)),
                        scope_id=self._container(spec.scope, getattr(spec, "scope_id", None)))

    def _rg(self, spec: Any, sub: str) -> str | None:
        if spec.resource_group:
            return self.id_of(spec.resource_group)
        literal = getattr(spec, "resource_group_name", None)
        return resource_group_id(sub, str(self._known(literal, spec))) if literal else None

    def _container(self, address: str | None, literal: Any) -> str | None:
        if address:
            return self.id_of(address)
        return str(self._known(literal, None)) if literal else None

    def _known(self, value: Any, spec: Any) -> Any:
        got = self.value(value)
        if not is_known(got):
            where = f"{spec.address}: " if spec is not None else ""
            raise ValueError(f"{where}an id depends on a value known only after apply")
        return got

    def name_of(self, spec: Any) -> str:
        name = self.value(spec.name)
        if not is_known(name):
            raise ValueError(f"{spec.address}: the name depends on a value known only after apply")
        return str(name)

    # values ------------------------------------------------------------------------------------------
    def value(self, value: Any) -> Any:
        return finish(value, self._lookup)

    def _lookup(self, marker: Any) -> Any:
        if isinstance(marker, Ref):
            return self._ref(marker)
        if isinstance(marker, ContextRef):
            known = {"subscription_id": self.subscription_id, "tenant_id": self.tenant_id}
            return known.get(marker.name) or marker
        if isinstance(marker, SecretRef) and self.secret_value is not None:
            return self.secret_value(marker)
        return marker

    def _ref(self, ref: Ref) -> Any:
        if ref.attr == "id":
            return self.id_of(ref.address)
        if ref.attr == "name":
            return self.name_of(self.specs[ref.address])
        observed = self.observed.get(ref.address)
        if observed is None:
            return ref
        got = _walk(observed, ref.path)
        return ref if got is MISSING else got

    def body(self, spec: Any) -> Resolved:
        out = Resolved({})
        out.body = self._fields(spec.body, (), out)
        return out

    def _fields(self, value: Any, path: tuple, out: Resolved) -> Any:
        if isinstance(value, dict):
            resolved = {}
            for k, v in value.items():
                key = self._key(k, path, out)
                resolved[key] = self._fields(v, (*path, key), out)
            return resolved
        if any(isinstance(m, SecretRef) for m in iter_markers(value)):
            out.secret_paths.append(path)
        got = self.value(value)
        if not is_known(got) and not any(isinstance(m, SecretRef) for m in iter_markers(value)):
            out.unknown.append(path)
        return got


    def _key(self, key: Any, path: tuple, out: Resolved) -> Any:
        """Map keys may be expressions too (e.g. userAssignedIdentities keyed by an identity's id)."""
        if isinstance(key, str):
            return key
        got = self.value(key)
        if not is_known(got):
            out.unknown.append((*path, str(key)))
            return str(key)
        return str(got)


def _walk(body: Any, path: tuple) -> Any:
    cur = body
    for part in path:
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                return MISSING
            cur = cur[part]
        else:
            cur = get_path(cur, str(part)) if isinstance(cur, dict) else MISSING
        if cur is MISSING:
            return MISSING
    return cur
