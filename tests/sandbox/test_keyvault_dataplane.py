"""Key Vault data plane through azure-keyvault-secrets / -keys: the bearer challenge, secret soft delete with
name reservation, recover and purge, RSA keys with real public numbers, and RSA-OAEP round trips; secrets and
keys are the same objects on both planes."""

from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm
from azure.keyvault.secrets import SecretClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def make_vault(sandbox, name: str, **props) -> str:
    sandbox.client(ResourceManagementClient).resource_groups.create_or_update("rg-kv", {"location": "westeurope"})
    body = {"location": "westeurope", "properties": {"tenantId": sandbox.tenant_id,
                                                     "sku": {"family": "A", "name": "standard"}, **props}}
    vault = sandbox.client(KeyVaultManagementClient).vaults.begin_create_or_update("rg-kv", name, body).result()
    return vault.properties.vault_uri


def secrets(sandbox, uri: str) -> SecretClient:
    return SecretClient(uri, credential=sandbox.credential, connection_verify=sandbox.ca_file,
                        verify_challenge_resource=False)


def keys(sandbox, uri: str) -> KeyClient:
    return KeyClient(uri, credential=sandbox.credential, connection_verify=sandbox.ca_file,
                     verify_challenge_resource=False)


def test_request_without_token_gets_the_key_vault_challenge(sandbox):
    uri = make_vault(sandbox, "kv-challenge")
    answer = requests.get(f"{uri}secrets?api-version=2026-04-01", verify=sandbox.ca_file, timeout=10)
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'authorization="https://login.windows.net/{sandbox.tenant_id}"' in challenge
    assert 'resource="https://vault.azure.net"' in challenge
    assert answer.json()["error"]["code"] == "Unauthorized"


def test_secret_set_get_list_versions(sandbox):
    client = secrets(sandbox, make_vault(sandbox, "kv-secrets"))
    first = client.set_secret("db-password", "s3cret", content_type="text/plain")
    second = client.set_secret("db-password", "n3w")
    assert first.properties.version != second.properties.version
    assert client.get_secret("db-password").value == "n3w"
    assert client.get_secret("db-password", first.properties.version).value == "s3cret"
    assert [p.name for p in client.list_properties_of_secrets()] == ["db-password"]
    assert len(list(client.list_properties_of_secret_versions("db-password"))) == 2
    updated = client.update_secret_properties("db-password", tags={"owner": "engine"}, enabled=False)
    assert (updated.tags, updated.enabled, updated.version) == ({"owner": "engine"}, False, second.properties.version)
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("absent")


def test_deleted_secret_name_is_reserved_until_recovered(sandbox):
    client = secrets(sandbox, make_vault(sandbox, "kv-recover"))
    client.set_secret("ssh-key", "private")
    deleted = client.begin_delete_secret("ssh-key").result()
    assert deleted.recovery_id.endswith("/deletedsecrets/ssh-key")
    assert client.get_deleted_secret("ssh-key").name == "ssh-key"
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("ssh-key")
    with pytest.raises(HttpResponseError) as refused:
        client.set_secret("ssh-key", "again")
    assert refused.value.status_code == 409
    assert refused.value.error.innererror["code"] == "ObjectIsDeletedButRecoverable"
    client.begin_recover_deleted_secret("ssh-key").result()
    assert client.get_secret("ssh-key").value == "private"
    assert list(client.list_deleted_secrets()) == []


def test_purged_secret_frees_the_name(sandbox):
    client = secrets(sandbox, make_vault(sandbox, "kv-purge"))
    client.set_secret("token", "one")
    client.begin_delete_secret("token").wait()
    client.purge_deleted_secret("token")
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret("token")
    assert client.set_secret("token", "two").value == "two"


def test_purge_protection_forbids_secret_purge(sandbox):
    client = secrets(sandbox, make_vault(sandbox, "kv-protected", enablePurgeProtection=True))
    client.set_secret("token", "one")
    client.begin_delete_secret("token").wait()
    with pytest.raises(HttpResponseError) as refused:
        client.purge_deleted_secret("token")
    assert refused.value.status_code == 403
    assert client.get_deleted_secret("token").name == "token"


def test_rsa_key_has_real_public_numbers_and_round_trips(sandbox):
    client = keys(sandbox, make_vault(sandbox, "kv-keys"))
    key = client.create_rsa_key("codemie-key", size=2048)
    assert key.key_type == "RSA"
    assert {"encrypt", "decrypt"} <= set(key.key_operations)
    public = rsa.RSAPublicNumbers(int.from_bytes(key.key.e, "big"), int.from_bytes(key.key.n, "big")).public_key()
    assert public.key_size == 2048
    crypto = CryptographyClient(key, credential=sandbox.credential, connection_verify=sandbox.ca_file,
                                verify_challenge_resource=False)
    sealed = public.encrypt(b"payload", padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(),
                                                     label=None))
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep, sealed).plaintext == b"payload"
    remote = crypto.encrypt(EncryptionAlgorithm.rsa_oaep_256, b"other")
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, remote.ciphertext).plaintext == b"other"
    assert client.get_key("codemie-key").key.n == key.key.n


def test_both_planes_share_secrets_and_keys(sandbox):
    uri = make_vault(sandbox, "kv-shared")
    mgmt = sandbox.client(KeyVaultManagementClient)
    mgmt.secrets.create_or_update("rg-kv", "kv-shared", "from-arm", {"properties": {"value": "arm-value"}})
    assert secrets(sandbox, uri).get_secret("from-arm").value == "arm-value"
    secrets(sandbox, uri).set_secret("from-data-plane", "dp-value")
    listed = {s.name: s for s in mgmt.secrets.list("rg-kv", "kv-shared")}
    assert set(listed) == {"from-arm", "from-data-plane"}
    assert listed["from-data-plane"].properties.value is None
    keys(sandbox, uri).create_rsa_key("dp-key")
    assert mgmt.keys.get("rg-kv", "kv-shared", "dp-key").properties.kty == "RSA"


def test_writes_are_forbidden_for_a_while_after_a_role_grant(sandbox_factory):
    principal = "6f1d1c2e-0c55-4f7a-9d5e-4f0e8f6c2a11"
    box = sandbox_factory("realistic", poll_cadence=[0.05], settings={"known_principals": {principal: "ServicePrincipal"}})
    box.client(ResourceManagementClient).resource_groups.create_or_update("rg-kv", {"location": "westeurope"})
    kv = box.client(KeyVaultManagementClient)
    body = {"location": "westeurope", "properties": {"tenantId": box.tenant_id, "enableRbacAuthorization": True,
                                                     "sku": {"family": "A", "name": "standard"}}}
    poller = kv.vaults.begin_create_or_update("rg-kv", "kv-rbac", body)
    box.advance(60)
    vault = poller.result()
    officer = f"/subscriptions/{box.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/" \
              "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
    box.client(AuthorizationManagementClient).role_assignments.create(
        vault.id, "0b8c4d5e-1f2a-4b3c-8d9e-0a1b2c3d4e5f",
        {"properties": {"roleDefinitionId": officer, "principalId": principal, "principalType": "ServicePrincipal"}})
    client = secrets(box, vault.properties.vault_uri)
    with pytest.raises(HttpResponseError) as forbidden:
        client.set_secret("early", "value")
    assert forbidden.value.status_code == 403
    assert forbidden.value.error.innererror["code"] == "ForbiddenByRbac"
    box.advance(120)
    assert client.set_secret("early", "value").value == "value"
