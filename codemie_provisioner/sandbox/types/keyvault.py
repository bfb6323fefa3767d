"""Key Vault management plane: vaults, their secrets and keys, and the soft-deleted vault bin.

Why: vault names are global and outlive a delete (soft delete): a re-deploy meets 409 ConflictError until the
vault is recovered (PUT with createMode=recover) or purged, and purge protection forbids the purge. The engine's
"already exists" handling is only tested if the sandbox keeps that bin. Secrets and keys share one store with
the data plane (`sandbox/keyvault_dp.py`), which this module also registers by importing it.
"""

from __future__ import annotations

from .. import keyvault_dp as dp
from ..model import ArmError, ResourceType, register, route
from .data import binned, check_api, iso, norm_location, rid_parts, soft_bin

API = ("2026-05-15",)
VAULT = "Microsoft.KeyVault/vaults"
BIN = "vault"
DELETED_VAULTS = r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.KeyVault"


def _bin(ctx) -> dict[str, dict]:
    """Deleted vaults; a vault whose retention ended takes its secrets and keys with it."""
    return soft_bin(ctx, BIN, lambda c, rec: dp.drop_store(c, rec["name"]))


def validate_vault(ctx, rid: str, body: dict, existing: dict | None) -> None:
    props = body.get("properties") or {}
    name = rid_parts(rid)["name"]
    held = _bin(ctx).get(name.lower())
    recover = str(props.get("createMode", "default")).lower() == "recover"
    if existing is None and recover and held is None:
        raise ArmError(404, "SoftDeletedVaultDoesNotExist", f"A soft deleted vault with the name {name} does "
                       "not exist in this subscription.")
    if existing is None and held is not None and not recover:
        raise ArmError(409, "ConflictError", "Exist soft deleted vault with the same name.")
    old = (existing or {}).get("properties", {})
    if old.get("enablePurgeProtection") and props.get("enablePurgeProtection") is False:
        raise ArmError(400, "BadRequest", 'The property "enablePurgeProtection" cannot be set to false. Enabling '
                       "the purge protection for a vault is an irreversible action.")
    if ctx.rule("validation"):
        _validate_vault_fields(props)


def _validate_vault_fields(props: dict) -> None:
    if not props.get("tenantId") or not (props.get("sku") or {}).get("name"):
        raise ArmError(400, "BadRequest", "The properties tenantId and sku are required.")
    days = props.get("softDeleteRetentionInDays", 90)
    if not 7 <= int(days) <= 90:
        raise ArmError(400, "BadRequest", "The property softDeleteRetentionInDays must be between 7 and 90.")


