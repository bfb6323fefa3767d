"""Microsoft.Network resources at the edge of the private network: public IPs, NAT gateways and Bastion.

Why: these are what the deployment reaches the internet through, and each has a rule that fails real
deployments: a Standard public IP must be Static, a NAT gateway takes only Standard public IPs, and Bastion needs
a subnet named `AzureBastionSubnet` of /26 or larger. Public IPs keep back references to the NAT gateway or IP
configuration using them. The error code for a too-small AzureBastionSubnet is not documented publicly;
`BASTION_SUBNET_TOO_SMALL` holds our stand-in. The types are registered in `network.py`'s table.
"""

from __future__ import annotations

import hashlib
import ipaddress

from .network_common import (
    BASTION,
    PIP,
    bad,
    keep_backrefs,
    link,
    prefixes,
    props_of,
    ref,
    require_provisioned,
    require_ref,
)

BASTION_SUBNET = "AzureBastionSubnet"
BASTION_SUBNET_TOO_SMALL = "AzureBastionSubnetPrefixTooSmall"
SKUS = {"basic": "Basic", "standard": "Standard", "premium": "Premium", "developer": "Developer"}


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
    return {**body, "sku": sku, "properties": keep_backrefs(p, old, ("ipConfiguration", "natGateway"))}


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
            "properties": keep_backrefs(p, old, ("subnets",))}


def after_delete_nat(ctx, rid: str, body: dict) -> None:
    for item in props_of(body).get("publicIpAddresses") or []:
        link(ctx, ref(item), "natGateway", rid, False, single=True)


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
