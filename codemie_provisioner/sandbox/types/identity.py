"""Managed identities, federated credentials, role assignments and built-in role definitions.

Why: the identity plane is where a fresh deployment stumbles most often. A role assignment to a principal that
is seconds old answers 400 `PrincipalNotFound` until the directory has replicated it (the window is the profile
setting `principal_window_s`, sandbox seconds); an unknown principal never succeeds; assignments are unique on
scope + principal + role, not on name (`RoleAssignmentExists`), and can never be changed
(`RoleAssignmentUpdateNotPermitted`). Federated credentials on one identity must be written one at a time
(`ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity`) and an issuer+subject pair may appear
only once per identity. The sandbox answers a credential write at once, already final as Azure's synchronous
answer is, but keeps the identity busy for the `identity` duration (an operation runs behind the answer), which
is how the conflict shows when writers do not take turns. Principals are every principal id a sandbox resource carries (user-assigned identities,
system-assigned identities, AKS kubelet and add-on identities), plus the profile setting `known_principals`
(ids, or id -> principalType) for people and groups that live outside the sandbox.

Shared with the other compute modules: `fill_identity` (the `identity` block of any resource), `identity_body`
(an identity created by a service, e.g. the AKS kubelet identity), `bad` and `dig`.
"""

from __future__ import annotations

import re

from ..model import REGISTRY, ArmError, ResourceType, register, route
from .data import check_api, iso, rid_parts

