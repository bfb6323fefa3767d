"""Microsoft.Network: virtual networks, subnets, peerings, NSGs, route tables, public IPs, NAT gateways, Bastion,
network interfaces, private endpoints and their private DNS zone groups.

Why: the network is where a deployment first meets Azure's locks and address rules (azure-behaviours.md §10, §13).
Subnets, peerings and subnet associations (NSG, route table, NAT gateway) are written one at a time per VNet, and
a peering holds both its VNet (`lock`) and the remote one (`extra_locks`): a concurrent writer gets 409
`AnotherOperationInProgress`. We use the 409 form rather than Network's 429 `RetryableError` variant because
azure-core would silently retry a 429 carrying Retry-After while the engine owns parent-busy retries (§16). A NIC,
private endpoint or Bastion pointing at a subnet mid-write gets 409 `ReferencedResourceNotProvisioned`. Prefixes
must sit inside the VNet and not overlap (`NetcfgSubnetRangeOutsideVnet`, `NetcfgSubnetRangesOverlap`); a subnet
something lives in cannot be deleted (`InUseSubnetCannotBeDeleted`); a VNet PUT without `subnets` keeps them
(api-version 2023-11-01 and later), with `subnets` the list is authoritative. Bastion needs a subnet named
`AzureBastionSubnet` of /26 or larger. A private endpoint makes its own NIC with an address from the subnet, and
its zone group writes A records into private DNS zones (`dns.py`).

Children that ARM also shows inline (subnets and peerings in a VNet, rules in an NSG, routes in a route table)
are stored as resources of their own; every write of either side refreshes the parent's inline copy. Back
references (`subnets` of an NSG / route table / NAT gateway, `ipConfigurations` of a subnet and of a public IP)
are kept up to date on writes; "in use" checks scan the referring resources instead, so they stay right even
when another module removes a NIC without hooks.

All writes answer 201/200 + Azure-AsyncOperation with an `Updating` body (as recorded Network traffic shows even
for creates); deletes answer 202 with Location + Azure-AsyncOperation; tag PATCHes are synchronous
(azure-mgmt-network 33.1.0, api 2026-03-01).
The error code for a too-small AzureBastionSubnet is not documented publicly; `BASTION_SUBNET_TOO_SMALL` holds
our stand-in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from ..ids import parse
from ..model import ArmError, ResourceType, register
from . import dns
from .data import norm_location

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
BASTION_SUBNET = "AzureBastionSubnet"
BASTION_SUBNET_TOO_SMALL = "AzureBastionSubnetPrefixTooSmall"

# Child types ARM also shows inline in the parent: child type -> parent property (= the URL segment).
INLINE = {SUBNET.lower(): "subnets", PEERING.lower(): "virtualNetworkPeerings", RULE.lower(): "securityRules",
          ROUTE.lower(): "routes"}
# Where a subnet is used: resources of these types that mention the subnet id keep it alive.
SUBNET_USERS = (NIC, PE, BASTION, "Microsoft.DBforPostgreSQL/flexibleServers",
                "Microsoft.ContainerService/managedClusters", "Microsoft.ContainerService/managedClusters/agentPools")
# Associations on an owner -> the back-reference list they add to the referenced resource.
SUBNET_LINKS = (("networkSecurityGroup", "subnets"), ("routeTable", "subnets"), ("natGateway", "subnets"))
NIC_LINKS = (("networkSecurityGroup", "networkInterfaces"),)
JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"
DELEGATION_ACTIONS = {
    "microsoft.dbforpostgresql/flexibleservers": [JOIN],
    "microsoft.containerinstance/containergroups": [JOIN],
    "microsoft.web/serverfarms": ["Microsoft.Network/virtualNetworks/subnets/action"],
}
SKUS = {"basic": "Basic", "standard": "Standard", "premium": "Premium", "developer": "Developer"}

# Private Link: target type -> groupId -> [(requiredMemberName, public FQDN template)]; {name} is the target's
# name, {sub} its custom subdomain (or name), {loc} its location.
_STORAGE = {g: [(g, f"{{name}}.{g}.core.windows.net")] for g in ("blob", "file", "queue", "table", "dfs", "web")}
LINK_TARGETS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "microsoft.keyvault/vaults": {"vault": [("default", "{name}.vault.azure.net")]},
    "microsoft.storage/storageaccounts": _STORAGE,
    "microsoft.containerregistry/registries": {"registry": [("registry", "{name}.azurecr.io"),
                                                            ("registry_data_{loc}", "{name}.{loc}.data.azurecr.io")]},
    "microsoft.dbforpostgresql/flexibleservers": {
        "postgresqlServer": [("postgresqlServer", "{name}.postgres.database.azure.com")]},
    "microsoft.cognitiveservices/accounts": {"account": [("default", "{sub}.{domain}")]},
    "microsoft.containerservice/managedclusters": {"management": [("management", "{name}.privatelink.{loc}.azmk8s.io")]},
}
# Private DNS zones whose public counterpart is not simply the name without "privatelink.".
ZONE_PUBLIC = {"privatelink.vaultcore.azure.net": "vault.azure.net"}

DEFAULT_RULES = (  # name, priority, direction, access, source, destination, description
    ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork",
     "Allow inbound traffic from all VMs in VNET"),
    ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*",
     "Allow inbound traffic from azure load balancer"),
    ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*", "Deny all inbound traffic"),
    ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork",
     "Allow outbound traffic from all VMs to all VMs in VNET"),
    ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet",
     "Allow outbound traffic from all VMs to Internet"),
    ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*", "Deny all outbound traffic"),
)


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


# ---------------------------------------------------------------- a peering holds both VNets


def peering_locks(ctx, rid: str, body: dict) -> list[str]:
    """extra_locks hook: besides its own VNet (the `lock` fact), a peering holds the remote VNet."""
    remote = ref(props_of(body).get("remoteVirtualNetwork"))
    return [remote] if remote else []


# ---------------------------------------------------------------- subnets


def fill_subnet(ctx, sid: str, given: dict, old: dict) -> dict:
    """A subnet's properties as Azure returns them; moves association back references."""
    p = {"privateEndpointNetworkPolicies": "Disabled", "privateLinkServiceNetworkPolicies": "Enabled",
         "delegations": [], **given}
    p["delegations"] = [_delegation(sid, d) for d in p.get("delegations") or []]
    for key in ("ipConfigurations", "privateEndpoints", "serviceAssociationLinks", "purpose"):
        if key in old:
            p[key] = old[key]
    relink(ctx, sid, p, old, SUBNET_LINKS)
    return p


