"""Storage through azure-mgmt-storage: the 202 + Location account create that stays invisible until done,
global names, listKeys, blob service settings (versioning) and management-plane containers."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient

RG, LOC = "rg-state", "westeurope"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def storage(box) -> StorageManagementClient:
    box.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": LOC})
    return box.client(StorageManagementClient)


def account_body(**props) -> dict:
    return {"location": LOC, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "properties": props}


def test_account_crud_and_keys(sandbox):
    client = storage(sandbox)
    made = client.storage_accounts.begin_create(
        RG, "codemiestate1", account_body(allowBlobPublicAccess=False, minimumTlsVersion="TLS1_2",
                                          publicNetworkAccess="Disabled")).result()
    assert made.properties.provisioning_state == "Succeeded"
    assert made.properties.primary_endpoints.blob == "https://codemiestate1.blob.core.windows.net/"
    got = client.storage_accounts.get_properties(RG, "codemiestate1")
    assert (got.properties.allow_blob_public_access, got.properties.minimum_tls_version,
            got.properties.public_network_access) == (False, "TLS1_2", "Disabled")
    assert got.sku.tier == "Standard"
    keys = client.storage_accounts.list_keys(RG, "codemiestate1")["keys"]
    assert [k["keyName"] for k in keys] == ["key1", "key2"] and keys[0]["value"] != keys[1]["value"]
    assert client.storage_accounts.list_keys(RG, "codemiestate1")["keys"] == keys
    client.storage_accounts.delete(RG, "codemiestate1")
    with pytest.raises(ResourceNotFoundError):
        client.storage_accounts.get_properties(RG, "codemiestate1")


def test_account_is_invisible_until_created(sandbox_factory):
    box = sandbox_factory("realistic", poll_cadence=[0.05])
    client = storage(box)
    poller = client.storage_accounts.begin_create(RG, "slowaccount", account_body())
    with pytest.raises(ResourceNotFoundError):
        client.storage_accounts.get_properties(RG, "slowaccount")
    assert [a.name for a in client.storage_accounts.list_by_resource_group(RG)] == []
    box.advance(60)
    assert poller.result().name == "slowaccount"
    assert client.storage_accounts.get_properties(RG, "slowaccount").properties.provisioning_state == "Succeeded"


def test_account_names_are_global_and_validated(sandbox):
    client = storage(sandbox)
    client.storage_accounts.begin_create(RG, "takenname", account_body()).result()
    sandbox.client(ResourceManagementClient).resource_groups.create_or_update("rg-b", {"location": LOC})
    with pytest.raises(HttpResponseError) as taken:
        client.storage_accounts.begin_create("rg-b", "takenname", account_body()).result()
    assert (taken.value.status_code, taken.value.error.code) == (409, "StorageAccountAlreadyTaken")
    with pytest.raises(HttpResponseError) as bad:
        client.storage_accounts.begin_create(RG, "Bad_Name", account_body()).result()
    assert (bad.value.status_code, bad.value.error.code) == (400, "AccountNameInvalid")


def test_blob_endpoint_and_key_follow_profile_settings(sandbox_factory):
    box = sandbox_factory(settings={"blob_endpoint_template": "http://127.0.0.1:10000/{name}/",
                                    "storage_account_key": AZURITE_KEY})
    client = storage(box)
    made = client.storage_accounts.begin_create(RG, "azuriteacct", account_body()).result()
    assert made.properties.primary_endpoints.blob == "http://127.0.0.1:10000/azuriteacct/"
    assert {k["value"] for k in client.storage_accounts.list_keys(RG, "azuriteacct")["keys"]} == {AZURITE_KEY}


def test_blob_versioning_round_trip(sandbox):
    client = storage(sandbox)
    client.storage_accounts.begin_create(RG, "versioned1", account_body()).result()
    assert client.blob_services.get_service_properties(RG, "versioned1").is_versioning_enabled is False
    client.blob_services.set_service_properties(RG, "versioned1", {"properties": {
        "isVersioningEnabled": True, "deleteRetentionPolicy": {"enabled": True, "days": 7}}})
    got = client.blob_services.get_service_properties(RG, "versioned1")
    assert got.is_versioning_enabled is True
    assert (got.delete_retention_policy.enabled, got.delete_retention_policy.days) == (True, 7)


def test_containers(sandbox):
    client = storage(sandbox)
    client.storage_accounts.begin_create(RG, "withcontainers", account_body()).result()
    made = client.blob_containers.create(RG, "withcontainers", "tfstate", {"properties": {"publicAccess": "None"}})
    assert made.public_access == "None"
    assert [c.name for c in client.blob_containers.list(RG, "withcontainers")] == ["tfstate"]
    with pytest.raises(HttpResponseError) as refused:
        client.blob_containers.create(RG, "withcontainers", "public", {"properties": {"publicAccess": "Blob"}})
    assert refused.value.error.code == "PublicAccessNotPermitted"
    client.blob_containers.delete(RG, "withcontainers", "tfstate")
    with pytest.raises(ResourceNotFoundError):
        client.blob_containers.get(RG, "withcontainers", "tfstate")
