"""Hooks: the few places where a kind's reconciliation differs from the generic one.

Why: most kinds are fully described by their row in the kinds table. A handful are not: a role assignment is
unique on (scope, principal, role) whatever its name, so an existing one is adopted instead of failing with
RoleAssignmentExists; a soft-deleted Key Vault, OpenAI account or Log Analytics workspace reserves its name,
so the engine recovers it (or says exactly how to get out); a VNet peering locks both VNets, and a private
endpoint locks the resource it connects to. Each hook wraps
one step of the generic reconciler and is named in the kind's `hooks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ..spec.markers import is_known
from .gateway import Gateway
from .ids import ancestor_id, split_scope
from .kinds import Kind

ObserveHook = Callable[[Gateway, Kind, str, dict], "tuple[str, dict] | None"]
PrepareHook = Callable[[Gateway, Kind, str, dict, Callable[[str], None]], dict]


def adopt_role_assignment(gw: Gateway, k: Kind, rid: str, desired: dict) -> tuple[str, dict] | None:
    """Find the assignment by name, else by (scope, principal, role): an existing one is adopted."""
    found = gw.observe(k, rid)
    if found is not None:
        return rid, found
    scope, _ = split_scope(rid)
    props = desired.get("properties", {})
    principal, role = props.get("principalId"), str(props.get("roleDefinitionId", "")).lower()
    if not principal or not role or not is_known(principal):
        return None                     # a principal created by this run cannot hold an assignment yet
    try:
        items = list(gw.operations(k, rid).list_for_scope(scope, filter=f"principalId eq '{principal}'"))
    except ResourceNotFoundError:
        return None                     # the scope itself does not exist yet
    for item in items:
        same_scope = (item.scope or "").lower() == scope.lower()
        same_role = (item.role_definition_id or "").lower().rsplit("/", 1)[-1] == role.rsplit("/", 1)[-1]
        if same_scope and same_role:
            return item.id, gw.observe(k, item.id) or {}
    return None


SOFT_DELETE = {
    # kind.soft_delete -> (get deleted, recovery edit of the body, how to get out by hand)
    "vault": "recover with createMode=recover, or purge it: az keyvault purge --name {name}",
    "cognitive": "recover with restore=true, or purge it: az cognitiveservices account purge -n {name} -g {rg} -l {loc}",
    "workspace": "a PUT with the same name and group recovers it; or delete it with force=true",
}


def recover_soft_deleted(gw: Gateway, k: Kind, rid: str, desired: dict, say: Callable[[str], None]) -> dict:
    """Before a create: if the name sits in the soft-delete bin, recover it instead of failing."""
    name = rid.rsplit("/", 1)[-1]
    location = str(desired.get("location", "")).replace(" ", "").lower()
    deleted = _find_deleted(gw, k, rid, name, location)
    if deleted is None:
        return desired
    body = dict(desired)
    props = dict(body.get("properties", {}))
    if k.soft_delete == "vault":
        props["createMode"] = "recover"
    elif k.soft_delete == "cognitive":
        props["restore"] = True
    body["properties"] = props
    hint = SOFT_DELETE[k.soft_delete].format(name=name, rg=rid.split("/")[4], loc=location)
    say(f"{name} is soft-deleted; recovering it (otherwise: {hint})")
    return body


def _find_deleted(gw: Gateway, k: Kind, rid: str, name: str, location: str) -> Any:
    client = gw.client(k.client)
    try:
        if k.soft_delete == "vault":
            return client.vaults.get_deleted(name, location, cls=lambda r, *_: r.http_response.json())
        if k.soft_delete == "cognitive":
            rg = rid.split("/")[4]
            return client.deleted_accounts.get(location, rg, name, cls=lambda r, *_: r.http_response.json())
        if k.soft_delete == "workspace":
            rg = rid.split("/")[4]
            items = client.deleted_workspaces.list_by_resource_group(rg)
            return next((w for w in items if w.name.lower() == name.lower()), None)
    except (ResourceNotFoundError, HttpResponseError):
        return None
    return None


def peering_locks(rid: str, desired: dict) -> list[str]:
    """A peering write locks its own VNet and the remote one."""
    own = ancestor_id(rid, "Microsoft.Network/virtualNetworks")
    remote = desired.get("properties", {}).get("remoteVirtualNetwork", {}).get("id")
    return [x.lower() for x in (own, remote) if x]


def private_endpoint_locks(rid: str, desired: dict) -> list[str]:
    """Creating a private endpoint writes to its target (a connection on the account, vault, registry):
    Azure refuses other writes on that target meanwhile (RequestConflict, StorageAccountOperationInProgress)."""
    connections = desired.get("properties", {}).get("privateLinkServiceConnections", [])
    targets = [c.get("properties", {}).get("privateLinkServiceId") for c in connections]
    return [t.lower() for t in targets if isinstance(t, str)]


OBSERVE_HOOKS: dict[str, ObserveHook] = {"adopt_role_assignment": adopt_role_assignment}
PREPARE_HOOKS: dict[str, PrepareHook] = {"recover_soft_deleted": recover_soft_deleted}
LOCK_HOOKS = {"peering_locks": peering_locks, "private_endpoint_locks": private_endpoint_locks}
