"""Private DNS: zones, virtual network links and record sets (azure-mgmt-privatedns 2.0.0, api 2024-06-01).

Why: every private endpoint of the stack resolves through a privatelink zone linked to both VNets, and the zone
is where parallel writers collide: VNet links on one zone are written one at a time (a concurrent link write or
delete gets 409 `Conflict`, the code Private DNS uses for its conflicts; the engine retries it as a busy
parent), and a zone with links cannot be deleted. Zones and links are global resources whose create answers
202 + Location and stays invisible until done (the spec's `final-state-via: location`); record sets are
synchronous and the only Private DNS calls the SDK can make conditional (`If-Match` / `If-None-Match`, which the
core enforces for every type: `If-None-Match: *` on an existing record set → 412). A zone is born with its SOA
record set `@`; `numberOfRecordSets` and the link counters follow every write. `GET {zone}/ALL` lists every
record set of a zone. `write_record` / `delete_record` let private endpoint zone groups (`network_endpoints.py`) publish
their A records.
"""

from __future__ import annotations

import ipaddress

from ..model import ArmError, ResourceType, register, route
from .data import check_api

API = ("2024-06-01",)
ZONE = "Microsoft.Network/privateDnsZones"
LINK = f"{ZONE}/virtualNetworkLinks"
ZONE_NAME = r"(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
RECORD_NAME = rf"@|(\*|{_LABEL})(\.{_LABEL})*"
# Record type -> the property holding its data (a list, or one object for CNAME and SOA).
RECORD_DATA = {"A": "aRecords", "AAAA": "aaaaRecords", "CNAME": "cnameRecord", "MX": "mxRecords",
               "PTR": "ptrRecords", "SOA": "soaRecord", "SRV": "srvRecords", "TXT": "txtRecords"}
ZONE_LIMITS = {"maxNumberOfRecordSets": 25000, "maxNumberOfVirtualNetworkLinks": 1000,
               "maxNumberOfVirtualNetworkLinksWithRegistration": 100}


def props_of(body: dict | None) -> dict:
    return dict((body or {}).get("properties") or {})


def zone_of(rid: str) -> str:
    return rid.rsplit("/", 2)[0]


def bad(code: str, message: str, status: int = 400, target: str | None = None) -> ArmError:
    return ArmError(status, code, message, target=target)


def check_global(ctx, rid: str, body: dict) -> None:
    location = str(body.get("location") or "global").replace(" ", "").lower()
    if ctx.rule("validation") and location != "global":
        kind = LINK if "/virtualnetworklinks/" in rid.lower() else ZONE
        raise bad("LocationNotAvailableForResourceType", f"The provided location '{body.get('location')}' is not "
                  f"available for resource type '{kind}'. List of available regions for the resource type is "
                  "'global'.", target="location")


# ---------------------------------------------------------------- record sets


def record_body(zone_id: str, rtype: str, name: str, props: dict) -> dict:
    """A record set as Azure stores it (fqdn ends with a dot; '@' is the zone apex)."""
    zone = zone_id.rsplit("/", 1)[-1]
    fqdn = f"{zone}." if name == "@" else f"{name}.{zone}."
    return {"id": f"{zone_id}/{rtype}/{name}", "name": name, "type": f"{ZONE}/{rtype}",
            "properties": {"metadata": {}, "ttl": 3600, **props, "fqdn": fqdn, "isAutoRegistered": False}}


def write_record(ctx, zone_id: str, rtype: str, name: str, props: dict) -> None:
    """Create or replace a record set without the protocol (used by private endpoint zone groups)."""
    body = record_body(zone_id, rtype, name, props)
    ctx.put_internal(body["id"], body)
    recount(ctx, zone_id)


def delete_record(ctx, zone_id: str, rtype: str, name: str) -> None:
    ctx.delete_internal(f"{zone_id}/{rtype}/{name}")
    recount(ctx, zone_id)


def record_sets(ctx, zone_id: str) -> list[dict]:
    return [c for c in ctx.children(zone_id)
            if str(c.get("type", "")).rsplit("/", 1)[-1].upper() in RECORD_DATA]


def recount(ctx, zone_id: str, adding: dict | None = None, removing: str | None = None) -> None:
    """Refresh a zone's counters; `adding` is a child being created right now, `removing` one being deleted."""
    zone = next((z for z in ctx.find(ZONE) if z["id"].lower() == zone_id.lower()), None)
    if zone is None or str(props_of(zone).get("provisioningState")) == "Deleting":
        return
    counts = zone_counts(ctx, zone_id, adding, removing)
    if any(props_of(zone).get(k) != v for k, v in counts.items()):
        ctx.put_internal(zone["id"], {**zone, "properties": {**props_of(zone), **counts}})


