"""What every Microsoft.Network type shares: type names, the write protocol, reference checks, address parsing,
inline children and back references. The type modules (`network.py`, `network_security.py`, `network_edge.py`,
`network_endpoints.py`) build their hooks from these parts.

Why: the network is where a deployment first meets Azure's locks and address rules (azure-behaviours.md §10,
§13), and every Network type meets them the same way, so the rules are written once. A writer that finds its
parent (or a locked neighbour) busy gets 409 `AnotherOperationInProgress`. We use the 409 form rather than
Network's 429 `RetryableError` variant because azure-core would silently retry a 429 carrying Retry-After while
the engine owns parent-busy retries (§16). A resource pointing at another one mid-write (a NIC, private endpoint
or Bastion at a subnet) gets 409 `ReferencedResourceNotProvisioned`.

Children that ARM also shows inline (subnets and peerings in a VNet, rules in an NSG, routes in a route table)
are stored as resources of their own; every write of either side refreshes the parent's inline copy. Back
references (`subnets` of an NSG / route table / NAT gateway, `ipConfigurations` of a subnet and of a public IP)
are kept up to date on writes; "in use" checks scan the referring resources instead, so they stay right even
when another module removes a NIC without hooks.

All writes answer 201/200 + Azure-AsyncOperation with an `Updating` body (as recorded Network traffic shows even
for creates); deletes answer 202 with Location + Azure-AsyncOperation; tag PATCHes are synchronous
(azure-mgmt-network 33.1.0, api 2026-03-01): `network_type` holds these facts for every type.
"""

from __future__ import annotations

import ipaddress

from ..model import ArmError, ResourceType, register

API = ("2026-03-01",)
NET = "Microsoft.Network"
VNET = f"{NET}/virtualNetworks"
SUBNET = f"{VNET}/subnets"
PEERING = f"{VNET}/virtualNetworkPeerings"
NSG = f"{NET}/networkSecurityGroups"
RULE = f"{NSG}/securityRules"
ROUTE_TABLE = f"{NET}/routeTables"
ROUTE = f"{ROUTE_TABLE}/routes"
PIP = f"{NET}/publicIPAddresses"
NAT = f"{NET}/natGateways"
BASTION = f"{NET}/bastionHosts"
NIC = f"{NET}/networkInterfaces"
PE = f"{NET}/privateEndpoints"
ZONE_GROUP = f"{PE}/privateDnsZoneGroups"
BUSY = (409, "AnotherOperationInProgress")

# Child types ARM also shows inline in the parent: child type -> parent property (= the URL segment).
INLINE = {SUBNET.lower(): "subnets", PEERING.lower(): "virtualNetworkPeerings", RULE.lower(): "securityRules",
          ROUTE.lower(): "routes"}
# Where a subnet is used: resources of these types that mention the subnet id keep it alive.
SUBNET_USERS = (NIC, PE, BASTION, "Microsoft.DBforPostgreSQL/flexibleServers",
                "Microsoft.ContainerService/managedClusters", "Microsoft.ContainerService/managedClusters/agentPools")
# Associations on an owner -> the back-reference list they add to the referenced resource.
SUBNET_LINKS = (("networkSecurityGroup", "subnets"), ("routeTable", "subnets"), ("natGateway", "subnets"))
NIC_LINKS = (("networkSecurityGroup", "networkInterfaces"),)


def name_rule(low: int, high: int) -> str:
    """Network names: letters, digits, '_', '.', '-'; start with a letter or digit; end with one or '_'."""
    middle = rf"(?:[A-Za-z0-9_.-]{{{max(low - 2, 0)},{high - 2}}}[A-Za-z0-9_])"
    return rf"[A-Za-z0-9]{middle}{'?' if low < 2 else ''}"


def name_hint(low: int, high: int) -> str:
    return (f"The name can be {low}-{high} characters long. It must begin with a letter or digit and end with a "
            "letter, digit or '_'; it may contain letters, digits, '.', '-' and '_'.")


# ---------------------------------------------------------------- small shared helpers


