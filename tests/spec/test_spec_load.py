"""Loading the good spec: variables from every source, expansion, markers, secrets, state, hash."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from codemie_provisioner.errors import ProvisionerError, SpecError
from codemie_provisioner.spec import (
    Call,
    ContextRef,
    Ref,
    SecretRef,
    Template,
    finish,
    load_spec,
    parse_var_args,
    read_var_file,
    spec_hash,
)


def load(path, kinds, overrides=None, environ=None):
    return load_spec(path, overrides or {}, environ or {}, kinds=kinds)


def test_defaults_interpolate_and_keep_types(full_spec, kinds):
    d = load(full_spec, kinds)
    assert d.name == "airun-codemie"
    assert d.variables["resource_group_name"] == "airun-codemie"
    assert d.variables["node_pools"] == 2
    rg = d.resource("rg")
    assert rg.name == "airun-codemie" and rg.body == {"location": "westeurope",
                                                      "tags": {"createdWith": "codemie-provisioner"}}
    acct = d.resource("state_account")
    assert acct.name == "airunstate01"
    assert acct.body["kind"] == "StorageV2" and acct.body["sku"] == {"name": "Standard_LRS"}
    assert acct.body["properties"]["allowBlobPublicAccess"] is False
    assert d.resource("pg_subnet").body["properties"]["addressPrefix"] == "10.10.200.0/24"


def test_for_each_count_and_enabled(full_spec, kinds):
    d = load(full_spec, kinds)
    sys_subnet = d.resource('subnets["SystemSubnet"]')
    assert (sys_subnet.name, sys_subnet.key, sys_subnet.declared) == ("SystemSubnet", "SystemSubnet", "subnets")
    assert sys_subnet.body == {"properties": {"addressPrefix": "10.10.0.0/22"}}
    assert sys_subnet.parent == "aks_vnet" and sys_subnet.resource_group is None
    assert [d.resource(f"pools[{i}]").name for i in range(2)] == ["airun-pool-0", "airun-pool-1"]
    assert d.resource("pools[1]").depends_on == ('subnets["SystemSubnet"]',)
    assert "acr" not in d.addresses
    on = load(full_spec, kinds, overrides={"deploy_acr": "true", "node_pools": 3})
    assert "acr" in on.addresses and "pools[2]" in on.addresses


def test_values_known_only_later_stay_markers(full_spec, kinds):
    d = load(full_spec, kinds)
    ra = d.resource("kv_crypto")
    assert ra.scope == "kv"
    assert ra.name == Call("guid", (Ref("kv"), Ref("api_identity"), "Key Vault Crypto User"))
    assert ra.body["properties"]["principalId"] == Ref("api_identity", "out", ("properties", "principalId"))
    role_id = ra.body["properties"]["roleDefinitionId"]
    assert isinstance(role_id, Template) and ContextRef("subscription_id") in role_id.parts
    assert d.resource("kv").body["properties"]["tenantId"] == ContextRef("tenant_id")
    pe = d.resource("pe")
    assert pe.name == Template((Ref("kv", "name"), "-pe"))
    assert pe.body["properties"]["subnet"]["id"] == Ref('subnets["UserSubnet"]')
    assert pe.body["properties"]["customNote"] == Template(("vault at ", Ref("kv", "out", ("properties", "vaultUri"))))
    assert pe.body["properties"]["password"] == SecretRef("pg_password")
    assert pe.body["properties"]["sshKey"] == SecretRef("vm_key", "public_key")


def test_secrets_state_outputs_and_sources(full_spec, kinds):
    d = load(full_spec, kinds)
    assert d.secrets["vm_key"].vault == "kv" and d.secrets["vm_key"].generate == "ssh_key"
    assert d.secrets["pg_password"].length == 32
    assert (d.state.backend, d.state.container) == ("state_account", "tfstate")
    assert d.outputs == {"AZURE_KEY_VAULT_URL": Ref("kv", "out", ("properties", "vaultUri")),
                         "AZURE_RESOURCE_GROUP": "airun-codemie"}
    with_acr = load(full_spec, kinds, overrides={"deploy_acr": True})
    assert with_acr.outputs["ACR_LOGIN_SERVER"] == Ref("acr", "out", ("properties", "loginServer"))
    line = full_spec.read_text().splitlines().index("      aks_vnet:") + 1
    assert (d.resource("aks_vnet").source.file, d.resource("aks_vnet").source.line) == (str(full_spec), line)
    assert [p.name for p in d.phases] == ["backend", "platform"]
    assert d.phases[0].addresses == ("state_rg", "state_account")
    json.dumps(d.to_data())


def test_map_keys_may_be_refs_and_null_defaults_stay_null(full_spec, kinds):
    d = load(full_spec, kinds)
    identity = d.resource("aks").body["identity"]
    assert identity == {"type": "UserAssigned", "userAssignedIdentities": {Ref("api_identity"): {}}}
    assert d.resource("aks").body["properties"]["aadProfile"]["adminGroupObjectIDs"] == []
    identity_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x"
    assert finish(identity, lambda m: identity_id)["userAssignedIdentities"] == {identity_id: {}}
    assert d.resource("aks").to_data()["body"]["identity"]["userAssignedIdentities"] == {"${ref.api_identity}": {}}
    assert d.variables["dns_zone"] is None
    assert load(full_spec, kinds, environ={"CODEMIE_DOMAIN_NAME": "airun.example.com"}).variables["dns_zone"] \
        == "airun.example.com"


def test_environment_overrides_and_empty_means_unset(full_spec, kinds):
    env = {"TF_VAR_customer": "acme", "TF_VAR_resource_group_name": "", "TF_VAR_tags": '{"env": "prod"}',
           "TF_VAR_admin_group_object_ids": '["3a459347-0000-1111-2222-e73413cfa80a"]'}
    d = load(full_spec, kinds, environ=env)
    assert d.variables["customer"] == "acme"
    assert d.resource("rg").name == "acme-codemie"
    assert d.resource("rg").tags == {"env": "prod"}
    assert d.variables["admin_group_object_ids"] == ["3a459347-0000-1111-2222-e73413cfa80a"]
    first_wins = load(full_spec, kinds, environ={"CODEMIE_CUSTOMER": "first", "TF_VAR_customer": "second"})
    assert first_wins.variables["customer"] == "first"
    empty_first = load(full_spec, kinds, environ={"CODEMIE_CUSTOMER": "", "TF_VAR_customer": "second"})
    assert empty_first.variables["customer"] == "second"


def test_cli_overrides_beat_environment(full_spec, kinds):
    d = load(full_spec, kinds, overrides={"customer": "cli"}, environ={"TF_VAR_customer": "env"})
    assert d.variables["customer"] == "cli" and d.resource("state_rg").name == "cli-codemie-state"


@pytest.mark.parametrize(("overrides", "environ", "phrase"), [
    ({"nope": "1"}, {}, "unknown variable 'nope' given on the command line"),
    ({"customer": "Bad-1"}, {}, "variable 'customer' (from the command line): 'Bad-1' does not match"),
    ({}, {"TF_VAR_tags": "{not json"}, "variable 'tags' (from $TF_VAR_tags): expected map written as JSON"),
    ({}, {"TF_VAR_tags": "[1]"}, "expected map, got a list"),
    ({"node_pools": "many"}, {}, "expected number, got 'many'"),
])
def test_bad_override_values_name_the_variable_line(full_spec, kinds, overrides, environ, phrase):
    with pytest.raises(SpecError) as info:
        load(full_spec, kinds, overrides=overrides, environ=environ)
    assert phrase in str(info.value) and str(info.value).startswith(f"{full_spec}:")
    assert info.value.line > 0


def test_var_file_and_var_args(tmp_path, full_spec, kinds):
    var_file = tmp_path / "vars.yaml"
    var_file.write_text("customer: filed\nsubnets:\n  SystemSubnet: {cidr: 10.10.8.0/24}\n"
                        "  UserSubnet: {cidr: 10.10.9.0/24}\n  Extra: {cidr: 10.10.10.0/24}\n")
    overrides = {**read_var_file(var_file), **parse_var_args(["suffix=77"])}
    d = load(full_spec, kinds, overrides=overrides)
    assert d.resource("state_account").name == "filedstate77"
    assert [r.name for r in d.resources if r.declared == "subnets"] == ["SystemSubnet", "UserSubnet", "Extra"]
    assert d.resource('subnets["Extra"]').body["properties"]["addressPrefix"] == "10.10.10.0/24"
    with pytest.raises(ProvisionerError, match="expected NAME=VALUE"):
        parse_var_args(["novalue"])
    (tmp_path / "list.yaml").write_text("- a\n")
    with pytest.raises(SpecError, match="must be a mapping"):
        read_var_file(tmp_path / "list.yaml")


def test_spec_hash_follows_content_not_formatting(full_spec, kinds):
    text = full_spec.read_text()
    base = spec_hash(load(full_spec, kinds))
    assert base == spec_hash(load(full_spec, kinds))
    reformatted = load_spec(full_spec, {}, {}, kinds=kinds, text="# a comment\n\n" + text)
    assert spec_hash(reformatted) == base
    assert spec_hash(load(full_spec, kinds, overrides={"suffix": "02"})) != base


@dataclass(frozen=True)
class TinyKind:
    """Only the attributes the spec's KindInfo protocol asks for."""

    name: str
    arm_type: str
    scope: str
    parent_kind: str | None = None
    name_pattern: str | None = None
    name_hint: str = ""
    requires_location: bool = True