def _delegation(sid: str, item: dict) -> dict:
    service = str(props_of(item).get("serviceName") or "")
    name = item.get("name") or service.replace("/", ".")
    actions = DELEGATION_ACTIONS.get(service.lower(), [JOIN])
    return {"name": name, "id": f"{sid}/delegations/{name}", "type": f"{SUBNET}/delegations",
            "properties": {"serviceName": service, "actions": actions, "provisioningState": "Succeeded"}}


def check_subnet(ctx, sid: str, vnet: dict, p: dict, others: list[tuple[str, list]]) -> list:
    """Prefixes parse, lie inside the VNet's address space and overlap no sibling; returns the networks."""
    name, vnet_name = sid.rsplit("/", 1)[-1], vnet.get("name") or vnet["id"].rsplit("/", 1)[-1]
    given = prefixes(p)
    if not given:
        raise bad("NoAddressPrefixOrPoolProvided", f"No address prefix or pool is provided for subnet '{name}'.")
    nets = [network(x, sid) for x in given]
    space = [network(x, vnet["id"]) for x in prefixes(props_of(vnet).get("addressSpace") or {})]
    if not all(any(n.version == s.version and n.subnet_of(s) for s in space) for n in nets):
        raise bad("NetcfgSubnetRangeOutsideVnet", f"Subnet '{name}' is not valid because its IP address range is "
                  f"outside the IP address range of virtual network '{vnet_name}'.")
    if any(n.overlaps(o) for _, theirs in others for o in theirs for n in nets if n.version == o.version):
        raise bad("NetcfgSubnetRangesOverlap", f"Subnet '{name}' is not valid because its IP address range "
                  f"overlaps with that of an existing subnet in virtual network '{vnet_name}'.")
    return nets


def sibling_nets(ctx, vnet_id: str, skip: str) -> list[tuple[str, list]]:
    return [(c["id"], [ipaddress.ip_network(x, strict=False) for x in prefixes(props_of(c))])
            for c in ctx.children(vnet_id, SUBNET) if not same(c["id"], skip)]


def check_not_in_use(ctx, sid: str) -> None:
    users = referrers(ctx, sid, SUBNET_USERS)
    if users:
        raise bad("InUseSubnetCannotBeDeleted", f"Subnet {sid.rsplit('/', 1)[-1]} is in use by {users[0]} and "
                  "cannot be deleted. In order to delete the subnet, delete all the resources within the subnet.")


def validate_subnet(ctx, rid: str, body: dict, existing: dict | None) -> None:
    if not ctx.rule("validation"):
        return
    vnet = ctx.get(parent_of(rid))
    p = props_of(body)
    check_subnet(ctx, rid, vnet, p, sibling_nets(ctx, vnet["id"], rid))
    check_refs(ctx, rid, p, ("networkSecurityGroup", "routeTable", "natGateway"))


