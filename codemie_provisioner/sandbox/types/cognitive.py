"""Cognitive Services / Azure OpenAI accounts, their model deployments, and the deleted-account bin.

Why: the OpenAI phase trips on three Azure habits the engine must survive: a custom subdomain is global and
stays taken while the account is soft-deleted (409 CustomDomainInUse until purged or restored with
`restore: true`), re-creating a soft-deleted account name needs that flag (FlagMustBeSetForRestore), and model
deployments on one account are serialized (a concurrent write gets 409 RequestConflict).
"""

from __future__ import annotations

from ..model import ArmError, ResourceType, register, route
from .data import binned, check_api, iso, norm_location, rid_parts, soft_bin

API = ("2025-09-01",)
ACCOUNT = "Microsoft.CognitiveServices/accounts"
BIN = "cognitive"
DELETED = r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.CognitiveServices"


def _subdomain_owner(ctx, sub: str, rid: str) -> str | None:
    """Id of another live or soft-deleted account holding the custom subdomain `sub`."""
    held = [(r["id"], r["body"]) for r in soft_bin(ctx, BIN).values()]
    for owner_id, body in [(b.get("id", ""), b) for b in ctx.find(ACCOUNT)] + held:
        theirs = str(body.get("properties", {}).get("customSubDomainName") or "").lower()
        if theirs == sub.lower() and owner_id.lower() != rid.lower():
            return owner_id
    return None


def validate_account(ctx, rid: str, body: dict, existing: dict | None) -> None:
    props = body.get("properties") or {}
    held = soft_bin(ctx, BIN).get(rid.lower())
    restore = props.get("restore") is True
    if existing is None and held is not None and not restore:
        raise ArmError(409, "FlagMustBeSetForRestore", f"An existing resource with ID '{rid}' has been "
                       "soft-deleted. To restore the resource, you must specify 'restore' to be 'true' in the "
                       "property. If you don't want to restore existing resource, please purge it first.")
    if existing is None and restore and held is None:
        raise ArmError(404, "ResourceNotFound", f"No soft-deleted account '{rid}' to restore.")
    sub = props.get("customSubDomainName")
    if sub and _subdomain_owner(ctx, sub, rid):
        raise ArmError(409, "CustomDomainInUse", f"Please pick a different name. The subdomain name '{sub}' is "
                       "not available as it's already used by a resource.")
    if ctx.rule("validation") and not (body.get("sku") or {}).get("name"):
        raise ArmError(400, "InvalidRequestContent", "The sku name is required.", target="sku")


def endpoint(body: dict, props: dict) -> str:
    sub = props.get("customSubDomainName")
    if not sub:
        return f"https://{norm_location(body.get('location', ''))}.api.cognitive.microsoft.com/"
    domain = "openai.azure.com" if str(body.get("kind", "")).lower() == "openai" else "cognitiveservices.azure.com"
    return f"https://{sub.lower()}.{domain}/"


