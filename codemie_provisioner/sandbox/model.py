"""The contract between the sandbox's generic ARM core and its per-type table.

Why: the sandbox must reproduce many resource types without a copy of the ARM protocol per type. The core
(`sandbox/arm.py`, `sandbox/lro.py`) owns the protocol: routing, ids, api-version, status codes, LROs, locks,
throttling, faults, persistence. A resource type is *data* (a `ResourceType`) plus a few small hooks where it
differs from the default (server-filled fields, validation, delete checks, POST actions).

Per-type modules live in `sandbox/types/<domain>.py` and call `register(ResourceType(...))` at import time;
`sandbox/types/__init__.py` imports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class ArmError(Exception):
    """An ARM error answer: HTTP status plus the ARM error envelope.

    Raise it from any hook; the core turns it into `{"error": {"code", "message", "target", "details"}}`.
    `retry_after` adds a Retry-After header (only where Azure sends one: 429s).
    """

    def __init__(self, status: int, code: str, message: str, *, target: str | None = None,
                 details: list[dict] | None = None, retry_after: float | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details or []
        self.retry_after = retry_after

    def envelope(self) -> dict:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        return {"error": err}


class Ctx(Protocol):
    """What a hook may use. Implemented by the core."""

    subscription_id: str
    tenant_id: str
    base_url: str                      # https://127.0.0.1:<port>
    now: float                         # the sandbox clock, seconds
    method: str                        # the HTTP method of the request being served
    query: dict                        # its query parameters (e.g. `force` on a DELETE)
    headers: dict                      # its headers, lower-case names

    def get(self, resource_id: str) -> dict | None:
        """The stored body (as GET returns it, provisioning finished or not) or None. Case-insensitive."""

    def children(self, parent_id: str, type_name: str | None = None) -> list[dict]:
        """Direct child resources of `parent_id` (optionally only of the full ARM type `type_name`)."""

    def find(self, type_name: str) -> list[dict]:
        """Every stored resource of the full ARM type `type_name` in the subscription."""

    def rule(self, name: str) -> bool:
        """Whether a profile rule is on (`validation`, `soft_delete`, `principal_window`, ...)."""

    def put_internal(self, resource_id: str, body: dict) -> None:
        """Create or replace a resource without the protocol (e.g. a NIC created by a private endpoint)."""

    def delete_internal(self, resource_id: str) -> None:
        """Remove a resource without the protocol."""

    def soft_deleted(self, kind: str) -> dict[str, dict]:
        """The soft-delete bin for `kind` ('vault', 'cognitive', 'workspace'), name(lower) -> record; mutable."""

    def new_guid(self) -> str:
        """A GUID from the sandbox's seeded generator."""

    def created_at(self, resource_id: str) -> float | None:
        """Sandbox-clock time at which the resource was first created (None if unknown)."""

    def setting(self, name: str, default: Any = None) -> Any:
        """A profile setting, e.g. `principal_window_s` (already multiplied by the time scale)."""

    def scaled(self, seconds: float) -> float:
        """Realistic seconds -> sandbox seconds under the current time scale (0 under `instant`)."""

    def in_progress(self, resource_id: str) -> bool:
        """Whether an operation runs on that resource or holds its lock (e.g. a subnet write on a VNet)."""

    # Optional (hooks call it through getattr; a core without it keeps `ResourceType.duration`):
    def use_duration(self, key: str) -> None:
        """Make the operation this request starts take the profile duration `key` instead of the type's
        (e.g. Bastion: `bastion_basic` or `bastion_standard` by SKU)."""


# Hook signatures. `rid` is the resource id as the client sent it; `body` is the request JSON (PUT) or the
# merged JSON (PATCH); `existing` is the stored body or None.
Validate = Callable[[Ctx, str, dict, "dict | None"], None]          # raise ArmError to refuse the PUT
Populate = Callable[[Ctx, str, dict, "dict | None"], dict]           # return the body to store (server fields)
BeforeDelete = Callable[[Ctx, str, dict], None]                      # raise ArmError to refuse the DELETE
AfterDelete = Callable[[Ctx, str, dict], None]                       # e.g. put the name in the soft-delete bin
Action = Callable[[Ctx, str, dict | None, dict], tuple[int, Any]]    # POST {id}/{action}: (status, json body)
ExtraLocks = Callable[[Ctx, str, dict], list[str]]                   # further resource ids a write locks