def props_of(body: dict | None) -> dict:
    return dict((body or {}).get("properties") or {})


def ref(obj) -> str | None:
    return obj.get("id") if isinstance(obj, dict) and obj.get("id") else None


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and a.lower() == b.lower()


def parent_of(rid: str) -> str:
    return rid.rsplit("/", 2)[0]


def group_scope(rid: str) -> str:
    cut = rid.lower().find("/providers/")
    return rid[:cut] if cut > 0 else rid


def bad(code: str, message: str, target: str | None = None, status: int = 400) -> ArmError:
    return ArmError(status, code, message, target=target)


def require_ref(ctx, owner: str, target_id: str | None, path: str) -> dict:
    """The referenced resource, or the Network error for a missing id / a missing resource."""
    if not target_id:
        raise bad("MissingJsonReferenceId", f"Value for reference id is missing. Path {path}.", target=path)
    found = ctx.get(target_id)
    if found is None:
        raise bad("InvalidResourceReference", f"Resource {target_id} referenced by resource {owner} was not found. "
                  "Please make sure that the referenced resource exists, and that both resources are in the same "
                  "region.")
    return found


def require_provisioned(ctx, owner: str, target_id: str, found: dict) -> None:
    """A referenced resource mid-operation cannot be used yet (part of the `parent_locks` rule)."""
    if ctx.rule("parent_locks") and ctx.in_progress(target_id):
        state = props_of(found).get("provisioningState")
        raise bad("ReferencedResourceNotProvisioned", f"Cannot proceed with operation because resource "
                  f"{target_id} used by resource {owner} is not in Succeeded state. Resource is in {state} state.",
                  status=409)


def network(prefix: str, owner: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        net = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        raise bad("InvalidAddressPrefixFormat", f"Address prefix {prefix} of resource {owner} is not formatted "
                  "correctly. It should follow CIDR notation, for example 10.0.0.0/24.") from None
    if str(net) != prefix.strip():
        raise bad("InvalidCIDRNotation", f"The address prefix {prefix} in resource {owner} has an invalid CIDR "
                  f"notation. For the given prefix length, the address prefix should be {net}.")
    return net


def prefixes(p: dict) -> list[str]:
    return list(p.get("addressPrefixes") or ([p["addressPrefix"]] if p.get("addressPrefix") else []))


def mentions(value, wanted: str) -> bool:
    """Whether any string inside `value` equals `wanted` (lower-case id)."""
    if isinstance(value, str):
        return value.lower() == wanted
    if isinstance(value, dict):
        return any(mentions(v, wanted) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, wanted) for v in value)
    return False


def referrers(ctx, target_id: str, types: tuple[str, ...], skip: str | None = None) -> list[str]:
    """Ids of resources of `types` that mention `target_id` anywhere in their body."""
    wanted = target_id.lower()
    return [b["id"] for t in types for b in ctx.find(t)
            if not same(b.get("id"), skip) and mentions(b.get("properties"), wanted)]


# ---------------------------------------------------------------- internal writes, inline copies, back references


def save(ctx, body: dict) -> None:
    """Write a resource without the protocol and refresh its parent's inline copy."""
    ctx.put_internal(body["id"], body)
    prop = INLINE.get(str(body.get("type", "")).lower())
    if prop:
        refresh_inline(ctx, body["id"], prop, body)


def inline_entry(child_id: str, child_type: str, props: dict) -> dict:
    return {"id": child_id, "name": child_id.rsplit("/", 1)[-1], "type": child_type,
            "properties": {**props, "provisioningState": "Succeeded"}}


def refresh_inline(ctx, child_id: str, prop: str, child: dict | None) -> None:
    """Put (or, with None, drop) the child's copy in its parent's `properties.<prop>` list."""
    parent = ctx.get(parent_of(child_id))
    if parent is None or str(props_of(parent).get("provisioningState")) == "Deleting":
        return
    name = child_id.rsplit("/", 1)[-1].lower()
    items = [c for c in props_of(parent).get(prop) or [] if str(c.get("name", "")).lower() != name]
    if child is not None:
        items.append(inline_entry(child_id, child["type"], props_of(child)))
    ctx.put_internal(parent["id"], {**parent, "properties": {**props_of(parent), prop: items}})


