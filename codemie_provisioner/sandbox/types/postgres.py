"""PostgreSQL Flexible Server with its databases, server parameters and firewall rules.

Why: the database is the second-slowest create of the stack and the one with the strictest private-network
rules: VNet integration needs a subnet delegated to `Microsoft.DBforPostgreSQL/flexibleServers` and a private DNS
zone whose name ends in `.postgres.database.azure.com` (and is not `<server>.postgres.database.azure.com`).
Every write on a server (databases, parameters, firewall rules, the server itself) waits for the one before:
a concurrent writer gets 409 `ServerIsBusy`. The admin password is write-only and never comes back. Both the
current client (2026-10-01, 202-only writes) and azure-mgmt-rdbms' older flexible-server client (2021-06-01)
are served; 202 + Location fits both.
"""

from __future__ import annotations

import functools
import ipaddress
import re

from ..model import ResourceType, register
from .data import iso, rid_parts
from .identity import bad, dig

API = ("2026-10-01", "2021-06-01")
SERVER = "Microsoft.DBforPostgreSQL/flexibleServers"
DATABASE = f"{SERVER}/databases"
CONFIG = f"{SERVER}/configurations"
FIREWALL = f"{SERVER}/firewallRules"
ZONE_SUFFIX = ".postgres.database.azure.com"
MINOR = {"12": "22", "13": "18", "14": "15", "15": "10", "16": "6", "17": "2", "18": "0"}
STORAGE_TIERS = {32: "P4", 64: "P6", 128: "P10", 256: "P15", 512: "P20", 1024: "P30", 2048: "P40", 4096: "P50",
                 8192: "P60", 16384: "P70", 32767: "P80"}
SKU_TIERS = {"burstable": "Standard_B", "generalpurpose": "Standard_D", "memoryoptimized": "Standard_E"}
RESERVED_LOGINS = {"azure_superuser", "azure_pg_admin", "admin", "administrator", "root", "guest", "public"}
SYSTEM_DATABASES = ("postgres", "azure_maintenance", "azure_sys")
IMMUTABLE = (("administratorLogin",), ("network", "delegatedSubnetResourceId"),
             ("network", "privateDnsZoneArmResourceId"))
# Server parameters materialized with every server: name -> (default, dataType, allowedValues).
PARAMETERS = {
    "azure.extensions": ("", "Set", "AZURE_AI,AZURE_STORAGE,BTREE_GIN,BTREE_GIST,CITEXT,CUBE,HSTORE,LTREE,"
                         "PG_BUFFERCACHE,PG_STAT_STATEMENTS,PG_TRGM,PGCRYPTO,POSTGIS,UUID-OSSP,VECTOR"),
    "shared_preload_libraries": ("pg_cron,pg_stat_statements", "Set",
                                 "AUTO_EXPLAIN,PG_CRON,PG_PARTMAN_BGW,PG_STAT_STATEMENTS,PGAUDIT,PGLOGICAL"),
    "max_connections": ("859", "Integer", "25-5000"),
    "require_secure_transport": ("on", "Boolean", "on,off"),
    "log_min_duration_statement": ("-1", "Integer", "-1-2147483647"),
    "timezone": ("UTC", "String", "[A-Za-z0-9/+_-]+"),
    "pgbouncer.enabled": ("false", "Boolean", "true,false"),
}


_bad = functools.partial(bad, code="InvalidParameterValue")


def _server_of(rid: str) -> str:
    return rid.rsplit("/", 2)[0]


# ---------------------------------------------------------------- servers


def validate_server(ctx, rid: str, body: dict, existing: dict | None) -> None:
    props = body.get("properties") or {}
    old = (existing or {}).get("properties")
    if old is None:
        _check_admin(props)
    if not ctx.rule("validation"):
        return
    _check_immutable(props, old)
    _check_sizes(body, props)
    _check_network(ctx, rid, props.get("network") or {})