def test_any_kinds_table_with_the_protocol_attributes_works(tmp_path):
    kinds = {"group": TinyKind("group", "Microsoft.Resources/resourceGroups", "subscription"),
             "box": TinyKind("box", "Example.Things/boxes", "rg", name_pattern="[a-z]{3}", name_hint="3 letters")}
    spec = tmp_path / "tiny.yaml"
    spec.write_text("version: 1\ndeployment: tiny\nphases:\n  - name: p\n    resources:\n"
                    "      g: {kind: group, name: g1, location: here}\n"
                    "      b: {kind: box, name: abc, resource_group: '${ref.g}', location: here}\n")
    d = load_spec(spec, {}, {}, kinds=kinds)
    assert d.resource("b").resource_group == "g"
    spec.write_text(spec.read_text().replace("name: abc", "name: abcd"))
    with pytest.raises(SpecError, match=r"tiny.yaml:7: phases\[0\].resources.b.name: 'abcd' is not a valid box name: 3 letters"):
        load_spec(spec, {}, {}, kinds=kinds)


def test_spec_package_never_imports_engine_or_cli():
    import ast
    from pathlib import Path

    import codemie_provisioner.spec as spec_pkg
    for path in Path(spec_pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = ("." * node.level) + (node.module or "")
                assert not target.startswith(("..engine", "..cli", "codemie_provisioner.engine",
                                              "codemie_provisioner.cli")), f"{path.name} imports {target}"


def test_x_keys_hold_anchors_and_merged_keys_keep_their_own_lines(kinds):
    text = ("version: 1\ndeployment: d\nx-rg: &rg\n  kind: resource_group\n  location: westeurope\n"
            "phases:\n  - name: p\n    resources:\n      a:\n        <<: *rg\n        name: demo-a\n"
            "      b:\n        name: Bad.Name.\n        <<: *rg\n")
    good = load_spec("m.yaml", {}, {}, kinds=kinds, text=text.replace("Bad.Name.", "demo-b"))
    assert [(r.kind, r.name, r.location) for r in good.resources] == [
        ("resource_group", "demo-a", "westeurope"), ("resource_group", "demo-b", "westeurope")]
    with pytest.raises(SpecError, match=r"^m.yaml:13: phases\[0\].resources.b.name: 'Bad.Name.' is not a valid"):
        load_spec("m.yaml", {}, {}, kinds=kinds, text=text)


def test_expressions_need_no_quotes_in_flow_collections(kinds):
    text = ("version: 1\ndeployment: d\nvariables:\n  cidr: {default: 10.0.0.0/24}\nphases:\n  - name: p\n"
            "    resources:\n      rg: {kind: resource_group, name: demo-rg, location: w}\n"
            "      vnet: {kind: virtual_network, name: v, resource_group: ${ref.rg}, location: w,\n"
            "             properties: {addressSpace: {addressPrefixes: [${var.cidr}]}}}\n"
            "      id1: {kind: user_identity, name: 'a-${lower(''X'')}', resource_group: ${ref.rg}, location: w,\n"
            "            tags: {\"${ref.vnet.name}\": \"${ref.rg[\\\"k\\\"]}\"}, depends_on: [${ref.vnet}]}\n")
    with pytest.raises(SpecError) as info:
        load_spec("f.yaml", {}, {}, kinds=kinds, text=text)
    assert str(info.value).startswith('f.yaml:12: phases[0].resources.id1.tags["${ref.vnet.name}"]: ref.rg has no')
    d = load_spec("f.yaml", {}, {}, kinds=kinds, text=text.replace('[\\"k\\"]', ""))
    assert d.resource("vnet").body["properties"]["addressSpace"]["addressPrefixes"] == ["10.0.0.0/24"]
    assert d.resource("vnet").resource_group == "rg"
    ident = d.resource("id1")
    assert ident.name == "a-x" and ident.depends_on == ("vnet",)
    assert ident.tags == {Ref("vnet", "name"): Ref("rg")}


def test_expressions_inside_quoted_scalars_are_unescaped_as_yaml_would():
    from codemie_provisioner.spec.yamlsrc import load_yaml

    text = 'a: "${ref.x["k"]}"\nb: "x${ref.y[\\"k\\"]}"\nc: \'${lower(\'\'A\'\')}\'\nd: $${literal}\n'
    assert load_yaml("q.yaml", text).data == {"a": '${ref.x["k"]}', "b": 'x${ref.y["k"]}',
                                              "c": "${lower('A')}", "d": "$${literal}"}