def link(ctx, target_id: str | None, prop: str, ref_id: str, on: bool, single: bool = False) -> None:
    """Add or remove a back reference `{"id": ref_id}` on `target_id` (a list, or one object if `single`)."""
    found = ctx.get(target_id) if target_id else None
    if found is None:
        return
    p = props_of(found)
    if single:
        if on:
            p[prop] = {"id": ref_id}
        elif same(ref(p.get(prop)), ref_id):
            p.pop(prop, None)
    else:
        items = [r for r in p.get(prop) or [] if not same(ref(r), ref_id)]
        p[prop] = items + ([{"id": ref_id}] if on else [])
    save(ctx, {**found, "properties": p})


def relink(ctx, owner: str, new: dict, old: dict, table: tuple[tuple[str, str], ...]) -> None:
    """Move back references when an owner's associations (e.g. a subnet's NSG) change."""
    for key, back in table:
        before, after = ref(old.get(key)), ref(new.get(key))
        if not same(before, after):
            link(ctx, before, back, owner, False)
            link(ctx, after, back, owner, True)


def check_refs(ctx, owner: str, p: dict, keys: tuple[str, ...]) -> None:
    for key in keys:
        if isinstance(p.get(key), dict):
            require_ref(ctx, owner, ref(p[key]), f"properties.{key}")


def write_inline(ctx, parent_id: str, body: dict, prop: str, child_type: str, fill) -> list[dict]:
    """Children sent inline in a parent PUT become resources: the list is authoritative when present (missing
    children are removed), and existing children are kept when the property is absent."""
    current = {c["name"].lower(): c for c in ctx.children(parent_id, child_type)}
    given = props_of(body).get(prop)
    if given is None:
        return [inline_entry(c["id"], child_type, props_of(c)) for c in current.values()]
    out = []
    for item in given:
        cid = f"{parent_id}/{prop}/{item['name']}"
        old = current.pop(item["name"].lower(), None)
        p = fill(ctx, cid, dict(item.get("properties") or {}), props_of(old))
        ctx.put_internal(cid, {"id": cid, "name": item["name"], "type": child_type, "properties": p})
        out.append(inline_entry(cid, child_type, p))
    for gone in current.values():
        forget_child(ctx, gone)
        ctx.delete_internal(gone["id"])
    return out


def forget_child(ctx, child: dict) -> None:
    """Drop the back references held by an inline child that its parent's PUT removed."""
    if str(child.get("type", "")).lower() == SUBNET.lower():
        relink(ctx, child["id"], {}, props_of(child), SUBNET_LINKS)


# ---------------------------------------------------------------- hooks and facts shared by several types


def keep_backrefs(p: dict, old: dict, keys: tuple[str, ...]) -> dict:
    """Server-owned back references survive a PUT."""
    return {**p, **{k: old[k] for k in keys if k in old}}


def refuse_if_used(code: str, what: str, types: tuple[str, ...]):
    """before_delete hook: refuse while anything of `types` still refers to the resource."""
    def before_delete(ctx, rid: str, body: dict) -> None:
        users = referrers(ctx, rid, types) if ctx.rule("validation") else []
        if users:
            raise bad(code, f"{what} {rid} can not be deleted since it is still in use by resource {users[0]}. "
                      "In order to delete it, remove all references to it first.")
    return before_delete


def network_type(type_name: str, duration: str | None, low: int = 1, high: int = 80, **facts) -> ResourceType:
    """A Microsoft.Network type: async PUT and DELETE, synchronous tag PATCH, Network naming rules."""
    base = dict(api_versions=API, put="async_op", patch="sync", delete="async", duration=duration, busy=BUSY,
                pending_state="Updating", name_rule=name_rule(low, high), name_hint=name_hint(low, high))
    return register(ResourceType(type=type_name, **{**base, **facts}))
