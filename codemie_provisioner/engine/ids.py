"""Azure resource ids: built from the spec, and turned back into the positional arguments of SDK calls.

Why: the engine keys everything by ARM id (state, drift, locks), while the typed azure-mgmt operations take
(resource_group, parent names..., name). Deriving the arguments from the id keeps the kinds table free of
per-kind argument code; the few kinds whose calls differ name an argument style here.
"""

from __future__ import annotations

from .kinds import Kind


def resource_group_id(subscription_id: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{name}"


def build_id(k: Kind, name: str, *, subscription_id: str, rg_id: str | None = None,
             parent_id: str | None = None, scope_id: str | None = None) -> str:
    """The ARM id of a resource of kind `k` called `name` under the given container."""
    name = k.fixed_name or name
    if k.scope == "subscription":
        return resource_group_id(subscription_id, name)
    if k.scope == "rg":
        return f"{_need(rg_id, 'resource group')}/providers/{k.arm_type}/{name}"
    if k.scope == "parent":
        return f"{_need(parent_id, 'parent')}/{k.resolved_child_path().format(name=name)}"
    return f"{_need(scope_id, 'scope').rstrip('/')}/providers/{k.arm_type}/{name}"


def _need(value: str | None, what: str) -> str:
    if not value:
        raise ValueError(f"a {what} id is required")
    return value


def split_scope(resource_id: str) -> tuple[str, str]:
    """Extension resource id -> (scope, name): everything before the last '/providers/'."""
    head, _, tail = resource_id.rpartition("/providers/")
    return head or "/", tail.rsplit("/", 1)[-1]


def _segments(resource_id: str) -> tuple[str, list[str]]:
    """-> (resource group name, names along the provider path)."""
    parts = resource_id.strip("/").split("/")
    rg = parts[3] if len(parts) > 3 and parts[2].lower() == "resourcegroups" else ""
    if "providers" not in [p.lower() for p in parts]:
        return rg, []
    idx = [p.lower() for p in parts].index("providers")
    tail = parts[idx + 2:]               # drop 'providers' and the namespace
    return rg, tail


def call_args(k: Kind, resource_id: str) -> tuple[str, ...]:
    """Positional arguments (before the body) of the kind's SDK operations for this id."""
    style = k.args
    if style == "subscription":
        return (resource_id.rstrip("/").rsplit("/", 1)[-1],)
    if style == "scope":
        return split_scope(resource_id)
    rg, tail = _segments(resource_id)
    names = tail[1::2]
    if style == "skip_last":
        return (rg, *names[:-1])
    if style == "skip_default":
        return (rg, *[n for t, n in zip(tail[0::2], names, strict=True) if t.lower() != "blobservices"])
    if style == "record_set":
        return (rg, names[0], tail[2], names[1])
    return (rg, *names)


def parent_of(resource_id: str) -> str:
    """The id one level up (for child resources)."""
    return resource_id.rstrip("/").rsplit("/", 2)[0]


def ancestor_id(resource_id: str, arm_type: str) -> str | None:
    """The id of the ancestor of the given ARM type inside `resource_id`, e.g. the VNet of a subnet."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return None
    ns, *types = arm_type.split("/")
    start = lowered.index("providers")
    if lowered[start + 1] != ns.lower():
        return None
    pos = start + 2
    for t in types:
        if pos >= len(parts) or lowered[pos] != t.lower():
            return None
        pos += 2
    return "/" + "/".join(parts[:pos])
