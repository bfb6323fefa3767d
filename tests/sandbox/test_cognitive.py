"""Azure OpenAI through azure-mgmt-cognitiveservices: accounts with a global custom subdomain that stays taken
while soft-deleted (purge or restore release it), and model deployments serialized per account."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

RG, LOC = "rg-ai", "swedencentral"


def cognitive(box) -> CognitiveServicesManagementClient:
    rm = box.client(ResourceManagementClient)
    for name in (RG, "rg-ai-2"):
        rm.resource_groups.create_or_update(name, {"location": LOC})
    return box.client(CognitiveServicesManagementClient)


def account_body(subdomain: str, **props) -> dict:
    return {"location": LOC, "kind": "OpenAI", "sku": {"name": "S0"},
            "properties": {"customSubDomainName": subdomain, "publicNetworkAccess": "Disabled",
                           "networkAcls": {"defaultAction": "Deny"}, **props}}


def deployment_body(model: str, capacity: int = 10) -> dict:
    return {"sku": {"name": "Standard", "capacity": capacity},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}}}


def refused(call) -> tuple[int, str]:
    with pytest.raises(HttpResponseError) as err:
        call()
    return err.value.status_code, err.value.error.code


def test_account_and_deployment_crud(sandbox):
    client = cognitive(sandbox)
    account = client.accounts.begin_create(RG, "codemie-openai", account_body("codemie-ai-1")).result()
    assert account.properties.endpoint == "https://codemie-ai-1.openai.azure.com/"
    assert account.properties.provisioning_state == "Succeeded"
    assert (account.kind, account.sku.name, account.properties.public_network_access) == ("OpenAI", "S0", "Disabled")
    made = client.deployments.begin_create_or_update(RG, "codemie-openai", "gpt-4.1",
                                                     deployment_body("gpt-4.1", 50)).result()
    assert (made.properties.model.name, made.sku.capacity, made.properties.provisioning_state) == \
        ("gpt-4.1", 50, "Succeeded")
    assert [d.name for d in client.deployments.list(RG, "codemie-openai")] == ["gpt-4.1"]
    client.deployments.begin_delete(RG, "codemie-openai", "gpt-4.1").result()
    with pytest.raises(ResourceNotFoundError):
        client.deployments.get(RG, "codemie-openai", "gpt-4.1")
    client.accounts.begin_delete(RG, "codemie-openai").result()
    with pytest.raises(ResourceNotFoundError):
        client.accounts.get(RG, "codemie-openai")


def test_subdomain_is_global(sandbox):
    client = cognitive(sandbox)
    client.accounts.begin_create(RG, "first", account_body("shared-sub")).result()
    assert refused(lambda: client.accounts.begin_create("rg-ai-2", "second", account_body("shared-sub"))) == \
        (409, "CustomDomainInUse")


def test_soft_deleted_subdomain_is_taken_until_purged(sandbox):
    client = cognitive(sandbox)
    client.accounts.begin_create(RG, "old-ai", account_body("reused-sub")).result()
    client.accounts.begin_delete(RG, "old-ai").result()
    deleted = client.deleted_accounts.get(LOC, RG, "old-ai")
    assert deleted.properties.custom_sub_domain_name == "reused-sub"
    assert [a.name for a in client.deleted_accounts.list()] == ["old-ai"]
    assert refused(lambda: client.accounts.begin_create("rg-ai-2", "new-ai", account_body("reused-sub"))) == \
        (409, "CustomDomainInUse")
    assert refused(lambda: client.accounts.begin_create(RG, "old-ai", account_body("other-sub"))) == \
        (409, "FlagMustBeSetForRestore")
    client.deleted_accounts.begin_purge(LOC, RG, "old-ai").result()
    with pytest.raises(ResourceNotFoundError):
        client.deleted_accounts.get(LOC, RG, "old-ai")
    made = client.accounts.begin_create("rg-ai-2", "new-ai", account_body("reused-sub")).result()
    assert made.properties.endpoint == "https://reused-sub.openai.azure.com/"


def test_soft_deleted_account_is_restored(sandbox):
    client = cognitive(sandbox)
    first = client.accounts.begin_create(RG, "restore-ai", account_body("restore-sub")).result()
    client.accounts.begin_delete(RG, "restore-ai").result()
    back = client.accounts.begin_create(RG, "restore-ai", account_body("restore-sub", restore=True)).result()
    assert back.properties.internal_id == first.properties.internal_id
    assert back.properties.endpoint == "https://restore-sub.openai.azure.com/"
    assert list(client.deleted_accounts.list()) == []


def test_concurrent_deployments_conflict(sandbox):
    client = cognitive(sandbox)
    client.accounts.begin_create(RG, "busy-ai", account_body("busy-sub")).result()
    sandbox.set_profile({"time_scale": 1.0, "poll_cadence": [0.05]})
    first = client.deployments.begin_create_or_update(RG, "busy-ai", "gpt-4.1", deployment_body("gpt-4.1"))
    assert refused(lambda: client.deployments.begin_create_or_update(
        RG, "busy-ai", "text-embedding-ada-002", deployment_body("text-embedding-ada-002"))) == \
        (409, "RequestConflict")
    assert client.deployments.get(RG, "busy-ai", "gpt-4.1").properties.provisioning_state == "Creating"
    sandbox.advance(600)
    assert first.result().properties.provisioning_state == "Succeeded"
    second = client.deployments.begin_create_or_update(RG, "busy-ai", "text-embedding-ada-002",
                                                       deployment_body("text-embedding-ada-002"))
    sandbox.advance(600)
    assert second.result().name == "text-embedding-ada-002"
