"""Managed identities, federated credentials, role assignments and role definitions in the sandbox, driven by
the real azure-mgmt-msi and azure-mgmt-authorization clients over HTTPS."""

from __future__ import annotations

import io
import json
import re
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient

GUID = re.compile(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}")
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
FIC_BODY = {"properties": {"issuer": "https://westeurope.oic.prod-aks.azure.com/t/abc/",
                           "subject": "system:serviceaccount:codemie:codemie-api",
                           "audiences": ["api://AzureADTokenExchange"]}}


# Helpers the other sandbox test modules of the compute domain import from here.


def raw(body: dict) -> io.BytesIO:
    """A request body sent as-is, the way the engine's gateway sends it."""
    return io.BytesIO(json.dumps(body).encode())


def as_json(pipeline_response, _deserialized, _headers):
    """`cls=` for any operation: the answer's raw JSON (what the engine reads)."""
    return json.loads(pipeline_response.http_response.text())


def role_id(sandbox, guid: str) -> str:
    return f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


class Cloud:
    """The clients and a resource group one test works in."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.msi = sandbox.client(ManagedServiceIdentityClient)
        self.authz = sandbox.client(AuthorizationManagementClient)
        sandbox.client(ResourceManagementClient).resource_groups.create_or_update("rg-id", {"location": "westeurope"})
        self.rg = f"/subscriptions/{sandbox.subscription_id}/resourceGroups/rg-id"

    def identity(self, name: str) -> dict:
        return self.msi.user_assigned_identities.create_or_update("rg-id", name, raw({"location": "westeurope"}),
                                                                 cls=as_json)

    def assign(self, principal: str, role: str, scope: str | None = None, name: str | None = None) -> dict:
        body = {"properties": {"roleDefinitionId": role_id(self.sandbox, role), "principalId": principal}}
        return self.authz.role_assignments.create(scope or self.rg, name or str(uuid.uuid4()), raw(body), cls=as_json)


@pytest.fixture
def cloud(sandbox) -> Cloud:
    return Cloud(sandbox)


def code_of(exc: HttpResponseError) -> str:
    """The ARM error code of a failed call."""
    return exc.error.code if exc.error else ""


# ---------------------------------------------------------------- identities


def test_identity_gets_principal_client_and_tenant_ids(cloud, sandbox):
    made = cloud.identity("id-api")
    props = made["properties"]
    assert GUID.fullmatch(props["principalId"]) and GUID.fullmatch(props["clientId"])
    assert props["tenantId"] == sandbox.tenant_id
    cloud.msi.user_assigned_identities.update("rg-id", "id-api", raw({"tags": {"team": "ai"}}))
    again = cloud.msi.user_assigned_identities.get("rg-id", "id-api")
    assert again.principal_id == props["principalId"] and again.tags == {"team": "ai"}
    assert [i.name for i in cloud.msi.user_assigned_identities.list_by_resource_group("rg-id")] == ["id-api"]
    cloud.msi.user_assigned_identities.delete("rg-id", "id-api")
    with pytest.raises(ResourceNotFoundError):
        cloud.msi.user_assigned_identities.get("rg-id", "id-api")


def test_federated_credential_crud_and_duplicate_issuer_subject(cloud):
    cloud.identity("id-api")
    fics = cloud.msi.federated_identity_credentials
    made = fics.create_or_update("rg-id", "id-api", "codemie-api", raw(FIC_BODY), cls=as_json)
    assert made["properties"]["subject"] == FIC_BODY["properties"]["subject"]
    assert [f.name for f in fics.list("rg-id", "id-api")] == ["codemie-api"]
    with pytest.raises(HttpResponseError) as err:
        fics.create_or_update("rg-id", "id-api", "codemie-api-copy", raw(FIC_BODY))
    assert err.value.status_code == 400 and "already exists" in err.value.message
    fics.delete("rg-id", "id-api", "codemie-api")
    with pytest.raises(ResourceNotFoundError):
        fics.get("rg-id", "id-api", "codemie-api")


def test_federated_credential_needs_issuer_subject_and_audience(cloud):
    cloud.identity("id-api")
    with pytest.raises(HttpResponseError) as err:
        cloud.msi.federated_identity_credentials.create_or_update(
            "rg-id", "id-api", "broken", raw({"properties": {"issuer": "https://issuer.example/"}}))
    assert err.value.status_code == 400


def test_concurrent_federated_credential_writes_on_one_identity_conflict(sandbox_factory):
    box = sandbox_factory(time_scale=1.0)
    cloud = Cloud(box)
    cloud.identity("id-api")
    fics = cloud.msi.federated_identity_credentials
    fics.create_or_update("rg-id", "id-api", "first", raw(FIC_BODY))
    other = {"properties": {**FIC_BODY["properties"], "subject": "system:serviceaccount:codemie:worker"}}
    with pytest.raises(ResourceExistsError) as err:
        fics.create_or_update("rg-id", "id-api", "second", raw(other))
    assert code_of(err.value) == "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"
    box.advance(5)
    assert fics.create_or_update("rg-id", "id-api", "second", raw(other), cls=as_json)["name"] == "second"


# ---------------------------------------------------------------- role assignments


def test_role_assignment_create_get_list_delete(cloud, sandbox):
    principal = cloud.identity("id-api")["properties"]["principalId"]
    name = str(uuid.uuid4())
    made = cloud.assign(principal, ACR_PULL, name=name)
    props = made["properties"]
    assert props["scope"] == cloud.rg and props["principalType"] == "ServicePrincipal"
    assert props["roleDefinitionId"] == role_id(sandbox, ACR_PULL)
    got = cloud.authz.role_assignments.get(cloud.rg, name)
    assert got.principal_id == principal
    listed = cloud.authz.role_assignments.list_for_scope(cloud.rg, filter=f"principalId eq '{principal}'")
    assert [ra.name for ra in listed] == [name]
    cloud.authz.role_assignments.delete(cloud.rg, name)
    with pytest.raises(ResourceNotFoundError):
        cloud.authz.role_assignments.get(cloud.rg, name)


def test_new_principal_is_not_found_until_the_window_passes(sandbox_factory):
    box = sandbox_factory(time_scale=1.0, principal_window_s=30)
    cloud = Cloud(box)
    principal = cloud.identity("id-fresh")["properties"]["principalId"]
    with pytest.raises(HttpResponseError) as err:
        cloud.assign(principal, READER)
    assert err.value.status_code == 400 and code_of(err.value) == "PrincipalNotFound"
    box.advance(31)
    assert cloud.assign(principal, READER)["properties"]["principalId"] == principal


def test_unknown_principal_is_refused_unless_the_profile_knows_it(sandbox_factory):
    stranger = str(uuid.uuid4())
    cloud = Cloud(sandbox_factory())
    with pytest.raises(HttpResponseError) as err:
        cloud.assign(stranger, READER)
    assert code_of(err.value) == "PrincipalNotFound"
    known = Cloud(sandbox_factory(settings={"known_principals": {stranger: "Group"}}))
    assert known.assign(stranger, READER)["properties"]["principalType"] == "Group"


def test_same_scope_principal_and_role_under_another_name_exists(cloud):
    principal = cloud.identity("id-api")["properties"]["principalId"]
    first = cloud.assign(principal, ACR_PULL)
    with pytest.raises(ResourceExistsError) as err:
        cloud.assign(principal, ACR_PULL)
    assert code_of(err.value) == "RoleAssignmentExists"
    assert cloud.assign(principal, ACR_PULL, name=first["name"])["name"] == first["name"]
    assert cloud.assign(principal, READER)["properties"]["roleDefinitionId"].endswith(READER)


def test_role_assignment_cannot_be_updated(cloud):
    principal = cloud.identity("id-api")["properties"]["principalId"]
    first = cloud.assign(principal, ACR_PULL)
    with pytest.raises(HttpResponseError) as err:
        cloud.assign(principal, READER, name=first["name"])
    assert err.value.status_code == 400 and code_of(err.value) == "RoleAssignmentUpdateNotPermitted"


def test_unknown_role_definition_is_refused(cloud):
    principal = cloud.identity("id-api")["properties"]["principalId"]
    with pytest.raises(HttpResponseError) as err:
        cloud.assign(principal, str(uuid.uuid4()))
    assert code_of(err.value) == "RoleDefinitionDoesNotExist"


def test_list_at_scope_sees_above_and_below_and_at_scope_filter_keeps_above(cloud):
    principal = cloud.identity("id-api")["properties"]["principalId"]
    identity_scope = f"{cloud.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-api"
    at_group = cloud.assign(principal, READER)["name"]
    at_identity = cloud.assign(principal, ACR_PULL, scope=identity_scope)["name"]
    ras = cloud.authz.role_assignments
    assert {ra.name for ra in ras.list_for_scope(cloud.rg)} == {at_group, at_identity}
    assert {ra.name for ra in ras.list_for_scope(cloud.rg, filter="atScope()")} == {at_group}
    assert {ra.name for ra in ras.list_for_scope(identity_scope, filter="atScope()")} == {at_group, at_identity}
    assert {ra.name for ra in ras.list_for_resource_group("rg-id")} == {at_group, at_identity}


# ---------------------------------------------------------------- role definitions


def test_role_definition_lookup_by_name_and_id(cloud, sandbox):
    defs = cloud.authz.role_definitions
    found = list(defs.list(cloud.rg, filter="roleName eq 'Key Vault Crypto User'"))
    assert [(d.name, d.role_name, d.role_type) for d in found] == \
        [("12338af0-0e69-4776-bea7-57ae8d297424", "Key Vault Crypto User", "BuiltInRole")]
    assert defs.get(cloud.rg, ACR_PULL).role_name == "AcrPull"
    assert defs.get_by_id(role_id(sandbox, READER)).role_name == "Reader"
    assert len(list(defs.list(f"/subscriptions/{sandbox.subscription_id}"))) >= 13
    with pytest.raises(ResourceNotFoundError):
        defs.get(cloud.rg, str(uuid.uuid4()))


def test_principal_type_must_match_the_principal(cloud, sandbox):
    principal = cloud.identity("id-api")["properties"]["principalId"]
    body = {"properties": {"roleDefinitionId": role_id(sandbox, READER), "principalId": principal,
                           "principalType": "User"}}
    with pytest.raises(HttpResponseError) as err:
        cloud.authz.role_assignments.create(cloud.rg, str(uuid.uuid4()), raw(body))
    assert err.value.status_code == 400 and code_of(err.value) == "UnmatchedPrincipalType"
