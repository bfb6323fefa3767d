"""Microsoft.Network security groups with their security rules, and route tables with their routes.

Why: both are a parent whose children ARM also shows inline, and both are checked the way Azure checks them
before traffic rules can hurt a deployment: rule priorities 100-4096, one rule per priority and direction, known
protocols and next hops. An NSG also carries Azure's six default rules, which a PUT cannot change. The inline
copies and back references (`subnets`, `networkInterfaces`) are kept by `network_common.py`; the types are
registered in `network.py`'s table.
"""

from __future__ import annotations

from .network_common import (
    NSG,
    ROUTE,
    RULE,
    bad,
    keep_backrefs,
    network,
    parent_of,
    props_of,
    refresh_inline,
    same,
    write_inline,
)

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
    return {**body, "properties": keep_backrefs(p, old, ("subnets", "networkInterfaces"))}


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
    return {**body, "properties": keep_backrefs(p, old, ("subnets",))}
