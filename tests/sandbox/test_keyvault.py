"""Key Vault management plane through azure-mgmt-keyvault: vault CRUD with body polling, the soft-deleted name
reservation and its two ways out (recover, purge), purge protection, and vault secrets / keys."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

RG, LOC = "rg-vaults", "westeurope"


@pytest.fixture
def kv(sandbox) -> KeyVaultManagementClient:
    sandbox.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": LOC})
    return sandbox.client(KeyVaultManagementClient)


def vault_body(sandbox, **props) -> dict:
    return {"location": LOC, "tags": {"app": "codemie"},
            "properties": {"tenantId": sandbox.tenant_id, "sku": {"family": "A", "name": "standard"}, **props}}


def refused_code(call) -> tuple[int, str]:
    with pytest.raises(HttpResponseError) as err:
        call()
    return err.value.status_code, err.value.error.code


def test_vault_crud(sandbox, kv):
    body = vault_body(sandbox, enableRbacAuthorization=True, softDeleteRetentionInDays=7,
                      publicNetworkAccess="Disabled", networkAcls={"defaultAction": "Deny", "bypass": "AzureServices"})
    vault = kv.vaults.begin_create_or_update(RG, "codemie-kv-1", body).result()
    props = vault.properties
    assert props.provisioning_state == "Succeeded"
    assert props.vault_uri == f"{sandbox.base_url}/kv/codemie-kv-1/"
    assert props.enable_rbac_authorization is True and props.soft_delete_retention_in_days == 7
    assert props.public_network_access == "Disabled" and props.network_acls.default_action == "Deny"
    kv.vaults.update(RG, "codemie-kv-1", {"tags": {"app": "other"}})
    assert kv.vaults.get(RG, "codemie-kv-1").tags == {"app": "other"}
    assert [v.name for v in kv.vaults.list_by_resource_group(RG)] == ["codemie-kv-1"]
    kv.vaults.delete(RG, "codemie-kv-1")
    with pytest.raises(ResourceNotFoundError):
        kv.vaults.get(RG, "codemie-kv-1")


def test_vault_shows_registering_dns_while_creating(sandbox_factory):
    box = sandbox_factory("realistic", poll_cadence=[0.05])
    box.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": LOC})
    kv = box.client(KeyVaultManagementClient)
    poller = kv.vaults.begin_create_or_update(RG, "kv-dns", vault_body(box))
    assert kv.vaults.get(RG, "kv-dns").properties.provisioning_state == "RegisteringDns"
    box.advance(60)
    assert poller.result().properties.provisioning_state == "Succeeded"


def test_vault_names_are_global_and_validated(sandbox, kv):
    kv.vaults.begin_create_or_update(RG, "kv-taken", vault_body(sandbox)).result()
    sandbox.client(ResourceManagementClient).resource_groups.create_or_update("rg-other", {"location": LOC})
    assert refused_code(lambda: kv.vaults.begin_create_or_update("rg-other", "kv-taken", vault_body(sandbox))) \
        == (409, "VaultAlreadyExists")
    assert refused_code(lambda: kv.vaults.begin_create_or_update(RG, "kv--bad", vault_body(sandbox))) \
        == (400, "VaultNameNotValid")


def test_soft_deleted_vault_name_is_refused_until_recovered(sandbox, kv):
    kv.vaults.begin_create_or_update(RG, "kv-soft", vault_body(sandbox, enableRbacAuthorization=True)).result()
    kv.secrets.create_or_update(RG, "kv-soft", "kept", {"properties": {"value": "v"}})
    kv.vaults.delete(RG, "kv-soft")
    deleted = kv.vaults.get_deleted("kv-soft", LOC)
    assert deleted.properties.vault_id.lower().endswith("/vaults/kv-soft")
    assert [d.name for d in kv.vaults.list_deleted()] == ["kv-soft"]
    assert refused_code(lambda: kv.vaults.begin_create_or_update(RG, "kv-soft", vault_body(sandbox))) \
        == (409, "ConflictError")
    recovered = kv.vaults.begin_create_or_update(RG, "kv-soft", vault_body(sandbox, createMode="recover")).result()
    assert recovered.properties.enable_rbac_authorization is True
    assert kv.secrets.get(RG, "kv-soft", "kept").name == "kept"
    assert list(kv.vaults.list_deleted()) == []


def test_recover_without_a_deleted_vault_fails(sandbox, kv):
    status, code = refused_code(
        lambda: kv.vaults.begin_create_or_update(RG, "kv-never", vault_body(sandbox, createMode="recover")))
    assert (status, code) == (404, "SoftDeletedVaultDoesNotExist")


def test_purged_vault_name_is_free_again(sandbox, kv):
    kv.vaults.begin_create_or_update(RG, "kv-purge", vault_body(sandbox)).result()
    kv.vaults.delete(RG, "kv-purge")
    kv.vaults.begin_purge_deleted("kv-purge", LOC).result()
    with pytest.raises(ResourceNotFoundError):
        kv.vaults.get_deleted("kv-purge", LOC)
    assert kv.vaults.begin_create_or_update(RG, "kv-purge", vault_body(sandbox)).result().name == "kv-purge"


def test_purge_protection_blocks_purge(sandbox, kv):
    kv.vaults.begin_create_or_update(RG, "kv-locked", vault_body(sandbox, enablePurgeProtection=True)).result()
    assert refused_code(lambda: kv.vaults.update(RG, "kv-locked", {"properties": {"enablePurgeProtection": False}})) \
        == (400, "BadRequest")
    kv.vaults.delete(RG, "kv-locked")
    assert kv.vaults.get_deleted("kv-locked", LOC).properties.purge_protection_enabled is True
    assert refused_code(lambda: kv.vaults.begin_purge_deleted("kv-locked", LOC).result()) \
        == (405, "MethodNotAllowed")
    assert refused_code(lambda: kv.vaults.begin_create_or_update(RG, "kv-locked", vault_body(sandbox))) \
        == (409, "ConflictError")


def test_vault_name_is_released_when_retention_ends(sandbox, kv):
    kv.vaults.begin_create_or_update(RG, "kv-expire", vault_body(sandbox, softDeleteRetentionInDays=7,
                                                               enablePurgeProtection=True)).result()
    kv.vaults.delete(RG, "kv-expire")
    sandbox.advance(8 * 86400)
    with pytest.raises(ResourceNotFoundError):
        kv.vaults.get_deleted("kv-expire", LOC)
    assert kv.vaults.begin_create_or_update(RG, "kv-expire", vault_body(sandbox)).result().name == "kv-expire"


def test_soft_delete_rule_off_frees_the_name(sandbox_factory):
    box = sandbox_factory(rules={"soft_delete": False})
    box.client(ResourceManagementClient).resource_groups.create_or_update(RG, {"location": LOC})
    kv = box.client(KeyVaultManagementClient)
    kv.vaults.begin_create_or_update(RG, "kv-hard", vault_body(box)).result()
    kv.vaults.delete(RG, "kv-hard")
    assert list(kv.vaults.list_deleted()) == []
    assert kv.vaults.begin_create_or_update(RG, "kv-hard", vault_body(box)).result().name == "kv-hard"


def test_vault_secret_value_is_write_only(sandbox, kv):
    kv.vaults.begin_create_or_update(RG, "kv-sec", vault_body(sandbox)).result()
    made = kv.secrets.create_or_update(RG, "kv-sec", "pg-admin", {"properties": {"value": "pw",
                                                                               "contentType": "text/plain"}})
    assert made.properties.value is None
    got = kv.secrets.get(RG, "kv-sec", "pg-admin")
    assert got.properties.value is None and got.properties.content_type == "text/plain"
    assert got.properties.secret_uri.endswith("/kv/kv-sec/secrets/pg-admin")
    kv.secrets.update(RG, "kv-sec", "pg-admin", {"tags": {"rotated": "no"}})
    assert kv.secrets.get(RG, "kv-sec", "pg-admin").tags == {"rotated": "no"}


def test_vault_key_is_created_once(sandbox, kv):
    kv.vaults.begin_create_or_update(RG, "kv-key", vault_body(sandbox)).result()
    params = {"properties": {"kty": "RSA", "keySize": 3072, "keyOps": ["encrypt", "decrypt"]}}
    first = kv.keys.create_if_not_exist(RG, "kv-key", "codemie-key", params)
    assert (first.properties.kty, first.properties.key_size) == ("RSA", 3072)
    assert set(first.properties.key_ops) == {"encrypt", "decrypt"}
    again = kv.keys.create_if_not_exist(RG, "kv-key", "codemie-key", {"properties": {"kty": "RSA"}})
    assert again.properties.key_uri_with_version == first.properties.key_uri_with_version
    assert [k.name for k in kv.keys.list(RG, "kv-key")] == ["codemie-key"]
