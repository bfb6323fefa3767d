"""Container registry, Log Analytics workspaces and diagnostic settings, plus the small helpers every type
module shares (`iso`, `rid_parts`, `norm_location`, `check_api` for custom routes, `soft_bin` / `binned` for
soft-delete bins with a retention end).

Why: the registry has a global name and a login server the platform phase reads; a deleted workspace keeps its
name for 14 days (recovered by a PUT of the same name in the same group, released only by `force=true`), which
breaks naive destroy/re-apply cycles; diagnostic settings are extension resources on any resource id and must
point at a live workspace.
"""

from __future__ import annotations

import math

from .. import ids, lro
from ..model import ArmError, ResourceType, register, route

# ---------------------------------------------------------------- shared helpers


def iso(ctx, offset_s: float = 0.0) -> str:
    """Sandbox-clock time (plus an offset) as an ARM timestamp."""
    return lro.iso(ctx.now + offset_s)


def rid_parts(rid: str) -> dict[str, str]:
    """subscription, resourceGroup (name) and the last name of a resource id."""
    group = ids.group_of(rid) or ""
    return {"name": rid.rstrip("/").rsplit("/", 1)[-1], "subscription": ids.subscription_of(rid),
            "resourceGroup": group.rsplit("/", 1)[-1] if group else ""}


def norm_location(loc: str) -> str:
    return (loc or "").replace(" ", "").lower()


def check_api(query: dict, versions: tuple[str, ...]) -> None:
    """api-version check for custom routes (the core checks resource routes itself)."""
    got = query.get("api-version")
    if not got:
        raise ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is "
                       "required for all requests.")
    if got not in versions:
        raise ArmError(400, "InvalidApiVersionParameter", f"The api-version '{got}' is invalid. The supported "
                       f"versions are '{','.join(versions)}'.")


def soft_bin(ctx, kind: str, on_purge=None) -> dict[str, dict]:
    """The soft-delete bin of `kind` without the records whose retention has ended (Azure purges those by
    itself). Retention is days of sandbox clock, never time-scaled; tests move past it with `advance`."""
    held = ctx.soft_deleted(kind)
    for key in [k for k, rec in held.items() if rec.get("purgeAt", math.inf) <= ctx.now]:
        gone = held.pop(key)
        if on_purge is not None:
            on_purge(ctx, gone)
    return held


def binned(ctx, rid: str, body: dict, retention_s: float, **extra) -> dict:
    """A soft-delete bin record: the deleted body, when it was deleted and when Azure purges it."""
    return {"id": body.get("id", rid), "body": body, "deletionDate": iso(ctx),
            "scheduledPurgeDate": iso(ctx, retention_s), "purgeAt": ctx.now + retention_s, **extra}


def same_group(a: str, b: str) -> bool:
    return (ids.group_of(a) or "").lower() == (ids.group_of(b) or "").lower()


# ---------------------------------------------------------------- container registry

ACR_API = ("2025-11-01",)
ACR_TIERS = {"basic": "Basic", "standard": "Standard", "premium": "Premium"}


