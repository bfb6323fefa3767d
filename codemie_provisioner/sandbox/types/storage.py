"""Storage accounts, their blob service settings and blob containers (management plane).

Why: a storage account create is the classic 202 + Location LRO whose resource stays invisible (GET 404) until
done; the name is global; the state store needs blob versioning (`blobServices/default`) and containers made on
the management plane. `primaryEndpoints.blob` can be pointed at Azurite with the profile setting
`blob_endpoint_template` (e.g. "http://127.0.0.1:10000/{name}/"), and `storage_account_key` makes listKeys
return Azurite's key, so the engine's state backend runs against a real blob server.
"""

from __future__ import annotations

import base64
import hashlib

from ..model import ArmError, ResourceType, register
from .data import iso, rid_parts

API = ("2026-09-01",)
ACCOUNT = "Microsoft.Storage/storageAccounts"
SKUS = {"standard_lrs", "standard_grs", "standard_ragrs", "standard_zrs", "premium_lrs", "premium_zrs",
        "standard_gzrs", "standard_ragzrs", "standardv2_lrs", "standardv2_grs", "standardv2_zrs",
        "standardv2_gzrs", "premiumv2_lrs", "premiumv2_zrs"}
KINDS = {"storage", "storagev2", "blobstorage", "filestorage", "blockblobstorage"}
SERVICES = ("blob", "queue", "table", "file", "web", "dfs")
WEB_HOST = {"blob": "blob", "queue": "queue", "table": "table", "file": "file", "web": "z6.web",
            "dfs": "dfs"}


def endpoints(ctx, name: str) -> dict:
    """Public endpoints; the blob one may come from the profile (Azurite)."""
    out = {svc: f"https://{name}.{WEB_HOST[svc]}.core.windows.net/" for svc in SERVICES}
    template = ctx.setting("blob_endpoint_template")
    if template:
        out["blob"] = template.format(name=name)
    return out


def validate_account(ctx, rid: str, body: dict, existing: dict | None) -> None:
    if not ctx.rule("validation"):
        return
    sku = str((body.get("sku") or {}).get("name", "")).lower()
    if sku not in SKUS:
        raise ArmError(400, "InvalidRequestPropertyValue", f"The value '{sku}' is not valid for sku.name.",
                       target="sku.name")
    kind = str(body.get("kind", "")).lower()
    if kind not in KINDS:
        raise ArmError(400, "InvalidRequestPropertyValue", f"The value '{kind}' is not valid for kind.",
                       target="kind")


def populate_account(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    name = rid_parts(rid)["name"]
    sku = dict(body.get("sku") or {"name": "Standard_LRS"})
    sku["tier"] = "Premium" if sku["name"].lower().startswith("premium") else "Standard"
    defaults = {"allowBlobPublicAccess": False, "minimumTlsVersion": "TLS1_2", "publicNetworkAccess": "Enabled",
                "supportsHttpsTrafficOnly": True, "accessTier": "Hot", "allowSharedKeyAccess": True,
                "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [],
                                "defaultAction": "Allow"},
                "encryption": {"keySource": "Microsoft.Storage", "services": {
                    "blob": {"enabled": True, "keyType": "Account"},
                    "file": {"enabled": True, "keyType": "Account"}}},
                "creationTime": iso(ctx)}
    props = {**defaults, **(existing or {}).get("properties", {}), **(body.get("properties") or {})}
    props.update(primaryEndpoints=endpoints(ctx, name), primaryLocation=body.get("location"),
                 statusOfPrimary="available")
    if ctx.get(f"{rid}/blobServices/default") is None:
        ctx.put_internal(f"{rid}/blobServices/default", blob_service_body(rid, {}))
    return {"kind": "StorageV2", **body, "sku": sku, "properties": props}


def account_key(ctx, rid: str, key_name: str) -> str:
    """A stable 64-byte key per account and key name, or the profile's fixed key (Azurite)."""
    fixed = ctx.setting("storage_account_key")
    if fixed:
        return fixed
    return base64.b64encode(hashlib.sha512(f"{rid.lower()}|{key_name}".encode()).digest()).decode()


def list_keys(ctx, rid: str, stored: dict | None, body: dict):
    created = (stored or {}).get("properties", {}).get("creationTime", iso(ctx))
    keys = [{"keyName": k, "value": account_key(ctx, rid, k), "permissions": "FULL", "creationTime": created}
            for k in ("key1", "key2")]
    return 200, {"keys": keys}


def blob_service_body(account_id: str, props: dict) -> dict:
    defaults = {"cors": {"corsRules": []}, "deleteRetentionPolicy": {"enabled": False,
                                                                     "allowPermanentDelete": False},
                "isVersioningEnabled": False}
    return {"id": f"{account_id}/blobServices/default", "name": "default",
            "type": f"{ACCOUNT}/blobServices", "properties": {**defaults, **props}}


def populate_blob_service(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    account_id = rid.rsplit("/", 2)[0]
    merged = {**(existing or {}).get("properties", {}), **(body.get("properties") or {})}
    return {**body, **blob_service_body(account_id, merged)}


def validate_container(ctx, rid: str, body: dict, existing: dict | None) -> None:
    """Public access on a container needs the account to allow it."""
    access = str((body.get("properties") or {}).get("publicAccess") or "None")
    account = ctx.get(rid.rsplit("/", 4)[0])
    if access != "None" and account and not account.get("properties", {}).get("allowBlobPublicAccess"):
        raise ArmError(409, "PublicAccessNotPermitted", "Public access is not permitted on this storage account.")


def populate_container(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    defaults = {"publicAccess": "None", "leaseStatus": "Unlocked", "leaseState": "Available",
                "hasImmutabilityPolicy": False, "hasLegalHold": False, "deleted": False,
                "remainingRetentionDays": 0, "defaultEncryptionScope": "$account-encryption-key",
                "denyEncryptionScopeOverride": False}
    props = {**defaults, **(existing or {}).get("properties", {}), **(body.get("properties") or {})}
    props["lastModifiedTime"] = iso(ctx)
    return {**body, "properties": props}


register(ResourceType(
    type=ACCOUNT, api_versions=API, put="location", patch="sync", delete="sync", duration="storage_account",
    name_rule=r"[a-z0-9]{3,24}", name_code="AccountNameInvalid",
    name_hint="Storage account name must be between 3 and 24 characters in length and use numbers and "
              "lower-case letters only.",
    global_name=True, global_name_code="StorageAccountAlreadyTaken",
    lock="self", busy=(409, "StorageAccountOperationInProgress"),
    validate=validate_account, populate=populate_account, actions={"listKeys": list_keys},
    read_only_props=("primaryEndpoints", "primaryLocation", "statusOfPrimary", "creationTime",
                     "provisioningState")))
register(ResourceType(
    type=f"{ACCOUNT}/blobServices", api_versions=API, put="sync", location=False, name_rule="default",
    populate=populate_blob_service))
register(ResourceType(
    type=f"{ACCOUNT}/blobServices/containers", api_versions=API, put="sync", patch="sync", delete="sync",
    location=False, name_rule=r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]", name_code="ContainerNameInvalid",
    name_hint="Container names must be 3-63 lowercase letters, digits or single hyphens.",
    validate=validate_container, populate=populate_container,
    read_only_props=("lastModifiedTime", "leaseStatus", "leaseState", "hasImmutabilityPolicy", "hasLegalHold")))