@dataclass(frozen=True)
class ResourceType:
    """Facts about one ARM resource type, as the generated SDK operation expects them.

    type:          full ARM type in canonical casing, e.g. "Microsoft.Network/virtualNetworks/subnets".
    api_versions:  every api-version the pinned SDK clients send for this type (others -> 400
                   InvalidApiVersionParameter / NoRegisteredProviderFound listing these).
    put:           "sync" | "async_op" | "location" | "body"   (see DESIGN.md). sync answers 201 new / 200 update.
    patch:         same styles as put, or None when the SDK has no PATCH for it.
    delete:        "sync" (200 deleted / 204 absent) | "async" (202 + Location + Azure-AsyncOperation)
                   | "location" (202 + Location).
    duration:      key into the profile's duration table ("aks", "postgres", "bastion_standard", ...); None = 0.
    lock:          serialize writes on this resource's ancestor of the given ARM type (e.g. subnets lock on
                   "Microsoft.Network/virtualNetworks"); "self" locks the resource itself; None = no lock.
    busy:          (status, code) a concurrent writer gets while the lock is held, e.g.
                   (409, "AnotherOperationInProgress"). `busy_retry_after` adds Retry-After (Network 429s).
    location:      whether the body must carry "location".
    name_rule:     regex the last name segment must fullmatch (validated when the `validation` rule is on),
                   with `name_hint` used in the InvalidResourceName / AccountNameInvalid message.
    name_code:     error code for a bad name.
    global_name:   names unique across the whole cloud (storage accounts, vaults, registries); a taken name is
                   409 with `global_name_code`.
    validate/populate/before_delete/after_delete: hooks (see signatures above); all optional.
    actions:       POST sub-paths, e.g. {"listKeys": fn}.
    read_only_props: properties the server owns; ignored in requests and always filled by the server.
    extra_locks:   hook (ctx, rid, body) -> ids of further resources a write locks besides `lock` (a VNet peering
                   also locks the remote VNet); checked and held exactly like `lock`.
    etag:          whether the type carries a weak ETag (header and body `etag`), renewed on every write.
    pending_state: provisioningState shown while an async PUT/PATCH runs (default Creating / Updating).
    """

    type: str
    api_versions: tuple[str, ...]
    put: str = "sync"
    patch: str | None = None
    delete: str = "sync"
    duration: str | None = None
    lock: str | None = None
    busy: tuple[int, str] = (409, "AnotherOperationInProgress")
    busy_retry_after: float | None = None
    location: bool = True
    name_rule: str | None = None
    name_hint: str = ""
    name_code: str = "InvalidResourceName"
    global_name: bool = False
    global_name_code: str = "AlreadyExists"
    validate: Validate | None = None
    populate: Populate | None = None
    before_delete: BeforeDelete | None = None
    after_delete: AfterDelete | None = None
    actions: dict[str, Action] = field(default_factory=dict)
    read_only_props: tuple[str, ...] = ()
    extra_locks: ExtraLocks | None = None
    etag: bool = True
    pending_state: str | None = None


REGISTRY: dict[str, ResourceType] = {}

# Routes that are not plain resources (role-definition lookup, deleted vaults / accounts / workspaces, purge,
# provider registration, ...). handler(ctx, match, query: dict[str, str], body: dict | None)
#   -> (status, json_body_or_None, extra_headers)
Route = Callable[[Ctx, Any, dict, "dict | None"], tuple[int, Any, dict]]
ROUTES: list[tuple[str, Any, Route]] = []

# Data planes served on the same host under a path prefix (Key Vault: "/kv/").
# handler(ctx, method, path_after_prefix, query, headers, raw_body: bytes) -> (status, json_or_None, headers)
DataPlane = Callable[[Ctx, str, str, dict, dict, bytes], tuple[int, Any, dict]]
DATA_PLANES: dict[str, DataPlane] = {}


def route(method: str, pattern: str):
    """Decorator: register a custom route; `pattern` is a case-insensitive regex fullmatched on the path."""
    import re

    def deco(fn: Route) -> Route:
        ROUTES.append((method.upper(), re.compile(pattern, re.IGNORECASE), fn))
        return fn

    return deco


def register_dataplane(prefix: str, handler: DataPlane) -> None:
    DATA_PLANES[prefix] = handler


def register(rt: ResourceType) -> ResourceType:
    """Add a type to the table (keyed case-insensitively by its full ARM type)."""
    REGISTRY[rt.type.lower()] = rt
    return rt


def lookup(type_name: str) -> ResourceType | None:
    return REGISTRY.get(type_name.lower())
