"""The resolved deployment: what the engine plans and applies, with every spec-time value filled in.

Why: the engine should never re-read YAML or evaluate expressions; it walks `ResourceSpec`s whose bodies are
already in ARM REST shape, with markers (markers.py) where only Azure or the engine can supply the value.
Each resource keeps its source file and line so later errors can still point at the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .markers import to_data


class KindInfo(Protocol):
    """What the spec needs from a row of the kinds table (engine/kinds.py `Kind` satisfies it)."""

    @property
    def name(self) -> str: ...
    @property
    def arm_type(self) -> str: ...
    @property
    def scope(self) -> str: ...          # subscription | rg | parent | scope
    @property
    def parent_kind(self) -> str | None: ...
    @property
    def name_pattern(self) -> str | None: ...
    @property
    def name_hint(self) -> str: ...
    @property
    def requires_location(self) -> bool: ...


@dataclass(frozen=True)
class SourceLine:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class ResourceSpec:
    """One resource instance. `parent`/`resource_group`/`scope` are addresses of managed resources; the
    `*_id`/`*_name` twins hold a literal (or templated) id or name of something the spec does not manage."""

    address: str                      # e.g. 'aks_vnet' or 'subnets["SystemSubnet"]'
    phase: str
    kind: str
    name: Any                         # str, or a Template/Ref when it depends on other resources
    body: dict[str, Any]              # ARM REST shape: location/tags/sku/identity/kind/zones/properties
    source: SourceLine
    declared: str = ""                # the key under `resources:` (same as address without an instance key)
    key: str | int | None = None      # each.key (for_each) or each.index (count)
    parent: str | None = None
    resource_group: str | None = None
    scope: str | None = None
    parent_id: Any = None
    resource_group_name: Any = None
    scope_id: Any = None
    subscription: Any = None          # resource groups only: another subscription (empty = the target's)
    depends_on: tuple[str, ...] = ()

    @property
    def location(self) -> Any:
        return self.body.get("location")

    @property
    def tags(self) -> Any:
        return self.body.get("tags")

    def to_data(self) -> dict[str, Any]:
        data = {"address": self.address, "phase": self.phase, "kind": self.kind, "name": self.name,
                "parent": self.parent, "resource_group": self.resource_group, "scope": self.scope,
                "parent_id": self.parent_id, "resource_group_name": self.resource_group_name,
                "scope_id": self.scope_id, "subscription": self.subscription, "body": self.body,
                "depends_on": list(self.depends_on)}
        return to_data({k: v for k, v in data.items() if v is not None})


@dataclass(frozen=True)
class SecretSpec:
    """A generated secret: the engine creates it once and stores it in Key Vault under `secret_name`."""

    name: str
    generate: str                     # password | ssh_key
    length: int | None
    vault: str | None                 # address of the managed vault
    vault_id: Any                     # literal vault id when the vault is not managed here
    secret_name: Any
    source: SourceLine

    def to_data(self) -> dict[str, Any]:
        return to_data({"name": self.name, "generate": self.generate, "length": self.length,
                        "vault": self.vault, "vault_id": self.vault_id, "secret_name": self.secret_name})


@dataclass(frozen=True)
class Phase:
    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class StateSpec:
    backend: str | None               # address of the storage account holding snapshots
    backend_id: Any                   # or a literal storage account id
    container: str


@dataclass(frozen=True)
class Deployment:
    name: str
    file: str
    variables: dict[str, Any]
    phases: tuple[Phase, ...]
    resources: tuple[ResourceSpec, ...]
    secrets: dict[str, SecretSpec] = field(default_factory=dict)
    state: StateSpec | None = None
    outputs: dict[str, Any] = field(default_factory=dict)

    def resource(self, address: str) -> ResourceSpec:
        for res in self.resources:
            if res.address == address:
                return res
        raise KeyError(address)

    @property
    def addresses(self) -> list[str]:
        return [r.address for r in self.resources]

    def to_data(self) -> dict[str, Any]:
        """Everything that decides what gets deployed (no line numbers), as JSON-able data."""
        return {"deployment": self.name,
                "phases": [{"name": p.name, "addresses": list(p.addresses)} for p in self.phases],
                "resources": [r.to_data() for r in self.resources],
                "secrets": {k: s.to_data() for k, s in self.secrets.items()},
                "state": to_data(vars(self.state)) if self.state else None,
                "outputs": to_data(self.outputs)}