MSI_API = ("2024-11-30", "2023-01-31", "2022-01-31-preview", "2021-09-30-preview", "2018-11-30")
AUTHZ_API = ("2022-04-01",)
UAI = "Microsoft.ManagedIdentity/userAssignedIdentities"
FIC = f"{UAI}/federatedIdentityCredentials"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
RA_SEP = "/providers/microsoft.authorization/roleassignments/"
GUID = re.compile(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", re.IGNORECASE)
FIC_LIMIT = 20

# ---------------------------------------------------------------- helpers shared by the compute modules


def bad(message: str, target: str | None = None, code: str = "InvalidParameter") -> ArmError:
    """A 400 for a field the request got wrong."""
    return ArmError(400, code, message, target=target)


def dig(data: dict | None, path: tuple[str, ...]):
    """The value at `path` in nested dicts, or None."""
    for key in path:
        data = (data or {}).get(key)
    return data



def identity_body(ctx, rid: str, location: str, tags: dict | None = None) -> dict:
    """A user-assigned identity as Azure stores it (used for identities that services create themselves)."""
    name = rid_parts(rid)["name"]
    return {"id": rid, "name": name, "type": UAI, "location": location, "tags": tags or {},
            "properties": {"tenantId": ctx.tenant_id, "principalId": ctx.new_guid(), "clientId": ctx.new_guid(),
                           "isolationScope": "None"}}


def fill_identity(ctx, body: dict, existing: dict | None, missing_code: str = "InvalidParameter") -> dict | None:
    """The `identity` block with server fields: principalId/tenantId for SystemAssigned, and the principal and
    client ids of each referenced user-assigned identity (which must exist)."""
    ident = body.get("identity")
    if not ident:
        return None
    kind = str(ident.get("type") or "None")
    old = (existing or {}).get("identity") or {}
    out = {"type": kind}
    if "systemassigned" in kind.lower():
        out["principalId"] = old.get("principalId") or ctx.new_guid()
        out["tenantId"] = ctx.tenant_id
    if "userassigned" in kind.lower():
        out["userAssignedIdentities"] = {uid: _user_identity_ref(ctx, uid, missing_code)
                                         for uid in (ident.get("userAssignedIdentities") or {})}
    return out


def _user_identity_ref(ctx, uid: str, missing_code: str) -> dict:
    found = ctx.get(uid)
    if found is None:
        raise ArmError(400, missing_code, f"The user assigned identity '{uid}' was not found.",
                       target="identity.userAssignedIdentities")
    props = found.get("properties", {})
    return {"principalId": props.get("principalId"), "clientId": props.get("clientId")}


# ---------------------------------------------------------------- user-assigned identities


def populate_identity(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    old = (existing or {}).get("properties", {})
    props = {"isolationScope": "None", **(body.get("properties") or {})}
    props.update(tenantId=ctx.tenant_id, principalId=old.get("principalId") or ctx.new_guid(),
                 clientId=old.get("clientId") or ctx.new_guid())
    return {**body, "properties": props}


# ---------------------------------------------------------------- federated identity credentials


def validate_fic(ctx, rid: str, body: dict, existing: dict | None) -> None:
    props = body.get("properties") or {}
    issuer, subject, audiences = props.get("issuer"), props.get("subject"), props.get("audiences")
    if not issuer or not subject or not audiences:
        raise ArmError(400, "BadRequest", "The request format was unexpected. Federated Identity Credential "
                       "must specify 'issuer', 'subject' and 'audience'.")
    if ctx.rule("validation") and not str(issuer).startswith("https://"):
        raise ArmError(400, "BadRequest", f"The issuer '{issuer}' must be an https URL.", target="issuer")
    parent = rid.rsplit("/", 2)[0]
    siblings = [c for c in ctx.children(parent, FIC) if c.get("name", "").lower() != rid_parts(rid)["name"].lower()]
    if any(_same_pair(c, issuer, subject) for c in siblings):
        raise ArmError(400, "BadRequest", "Issuer and subject combination already exists for this Managed "
                       "Identity.")
    if existing is None and len(siblings) >= FIC_LIMIT:
        raise ArmError(400, "BadRequest", f"A managed identity can hold at most {FIC_LIMIT} federated identity "
                       "credentials.")


def _same_pair(cred: dict, issuer: str, subject: str) -> bool:
    props = cred.get("properties", {})
    return props.get("issuer") == issuer and props.get("subject") == subject


# ---------------------------------------------------------------- built-in role definitions

# roleName -> (well-known GUID, description, actions, notActions, dataActions)
BUILTIN_ROLES: dict[str, tuple[str, str, list[str], list[str], list[str]]] = {
    "Owner": ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Full access, including granting access to others.",
              ["*"], [], []),
    "Contributor": ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Full access except granting access to others.",
                    ["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                            "Microsoft.Authorization/elevateAccess/Action"], []),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "View everything, change nothing.", ["*/read"], [], []),
    "AcrPull": ("7f951dda-4ed3-4680-a7ca-43fe172d538d", "Pull images from a container registry.",
                ["Microsoft.ContainerRegistry/registries/pull/read"], [], []),
    "Key Vault Crypto User": ("12338af0-0e69-4776-bea7-57ae8d297424", "Cryptographic operations with keys.",
                              [], [], ["Microsoft.KeyVault/vaults/keys/read",
                                       "Microsoft.KeyVault/vaults/keys/encrypt/action",
                                       "Microsoft.KeyVault/vaults/keys/decrypt/action",
                                       "Microsoft.KeyVault/vaults/keys/wrap/action",
                                       "Microsoft.KeyVault/vaults/keys/unwrap/action",
                                       "Microsoft.KeyVault/vaults/keys/sign/action",
                                       "Microsoft.KeyVault/vaults/keys/verify/action"]),
    "Key Vault Secrets Officer": ("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Any action on the secrets of a vault.",
                                  ["Microsoft.KeyVault/vaults/*/read"], [], ["Microsoft.KeyVault/vaults/secrets/*"]),
    "Key Vault Administrator": ("00482a5a-887f-4fb3-b363-3b7fe8e74483", "All data-plane operations on a vault.",
                                ["Microsoft.KeyVault/vaults/*/read"], [], ["Microsoft.KeyVault/vaults/*"]),
    "Storage Blob Data Contributor": ("ba92f5b4-2d11-453d-a403-e96b0029c9fe",
                                      "Read, write and delete blob containers and blobs.",
                                      ["Microsoft.Storage/storageAccounts/blobServices/containers/*"], [],
                                      ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"]),
    "Cognitive Services OpenAI User": ("5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
                                       "Call Azure OpenAI inference APIs and read models.",
                                       ["Microsoft.CognitiveServices/*/read"], [],
                                       ["Microsoft.CognitiveServices/accounts/OpenAI/*"]),
    "Network Contributor": ("4d97b98b-1d4f-4787-a291-c67834d212e7", "Manage networks, not access to them.",
                            ["Microsoft.Network/*", "Microsoft.Authorization/*/read"], [], []),
    "Private DNS Zone Contributor": ("b12aa53e-6015-4669-85d0-8515ebb3ae7f",
                                     "Manage private DNS zones, not access to them.",
                                     ["Microsoft.Network/privateDnsZones/*",
                                      "Microsoft.Network/virtualNetworks/join/action",
                                      "Microsoft.Authorization/*/read"], [], []),
    "Managed Identity Operator": ("f1a07417-d97a-45cb-824c-7a7467783830", "Read and assign user-assigned "
                                  "identities.", ["Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
                                                  "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"],
                                  [], []),
    "Monitoring Metrics Publisher": ("3913510d-42f4-4e42-8a64-420c390055eb", "Publish metrics to Azure Monitor.",
                                     ["Microsoft.Insights/Register/Action"], [],
                                     ["Microsoft.Insights/Metrics/Write", "Microsoft.Insights/Telemetry/Write"]),
}
ROLE_BY_GUID = {guid: name for name, (guid, *_rest) in BUILTIN_ROLES.items()}


def role_guid(role_definition_id: str) -> str:
    return str(role_definition_id or "").rstrip("/").rsplit("/", 1)[-1].lower()


def role_definition_body(scope: str, name: str) -> dict:
    guid, description, actions, not_actions, data_actions = BUILTIN_ROLES[name]
    sub = rid_parts(scope)["subscription"] if scope else ""
    prefix = f"/subscriptions/{sub}" if sub else ""
    return {"id": f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{guid}", "name": guid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {"roleName": name, "type": "BuiltInRole", "description": description,
                           "assignableScopes": ["/"],
                           "permissions": [{"actions": actions, "notActions": not_actions,
                                            "dataActions": data_actions, "notDataActions": []}],
                           "createdOn": "2015-02-02T21:55:09.8806423Z", "updatedOn": "2025-01-01T00:00:00.0000000Z",
                           "createdBy": None, "updatedBy": None}}


@route("GET", r"(?P<scope>.*?)/providers/Microsoft\.Authorization/roleDefinitions/(?P<guid>[^/]+)")
def get_role_definition(ctx, match, query: dict, body: dict | None):
    check_api(query, AUTHZ_API)
    name = ROLE_BY_GUID.get(match["guid"].lower())
    if name is None:
        raise ArmError(404, "RoleDefinitionDoesNotExist", "The specified role definition with ID "
                       f"'{match['guid']}' does not exist.")
    return 200, role_definition_body(match["scope"], name), {}


@route("GET", r"(?P<scope>.*?)/providers/Microsoft\.Authorization/roleDefinitions")
def list_role_definitions(ctx, match, query: dict, body: dict | None):
    check_api(query, AUTHZ_API)
    wanted = _filter_value(query.get("$filter"), "roleName")
    names = [n for n in BUILTIN_ROLES if wanted is None or n.lower() == wanted.lower()]
    return 200, {"value": [role_definition_body(match["scope"], n) for n in names]}, {}


def _filter_value(expr: str | None, field: str) -> str | None:
    """The quoted value of `<field> eq '<value>'` in an OData filter, or None."""
    found = re.search(rf"{field}\s+eq\s+'([^']*)'", expr or "", re.IGNORECASE)
    return found.group(1) if found else None


# ---------------------------------------------------------------- principals


def principals(ctx) -> dict[str, tuple[float | None, str]]:
    """principalId (lower) -> (sandbox time its owner was created, principalType), over every stored resource."""
    out: dict[str, tuple[float | None, str]] = {}
    for rt in list(REGISTRY.values()):
        for res in ctx.find(rt.type):
            born = ctx.created_at(res.get("id", ""))
            for pid in _principal_ids(res):
                out.setdefault(pid.lower(), (born, "ServicePrincipal"))
    known = ctx.setting("known_principals") or {}
    pairs = known.items() if isinstance(known, dict) else ((pid, "User") for pid in known)
    for pid, kind in pairs:
        out[str(pid).lower()] = (None, kind)
    return out


def _principal_ids(res: dict) -> list[str]:
    props = res.get("properties") or {}
    found = [(res.get("identity") or {}).get("principalId")]
    if str(res.get("type", "")).lower() == UAI.lower():
        found.append(props.get("principalId"))
    found.append(((props.get("identityProfile") or {}).get("kubeletidentity") or {}).get("objectId"))
    for addon in (props.get("addonProfiles") or {}).values():
        found.append(((addon or {}).get("identity") or {}).get("objectId"))
    return [p for p in found if p]


def _check_principal(ctx, principal_id: str, claimed_type: str | None) -> None:
    """Refuse principals the directory does not know yet, and a principalType that is not theirs."""
    entry = principals(ctx).get(principal_id.lower())
    young = entry is not None and entry[0] is not None and ctx.rule("principal_window") and \
        ctx.now - entry[0] < float(ctx.setting("principal_window_s", 0) or 0)
    if (entry is None and ctx.rule("validation")) or young:
        raise ArmError(400, "PrincipalNotFound", f"Principal {principal_id.replace('-', '')} does not exist in the "
                       f"directory {ctx.tenant_id}. If it was created moments ago this can be replication delay; "
                       "set principalType to avoid the lookup or retry later.")
    if entry and claimed_type and claimed_type.lower() != entry[1].lower():
        raise ArmError(400, "UnmatchedPrincipalType", f"The PrincipalId '{principal_id.replace('-', '')}' has type "
                       f"'{entry[1]}', which is different from specified PrincipalType '{claimed_type}'.")


# ---------------------------------------------------------------- role assignments


def assignment_scope(rid: str) -> str:
    cut = rid.lower().rfind(RA_SEP)
    return rid[:cut] or "/"


def validate_assignment(ctx, rid: str, body: dict, existing: dict | None) -> None:
    props = body.get("properties") or {}
    role, principal = props.get("roleDefinitionId"), str(props.get("principalId") or "")
    if existing is not None:
        old = existing.get("properties", {})
        if old.get("principalId", "").lower() != principal.lower() or \
                role_guid(old.get("roleDefinitionId")) != role_guid(role):
            raise ArmError(400, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and "
                           "scope are not allowed to be updated.")
        return
    if role_guid(role) not in ROLE_BY_GUID:
        raise ArmError(400, "RoleDefinitionDoesNotExist", f"The specified role definition with ID "
                       f"'{role_guid(role)}' does not exist.")
    if not GUID.fullmatch(principal):
        raise ArmError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
    _check_unique(ctx, rid, principal, role)
    _check_principal(ctx, principal, props.get("principalType"))


def _check_unique(ctx, rid: str, principal: str, role: str) -> None:
    if not ctx.rule("role_assignment_unique"):
        return
    scope = assignment_scope(rid).lower()
    for other in ctx.find(ROLE_ASSIGNMENT):
        props = other.get("properties", {})
        if str(props.get("scope", "")).lower() == scope and props.get("principalId", "").lower() == \
                principal.lower() and role_guid(props.get("roleDefinitionId")) == role_guid(role) and \
                other.get("name", "").lower() != rid_parts(rid)["name"].lower():
            raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.",
                           details=[{"code": "RoleAssignmentExists", "message": f"ID: {other.get('name')}"}])


def populate_assignment(ctx, rid: str, body: dict, existing: dict | None) -> dict:
    props = dict(body.get("properties") or {})
    old = (existing or {}).get("properties", {})
    sub = rid_parts(rid)["subscription"] or ctx.subscription_id
    guid = role_guid(props.get("roleDefinitionId"))
    kind = props.get("principalType") or old.get("principalType") or \
        principals(ctx).get(str(props.get("principalId")).lower(), (None, "User"))[1]
    props.update(roleDefinitionId=f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
                 principalType=kind, scope=assignment_scope(rid), condition=props.get("condition"),
                 conditionVersion=props.get("conditionVersion"), description=props.get("description"),
                 delegatedManagedIdentityResourceId=None, createdOn=old.get("createdOn") or iso(ctx),
                 updatedOn=iso(ctx), createdBy=old.get("createdBy"), updatedBy=None)
    return {**{k: v for k, v in body.items() if k != "location"}, "properties": props}


@route("GET", r"(?P<scope>.*?)/providers/Microsoft\.Authorization/roleAssignments")
def list_assignments(ctx, match, query: dict, body: dict | None):
    """List at a scope: those at, above and below it; `atScope()` keeps at-or-above; `principalId eq` filters."""
    check_api(query, AUTHZ_API)
    scope = match["scope"].rstrip("/").lower()
    expr = query.get("$filter") or ""
    principal = _filter_value(expr, "principalId")
    out = []
    for ra in ctx.find(ROLE_ASSIGNMENT):
        at = str(ra.get("properties", {}).get("scope", "")).rstrip("/").lower()
        above = scope == at or scope.startswith(at + "/") or at == ""
        below = at.startswith(scope + "/")
        if ("atscope()" in expr.lower() and not above) or not (above or below):
            continue
        if principal and ra.get("properties", {}).get("principalId", "").lower() != principal.lower():
            continue
        out.append(ra)
    return 200, {"value": out}, {}


register(ResourceType(
    type=UAI, api_versions=MSI_API, put="sync", patch="sync", delete="sync", etag=False,
    name_rule=r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}",
    name_hint="The name must be 3-128 characters of letters, digits, '_' and '-', starting with a letter or digit.",
    populate=populate_identity, read_only_props=("tenantId", "principalId", "clientId")))
register(ResourceType(
    type=FIC, api_versions=MSI_API, put="body", pending_state="Succeeded", delete="sync", location=False,
    etag=False, duration="identity",
    lock=UAI, busy=(409, "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"),
    name_rule=r"[A-Za-z0-9][A-Za-z0-9_-]{2,119}",
    name_hint="The name must be 3-120 characters of letters, digits, '_' and '-', starting with a letter or digit.",
    validate=validate_fic))
register(ResourceType(
    type=ROLE_ASSIGNMENT, api_versions=AUTHZ_API, put="sync", delete="sync", location=False, etag=False,
    name_rule=GUID.pattern, name_code="InvalidRoleAssignmentId",
    name_hint="The role assignment ID is not valid. The role assignment ID must be a GUID.",
    validate=validate_assignment, populate=populate_assignment,
    read_only_props=("scope", "createdOn", "updatedOn", "createdBy", "updatedBy")))
