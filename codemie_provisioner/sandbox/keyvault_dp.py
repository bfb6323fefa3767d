"""Key Vault data plane (secrets and RSA keys) served under /kv/<vault>/ on the sandbox host.

Why: the engine writes generated credentials straight into Key Vault with azure-keyvault-secrets and reads the
RSA key with azure-keyvault-keys. Those clients have their own protocol (the bearer challenge, soft delete with a
recovery id, deleted-object polling, name reservation while deleted), which the engine must survive offline.

Secrets and keys are one store shared with the management plane (`vaults/secrets`, `vaults/keys`): objects live
in a per-vault record kept in the sandbox's persisted bins (`ctx.soft_deleted("vault_objects")`, keyed by vault
name), which follows the vault through soft delete, recovery and purge; the ARM child resources are mirrors
without secret values (values are write-only on the management plane).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .model import ArmError, Ctx, register_dataplane

OBJECTS_BIN = "vault_objects"
VAULT_TYPE = "Microsoft.KeyVault/vaults"
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
NAME_RE = re.compile(r"[0-9a-zA-Z-]{1,127}")
RSA_SIZES = (2048, 3072, 4096)
RSA_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
KINDS = {"secrets": "secret", "keys": "key"}           # collection -> word used in messages / ARM type


class KvError(ArmError):
    """A Key Vault error: `{"error": {"code", "message", "innererror": {"code"}}}` (an ArmError, so the
    management-plane hooks that share the store can raise it too)."""

    def __init__(self, status: int, code: str, message: str, inner: str | None = None):
        super().__init__(status, code, message)
        self.inner = inner

    def envelope(self) -> dict:
        body = super().envelope()
        if self.inner:
            body["error"]["innererror"] = {"code": self.inner}
        return body


# ---------------------------------------------------------------- store


def vault_uri(ctx: Ctx, name: str) -> str:
    return f"{ctx.base_url}/kv/{name}/"


def object_id(ctx: Ctx, coll: str, name: str, version: str | None = None) -> str:
    """The id of a secret or key as the data plane returns it.

    The SDKs parse these ids and accept only `<scheme>://<host>/<collection>/<name>[/<version>]`, so they cannot
    carry the /kv/<vault>/ prefix; versions are unique across vaults, which lets `handle_bare` find the vault
    when a client (CryptographyClient) sends a request to such an id.
    """
    return f"{ctx.base_url}/{coll}/{name}" + (f"/{version}" if version else "")


def vault_store(ctx: Ctx, vault_name: str) -> dict:
    """The object record of one vault: {"secrets", "deletedsecrets", "keys", "deletedkeys"} -> name -> object."""
    store = ctx.soft_deleted(OBJECTS_BIN).setdefault(vault_name.lower(), {})
    for coll in ("secrets", "deletedsecrets", "keys", "deletedkeys"):
        store.setdefault(coll, {})
    return store


def drop_store(ctx: Ctx, vault_name: str) -> None:
    ctx.soft_deleted(OBJECTS_BIN).pop(vault_name.lower(), None)


def _stamp(ctx: Ctx) -> int:
    return int(ctx.now)


def _attributes(ctx: Ctx, vault: dict, given: dict | None) -> dict:
    props = vault.get("properties", {})
    soft = props.get("enableSoftDelete", True) is not False
    level = "Purgeable"
    if soft:
        level = "Recoverable" if props.get("enablePurgeProtection") else "Recoverable+Purgeable"
    attrs = {"enabled": True, **(given or {}), "created": _stamp(ctx), "updated": _stamp(ctx),
             "recoveryLevel": level}
    if soft:
        attrs["recoverableDays"] = int(props.get("softDeleteRetentionInDays", 90))
    return attrs


def add_version(ctx: Ctx, vault: dict, coll: str, name: str, fields: dict, mirror_arm: bool = True) -> dict:
    """Store a new version of a secret or key (refused while the name is soft-deleted); returns the version."""
    store = vault_store(ctx, vault["name"])
    word = KINDS[coll]
    if not NAME_RE.fullmatch(name):
        raise KvError(400, "BadParameter", f"The request URI contains an invalid name: {name}")
    if name.lower() in store["deleted" + coll]:
        raise KvError(409, "Conflict", f"{word.capitalize()} {name} is currently in a deleted but recoverable "
                      f"state, and its name cannot be reused; in this state, the {word} can only be recovered "
                      "or purged.", "ObjectIsDeletedButRecoverable")
    obj = store[coll].setdefault(name.lower(), {"name": name, "versions": {}})
    version = ctx.new_guid().replace("-", "")
    attrs = _attributes(ctx, vault, fields.pop("attributes", None))
    obj["versions"][version] = {**fields, "attributes": attrs}
    obj["current"] = version
    if mirror_arm:
        mirror(ctx, vault, coll, name)
    return obj["versions"][version]


def mirror(ctx: Ctx, vault: dict, coll: str, name: str) -> None:
    """Keep the management-plane child resource in step with the store (no values on that plane)."""
    rid = f"{vault['id']}/{coll}/{name}"
    obj = vault_store(ctx, vault["name"])[coll].get(name.lower())
    if obj is None:
        if ctx.get(rid) is not None:
            ctx.delete_internal(rid)
        return
    ctx.put_internal(rid, arm_child(ctx, vault, coll, obj))


def arm_child(ctx: Ctx, vault: dict, coll: str, obj: dict) -> dict:
    """The management-plane body of a secret or key (values never appear)."""
    ver = obj["versions"][obj["current"]]
    uri = f"{vault_uri(ctx, vault['name'])}{coll}/{obj['name']}"
    props: dict[str, Any] = {"attributes": ver["attributes"]}
    if coll == "secrets":
        props.update(secretUri=uri, secretUriWithVersion=f"{uri}/{obj['current']}")
        if ver.get("contentType"):
            props["contentType"] = ver["contentType"]
    else:
        jwk = ver["key"]
        props.update(kty=jwk["kty"], keyOps=jwk["key_ops"], keySize=ver["size"], keyUri=uri,
                     keyUriWithVersion=f"{uri}/{obj['current']}")
    return {"id": f"{vault['id']}/{coll}/{obj['name']}", "name": obj["name"],
            "type": f"{VAULT_TYPE}/{coll}", "location": vault.get("location"),
            "tags": ver.get("tags") or {}, "properties": props}


def new_rsa_key(ctx: Ctx, vault: dict, name: str, params: dict, mirror_arm: bool = True) -> dict:
    """Create a key version from JSON Web Key create parameters (RSA only)."""
    kty = params.get("kty", "RSA")
    if kty not in ("RSA", "RSA-HSM"):
        raise KvError(400, "BadParameter", f"Key type {kty} is not supported by this vault.")
    size = int(params.get("key_size") or 2048)
    if size not in RSA_SIZES:
        raise KvError(400, "BadParameter", f"Key size {size} is not supported; use one of {RSA_SIZES}.")
    private = rsa.generate_private_key(public_exponent=int(params.get("public_exponent") or 65537),
                                       key_size=size)
    numbers = private.public_key().public_numbers()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    jwk = {"kty": kty, "key_ops": list(params.get("key_ops") or RSA_OPS),
           "n": _b64(_int_bytes(numbers.n)), "e": _b64(_int_bytes(numbers.e))}
    fields = {"key": jwk, "size": size, "pem": pem, "tags": params.get("tags") or {},
              "attributes": params.get("attributes")}
    return add_version(ctx, vault, "keys", name, fields, mirror_arm)


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------- bundles (wire shapes)


def _bundle(ctx: Ctx, vault: dict, coll: str, obj: dict, version: str | None = None) -> dict:
    version = version or obj["current"]
    ver = obj["versions"].get(version)
    if ver is None:
        raise _not_found(coll, obj["name"], version)
    oid = object_id(ctx, coll, obj["name"], version)
    out: dict[str, Any] = {"attributes": ver["attributes"], "tags": ver.get("tags") or {}}
    if coll == "secrets":
        out.update(id=oid, value=ver["value"])
        if ver.get("contentType"):
            out["contentType"] = ver["contentType"]
    else:
        out["key"] = {**ver["key"], "kid": oid}
    return out


def _item(ctx: Ctx, vault: dict, coll: str, obj: dict, version: str | None = None) -> dict:
    """List entry: no value, id without version (or with it when listing versions)."""
    full = _bundle(ctx, vault, coll, obj, version)
    oid = full.get("id") or full["key"]["kid"]
    if version is None:
        oid = oid.rsplit("/", 1)[0]
    item = {"attributes": full["attributes"], "tags": full["tags"]}
    item["id" if coll == "secrets" else "kid"] = oid
    if full.get("contentType"):
        item["contentType"] = full["contentType"]
    return item


def _deleted(ctx: Ctx, vault: dict, coll: str, obj: dict, full: bool = True) -> dict:
    body = _bundle(ctx, vault, coll, obj) if full else _item(ctx, vault, coll, obj)
    body.pop("value", None)
    body.update(recoveryId=object_id(ctx, "deleted" + coll, obj["name"]),
                deletedDate=obj["deletedDate"], scheduledPurgeDate=obj["scheduledPurgeDate"])
    return body


def _not_found(coll: str, name: str, version: str | None = None) -> KvError:
    word = KINDS.get(coll, "secret")
    what = f"({name}) with version ({version})" if version else f"({name})"
    return KvError(404, f"{word.capitalize()}NotFound", f"A {word} with (name/id) {what} was not found "
                   "in this key vault.")


# ---------------------------------------------------------------- operations


def _get_obj(store: dict, coll: str, name: str) -> dict:
    obj = store[coll].get(name.lower())
    if obj is None:
        raise _not_found(coll.removeprefix("deleted"), name)
    return obj


def secret_fields(value: str, content_type: str | None, tags: dict | None, attributes: dict | None) -> dict:
    """One secret version as both planes write it."""
    return {"value": value, "contentType": content_type, "tags": tags or {}, "attributes": attributes}


def op_set_secret(ctx, vault, name, body):
    fields = secret_fields(body.get("value", ""), body.get("contentType"), body.get("tags"), body.get("attributes"))
    add_version(ctx, vault, "secrets", name, fields)
    return _bundle(ctx, vault, "secrets", vault_store(ctx, vault["name"])["secrets"][name.lower()])


def op_create_key(ctx, vault, name, body):
    new_rsa_key(ctx, vault, name, body)
    return _bundle(ctx, vault, "keys", vault_store(ctx, vault["name"])["keys"][name.lower()])


def op_get(ctx, vault, coll, name, version=None):
    return _bundle(ctx, vault, coll, _get_obj(vault_store(ctx, vault["name"]), coll, name), version or None)


def update_version(ctx, vault: dict, coll: str, name: str, version: str | None, changes: dict,
                   mirror_arm: bool = True) -> dict:
    """Change tags, content type or attributes of one version (the current one by default) in place."""
    obj = _get_obj(vault_store(ctx, vault["name"]), coll, name)
    ver = obj["versions"].get(version or obj["current"])
    if ver is None:
        raise _not_found(coll, name, version)
    if changes.get("tags") is not None:
        ver["tags"] = changes["tags"]
    if changes.get("contentType") is not None:
        ver["contentType"] = changes["contentType"]
    ver["attributes"] = {**ver["attributes"], **(changes.get("attributes") or {}), "updated": _stamp(ctx)}
    if mirror_arm:
        mirror(ctx, vault, coll, obj["name"])
    return obj


def op_update(ctx, vault, coll, name, version, body):
    obj = update_version(ctx, vault, coll, name, version or None, body)
    full = _bundle(ctx, vault, coll, obj, version or None)
    full.pop("value", None)
    return full


def op_list(ctx, vault, coll):
    store = vault_store(ctx, vault["name"])
    if coll.startswith("deleted"):
        return {"value": [_deleted(ctx, vault, coll[7:], o, full=False) for o in store[coll].values()],
                "nextLink": None}
    return {"value": [_item(ctx, vault, coll, o) for o in store[coll].values()], "nextLink": None}


def op_versions(ctx, vault, coll, name):
    obj = _get_obj(vault_store(ctx, vault["name"]), coll, name)
    return {"value": [_item(ctx, vault, coll, obj, v) for v in obj["versions"]], "nextLink": None}


def op_delete(ctx, vault, coll, name):
    store = vault_store(ctx, vault["name"])
    obj = store[coll].pop(name.lower(), None)
    if obj is None:
        raise _not_found(coll, name)
    mirror(ctx, vault, coll, name)
    props = vault.get("properties", {})
    if props.get("enableSoftDelete", True) is False:
        return _bundle(ctx, vault, coll, obj)
    days = int(props.get("softDeleteRetentionInDays", 90))
    obj.update(deletedDate=_stamp(ctx), scheduledPurgeDate=_stamp(ctx) + days * 86400)
    store["deleted" + coll][name.lower()] = obj
    return _deleted(ctx, vault, coll, obj)


def op_get_deleted(ctx, vault, coll, name):
    obj = _get_obj(vault_store(ctx, vault["name"]), "deleted" + coll, name)
    return _deleted(ctx, vault, coll, obj)


def op_purge(ctx, vault, coll, name):
    if vault.get("properties", {}).get("enablePurgeProtection"):
        raise KvError(403, "Forbidden", 'Operation "purge" is not allowed because purge protection is enabled '
                      "for this vault. Key Vault service will automatically purge it after the retention "
                      "period has passed.")
    store = vault_store(ctx, vault["name"])
    _get_obj(store, "deleted" + coll, name)
    store["deleted" + coll].pop(name.lower())
    return None


def op_recover(ctx, vault, coll, name):
    store = vault_store(ctx, vault["name"])
    obj = _get_obj(store, "deleted" + coll, name)
    store["deleted" + coll].pop(name.lower())
    for key in ("deletedDate", "scheduledPurgeDate"):
        obj.pop(key, None)
    store[coll][name.lower()] = obj
    mirror(ctx, vault, coll, obj["name"])
    return _bundle(ctx, vault, coll, obj)


ALGORITHMS = {
    "RSA-OAEP": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
    "RSA-OAEP-256": lambda: padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                                         label=None),
    "RSA1_5": padding.PKCS1v15,
}
CRYPTO_OPS = {"encrypt": ("encrypt", False), "wrapkey": ("wrapKey", False),
              "decrypt": ("decrypt", True), "unwrapkey": ("unwrapKey", True)}


def op_crypto(ctx, vault, name, version, operation, body):
    """encrypt / decrypt / wrapkey / unwrapkey with the RSA key (public half for the forward direction)."""
    obj = _get_obj(vault_store(ctx, vault["name"]), "keys", name)
    version = version or obj["current"]
    ver = obj["versions"].get(version)
    if ver is None:
        raise _not_found("keys", name, version)
    op_name, private_side = CRYPTO_OPS[operation]
    if op_name not in ver["key"]["key_ops"]:
        raise KvError(403, "Forbidden", f"Operation {op_name} is not permitted on this key.", "KeyOperationForbidden")
    alg = body.get("alg")
    if alg not in ALGORITHMS:
        raise KvError(400, "BadParameter", f"Invalid algorithm: {alg}")
    private = serialization.load_pem_private_key(ver["pem"].encode(), password=None)
    data = _unb64(body.get("value", ""))
    try:
        out = (private.decrypt(data, ALGORITHMS[alg]()) if private_side
               else private.public_key().encrypt(data, ALGORITHMS[alg]()))
    except ValueError as exc:
        raise KvError(400, "BadParameter", f"The {op_name} operation failed: {exc}") from exc
    kid = object_id(ctx, "keys", obj["name"], version)
    return {"kid": kid, "value": _b64(out)}


# ---------------------------------------------------------------- routing

N = r"(?P<name>[^/]+)"
V = r"(?P<version>[^/]*)"
ROUTES: list[tuple[str, re.Pattern, Any]] = [(m, re.compile(p, re.IGNORECASE), f) for m, p, f in [
    ("PUT", rf"secrets/{N}/?", lambda c, v, g, b: op_set_secret(c, v, g["name"], b)),
    ("POST", rf"keys/{N}/create", lambda c, v, g, b: op_create_key(c, v, g["name"], b)),
    ("GET", r"(?P<coll>secrets|keys|deletedsecrets|deletedkeys)/?", lambda c, v, g, b: op_list(c, v, g["coll"].lower())),
    ("GET", rf"(?P<coll>secrets|keys)/{N}/versions", lambda c, v, g, b: op_versions(c, v, g["coll"].lower(), g["name"])),
    ("GET", rf"(?P<coll>secrets|keys)/{N}(/{V})?", lambda c, v, g, b: op_get(c, v, g["coll"].lower(), g["name"], g["version"])),
    ("PATCH", rf"(?P<coll>secrets|keys)/{N}(/{V})?",
     lambda c, v, g, b: op_update(c, v, g["coll"].lower(), g["name"], g["version"], b)),
    ("DELETE", rf"(?P<coll>secrets|keys)/{N}/?", lambda c, v, g, b: op_delete(c, v, g["coll"].lower(), g["name"])),
    ("GET", rf"deleted(?P<coll>secrets|keys)/{N}/?", lambda c, v, g, b: op_get_deleted(c, v, g["coll"].lower(), g["name"])),
    ("DELETE", rf"deleted(?P<coll>secrets|keys)/{N}/?", lambda c, v, g, b: op_purge(c, v, g["coll"].lower(), g["name"])),
    ("POST", rf"deleted(?P<coll>secrets|keys)/{N}/recover", lambda c, v, g, b: op_recover(c, v, g["coll"].lower(), g["name"])),
    ("POST", rf"keys/{N}/{V}/(?P<op>encrypt|decrypt|wrapkey|unwrapkey)",
     lambda c, v, g, b: op_crypto(c, v, g["name"], g["version"], g["op"].lower(), b)),
]]
WRITES = {"PUT", "POST", "DELETE", "PATCH"}


def challenge(ctx: Ctx) -> tuple[int, Any, dict]:
    """The first, token-less request gets Key Vault's bearer challenge (tenant first in the path)."""
    header = (f'Bearer authorization="https://login.windows.net/{ctx.tenant_id}", '
              'resource="https://vault.azure.net"')
    body = KvError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.").envelope()
    return 401, body, {"WWW-Authenticate": header}