def zone_counts(ctx, zone_id: str, adding: dict | None, removing: str | None) -> dict:
    gone = (removing or "").lower()
    records = [b for b in record_sets(ctx, zone_id) if b["id"].lower() != gone]
    links = [b for b in ctx.children(zone_id, LINK) if b["id"].lower() != gone]
    if adding is not None:
        (links if "/virtualnetworklinks/" in adding["id"].lower() else records).append(adding)
    return {"numberOfRecordSets": len(records), "numberOfVirtualNetworkLinks": len(links),
            "numberOfVirtualNetworkLinksWithRegistration": sum(bool(props_of(b).get("registrationEnabled"))
                                                               for b in links)}


def validate_record(ctx, rid: str, body: dict, existing: dict | None) -> None:
    rtype = rid.rsplit("/", 2)[-2].upper()
    name = rid.rsplit("/", 1)[-1]
    data = props_of(body).get(RECORD_DATA[rtype])
    if rtype == "SOA" and name != "@":
        raise bad("BadRequest", "The SOA record set can only be named '@'.")
    if rtype == "CNAME" and name == "@":
        raise bad("BadRequest", "A CNAME record set cannot be created at the zone apex '@'.")
    if not ctx.rule("validation"):
        return
    if rtype in ("A", "AAAA"):
        _check_addresses(rtype, data or [])
    _check_cname_exclusive(ctx, rid, rtype, name)


def _check_addresses(rtype: str, items: list[dict]) -> None:
    key, version = ("ipv4Address", 4) if rtype == "A" else ("ipv6Address", 6)
    for item in items:
        try:
            ok = ipaddress.ip_address(str(item.get(key, ""))).version == version
        except ValueError:
            ok = False
        if not ok:
            raise bad("BadRequest", f"The value '{item.get(key)}' is not a valid IPv{version} address.",
                      target=f"properties.{RECORD_DATA[rtype]}")


def _check_cname_exclusive(ctx, rid: str, rtype: str, name: str) -> None:
    """A CNAME cannot share its name with another record set, nor another record set with a CNAME."""
    for other in record_sets(ctx, zone_of(rid)):
        other_type = other["type"].rsplit("/", 1)[-1].upper()
        if other["name"].lower() == name.lower() and other_type != rtype and "CNAME" in (rtype, other_type):
            raise bad("Conflict", f"The record set {name} conflicts with the existing {other_type} record set of "
                      "the same name: a CNAME record set cannot share its name.", status=409)