def _check_admin(props: dict) -> None:
    if str(props.get("createMode") or "Default").lower() not in ("default", "create"):
        return
    login, password = props.get("administratorLogin"), str(props.get("administratorLoginPassword") or "")
    if not login or not password:
        raise _bad("administratorLogin and administratorLoginPassword are required when creating a server.",
                   "administratorLogin")
    if login.lower() in RESERVED_LOGINS or login.lower().startswith("pg_"):
        raise _bad(f"The administrator login '{login}' is reserved.", "administratorLogin")
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if not 8 <= len(password) <= 128 or classes < 3:
        raise _bad("The password must be 8-128 characters from three of: upper case, lower case, digits, "
                   "symbols.", "administratorLoginPassword", code="PasswordNotComplex")


def _check_immutable(props: dict, old: dict | None) -> None:
    for path in IMMUTABLE if old else ():
        new_value, old_value = dig(props, path), dig(old, path)
        if new_value is not None and str(new_value).lower() != str(old_value or "").lower():
            raise _bad(f"Changing property '{'.'.join(path)}' is not allowed.", ".".join(path),
                       code="PropertyChangeNotAllowed")


def _check_sizes(body: dict, props: dict) -> None:
    version = str(props.get("version") or "17")
    if version not in MINOR:
        raise _bad(f"PostgreSQL version {version} is not supported.", "version")
    size = (props.get("storage") or {}).get("storageSizeGB")
    if size is not None and int(size) not in STORAGE_TIERS:
        raise _bad(f"Storage size {size} GB is not supported; choose one of {sorted(STORAGE_TIERS)}.",
                   "storage.storageSizeGB")
    sku = body.get("sku") or {}
    prefix = SKU_TIERS.get(str(sku.get("tier", "")).lower())
    if sku and (prefix is None or not str(sku.get("name", "")).startswith(prefix)):
        raise _bad(f"SKU {sku.get('name')} does not belong to tier {sku.get('tier')}.", "sku")
    if dig(props, ("highAvailability", "mode")) not in (None, "Disabled") and prefix == SKU_TIERS["burstable"]:
        raise _bad("High availability is not supported for the Burstable tier.", "highAvailability.mode")


def _check_network(ctx, rid: str, network: dict) -> None:
    subnet_id, zone_id = network.get("delegatedSubnetResourceId"), network.get("privateDnsZoneArmResourceId")
    if subnet_id:
        subnet = ctx.get(subnet_id)
        if subnet is None:
            raise _bad(f"Subnet {subnet_id} was not found.", "network.delegatedSubnetResourceId",
                       code="InvalidResourceReference")
        services = [str((d.get("properties") or {}).get("serviceName", "")).lower()
                    for d in subnet.get("properties", {}).get("delegations") or []]
        if SERVER.lower() not in services:
            raise _bad(f"Subnet {subnet_id} requires any of the following delegation(s) [{SERVER}] to reference "
                       "service association link.", "network.delegatedSubnetResourceId",
                       code="SubnetMissingRequiredDelegation")
    if zone_id:
        zone = zone_id.rstrip("/").rsplit("/", 1)[-1].lower()
        if not zone.endswith(ZONE_SUFFIX) or zone == f"{rid_parts(rid)['name'].lower()}{ZONE_SUFFIX}":
            raise _bad(f"The Private DNS Zone name provided [{zone}] is not valid. It must end with {ZONE_SUFFIX} "
                       "and can not be server name plus zone suffix.", "network.privateDnsZoneArmResourceId",
                       code="PrivateDnsZoneNameNotValid")
        if ctx.get(zone_id) is None:
            raise _bad(f"Private DNS zone {zone_id} was not found.", "network.privateDnsZoneArmResourceId",
                       code="InvalidResourceReference")