def has_token(headers: dict) -> bool:
    auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
    return auth.lower().startswith("bearer ")


def find_vault(ctx: Ctx, name: str) -> dict:
    for vault in ctx.find(VAULT_TYPE):
        if vault.get("name", "").lower() == name.lower():
            return vault
    raise KvError(404, "VaultNotFound", f"The vault {name} does not exist or is not reachable.")


def check_rbac_window(ctx: Ctx, vault: dict, method: str) -> None:
    """Rule `rbac_window`: on an RBAC vault, writes get 403 ForbiddenByRbac until `rbac_window_s` (default 60
    realistic seconds, scaled) has passed since the newest role grant at the vault or above it."""
    if method not in WRITES or not ctx.rule("rbac_window"):
        return
    if not vault.get("properties", {}).get("enableRbacAuthorization"):
        return
    window = ctx.setting("rbac_window_s")
    window = ctx.scaled(60) if window is None else window
    for grant in ctx.find(ROLE_ASSIGNMENT_TYPE):
        scope = str(grant.get("properties", {}).get("scope") or "").rstrip("/").lower()
        created = ctx.created_at(grant["id"])
        if scope and vault["id"].lower().startswith(scope) and created is not None and ctx.now - created < window:
            raise KvError(403, "Forbidden", "Caller is not authorized to perform action on resource. "
                          "If role assignments were recently changed, please wait several minutes for role "
                          "assignments to become effective.", "ForbiddenByRbac")