def populate_record(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    rtype, name = rid.rsplit("/", 2)[-2].upper(), rid.rsplit("/", 1)[-1]
    full = record_body(zone_of(rid), rtype, name, props_of(body))
    if existing is None:
        recount(ctx, zone_of(rid), adding=full)
    return {**body, "properties": full["properties"]}


def before_delete_record(ctx, rid: str, body: dict) -> None:
    if rid.rsplit("/", 2)[-2].upper() == "SOA":
        raise bad("BadRequest", "The SOA record set of a zone cannot be deleted.")


def after_delete_record(ctx, rid: str, body: dict) -> None:
    recount(ctx, zone_of(rid), removing=rid)


@route("GET", r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/privateDnsZones/"
              r"(?P<zone>[^/]+)/ALL")
def list_all_records(ctx, match, query, body):
    """RecordSets_List: every record set of a zone, whatever its type."""
    check_api(query, API)
    zone_id = ctx.path.rsplit("/", 1)[0]
    if ctx.get(zone_id) is None:
        raise bad("ParentResourceNotFound", f"Can not perform requested operation on nested resource. Parent "
                  f"resource '{zone_id}' not found.", status=404)
    return 200, {"value": record_sets(ctx, zone_id)}, {}


# ---------------------------------------------------------------- zones


def validate_zone(ctx, rid: str, body: dict, existing: dict | None) -> None:
    check_global(ctx, rid, body)


def populate_zone(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = props_of(existing)
    if existing is None:
        soa = record_body(rid, "SOA", "@", {"ttl": 3600, "soaRecord": soa_record(rid)})
        ctx.put_internal(soa["id"], soa)
    counts = zone_counts(ctx, rid, None, None)
    p = {**props_of(body), **ZONE_LIMITS, **counts, "internalId": old.get("internalId") or _internal_id(ctx)}
    return {**body, "location": "global", "properties": p}


def soa_record(zone_id: str) -> dict:
    return {"host": "azureprivatedns.net", "email": "azureprivatedns-host.microsoft.com", "serialNumber": 1,
            "refreshTime": 3600, "retryTime": 300, "expireTime": 2419200, "minimumTtl": 10}


def _internal_id(ctx) -> str:
    return ctx.new_guid().replace("-", "")


def before_delete_zone(ctx, rid: str, body: dict) -> None:
    if ctx.children(rid, LINK):
        raise bad("BadRequest", f"The private DNS zone {rid.rsplit('/', 1)[-1]} cannot be deleted while virtual "
                  "network links to it exist. Delete the links first.")


# ---------------------------------------------------------------- virtual network links


def validate_link(ctx, rid: str, body: dict, existing: dict | None) -> None:
    check_global(ctx, rid, body)
    vnet_id = (props_of(body).get("virtualNetwork") or {}).get("id")
    if not vnet_id:
        raise bad("BadRequest", "The virtual network link needs properties.virtualNetwork.id.",
                  target="properties.virtualNetwork")
    if ctx.get(vnet_id) is None:
        raise bad("BadRequest", f"Virtual network {vnet_id} was not found.", target="properties.virtualNetwork")
    for other in ctx.children(zone_of(rid), LINK):
        theirs = str((props_of(other).get("virtualNetwork") or {}).get("id", ""))
        if other["id"].lower() != rid.lower() and theirs.lower() == vnet_id.lower():
            raise bad("Conflict", f"A virtual network cannot be linked to the same private DNS zone twice: "
                      f"{vnet_id} is already linked by {other['name']}.", status=409)
    if ctx.rule("validation") and props_of(body).get("registrationEnabled"):
        _check_one_registration(ctx, rid, vnet_id)


def _check_one_registration(ctx, rid: str, vnet_id: str) -> None:
    """A VNet may auto-register its VMs in one private zone only."""
    for other in ctx.find(LINK):
        p = props_of(other)
        if other["id"].lower() != rid.lower() and p.get("registrationEnabled") \
                and str((p.get("virtualNetwork") or {}).get("id", "")).lower() == vnet_id.lower():
            raise bad("BadRequest", f"Virtual network {vnet_id} already has a registration-enabled link "
                      f"({other['id']}); a virtual network can register in one private DNS zone only.")


def populate_link(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    p = {"registrationEnabled": False, "resolutionPolicy": "Default", **props_of(body),
         "virtualNetworkLinkState": "Completed"}
    return {**body, "location": "global", "properties": p}


def after_delete_link(ctx, rid: str, body: dict) -> None:
    recount(ctx, zone_of(rid), removing=rid)


def link_counted(populate):
    """The zone counts a link as soon as its create is accepted."""
    def hook(ctx, rid: str, body: dict, existing: dict | None) -> dict:
        out = populate(ctx, rid, body, existing)
        if existing is None:
            recount(ctx, zone_of(rid), adding={"id": rid, **out})
        return out
    return hook


# ---------------------------------------------------------------- the table

register(ResourceType(
    type=ZONE, api_versions=API, put="location", patch="location", delete="location", duration="dns_zone",
    lock="self", busy=(409, "Conflict"), name_rule=ZONE_NAME,
    name_hint="A private DNS zone name is a domain name of at least two labels, e.g. privatelink.vaultcore.azure.net.",
    validate=validate_zone, populate=populate_zone, before_delete=before_delete_zone,
    read_only_props=("numberOfRecordSets", "numberOfVirtualNetworkLinks", "maxNumberOfRecordSets",
                     "numberOfVirtualNetworkLinksWithRegistration", "maxNumberOfVirtualNetworkLinks",
                     "maxNumberOfVirtualNetworkLinksWithRegistration", "internalId")))
register(ResourceType(
    type=LINK, api_versions=API, put="location", patch="location", delete="location", duration="dns_link",
    lock=ZONE, busy=(409, "Conflict"), name_rule=r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?",
    name_hint="Link names are 1-80 letters, digits, '_', '.', '-', starting with a letter or digit.",
    validate=validate_link, populate=link_counted(populate_link), after_delete=after_delete_link,
    read_only_props=("virtualNetworkLinkState",)))
for _rtype in RECORD_DATA:
    register(ResourceType(
        type=f"{ZONE}/{_rtype}", api_versions=API, put="sync", patch="sync", delete="sync", duration="dns_record",
        location=False, name_rule=RECORD_NAME, name_code="BadRequest",
        name_hint="Record set names are '@' or dot-separated labels of letters, digits, '_' and '-'.",
        validate=validate_record, populate=populate_record, before_delete=before_delete_record,
        after_delete=after_delete_record, read_only_props=("fqdn", "isAutoRegistered")))