def populate_subnet(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    p = fill_subnet(ctx, rid, props_of(body), props_of(existing))
    refresh_inline(ctx, rid, "subnets", {"type": SUBNET, "properties": p})
    return {**body, "properties": p}


def before_delete_subnet(ctx, rid: str, body: dict) -> None:
    if ctx.rule("validation"):
        check_not_in_use(ctx, rid)


def after_delete_subnet(ctx, rid: str, body: dict) -> None:
    forget_child(ctx, body)
    refresh_inline(ctx, rid, "subnets", None)


# ---------------------------------------------------------------- virtual networks


def validate_vnet(ctx, rid: str, body: dict, existing: dict | None) -> None:
    if not ctx.rule("validation"):
        return
    p = props_of(body)
    vnet = {"id": rid, "name": rid.rsplit("/", 1)[-1], "properties": p}
    for prefix in prefixes(p.get("addressSpace") or {}):
        network(prefix, rid)
    given = p.get("subnets")
    current = ctx.children(rid, SUBNET)
    if given is None:
        for sub in current:
            check_subnet(ctx, sub["id"], vnet, props_of(sub), [])
        return
    seen: list[tuple[str, list]] = []
    for item in given:
        if not item.get("name"):
            raise bad("InvalidRequestFormat", "Cannot parse the request: every subnet needs a name.",
                      target="properties.subnets")
        sid = f"{rid}/subnets/{item.get('name')}"
        seen.append((sid, check_subnet(ctx, sid, vnet, dict(item.get("properties") or {}), seen)))
        check_refs(ctx, sid, props_of(item), ("networkSecurityGroup", "routeTable", "natGateway"))
    kept = {str(item.get("name", "")).lower() for item in given}
    for sub in current:
        if sub["name"].lower() not in kept:
            check_not_in_use(ctx, sub["id"])


def populate_vnet(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = props_of(existing)
    p = {"enableDdosProtection": False, "privateEndpointVNetPolicies": "Disabled", "dhcpOptions": {"dnsServers": []},
         **props_of(body)}
    p["resourceGuid"] = old.get("resourceGuid") or ctx.new_guid()
    p["subnets"] = write_inline(ctx, rid, body, "subnets", SUBNET, fill_subnet)
    p["virtualNetworkPeerings"] = [inline_entry(c["id"], PEERING, props_of(c)) for c in ctx.children(rid, PEERING)]
    return {**body, "properties": p}


def before_delete_vnet(ctx, rid: str, body: dict) -> None:
    if ctx.rule("validation"):
        for sub in ctx.children(rid, SUBNET):
            check_not_in_use(ctx, sub["id"])


# ---------------------------------------------------------------- peerings


def validate_peering(ctx, rid: str, body: dict, existing: dict | None) -> None:
    vnet_id = parent_of(rid)
    remote_id = ref(props_of(body).get("remoteVirtualNetwork"))
    remote = require_ref(ctx, rid, remote_id, "properties.remoteVirtualNetwork")
    if not ctx.rule("validation"):
        return
    if same(remote_id, vnet_id):
        raise bad("CannotPeerVirtualNetworkWithItself", f"Virtual network {vnet_id} cannot be peered with itself.")
    mine = [network(x, vnet_id) for x in prefixes(props_of(ctx.get(vnet_id)).get("addressSpace") or {})]
    theirs = [network(x, remote_id) for x in prefixes(props_of(remote).get("addressSpace") or {})]
    if any(a.version == b.version and a.overlaps(b) for a in mine for b in theirs):
        raise bad("VnetAddressSpacesOverlap", f"Cannot create or update peering {rid}. Virtual networks {vnet_id} "
                  f"and {remote_id} cannot be peered because their address spaces overlap.")


def back_peering(ctx, rid: str, remote_id: str) -> dict | None:
    """The peering on the remote VNet that points back at this one."""
    vnet_id = parent_of(rid)
    return next((b for b in ctx.children(remote_id, PEERING)
                 if same(ref(props_of(b).get("remoteVirtualNetwork")), vnet_id)), None)


def populate_peering(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old, given = props_of(existing), props_of(body)
    remote_id = ref(given.get("remoteVirtualNetwork"))
    space = props_of(ctx.get(remote_id)).get("addressSpace") or {"addressPrefixes": []}
    back = back_peering(ctx, rid, remote_id)
    p = {"allowVirtualNetworkAccess": True, "allowForwardedTraffic": False, "allowGatewayTransit": False,
         "useRemoteGateways": False, "doNotVerifyRemoteGateways": False, **given,
         "peeringState": "Connected" if back else "Initiated", "peeringSyncLevel": "FullyInSync",
         "remoteAddressSpace": space, "remoteVirtualNetworkAddressSpace": space,
         "resourceGuid": old.get("resourceGuid") or ctx.new_guid()}
    if back is not None:
        save(ctx, {**back, "properties": {**props_of(back), "peeringState": "Connected"}})
    refresh_inline(ctx, rid, "virtualNetworkPeerings", {"type": PEERING, "properties": p})
    return {**body, "properties": p}


def after_delete_peering(ctx, rid: str, body: dict) -> None:
    remote_id = ref(props_of(body).get("remoteVirtualNetwork"))
    back = back_peering(ctx, rid, remote_id) if remote_id else None
    if back is not None:
        save(ctx, {**back, "properties": {**props_of(back), "peeringState": "Disconnected"}})
    refresh_inline(ctx, rid, "virtualNetworkPeerings", None)


# ---------------------------------------------------------------- NSGs and security rules, route tables and routes

PROTOCOLS = {"tcp": "Tcp", "udp": "Udp", "icmp": "Icmp", "esp": "Esp", "ah": "Ah", "*": "*"}


def validate_rules(ctx, owner: str, rules: list[tuple[str, dict]]) -> None:
    """Priorities 100-4096, known protocol/access/direction, and one rule per priority and direction."""
    taken: dict[tuple[int, str], str] = {}
    for rid, p in rules:
        name, priority, direction = rid.rsplit("/", 1)[-1], p.get("priority"), str(p.get("direction", ""))
        if not isinstance(priority, int) or not 100 <= priority <= 4096:
            raise bad("SecurityRuleInvalidPriority", f"Security rule {name} has invalid Priority. Value provided: "
                      f"{priority}. Allowed range 100-4096.")
        if str(p.get("protocol", "")).lower() not in PROTOCOLS or direction not in ("Inbound", "Outbound") \
                or p.get("access") not in ("Allow", "Deny"):
            raise bad("SecurityRuleParameterContainsUnsupportedValue", f"Security rule {name} has a protocol, "
                      "access or direction value that is not supported.")
        other = taken.setdefault((priority, direction), name)
        if other != name:
            raise bad("SecurityRuleConflict", f"Security rule {name} conflicts with rule {other}. Rules cannot have "
                      "the same Priority and Direction.")


RANGE_PAIRS = (("sourcePortRange", "sourcePortRanges"), ("destinationPortRange", "destinationPortRanges"),
               ("sourceAddressPrefix", "sourceAddressPrefixes"),
               ("destinationAddressPrefix", "destinationAddressPrefixes"))


def fill_rule(ctx, rid: str, given: dict, old: dict) -> dict:
    """Every range appears as a list; the single form defaults to '*' only when the list is empty."""
    p = {many: [] for _, many in RANGE_PAIRS} | given
    for one, many in RANGE_PAIRS:
        if not p[many]:
            p.setdefault(one, "*")
    return p


def default_rules(nsg_id: str) -> list[dict]:
    out = []
    for name, priority, direction, access, source, dest, text in DEFAULT_RULES:
        rid = f"{nsg_id}/defaultSecurityRules/{name}"
        p = fill_rule(None, rid, {"description": text, "protocol": "*", "sourceAddressPrefix": source,
                                  "destinationAddressPrefix": dest, "access": access, "priority": priority,
                                  "direction": direction}, {})
        out.append({"id": rid, "name": name, "type": f"{NSG}/defaultSecurityRules",
                    "properties": {**p, "provisioningState": "Succeeded"}})
    return out


def validate_nsg(ctx, rid: str, body: dict, existing: dict | None) -> None:
    if ctx.rule("validation"):
        rules = props_of(body).get("securityRules")
        if rules is None:
            rules = [{"name": c["name"], "properties": props_of(c)} for c in ctx.children(rid, RULE)]
        validate_rules(ctx, rid, [(f"{rid}/securityRules/{r.get('name')}", dict(r.get("properties") or {}))
                                  for r in rules])


def populate_nsg(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = props_of(existing)
    p = {**props_of(body), "resourceGuid": old.get("resourceGuid") or ctx.new_guid(),
         "defaultSecurityRules": default_rules(rid)}
    p["securityRules"] = write_inline(ctx, rid, body, "securityRules", RULE, fill_rule)
    return {**body, "properties": _keep(p, old, ("subnets", "networkInterfaces"))}


def validate_rule(ctx, rid: str, body: dict, existing: dict | None) -> None:
    if ctx.rule("validation"):
        others = [(c["id"], props_of(c)) for c in ctx.children(parent_of(rid), RULE) if not same(c["id"], rid)]
        validate_rules(ctx, parent_of(rid), [(rid, props_of(body)), *others])


def populate_child(fill, prop: str, child_type: str):
    """populate hook of an inline child type (security rule, route)."""
    def populate(ctx, rid: str, body: dict, existing: dict | None) -> dict:
        p = fill(ctx, rid, props_of(body), props_of(existing))
        refresh_inline(ctx, rid, prop, {"type": child_type, "properties": p})
        return {**body, "properties": p}
    return populate


def after_delete_child(prop: str):
    def after_delete(ctx, rid: str, body: dict) -> None:
        refresh_inline(ctx, rid, prop, None)
    return after_delete


NEXT_HOPS = {"virtualnetworkgateway", "vnetlocal", "internet", "virtualappliance", "none"}


def validate_route(ctx, rid: str, body: dict, existing: dict | None) -> None:
    if not ctx.rule("validation"):
        return
    p = props_of(body)
    if "/" in str(p.get("addressPrefix", "")):  # otherwise a service tag such as AzureCloud
        network(p["addressPrefix"], rid)
    hop = str(p.get("nextHopType", "")).lower()
    if hop not in NEXT_HOPS:
        raise bad("InvalidRequestFormat", f"Route {rid.rsplit('/', 1)[-1]} has an invalid nextHopType "
                  f"'{p.get('nextHopType')}'.", target="properties.nextHopType")
    if hop == "virtualappliance" and not p.get("nextHopIpAddress"):
        raise bad("RouteNextHopIpAddressMissing", f"Route {rid.rsplit('/', 1)[-1]} has next hop type "
                  "VirtualAppliance and needs nextHopIpAddress.", target="properties.nextHopIpAddress")


def fill_route(ctx, rid: str, given: dict, old: dict) -> dict:
    return {"hasBgpOverride": False, **given}


def validate_route_table(ctx, rid: str, body: dict, existing: dict | None) -> None:
    for item in props_of(body).get("routes") or []:
        validate_route(ctx, f"{rid}/routes/{item.get('name')}", item, None)


def populate_route_table(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = props_of(existing)
    p = {"disableBgpRoutePropagation": False, **props_of(body),
         "resourceGuid": old.get("resourceGuid") or ctx.new_guid()}
    p["routes"] = write_inline(ctx, rid, body, "routes", ROUTE, fill_route)
    return {**body, "properties": _keep(p, old, ("subnets",))}


def _keep(p: dict, old: dict, keys: tuple[str, ...]) -> dict:
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


# ---------------------------------------------------------------- public IPs and NAT gateways


def populate_pip(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = props_of(existing)
    sku = {"name": "Standard", "tier": "Regional", **(body.get("sku") or {})}
    method = "Static" if sku["name"].lower() == "standard" else "Dynamic"
    p = {"publicIPAddressVersion": "IPv4", "publicIPAllocationMethod": method, "idleTimeoutInMinutes": 4,
         "ipTags": [], "ddosSettings": {"protectionMode": "VirtualNetworkInherited"}, **props_of(body),
         "resourceGuid": old.get("resourceGuid") or ctx.new_guid()}
    if str(p["publicIPAllocationMethod"]).lower() == "static":
        p["ipAddress"] = old.get("ipAddress") or public_address(ctx, rid)
    return {**body, "sku": sku, "properties": _keep(p, old, ("ipConfiguration", "natGateway"))}


def validate_pip(ctx, rid: str, body: dict, existing: dict | None) -> None:
    sku = str((body.get("sku") or {}).get("name") or "Standard").lower()
    method = str(props_of(body).get("publicIPAllocationMethod") or "Static").lower()
    if ctx.rule("validation") and sku == "standard" and method != "static":
        raise bad("StandardSkuPublicIPAddressesMustBeStatic", f"Standard sku publicIp {rid} must have "
                  "AllocationMethod set to Static.")


def public_address(ctx, rid: str) -> str:
    """A stable address in 20.0.0.0/8 derived from the id, stepping past any already handed out."""
    taken = {props_of(b).get("ipAddress") for b in ctx.find(PIP)}
    seed = int.from_bytes(hashlib.sha256(rid.lower().encode()).digest()[:4], "big")
    for step in range(1 << 16):
        n = (seed + step) % (1 << 24)
        addr = f"20.{n >> 16}.{(n >> 8) & 255}.{n & 255}"
        if n & 255 not in (0, 255) and addr not in taken:
            return addr
    raise bad("PublicIPAddressPoolExhausted", "No public IP address is left in the sandbox pool.")


def validate_nat(ctx, rid: str, body: dict, existing: dict | None) -> None:
    if not ctx.rule("validation"):
        return
    for item in props_of(body).get("publicIpAddresses") or []:
        pip = require_ref(ctx, rid, ref(item), "properties.publicIpAddresses")
        if str((pip.get("sku") or {}).get("name", "")).lower() != "standard":
            raise bad("NatGatewayCannotUseBasicSkuPublicIp", f"Public IP {pip['id']} has Basic sku; a NAT gateway "
                      "needs Standard sku public IPs.")


def populate_nat(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = props_of(existing)
    p = {"idleTimeoutInMinutes": 4, "publicIpAddresses": [], **props_of(body),
         "resourceGuid": old.get("resourceGuid") or ctx.new_guid()}
    before = {ref(x).lower() for x in old.get("publicIpAddresses") or [] if ref(x)}
    after = {ref(x).lower() for x in p["publicIpAddresses"] if ref(x)}
    for pip in before - after:
        link(ctx, pip, "natGateway", rid, False, single=True)
    for pip in after - before:
        link(ctx, pip, "natGateway", rid, True, single=True)
    return {**body, "sku": {"name": "Standard", **(body.get("sku") or {})},
            "properties": _keep(p, old, ("subnets",))}


def after_delete_nat(ctx, rid: str, body: dict) -> None:
    for item in props_of(body).get("publicIpAddresses") or []:
        link(ctx, ref(item), "natGateway", rid, False, single=True)


# ---------------------------------------------------------------- NICs and private addresses


def used_addresses(ctx, subnet_id: str, skip_nic: str | None) -> set[str]:
    out = set()
    for nic in ctx.find(NIC):
        if same(nic["id"], skip_nic):
            continue
        for cfg in props_of(nic).get("ipConfigurations") or []:
            cp = props_of(cfg)
            if same(ref(cp.get("subnet")), subnet_id) and cp.get("privateIPAddress"):
                out.add(cp["privateIPAddress"])
    return out


def free_address(ctx, subnet_id: str, taken: set[str]) -> str:
    """The lowest free host address; Azure keeps the first four and the last one of every subnet."""
    subnet = props_of(ctx.get(subnet_id))
    net = ipaddress.ip_network(prefixes(subnet)[0], strict=False)
    for host in net.hosts():
        if int(host) - int(net.network_address) >= 4 and str(host) not in taken:
            return str(host)
    raise bad("SubnetIsFull", f"Subnet {subnet_id.rsplit('/', 1)[-1]} with address prefix {net} does not have "
              "enough capacity for 1 IP addresses.")


def validate_ip_configs(ctx, owner: str, configs: list[dict], nic_id: str | None) -> None:
    """Every configuration names an existing subnet no operation is running on; static addresses fit and are
    free."""
    if not configs:
        raise bad("NetworkInterfaceMustHaveAtLeastOneIpConfiguration", f"Network interface {owner} must have at "
                  "least one IP configuration.")
    for cfg in configs:
        p = props_of(cfg)
        sid = ref(p.get("subnet"))
        subnet = require_ref(ctx, owner, sid, "properties.ipConfigurations.properties.subnet")
        require_provisioned(ctx, owner, sid, subnet)
        addr = p.get("privateIPAddress") if str(p.get("privateIPAllocationMethod", "")).lower() == "static" else None
        if addr and ctx.rule("validation"):
            _check_static(ctx, sid, subnet, addr, nic_id)
        if ref(p.get("publicIPAddress")):
            require_ref(ctx, owner, ref(p["publicIPAddress"]), "properties.ipConfigurations.properties.publicIPAddress")


def _check_static(ctx, sid: str, subnet: dict, addr: str, nic_id: str | None) -> None:
    nets = [ipaddress.ip_network(x, strict=False) for x in prefixes(props_of(subnet))]
    if not any(ipaddress.ip_address(addr) in n for n in nets):
        raise bad("PrivateIPAddressNotInSubnet", f"IP address {addr} does not belong to subnet {sid}.")
    if addr in used_addresses(ctx, sid, nic_id):
        raise bad("PrivateIPAddressInUse", f"IP configuration uses the private IP address {addr} which is "
                  "already allocated to another resource.")


def fill_ip_configs(ctx, nic_id: str, configs: list[dict], old: list[dict]) -> list[dict]:
    """Each configuration with its id, type and private address (kept across updates in the same subnet)."""
    before = {str(c.get("name", "")).lower(): props_of(c) for c in old}
    assigned: set[str] = set()
    out = []
    for i, cfg in enumerate(configs):
        name = cfg.get("name") or f"ipconfig{i + 1}"
        p = props_of(cfg)
        sid = ref(p.get("subnet"))
        was = before.get(name.lower(), {})
        method = p.get("privateIPAllocationMethod") or "Dynamic"
        addr = p.get("privateIPAddress") if method.lower() == "static" else None
        if not addr and same(ref(was.get("subnet")), sid):
            addr = was.get("privateIPAddress")
        addr = addr or free_address(ctx, sid, used_addresses(ctx, sid, nic_id) | assigned)
        assigned.add(addr)
        p.update(privateIPAddress=addr, privateIPAllocationMethod=method, privateIPAddressVersion="IPv4",
                 primary=i == 0, provisioningState="Succeeded")
        out.append({"name": name, "id": f"{nic_id}/ipConfigurations/{name}", "type": f"{NIC}/ipConfigurations",
                    "properties": p})
    return out


def link_ip_configs(ctx, new: list[dict], old: list[dict]) -> None:
    """Subnets and public IPs list the configurations that use them."""
    for cfgs, on in ((old, False), (new, True)):
        for cfg in cfgs:
            p = props_of(cfg)
            link(ctx, ref(p.get("subnet")), "ipConfigurations", cfg["id"], on)
            link(ctx, ref(p.get("publicIPAddress")), "ipConfiguration", cfg["id"], on, single=True)


def nic_body(ctx, nic_id: str, body: dict, existing: dict | None) -> dict:
    """A NIC as Azure stores it (user-created, or made by a private endpoint)."""
    old = props_of(existing)
    p = {"enableAcceleratedNetworking": False, "enableIPForwarding": False, "disableTcpStateTracking": False,
         "nicType": "Standard", "auxiliaryMode": "None", "vnetEncryptionSupported": False, "hostedWorkloads": [],
         "tapConfigurations": [], **props_of(body)}
    p["resourceGuid"] = old.get("resourceGuid") or ctx.new_guid()
    p["dnsSettings"] = {"dnsServers": [], "appliedDnsServers": [], **(p.get("dnsSettings") or {}),
                        "internalDomainNameSuffix": f"{p['resourceGuid'].replace('-', '')[:20]}.ax.internal"
                                                    ".cloudapp.net"}
    configs = fill_ip_configs(ctx, nic_id, p.get("ipConfigurations") or [], old.get("ipConfigurations") or [])
    link_ip_configs(ctx, configs, old.get("ipConfigurations") or [])
    relink(ctx, nic_id, p, old, NIC_LINKS)
    p["ipConfigurations"] = configs
    return {**body, "properties": _keep(p, old, ("virtualMachine", "privateEndpoint", "macAddress"))}


def validate_nic(ctx, rid: str, body: dict, existing: dict | None) -> None:
    configs = props_of(body).get("ipConfigurations") or []
    validate_ip_configs(ctx, rid, configs, rid)
    if ctx.rule("validation"):
        check_refs(ctx, rid, props_of(body), ("networkSecurityGroup",))


def before_delete_nic(ctx, rid: str, body: dict) -> None:
    vm = ref(props_of(body).get("virtualMachine"))
    if vm and ctx.get(vm) is not None:
        raise bad("NicInUse", f"Network Interface {rid} is used by existing resource {vm}. In order to delete the "
                  "network interface, it must be dissociated from the resource.")


def after_delete_nic(ctx, rid: str, body: dict) -> None:
    link_ip_configs(ctx, [], props_of(body).get("ipConfigurations") or [])
    relink(ctx, rid, {}, props_of(body), NIC_LINKS)


# ---------------------------------------------------------------- Bastion


def validate_bastion(ctx, rid: str, body: dict, existing: dict | None) -> None:
    sku = str((body.get("sku") or {}).get("name") or "Standard").lower()
    if ctx.rule("validation") and sku not in SKUS:
        raise bad("InvalidBastionHostSku", f"The sku '{sku}' is not valid for a Bastion host.", target="sku.name")
    configs = props_of(body).get("ipConfigurations") or []
    if sku == "developer":
        return
    if not configs:
        raise bad("BastionHostIpConfigurationRequired", f"Bastion host {rid} needs one ipConfiguration with a "
                  "subnet and a public IP address.")
    p = props_of(configs[0])
    sid = ref(p.get("subnet"))
    subnet = require_ref(ctx, rid, sid, "properties.ipConfigurations.properties.subnet")
    require_provisioned(ctx, rid, sid, subnet)
    require_ref(ctx, rid, ref(p.get("publicIPAddress")), "properties.ipConfigurations.properties.publicIPAddress")
    if ctx.rule("validation"):
        check_bastion_subnet(sid, subnet)


def check_bastion_subnet(sid: str, subnet: dict) -> None:
    if sid.rsplit("/", 1)[-1].lower() != BASTION_SUBNET.lower():
        raise bad("SubnetNameMustBeAzureBastionSubnet", f"Subnet name {sid} is invalid for Azure Bastion. Azure "
                  f"Bastion can only be created in subnet with name '{BASTION_SUBNET}'.")
    for prefix in prefixes(props_of(subnet)):
        if ipaddress.ip_network(prefix, strict=False).prefixlen > 26:
            raise bad(BASTION_SUBNET_TOO_SMALL, f"Subnet {BASTION_SUBNET} with address prefix {prefix} is too small "
                      "for Azure Bastion: the prefix must be smaller than or equal to 26 (/26 or larger).")


def populate_bastion(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = props_of(existing)
    sku = SKUS.get(str((body.get("sku") or {}).get("name") or "Standard").lower(), "Standard")
    use_duration = getattr(ctx, "use_duration", None)
    if use_duration is not None and existing is None:
        use_duration(f"bastion_{sku.lower()}" if sku in ("Basic", "Standard") else "bastion_standard")
    p = {"scaleUnits": 2, "disableCopyPaste": False, "enableFileCopy": False, "enableIpConnect": False,
         "enableShareableLink": False, "enableTunneling": False, "enableKerberos": False, **props_of(body)}
    p["dnsName"] = old.get("dnsName") or f"bst-{ctx.new_guid()}.bastion.azure.com"
    configs = []
    for cfg in p.get("ipConfigurations") or []:
        name = cfg.get("name") or "IpConf"
        configs.append({"name": name, "id": f"{rid}/bastionHostIpConfigurations/{name}",
                        "type": f"{BASTION}/bastionHostIpConfigurations",
                        "properties": {"privateIPAllocationMethod": "Dynamic", **props_of(cfg)}})
    for cfgs, on in ((old.get("ipConfigurations") or [], False), (configs, True)):
        for cfg in cfgs:
            link(ctx, ref(props_of(cfg).get("publicIPAddress")), "ipConfiguration", cfg["id"], on, single=True)
    p["ipConfigurations"] = configs
    return {**body, "sku": {"name": sku}, "properties": p}


def after_delete_bastion(ctx, rid: str, body: dict) -> None:
    for cfg in props_of(body).get("ipConfigurations") or []:
        link(ctx, ref(props_of(cfg).get("publicIPAddress")), "ipConfiguration", cfg["id"], False, single=True)


# ---------------------------------------------------------------- private endpoints


def link_members(ctx, target_id: str, group: str) -> list[tuple[str, str]]:
    """(requiredMemberName, FQDN) of a Private Link target's group, or [] if the group is unknown."""
    target = ctx.get(target_id) or {}
    kind = parse(target_id).type_name.lower() if parse(target_id) else ""
    table = {k.lower(): v for k, v in LINK_TARGETS.get(kind, {}).items()}
    name = target_id.rsplit("/", 1)[-1].lower()
    sub = str(props_of(target).get("customSubDomainName") or name).lower()
    domain = "openai.azure.com" if str(target.get("kind", "")).lower() == "openai" else "cognitiveservices.azure.com"
    loc = norm_location(target.get("location", ""))
    return [(member.format(loc=loc), fqdn.format(name=name, sub=sub, loc=loc, domain=domain))
            for member, fqdn in table.get(group.lower(), [])]


def pe_connections(body: dict) -> list[dict]:
    p = props_of(body)
    return list(p.get("privateLinkServiceConnections") or []) + list(p.get("manualPrivateLinkServiceConnections") or [])


def validate_pe(ctx, rid: str, body: dict, existing: dict | None) -> None:
    sid = ref(props_of(body).get("subnet"))
    subnet = require_ref(ctx, rid, sid, "properties.subnet")
    require_provisioned(ctx, rid, sid, subnet)
    connections = pe_connections(body)
    if not connections:
        raise bad("PrivateEndpointMustHaveOneConnection", f"Private endpoint {rid} must have exactly one private "
                  "link service connection.")
    for conn in connections:
        cp = props_of(conn)
        target = require_ref(ctx, rid, cp.get("privateLinkServiceId"),
                             "properties.privateLinkServiceConnections.properties.privateLinkServiceId")
        for group in cp.get("groupIds") or []:
            if ctx.rule("validation") and not link_members(ctx, target["id"], group):
                raise bad("PrivateEndpointBadRequest", f"Call to {parse(target['id']).type_name} failed. Error "
                          f"message: Group Id '{group}' is not supported for resource {target['id']}.")


def populate_pe(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    """Approve every connection, make (or keep) the endpoint's NIC and publish the DNS names it serves."""
    old, p = props_of(existing), props_of(body)
    sid = ref(p.get("subnet"))
    members = [(group, member, fqdn) for conn in pe_connections(body)
               for group in props_of(conn).get("groupIds") or []
               for member, fqdn in link_members(ctx, props_of(conn)["privateLinkServiceId"], group)]
    nic_id = (ref((old.get("networkInterfaces") or [None])[0])
              or f"{group_scope(rid)}/providers/{NIC}/{p.get('customNetworkInterfaceName') or _nic_name(ctx, rid)}")
    nic = pe_nic(ctx, rid, nic_id, body, sid, members)
    p.update(networkInterfaces=[{"id": nic_id}], ipConfigurations=p.get("ipConfigurations") or [],
             customNetworkInterfaceName=p.get("customNetworkInterfaceName") or "",
             customDnsConfigs=[{"fqdn": fqdn, "ipAddresses": [props_of(cfg)["privateIPAddress"]]}
                               for (_, _, fqdn), cfg in zip(members, props_of(nic)["ipConfigurations"], strict=False)])
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        if key in p:
            p[key] = [_approved(rid, key, conn) for conn in p[key]]
    link(ctx, sid, "privateEndpoints", rid, True)
    return {**body, "properties": p}


def _nic_name(ctx, rid: str) -> str:
    return f"{rid.rsplit('/', 1)[-1]}.nic.{ctx.new_guid()}"


def pe_nic(ctx, pe_id: str, nic_id: str, body: dict, sid: str, members: list[tuple[str, str, str]]) -> dict:
    """The endpoint's NIC: one configuration per Private Link member, each with an address from the subnet."""
    old = ctx.get(nic_id)
    configs = [{"name": f"privateEndpointIpConfig.{member}.{i}", "properties": {
        "subnet": {"id": sid}, "privateIPAllocationMethod": "Dynamic",
        "privateLinkConnectionProperties": {"groupId": group, "requiredMemberName": member, "fqdns": [fqdn]}}}
        for i, (group, member, fqdn) in enumerate(members or [("", "default", "")])]
    nic = nic_body(ctx, nic_id, {"location": body.get("location"), "properties": {"ipConfigurations": configs}}, old)
    nic["properties"]["privateEndpoint"] = {"id": pe_id}
    full = {"id": nic_id, "name": nic_id.rsplit("/", 1)[-1], "type": NIC, **nic}
    save(ctx, full)
    return full


def _approved(pe_id: str, key: str, conn: dict) -> dict:
    name = conn.get("name") or "connection"
    state = {"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"}
    return {"name": name, "id": f"{pe_id}/{key}/{name}", "type": f"{PE}/{key}",
            "properties": {"privateLinkServiceConnectionState": state, **props_of(conn),
                           "provisioningState": "Succeeded"}}


def after_delete_pe(ctx, rid: str, body: dict) -> None:
    """The endpoint's NIC goes with it; the subnet forgets both."""
    p = props_of(body)
    link(ctx, ref(p.get("subnet")), "privateEndpoints", rid, False)
    for item in p.get("networkInterfaces") or []:
        nic = ctx.get(ref(item) or "")
        if nic is not None:
            after_delete_nic(ctx, nic["id"], nic)
            ctx.delete_internal(nic["id"])


# ---------------------------------------------------------------- private DNS zone groups


def record_name(fqdn: str, zone: str) -> str | None:
    """The A record name for `fqdn` in a privatelink zone, or None when the zone does not serve it."""
    public = ZONE_PUBLIC.get(zone.lower(), re.sub(r"^privatelink\.", "", zone.lower()))
    fqdn = fqdn.lower()
    return fqdn[: -len(public) - 1] if fqdn.endswith("." + public) else None


def zone_records(ctx, pe: dict, zone_id: str) -> list[dict]:
    """The record sets a zone group writes into one zone for the endpoint's DNS names."""
    zone = zone_id.rsplit("/", 1)[-1]
    out = []
    for item in props_of(pe).get("customDnsConfigs") or []:
        name = record_name(item.get("fqdn", ""), zone)
        if name:
            out.append({"recordType": "A", "recordSetName": name, "fqdn": f"{name}.{zone}", "ttl": 10,
                        "ipAddresses": list(item.get("ipAddresses") or []), "provisioningState": "Succeeded"})
    return out


def validate_zone_group(ctx, rid: str, body: dict, existing: dict | None) -> None:
    for cfg in props_of(body).get("privateDnsZoneConfigs") or []:
        require_ref(ctx, rid, props_of(cfg).get("privateDnsZoneId"),
                    "properties.privateDnsZoneConfigs.properties.privateDnsZoneId")


def populate_zone_group(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    pe = ctx.get(parent_of(rid))
    configs = []
    for cfg in props_of(body).get("privateDnsZoneConfigs") or []:
        zone_id = props_of(cfg)["privateDnsZoneId"]
        name = cfg.get("name") or zone_id.rsplit("/", 1)[-1].replace(".", "-")
        configs.append({"name": name, "id": f"{rid}/privateDnsZoneConfigs/{name}",
                        "properties": {"privateDnsZoneId": zone_id, "recordSets": zone_records(ctx, pe, zone_id)}})
    write_zone_records(ctx, pe, configs, props_of(existing).get("privateDnsZoneConfigs") or [])
    return {**body, "properties": {"privateDnsZoneConfigs": configs}}


def write_zone_records(ctx, pe: dict, new: list[dict], old: list[dict]) -> None:
    """A records for the new configuration; records only the old configuration held are removed."""
    keep = set()
    for cfg in new:
        zone_id = props_of(cfg)["privateDnsZoneId"]
        for rs in props_of(cfg)["recordSets"]:
            keep.add((zone_id.lower(), rs["recordSetName"].lower()))
            dns.write_record(ctx, zone_id, "A", rs["recordSetName"], {
                "ttl": rs["ttl"], "aRecords": [{"ipv4Address": ip} for ip in rs["ipAddresses"]],
                "metadata": {"creator": f"created by private endpoint {pe['name']}"}})
    for cfg in old:
        zone_id = props_of(cfg).get("privateDnsZoneId", "")
        for rs in props_of(cfg).get("recordSets") or []:
            if (zone_id.lower(), rs["recordSetName"].lower()) not in keep:
                dns.delete_record(ctx, zone_id, "A", rs["recordSetName"])


def after_delete_zone_group(ctx, rid: str, body: dict) -> None:
    write_zone_records(ctx, {"name": ""}, [], props_of(body).get("privateDnsZoneConfigs") or [])


# ---------------------------------------------------------------- the table


def network_type(type_name: str, duration: str | None, low: int = 1, high: int = 80, **facts) -> ResourceType:
    """A Microsoft.Network type: async PUT and DELETE, synchronous tag PATCH, Network naming rules."""
    base = dict(api_versions=API, put="async_op", patch="sync", delete="async", duration=duration, busy=BUSY,
                pending_state="Updating", name_rule=name_rule(low, high), name_hint=name_hint(low, high))
    return register(ResourceType(type=type_name, **{**base, **facts}))


SUBNET_BACKREFS = ("ipConfigurations", "privateEndpoints", "serviceAssociationLinks", "resourceNavigationLinks",
                   "purpose", "ipConfigurationProfiles")

network_type(VNET, "vnet", 2, 64, lock="self", validate=validate_vnet, populate=populate_vnet,
             before_delete=before_delete_vnet, read_only_props=("resourceGuid", "virtualNetworkPeerings"))
network_type(SUBNET, "subnet", lock=VNET, location=False, validate=validate_subnet, populate=populate_subnet,
             before_delete=before_delete_subnet, after_delete=after_delete_subnet, read_only_props=SUBNET_BACKREFS)
network_type(PEERING, "peering", lock=VNET, extra_locks=peering_locks, location=False, validate=validate_peering,
             populate=populate_peering, after_delete=after_delete_peering,
             read_only_props=("peeringState", "peeringSyncLevel", "remoteAddressSpace",
                              "remoteVirtualNetworkAddressSpace", "resourceGuid"))
network_type(NSG, "nsg", lock="self", validate=validate_nsg, populate=populate_nsg,
             before_delete=refuse_if_used("InUseNetworkSecurityGroupCannotBeDeleted", "Network security group",
                                          (SUBNET, NIC)),
             read_only_props=("defaultSecurityRules", "subnets", "networkInterfaces", "resourceGuid", "flowLogs"))
network_type(RULE, None, lock=NSG, location=False, validate=validate_rule,
             populate=populate_child(fill_rule, "securityRules", RULE), after_delete=after_delete_child("securityRules"))
network_type(ROUTE_TABLE, "route_table", lock="self", validate=validate_route_table, populate=populate_route_table,
             before_delete=refuse_if_used("InUseRouteTableCannotBeDeleted", "Route table", (SUBNET,)),
             read_only_props=("subnets", "resourceGuid"))
network_type(ROUTE, None, lock=ROUTE_TABLE, location=False, validate=validate_route,
             populate=populate_child(fill_route, "routes", ROUTE), after_delete=after_delete_child("routes"))
network_type(PIP, "public_ip", validate=validate_pip, populate=populate_pip,
             before_delete=refuse_if_used("PublicIPAddressCannotBeDeleted", "Public IP address", (NIC, NAT, BASTION)),
             read_only_props=("ipAddress", "ipConfiguration", "natGateway", "resourceGuid"))
network_type(NAT, "nat_gateway", validate=validate_nat, populate=populate_nat, after_delete=after_delete_nat,
             before_delete=refuse_if_used("InUseNatGatewayCannotBeDeleted", "NAT gateway", (SUBNET,)),
             read_only_props=("subnets", "resourceGuid"))
network_type(BASTION, "bastion_standard", validate=validate_bastion, populate=populate_bastion,
             after_delete=after_delete_bastion, read_only_props=("dnsName",))
network_type(NIC, "nic", validate=validate_nic, populate=nic_body, before_delete=before_delete_nic,
             after_delete=after_delete_nic,
             read_only_props=("virtualMachine", "privateEndpoint", "macAddress", "hostedWorkloads", "resourceGuid",
                              "tapConfigurations", "vnetEncryptionSupported"))
network_type(PE, "private_endpoint", 2, 64, validate=validate_pe, populate=populate_pe, after_delete=after_delete_pe,
             read_only_props=("networkInterfaces", "customDnsConfigs"))
network_type(ZONE_GROUP, None, lock=PE, location=False, validate=validate_zone_group, populate=populate_zone_group,
             after_delete=after_delete_zone_group)
