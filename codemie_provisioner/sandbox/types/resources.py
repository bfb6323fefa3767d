"""Resource groups and resource-provider registration (Microsoft.Resources).

Why: every deployment starts with a group and ends by deleting one, and a group delete is the classic 202 +
Location operation that cascades over everything inside (azure-behaviours.md §3). Provider registration answers
the SDK's auto-registration policy (§8); every namespace the sandbox knows is registered from the start.
"""

from __future__ import annotations

from ..ids import RG_TYPE
from ..model import REGISTRY, ArmError, ResourceType, register, route

API = ("2025-04-01", "2024-11-01", "2024-03-01", "2022-09-01", "2021-04-01", "2016-02-01")
SUB = r"/subscriptions/(?P<sub>[^/]+)/providers"


def populate_group(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    """A group keeps its first location; only tags and managedBy change."""
    if existing is not None and ctx.rule("validation") and \
            _norm(existing.get("location")) != _norm(body.get("location")):
        raise ArmError(409, "InvalidResourceGroupLocation", f"Invalid resource group location "
                       f"'{body.get('location')}'. The Resource group already exists in location "
                       f"'{existing.get('location')}'.")
    return {k: v for k, v in body.items() if k in ("location", "tags", "managedBy", "properties")}


def _norm(location) -> str:
    return str(location or "").replace(" ", "").lower()


register(ResourceType(
    type=RG_TYPE, api_versions=API, put="sync", patch="sync", delete="location", duration="resource_group",
    name_rule=r"[-\w._()]{0,89}[-\w_()]", name_code="InvalidResourceGroupName",
    name_hint="Resource group names only allow up to 90 characters and can only include alphanumeric, "
              "underscore, parentheses, hyphen, period (except at end), and Unicode characters.",
    populate=populate_group, etag=False))


# ---------------------------------------------------------------- providers


def _check_version(query: dict) -> None:
    if not query.get("api-version"):
        raise ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is "
                       "required for all requests.")


def provider_body(ctx, namespace: str) -> dict:
    """A registered provider with the resource types and api-versions the sandbox serves for it."""
    kinds = [rt for rt in REGISTRY.values() if rt.type.split("/", 1)[0].lower() == namespace.lower()]
    canonical = kinds[0].type.split("/", 1)[0] if kinds else namespace
    return {"id": f"/subscriptions/{ctx.subscription_id}/providers/{canonical}", "namespace": canonical,
            "registrationState": "Registered", "registrationPolicy": "RegistrationRequired",
            "resourceTypes": [{"resourceType": rt.type.split("/", 1)[1], "locations": [],
                               "apiVersions": list(rt.api_versions)} for rt in kinds]}


def namespaces() -> list[str]:
    return sorted({rt.type.split("/", 1)[0] for rt in REGISTRY.values()}, key=str.lower)


@route("POST", SUB + r"/(?P<ns>[^/]+)/register")
def register_provider(ctx, match, query: dict, body):
    _check_version(query)
    return 200, provider_body(ctx, match["ns"]), {}


@route("GET", SUB + r"/(?P<ns>[^/]+)")
def get_provider(ctx, match, query: dict, body):
    _check_version(query)
    return 200, provider_body(ctx, match["ns"]), {}


@route("GET", SUB)
def list_providers(ctx, match, query: dict, body):
    _check_version(query)
    return 200, {"value": [provider_body(ctx, ns) for ns in namespaces()]}, {}