def populate_registry(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    name = rid_parts(rid)["name"]
    sku = dict(body.get("sku") or {"name": "Basic"})
    sku["tier"] = ACR_TIERS.get(str(sku.get("name", "")).lower(), sku.get("name"))
    defaults = {"adminUserEnabled": False, "publicNetworkAccess": "Enabled", "networkRuleBypassOptions":
                "AzureServices", "zoneRedundancy": "Disabled", "dataEndpointEnabled": False,
                "anonymousPullEnabled": False, "creationDate": iso(ctx)}
    props = {**defaults, **(existing or {}).get("properties", {}), **(body.get("properties") or {})}
    props["loginServer"] = f"{name.lower()}.azurecr.io"
    return {**body, "sku": sku, "properties": props}


def validate_registry(ctx, rid: str, body: dict, existing: dict | None) -> None:
    tier = str((body.get("sku") or {}).get("name", "")).lower()
    if ctx.rule("validation") and tier not in ACR_TIERS:
        raise ArmError(400, "InvalidSku", f"The sku '{tier}' is not valid for a container registry.")


def list_registry_credentials(ctx, rid: str, stored: dict | None, body: dict):
    if not (stored or {}).get("properties", {}).get("adminUserEnabled"):
        raise ArmError(400, "UnAuthorizedForCredentialOperations", "Cannot perform credential operations for "
                       f"{rid} as admin user is disabled. Kindly enable admin user as per docs.")
    secret = ctx.new_guid().replace("-", "")
    return 200, {"username": stored["name"], "passwords": [{"name": "password", "value": secret},
                                                           {"name": "password2", "value": secret[::-1]}]}


register(ResourceType(
    type="Microsoft.ContainerRegistry/registries", api_versions=ACR_API, put="async_op", patch="async_op",
    delete="async", duration="acr", name_rule=r"[a-zA-Z0-9]{5,50}",
    name_hint="Registry names may contain only alpha numeric characters and must be between 5 and 50 characters.",
    global_name=True, global_name_code="AlreadyInUse", validate=validate_registry, populate=populate_registry,
    actions={"listCredentials": list_registry_credentials},
    read_only_props=("loginServer", "creationDate", "provisioningState", "status")))

# ---------------------------------------------------------------- Log Analytics workspaces

LA_API = ("2025-07-01",)
WORKSPACE = "Microsoft.OperationalInsights/workspaces"
LA_BIN = "workspace"
LA_SKUS = {"free", "standard", "premium", "pernode", "pergb2018", "standalone", "capacityreservation",
           "lacluster"}


def validate_workspace(ctx, rid: str, body: dict, existing: dict | None) -> None:
    """A soft-deleted name is only usable to recover it (same group); elsewhere it is not unique."""
    held = soft_bin(ctx, LA_BIN).get(rid_parts(rid)["name"].lower())
    if existing is None and held is not None and not same_group(held["id"], rid):
        raise ArmError(409, "Conflict", f"The workspace name '{rid_parts(rid)['name']}' is not unique",
                       target="name")
    props = body.get("properties") or {}
    sku = str((props.get("sku") or {}).get("name", "PerGB2018")).lower()
    days = props.get("retentionInDays")
    if ctx.rule("validation") and sku not in LA_SKUS:
        raise ArmError(400, "InvalidParameter", f"The sku '{sku}' is not valid.", target="sku")
    if ctx.rule("validation") and days is not None and not (30 <= int(days) <= 730 or sku == "free"):
        raise ArmError(400, "InvalidParameter", "retentionInDays must be between 30 and 730.",
                       target="retentionInDays")


def populate_workspace(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    """A PUT over a soft-deleted name in the same group recovers it (same customerId)."""
    held = None
    if existing is None:
        held = soft_bin(ctx, LA_BIN).pop(rid_parts(rid)["name"].lower(), None)
    base = (held or {}).get("body", {}).get("properties") or (existing or {}).get("properties") or {}
    props = {"retentionInDays": 30, "publicNetworkAccessForIngestion": "Enabled",
             "publicNetworkAccessForQuery": "Enabled", "workspaceCapping": {"dailyQuotaGb": -1.0},
             "features": {"legacy": 0, "searchVersion": 1, "enableLogAccessUsingOnlyResourcePermissions": True},
             "customerId": ctx.new_guid(), "createdDate": iso(ctx), **base, **(body.get("properties") or {})}
    props["sku"] = {"name": "PerGB2018", **(props.get("sku") or {}), "lastSkuUpdate": iso(ctx)}
    props["modifiedDate"] = iso(ctx)
    return {**body, "properties": props}


def after_delete_workspace(ctx, rid: str, body: dict) -> None:
    """Soft delete keeps the name 14 days; the engine's `force=true` delete skips the bin."""
    query = getattr(ctx, "query", None) or {}
    if not ctx.rule("soft_delete") or str(query.get("force", "")).lower() == "true":
        return
    soft_bin(ctx, LA_BIN)[body.get("name", rid_parts(rid)["name"]).lower()] = binned(ctx, rid, body, 14 * 86400)


def _deleted_workspaces(ctx, match, group: str | None) -> list[dict]:
    out = []
    for rec in soft_bin(ctx, LA_BIN).values():
        parts = rid_parts(rec["id"])
        if parts["subscription"].lower() != match["sub"].lower():
            continue
        if group is None or parts["resourceGroup"].lower() == group.lower():
            out.append({**rec["body"], "properties": {**rec["body"].get("properties", {}),
                                                      "provisioningState": "Deleting"}})
    return out


@route("GET", r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.OperationalInsights/deletedWorkspaces")
def list_deleted_workspaces(ctx, match, query, body):
    check_api(query, LA_API)
    return 200, {"value": _deleted_workspaces(ctx, match, None)}, {}


@route("GET", r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
              r"Microsoft\.OperationalInsights/deletedWorkspaces")
def list_deleted_workspaces_in_group(ctx, match, query, body):
    check_api(query, LA_API)
    return 200, {"value": _deleted_workspaces(ctx, match, match["rg"])}, {}


register(ResourceType(
    type=WORKSPACE, api_versions=LA_API, put="body", patch="sync", delete="sync", duration="log_analytics",
    name_rule=r"[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]",
    name_hint="The workspace name must be 4-63 letters, digits or hyphens, starting and ending with a letter "
              "or digit.",
    validate=validate_workspace, populate=populate_workspace, after_delete=after_delete_workspace,
    read_only_props=("customerId", "provisioningState", "createdDate", "modifiedDate")))

# ---------------------------------------------------------------- diagnostic settings (extension resource)

DIAG_API = ("2021-05-01-preview",)


def validate_diagnostic(ctx, rid: str, body: dict, existing: dict | None) -> None:
    """The target resource and the workspace must exist; at least one destination is required."""
    cut = rid.lower().rfind("/providers/microsoft.insights/diagnosticsettings/")
    if cut > 0 and ctx.get(rid[:cut]) is None:
        raise ArmError(404, "ResourceNotFound", f"The resource '{rid[:cut]}' was not found.")
    props = body.get("properties") or {}
    sinks = [props.get(k) for k in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId",
                                    "marketplacePartnerId")]
    if not any(sinks):
        raise ArmError(400, "BadRequest", "A diagnostic setting needs at least one destination (workspaceId, "
                       "storageAccountId, eventHubAuthorizationRuleId or marketplacePartnerId).")
    workspace = props.get("workspaceId")
    if workspace and ctx.get(workspace) is None:
        raise ArmError(400, "BadRequest", f"Resource '{workspace}' was not found.", target="workspaceId")


def populate_diagnostic(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    props = {"logs": [], "metrics": [], **(body.get("properties") or {})}
    return {**body, "properties": props}


@route("PUT", r"(?P<scope>/.+)/providers/Microsoft\.Insights/diagnosticSettings/(?P<name>[^/]+)")
def put_diagnostic(ctx, match, query, body):
    """create_or_update accepts only 200, new or not, so the PUT bypasses the generic 201-on-create; GET,
    list and DELETE stay generic."""
    check_api(query, DIAG_API)
    if not isinstance(body, dict):
        raise ArmError(400, "InvalidRequestContent", "A JSON object is required.")
    rid = f"{match['scope']}/providers/Microsoft.Insights/diagnosticSettings/{match['name']}"
    existing = ctx.get(rid)
    validate_diagnostic(ctx, rid, body, existing)
    ctx.put_internal(rid, populate_diagnostic(ctx, rid, body, existing))
    return 200, ctx.get(rid), {}


register(ResourceType(
    type="Microsoft.Insights/diagnosticSettings", api_versions=DIAG_API, put="sync", delete="sync",
    location=False, etag=False, validate=validate_diagnostic, populate=populate_diagnostic))