def populate_server(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = (existing or {}).get("properties", {})
    props = {**old, **{k: v for k, v in (body.get("properties") or {}).items()
                       if k not in ("administratorLoginPassword", "createMode")}}
    version = str(props.get("version") or "17")
    size = int((props.get("storage") or {}).get("storageSizeGB") or 32)
    network = {**(old.get("network") or {}), **(props.get("network") or {})}
    network.setdefault("publicNetworkAccess", "Disabled" if network.get("delegatedSubnetResourceId") else "Enabled")
    ha = {"mode": "Disabled", **(props.get("highAvailability") or {})}
    ha["state"] = "NotEnabled" if ha["mode"] == "Disabled" else "Healthy"
    if ha["mode"] != "Disabled":
        ha.setdefault("standbyAvailabilityZone", "2")
    props.update(version=version, minorVersion=MINOR.get(version, "0"), state="Ready", network=network,
                 fullyQualifiedDomainName=f"{rid_parts(rid)['name']}{ZONE_SUFFIX}", highAvailability=ha,
                 storage={"autoGrow": "Disabled", "type": "Premium_LRS", **(props.get("storage") or {}),
                          "storageSizeGB": size, "tier": STORAGE_TIERS.get(size, "P4")},
                 replicationRole=props.get("replicationRole") or "Primary", replicaCapacity=5)
    props.setdefault("availabilityZone", "1")
    props.setdefault("authConfig", {"activeDirectoryAuth": "Disabled", "passwordAuth": "Enabled"})
    props.setdefault("dataEncryption", {"type": "SystemManaged"})
    props.setdefault("backup", {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled",
                                "earliestRestoreDate": iso(ctx)})
    props.setdefault("maintenanceWindow", {"customWindow": "Disabled", "dayOfWeek": 0, "startHour": 0,
                                           "startMinute": 0})
    if existing is None:
        _materialize_children(ctx, rid)
    sku = body.get("sku") or (existing or {}).get("sku") or {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}
    return {**body, "sku": sku, "properties": props}


def _materialize_children(ctx, rid: str) -> None:
    """Every server starts with its system databases and its server parameters."""
    for name in SYSTEM_DATABASES:
        ctx.put_internal(f"{rid}/databases/{name}", {"id": f"{rid}/databases/{name}", "name": name,
                                                     "type": DATABASE, "properties": _database_props({})})
    for name in PARAMETERS:
        ctx.put_internal(f"{rid}/configurations/{name}", {"id": f"{rid}/configurations/{name}", "name": name,
                                                          "type": CONFIG, "properties": _parameter_props(name)})


# ---------------------------------------------------------------- databases


def _database_props(given: dict) -> dict:
    return {"charset": "UTF8", "collation": "en_US.utf8", **given}


def validate_database(ctx, rid: str, body: dict, existing: dict | None) -> None:
    props = body.get("properties") or {}
    if existing is not None and any(k in props and str(props[k]).lower() != str(existing["properties"].get(k, ""))
                                    .lower() for k in ("charset", "collation")):
        raise _bad("charset and collation cannot be changed after a database is created.", "properties",
                   code="PropertyChangeNotAllowed")


def populate_database(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    return {**body, "properties": _database_props(body.get("properties") or {})}


def before_delete_database(ctx, rid: str, body: dict) -> None:
    if rid_parts(rid)["name"].lower() in SYSTEM_DATABASES:
        raise _bad(f"The system database '{rid_parts(rid)['name']}' cannot be dropped.", code="OperationNotAllowed")


# ---------------------------------------------------------------- server parameters


def _parameter_props(name: str, value: str | None = None, source: str | None = None) -> dict:
    default, kind, allowed = PARAMETERS[name]
    return {"value": default if value is None else value, "defaultValue": default, "dataType": kind,
            "allowedValues": allowed, "source": source or "system-default", "isDynamicConfig": True,
            "isReadOnly": False, "isConfigPendingRestart": False, "description": f"Server parameter {name}.",
            "documentationLink": "https://www.postgresql.org/docs/current/runtime-config.html"}


def validate_parameter(ctx, rid: str, body: dict, existing: dict | None) -> None:
    name = rid_parts(rid)["name"]
    if name not in PARAMETERS:
        raise _bad(f"Server parameter '{name}' does not exist.", "name")
    value = str((body.get("properties") or {}).get("value", ""))
    _default, kind, allowed = PARAMETERS[name]
    if not _allowed(value, kind, allowed):
        raise _bad(f"The value '{value}' is not allowed for parameter '{name}'; allowed: {allowed}.", "value")


def _allowed(value: str, kind: str, allowed: str) -> bool:
    if kind == "Boolean":
        return value.lower() in allowed.split(",")
    if kind == "Set":
        return all(v.strip().upper() in allowed.upper().split(",") for v in value.split(",") if v.strip())
    if kind == "Integer":
        low, high = re.fullmatch(r"(-?\d+)-(-?\d+)", allowed).groups()
        return bool(re.fullmatch(r"-?\d+", value)) and int(low) <= int(value) <= int(high)
    return bool(re.fullmatch(allowed, value))


def populate_parameter(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    given = body.get("properties") or {}
    source = given.get("source") or "user-override"
    return {**body, "properties": _parameter_props(rid_parts(rid)["name"], str(given.get("value", "")), source)}


# ---------------------------------------------------------------- firewall rules


def validate_firewall(ctx, rid: str, body: dict, existing: dict | None) -> None:
    props = body.get("properties") or {}
    try:
        start = ipaddress.IPv4Address(props.get("startIpAddress", ""))
        end = ipaddress.IPv4Address(props.get("endIpAddress", ""))
    except ValueError as exc:
        raise _bad("startIpAddress and endIpAddress must be IPv4 addresses.", "startIpAddress") from exc
    if start > end:
        raise _bad("startIpAddress must not be greater than endIpAddress.", "startIpAddress")
    server = ctx.get(_server_of(rid)) or {}
    if dig(server.get("properties"), ("network", "delegatedSubnetResourceId")):
        raise _bad("Firewall rules are not supported on a server with private access (VNet integration).",
                   code="FirewallRuleNotSupported")


register(ResourceType(
    type=SERVER, api_versions=API, put="location", patch="location", delete="async", duration="postgres",
    lock="self", busy=(409, "ServerIsBusy"), etag=False, global_name=True, global_name_code="ServerNameAlreadyExists",
    name_rule=r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]",
    name_hint="Server names must be 3-63 lowercase letters, digits and '-', not starting or ending with '-'.",
    validate=validate_server, populate=populate_server,
    read_only_props=("fullyQualifiedDomainName", "state", "minorVersion", "replicaCapacity")))
register(ResourceType(
    type=DATABASE, api_versions=API, put="location", delete="async", location=False, etag=False,
    duration="postgres_database",
    lock=SERVER, busy=(409, "ServerIsBusy"), name_rule=r"[A-Za-z_][A-Za-z0-9_$-]{0,62}",
    name_hint="Database names must be 1-63 letters, digits, '_', '$' and '-', starting with a letter or '_'.",
    validate=validate_database, populate=populate_database, before_delete=before_delete_database))
register(ResourceType(
    type=CONFIG, api_versions=API, put="location", patch="location", delete="sync", location=False, etag=False,
    lock=SERVER, busy=(409, "ServerIsBusy"), validate=validate_parameter, populate=populate_parameter,
    read_only_props=("defaultValue", "dataType", "allowedValues", "isReadOnly", "documentationLink")))
register(ResourceType(
    type=FIREWALL, api_versions=API, put="location", delete="async", location=False, etag=False,
    lock=SERVER, busy=(409, "ServerIsBusy"), name_rule=r"[A-Za-z0-9_-]{1,128}",
    name_hint="Firewall rule names must be 1-128 letters, digits, '_' and '-'.",
    validate=validate_firewall))
