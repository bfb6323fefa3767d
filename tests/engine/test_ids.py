"""Ids are built from the spec and turned back into SDK call arguments."""

from codemie_provisioner.engine.ids import ancestor_id, build_id, call_args, split_scope
from codemie_provisioner.engine.kinds import KINDS

SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg1"


def test_resource_group_and_rg_scoped():
    assert build_id(KINDS["resource_group"], "rg1", subscription_id=SUB) == RG
    vnet = build_id(KINDS["virtual_network"], "AksVNet", subscription_id=SUB, rg_id=RG)
    assert vnet == f"{RG}/providers/Microsoft.Network/virtualNetworks/AksVNet"
    assert call_args(KINDS["virtual_network"], vnet) == ("rg1", "AksVNet")
    assert call_args(KINDS["resource_group"], RG) == ("rg1",)


def test_children_and_special_argument_styles():
    acct = f"{RG}/providers/Microsoft.Storage/storageAccounts/st1"
    cont = build_id(KINDS["blob_container"], "tfstate", subscription_id=SUB, parent_id=acct)
    assert cont == f"{acct}/blobServices/default/containers/tfstate"
    assert call_args(KINDS["blob_container"], cont) == ("rg1", "st1", "tfstate")
    svc = build_id(KINDS["blob_service"], "ignored", subscription_id=SUB, parent_id=acct)
    assert svc.endswith("/blobServices/default")
    assert call_args(KINDS["blob_service"], svc) == ("rg1", "st1")
    zone = f"{RG}/providers/Microsoft.Network/privateDnsZones/codemie.example.com"
    rec = build_id(KINDS["private_dns_a_record"], "codemie", subscription_id=SUB, parent_id=zone)
    assert call_args(KINDS["private_dns_a_record"], rec) == ("rg1", "codemie.example.com", "A", "codemie")


def test_extension_resources_at_any_scope():
    kv = f"{RG}/providers/Microsoft.KeyVault/vaults/kv1"
    ra = build_id(KINDS["role_assignment"], "1234", subscription_id=SUB, scope_id=kv)
    assert ra == f"{kv}/providers/Microsoft.Authorization/roleAssignments/1234"
    assert split_scope(ra) == (kv, "1234")
    assert call_args(KINDS["role_assignment"], ra) == (kv, "1234")


def test_ancestor_lookup_for_locks():
    subnet = f"{RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
    assert ancestor_id(subnet, "Microsoft.Network/virtualNetworks") == \
        f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v"
    assert ancestor_id(subnet, "Microsoft.KeyVault/vaults") is None


def test_tenant_comes_from_the_token_claims():
    import base64
    import json

    from codemie_provisioner.engine.gateway import tenant_of_token

    payload = base64.urlsafe_b64encode(json.dumps({"tid": "t-123", "aud": "x"}).encode()).decode().rstrip("=")
    assert tenant_of_token(f"header.{payload}.sig") == "t-123"
    assert tenant_of_token("not-a-jwt") is None
