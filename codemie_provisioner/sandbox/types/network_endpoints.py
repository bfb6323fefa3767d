"""Microsoft.Network private endpoints and their private DNS zone groups.

Why: this is how the deployment's services become reachable only from inside the VNets, and where Private Link
facts meet DNS. A private endpoint makes its own NIC (`network_nics.py`) with one address per Private Link member
of its target, approves its connections, and its zone group writes the matching A records into private DNS zones
(`dns.py`), removing the ones it no longer serves. The types are registered in `network.py`'s table.
"""

from __future__ import annotations

import re

from ..ids import parse
from . import dns
from .data import norm_location
from .network_common import (
    NIC,
    PE,
    bad,
    group_scope,
    link,
    parent_of,
    props_of,
    ref,
    require_provisioned,
    require_ref,
    save,
)
from .network_nics import after_delete_nic, nic_body

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