def populate_vault(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    name = rid_parts(rid)["name"]
    props = dict(body.get("properties") or {})
    if str(props.pop("createMode", "")).lower() == "recover" and existing is None:
        held = _bin(ctx).pop(name.lower())
        props = {**held["body"].get("properties", {}), **props}
        _remirror(ctx, {"id": rid, "name": name, "location": body.get("location")})
    defaults = {"accessPolicies": [], "enabledForDeployment": False, "enabledForDiskEncryption": False,
                "enabledForTemplateDeployment": False, "enableSoftDelete": True,
                "softDeleteRetentionInDays": 90, "enableRbacAuthorization": False,
                "publicNetworkAccess": "Enabled"}
    props = {**defaults, **(existing or {}).get("properties", {}), **props}
    props["vaultUri"] = dp.vault_uri(ctx, name)
    props.setdefault("createdAt", iso(ctx))
    if not props.get("enablePurgeProtection"):
        props.pop("enablePurgeProtection", None)
    return {**body, "properties": props}


def _remirror(ctx, vault: dict) -> None:
    """A recovered vault gets its secrets and keys back on the management plane too."""
    store = dp.vault_store(ctx, vault["name"])
    for coll in ("secrets", "keys"):
        for obj in store[coll].values():
            dp.mirror(ctx, vault, coll, obj["name"])


def after_delete_vault(ctx, rid: str, body: dict) -> None:
    """Soft delete keeps the name (and the secrets and keys) until purge; otherwise everything goes."""
    props = body.get("properties", {})
    name = body.get("name") or rid_parts(rid)["name"]
    if not ctx.rule("soft_delete") or props.get("enableSoftDelete") is False:
        dp.drop_store(ctx, name)
        return
    days = int(props.get("softDeleteRetentionInDays", 90))
    _bin(ctx)[name.lower()] = binned(ctx, rid, body, days * 86400, name=name, location=body.get("location", ""))


def deleted_vault_body(ctx, rec: dict) -> dict:
    sub = rid_parts(rec["id"])["subscription"]
    loc = norm_location(rec["location"])
    props = rec["body"].get("properties", {})
    return {"id": f"/subscriptions/{sub}/providers/{VAULT.split('/')[0]}/locations/{loc}/deletedVaults/"
                  f"{rec['name']}",
            "name": rec["name"], "type": "Microsoft.KeyVault/deletedVaults",
            "properties": {"vaultId": rec["id"], "location": loc, "deletionDate": rec["deletionDate"],
                           "scheduledPurgeDate": rec["scheduledPurgeDate"], "tags": rec["body"].get("tags") or {},
                           "purgeProtectionEnabled": bool(props.get("enablePurgeProtection"))}}


def _held(ctx, match) -> dict:
    rec = _bin(ctx).get(match["name"].lower())
    if rec is None or norm_location(rec["location"]) != norm_location(match["loc"]):
        raise ArmError(404, "ResourceNotFound", f"Deleted vault {match['name']} was not found.")
    return rec


@route("GET", DELETED_VAULTS + r"/locations/(?P<loc>[^/]+)/deletedVaults/(?P<name>[^/]+)")
def get_deleted_vault(ctx, match, query, body):
    check_api(query, API)
    return 200, deleted_vault_body(ctx, _held(ctx, match)), {}


@route("GET", DELETED_VAULTS + r"/deletedVaults")
def list_deleted_vaults(ctx, match, query, body):
    check_api(query, API)
    return 200, {"value": [deleted_vault_body(ctx, r) for r in _bin(ctx).values()]}, {}


@route("POST", DELETED_VAULTS + r"/locations/(?P<loc>[^/]+)/deletedVaults/(?P<name>[^/]+)/purge")
def purge_deleted_vault(ctx, match, query, body):
    check_api(query, API)
    rec = _held(ctx, match)
    if rec["body"].get("properties", {}).get("enablePurgeProtection"):
        raise ArmError(405, "MethodNotAllowed", "Operation 'DeletedVaultPurge' is not allowed.")
    _bin(ctx).pop(match["name"].lower())
    dp.drop_store(ctx, rec["name"])
    return 200, None, {}


def _vault_of(ctx, rid: str) -> dict:
    vault = ctx.get(rid.rsplit("/", 2)[0])
    if vault is None:
        raise ArmError(404, "ParentResourceNotFound", f"The vault of {rid} was not found.")
    return vault


def populate_secret(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    """The value goes to the shared store as a new version; the ARM body never carries it."""
    vault, name = _vault_of(ctx, rid), rid_parts(rid)["name"]
    props = body.get("properties") or {}
    obj = dp.vault_store(ctx, vault["name"])["secrets"].get(name.lower())
    if "value" in props or obj is None:
        fields = dp.secret_fields(props.get("value", ""), props.get("contentType"), body.get("tags"),
                                  props.get("attributes"))
        dp.add_version(ctx, vault, "secrets", name, fields, mirror_arm=False)
        obj = dp.vault_store(ctx, vault["name"])["secrets"][name.lower()]
    else:
        changes = {"tags": body.get("tags"), "contentType": props.get("contentType"),
                   "attributes": props.get("attributes")}
        obj = dp.update_version(ctx, vault, "secrets", name, None, changes, mirror_arm=False)
    return dp.arm_child(ctx, vault, "secrets", obj)


@route("PUT", r"(?P<vault>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.KeyVault/vaults/[^/]+)"
              r"/keys/(?P<name>[^/]+)")
def create_key_if_not_exist(ctx, match, query, body):
    """PUT vaults/keys is create-if-not-exist and answers 200 whether it created or not (the SDK accepts
    only 200, so this bypasses the generic 201-on-create); an existing key comes back unchanged."""
    check_api(query, API)
    vault = ctx.get(match["vault"])
    if vault is None:
        raise ArmError(404, "ParentResourceNotFound", f"Parent resource '{match['vault']}' not found.")
    name, props = match["name"], (body or {}).get("properties") or {}
    if name.lower() not in dp.vault_store(ctx, vault["name"])["keys"]:
        params = {"kty": props.get("kty", "RSA"), "key_size": props.get("keySize"), "tags": (body or {}).get("tags"),
                  "key_ops": props.get("keyOps"), "attributes": props.get("attributes")}
        dp.new_rsa_key(ctx, vault, name, params)
    return 200, ctx.get(f"{vault['id']}/keys/{name}"), {}


register(ResourceType(
    type=VAULT, api_versions=API, put="body", patch="sync", delete="sync", duration="key_vault",
    pending_state="RegisteringDns",
    name_rule=r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", name_code="VaultNameNotValid",
    name_hint="A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, "
              "end with a letter or digit, and not contain consecutive hyphens.",
    global_name=True, global_name_code="VaultAlreadyExists",
    validate=validate_vault, populate=populate_vault, after_delete=after_delete_vault,
    read_only_props=("vaultUri", "provisioningState", "hsmPoolResourceId", "privateEndpointConnections")))
register(ResourceType(
    type=f"{VAULT}/secrets", api_versions=API, put="sync", patch="sync", location=False,
    name_rule=r"[0-9a-zA-Z-]{1,127}", populate=populate_secret,
    read_only_props=("secretUri", "secretUriWithVersion")))
register(ResourceType(
    type=f"{VAULT}/keys", api_versions=API, put="sync", location=False,
    name_rule=r"[0-9a-zA-Z-]{1,127}", read_only_props=("keyUri", "keyUriWithVersion")))
