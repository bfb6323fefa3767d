"""Microsoft.Network virtual networks, subnets and peerings, and the table that registers every Network type.

Why: VNets are where Azure's address and lock rules bite first (azure-behaviours.md §10, §13). Subnets and
peerings are written one at a time per VNet, and a peering holds both its VNet (`lock`) and the remote one
(`extra_locks`). Prefixes must sit inside the VNet and not overlap (`NetcfgSubnetRangeOutsideVnet`,
`NetcfgSubnetRangesOverlap`); a subnet something lives in cannot be deleted (`InUseSubnetCannotBeDeleted`); a
VNet PUT without `subnets` keeps them (api-version 2023-11-01 and later), with `subnets` the list is
authoritative.

The table at the end names the hooks of the other network modules (`network_security.py`, `network_edge.py`,
`network_endpoints.py`) too: every Microsoft.Network type is registered from this one place, in one order (the
order the provider listing shows). Shared parts live in `network_common.py`.
"""

from __future__ import annotations

import ipaddress

from . import network_edge as edge
from . import network_endpoints as endpoints
from . import network_nics as nics
from . import network_security as security
from .network_common import (
    BASTION,
    NAT,
    NIC,
    NSG,
    PE,
    PEERING,
    PIP,
    ROUTE,
    ROUTE_TABLE,
    RULE,
    SUBNET,
    SUBNET_LINKS,
    SUBNET_USERS,
    VNET,
    ZONE_GROUP,
    bad,
    check_refs,
    forget_child,
    inline_entry,
    network,
    network_type,
    parent_of,
    prefixes,
    props_of,
    ref,
    referrers,
    refresh_inline,
    refuse_if_used,
    relink,
    require_ref,
    same,
    save,
    write_inline,
)

JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"
DELEGATION_ACTIONS = {
    "microsoft.dbforpostgresql/flexibleservers": [JOIN],
    "microsoft.containerinstance/containergroups": [JOIN],
    "microsoft.web/serverfarms": ["Microsoft.Network/virtualNetworks/subnets/action"],
}
SUBNET_BACKREFS = ("ipConfigurations", "privateEndpoints", "serviceAssociationLinks", "resourceNavigationLinks",
                   "purpose", "ipConfigurationProfiles")


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


# ---------------------------------------------------------------- the table (every Microsoft.Network type)


network_type(VNET, "vnet", 2, 64, lock="self", validate=validate_vnet, populate=populate_vnet,
             before_delete=before_delete_vnet, read_only_props=("resourceGuid", "virtualNetworkPeerings"))
network_type(SUBNET, "subnet", lock=VNET, location=False, validate=validate_subnet, populate=populate_subnet,
             before_delete=before_delete_subnet, after_delete=after_delete_subnet, read_only_props=SUBNET_BACKREFS)
network_type(PEERING, "peering", lock=VNET, extra_locks=peering_locks, location=False, validate=validate_peering,
             populate=populate_peering, after_delete=after_delete_peering,
             read_only_props=("peeringState", "peeringSyncLevel", "remoteAddressSpace",
                              "remoteVirtualNetworkAddressSpace", "resourceGuid"))
network_type(NSG, "nsg", lock="self", validate=security.validate_nsg, populate=security.populate_nsg,
             before_delete=refuse_if_used("InUseNetworkSecurityGroupCannotBeDeleted", "Network security group",
                                          (SUBNET, NIC)),
             read_only_props=("defaultSecurityRules", "subnets", "networkInterfaces", "resourceGuid", "flowLogs"))
network_type(RULE, None, lock=NSG, location=False, validate=security.validate_rule,
             populate=security.populate_child(security.fill_rule, "securityRules", RULE),
             after_delete=security.after_delete_child("securityRules"))
network_type(ROUTE_TABLE, "route_table", lock="self", validate=security.validate_route_table,
             populate=security.populate_route_table,
             before_delete=refuse_if_used("InUseRouteTableCannotBeDeleted", "Route table", (SUBNET,)),
             read_only_props=("subnets", "resourceGuid"))
network_type(ROUTE, None, lock=ROUTE_TABLE, location=False, validate=security.validate_route,
             populate=security.populate_child(security.fill_route, "routes", ROUTE),
             after_delete=security.after_delete_child("routes"))
network_type(PIP, "public_ip", validate=edge.validate_pip, populate=edge.populate_pip,
             before_delete=refuse_if_used("PublicIPAddressCannotBeDeleted", "Public IP address", (NIC, NAT, BASTION)),
             read_only_props=("ipAddress", "ipConfiguration", "natGateway", "resourceGuid"))
network_type(NAT, "nat_gateway", validate=edge.validate_nat, populate=edge.populate_nat,
             after_delete=edge.after_delete_nat,
             before_delete=refuse_if_used("InUseNatGatewayCannotBeDeleted", "NAT gateway", (SUBNET,)),
             read_only_props=("subnets", "resourceGuid"))
network_type(BASTION, "bastion_standard", validate=edge.validate_bastion, populate=edge.populate_bastion,
             after_delete=edge.after_delete_bastion, read_only_props=("dnsName",))
network_type(NIC, "nic", validate=nics.validate_nic, populate=nics.nic_body, before_delete=nics.before_delete_nic,
             after_delete=nics.after_delete_nic,
             read_only_props=("virtualMachine", "privateEndpoint", "macAddress", "hostedWorkloads", "resourceGuid",
                              "tapConfigurations", "vnetEncryptionSupported"))
network_type(PE, "private_endpoint", 2, 64, validate=endpoints.validate_pe, populate=endpoints.populate_pe,
             after_delete=endpoints.after_delete_pe, read_only_props=("networkInterfaces", "customDnsConfigs"))
network_type(ZONE_GROUP, None, lock=PE, location=False, validate=endpoints.validate_zone_group,
             populate=endpoints.populate_zone_group, after_delete=endpoints.after_delete_zone_group)