def populate_account(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    base = (existing or {}).get("properties") or {}
    if existing is None and (body.get("properties") or {}).get("restore") is True:
        base = soft_bin(ctx, BIN).pop(rid.lower())["body"].get("properties", {})
    props = {"publicNetworkAccess": "Enabled", "dateCreated": iso(ctx), "isMigrated": False,
             "internalId": ctx.new_guid().replace("-", ""), **base, **(body.get("properties") or {})}
    props.pop("restore", None)
    props["endpoint"] = endpoint(body, props)
    props["endpoints"] = {"OpenAI Language Model Instance API": props["endpoint"]}
    for key in ("deletionDate", "scheduledPurgeDate"):
        props.pop(key, None)
    return {**body, "properties": props}


def after_delete_account(ctx, rid: str, body: dict) -> None:
    """Soft delete (48 h): the subdomain stays taken until purge or restore."""
    if not ctx.rule("soft_delete"):
        return
    soft_bin(ctx, BIN)[rid.lower()] = binned(ctx, rid, body, 48 * 3600)


def deleted_account_body(rec: dict) -> dict:
    parts = rid_parts(rec["id"])
    body = rec["body"]
    loc = norm_location(body.get("location", ""))
    did = (f"/subscriptions/{parts['subscription']}/providers/{ACCOUNT.split('/')[0]}/locations/{loc}/"
           f"resourceGroups/{parts['resourceGroup']}/deletedAccounts/{parts['name']}")
    props = {**body.get("properties", {}), "deletionDate": rec["deletionDate"],
             "scheduledPurgeDate": rec["scheduledPurgeDate"]}
    return {**body, "id": did, "properties": props}


def _held(ctx, match) -> dict:
    for key, rec in soft_bin(ctx, BIN).items():
        parts = rid_parts(rec["id"])
        if (parts["subscription"].lower(), parts["resourceGroup"].lower(), parts["name"].lower()) == \
                (match["sub"].lower(), match["rg"].lower(), match["name"].lower()) and \
                norm_location(rec["body"].get("location", "")) == norm_location(match["loc"]):
            return {"key": key, **rec}
    raise ArmError(404, "ResourceNotFound", f"The deleted account '{match['name']}' was not found.")


ONE_DELETED = DELETED + r"/locations/(?P<loc>[^/]+)/resourceGroups/(?P<rg>[^/]+)/deletedAccounts/(?P<name>[^/]+)"


@route("GET", ONE_DELETED)
def get_deleted_account(ctx, match, query, body):
    check_api(query, API)
    return 200, deleted_account_body(_held(ctx, match)), {}


@route("DELETE", ONE_DELETED)
def purge_deleted_account(ctx, match, query, body):
    """Purge releases the name and the subdomain at once."""
    check_api(query, API)
    soft_bin(ctx, BIN).pop(_held(ctx, match)["key"])
    return 200, None, {}


@route("GET", DELETED + r"/deletedAccounts")
def list_deleted_accounts(ctx, match, query, body):
    check_api(query, API)
    recs = [r for r in soft_bin(ctx, BIN).values()
            if rid_parts(r["id"])["subscription"].lower() == match["sub"].lower()]
    return 200, {"value": [deleted_account_body(r) for r in recs]}, {}


def validate_deployment(ctx, rid: str, body: dict, existing: dict | None) -> None:
    model = (body.get("properties") or {}).get("model") or {}
    if not model.get("name") or not model.get("format"):
        raise ArmError(400, "InvalidResourceProperties", "The model format and name are required.",
                       target="properties.model")
    sku = body.get("sku") or {}
    if not sku.get("name") or int(sku.get("capacity") or 1) < 1:
        raise ArmError(400, "InvalidResourceProperties", "The deployment sku name and a positive capacity are "
                       "required.", target="sku")


def populate_deployment(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    sku = {"capacity": 1, **(body.get("sku") or {})}
    props = {"versionUpgradeOption": "OnceNewDefaultVersionAvailable", "raiPolicyName": "Microsoft.DefaultV2",
             **(existing or {}).get("properties", {}), **(body.get("properties") or {})}
    props["currentCapacity"] = sku["capacity"]
    return {**body, "sku": sku, "properties": props}


register(ResourceType(
    type=ACCOUNT, api_versions=API, put="body", patch="sync", delete="async", duration="cognitive_account",
    lock="self", busy=(409, "RequestConflict"), name_rule=r"[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}",
    name_hint="The account name must be 2-64 letters, digits, '_', '.' or '-', starting with a letter or digit.",
    validate=validate_account, populate=populate_account, after_delete=after_delete_account,
    read_only_props=("endpoint", "endpoints", "provisioningState", "dateCreated", "internalId")))
register(ResourceType(
    type=f"{ACCOUNT}/deployments", api_versions=API, put="async_op", patch="sync", delete="async",
    duration="cognitive_deployment", lock=ACCOUNT, busy=(409, "RequestConflict"), location=False,
    name_rule=r"[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}", validate=validate_deployment, populate=populate_deployment,
    read_only_props=("provisioningState", "currentCapacity")))