def handle(ctx: Ctx, method: str, path: str, query: dict, headers: dict, raw: bytes) -> tuple[int, Any, dict]:
    """DataPlane handler: `path` is '<vault>/<collection>/...' (the part after /kv/)."""
    if not has_token(headers):
        return challenge(ctx)
    vault_name, _, rest = path.strip("/").partition("/")
    try:
        vault = find_vault(ctx, vault_name)
        check_rbac_window(ctx, vault, method.upper())
        body = _json(raw)
        for verb, pattern, fn in ROUTES:
            match = pattern.fullmatch(rest)
            if verb == method.upper() and match:
                result = fn(ctx, vault, match.groupdict(), body)
                return (204, None, {}) if result is None else (200, result, {})
        raise KvError(400, "BadParameter", f"Unsupported request: {method} {rest}")
    except ArmError as err:
        return err.status, err.envelope(), {}


def handle_bare(ctx: Ctx, method: str, path: str, query: dict, headers: dict, raw: bytes):
    """/keys/<name>/<version>/... without the vault prefix (a CryptographyClient built from a key id):
    the vault is the one holding that key version (or, without a version, the only one holding the name)."""
    if not has_token(headers):
        return challenge(ctx)
    name, _, rest = path.strip("/").partition("/")
    version = rest.split("/", 1)[0]
    holders = [vault for vault, store in ctx.soft_deleted(OBJECTS_BIN).items()
               if name.lower() in store.get("keys", {})
               and (not version or version in store["keys"][name.lower()]["versions"])]
    if len(holders) != 1:
        return 404, _not_found("keys", name, version or None).envelope(), {}
    return handle(ctx, method, f"{holders[0]}/keys/{path}", query, headers, raw)


def _json(raw: bytes) -> dict:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise KvError(400, "BadParameter", "The request body is not valid JSON.") from exc
    return data if isinstance(data, dict) else {}


register_dataplane("/kv/", handle)
register_dataplane("/keys/", handle_bare)
