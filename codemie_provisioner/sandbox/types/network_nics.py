"""Microsoft.Network network interfaces and the private addresses they hand out.

Why: every private address in the deployment comes from a NIC, whether a VM's or the one a private endpoint
makes (`network_endpoints.py`), so address allocation lives in one place. A dynamic configuration takes the
lowest free address of its subnet (Azure keeps the first four and the last one of every subnet) and keeps it
across updates in the same subnet; a static one must fit the subnet and be free. Subnets and public IPs list the
configurations that use them. The type is registered in `network.py`'s table.
"""

from __future__ import annotations

import ipaddress

from .network_common import (
    NIC,
    NIC_LINKS,
    bad,
    check_refs,
    keep_backrefs,
    link,
    prefixes,
    props_of,
    ref,
    relink,
    require_provisioned,
    require_ref,
    same,
)

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
    return {**body, "properties": keep_backrefs(p, old, ("virtualMachine", "privateEndpoint", "macAddress"))}


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
