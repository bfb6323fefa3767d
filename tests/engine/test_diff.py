"""The diff compares only managed fields, normalised, and picks the right action."""

from codemie_provisioner.engine.diff import compare, decide, strip_write_only
from codemie_provisioner.engine.kinds import KINDS

SUBNET = KINDS["subnet"]
POOL = KINDS["agent_pool"]
AKS = KINDS["managed_cluster"]
PG = KINDS["postgres_server"]
RA = KINDS["role_assignment"]
NSG = KINDS["network_security_group"]


def test_server_defaults_are_not_changes():
    desired = {"properties": {"addressPrefix": "10.0.1.0/24"}}
    observed = {"id": "/x", "etag": 'W/"1"', "properties": {"addressPrefix": "10.0.1.0/24",
                                                          "provisioningState": "Succeeded",
                                                          "privateEndpointNetworkPolicies": "Disabled"}}
    assert decide(desired, observed, SUBNET).action == "noop"


def test_changed_managed_field_is_an_update_with_the_path():
    desired = {"properties": {"addressPrefix": "10.0.2.0/24"}}
    observed = {"properties": {"addressPrefix": "10.0.1.0/24"}}
    change = decide(desired, observed, SUBNET)
    assert change.action == "update"
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("properties.addressPrefix", "10.0.1.0/24", "10.0.2.0/24")]


def test_ids_and_regions_compare_case_insensitively():
    desired = {"location": "West Europe",
               "properties": {"networkSecurityGroup": {"id": "/subscriptions/A/resourceGroups/RG/x"}}}
    observed = {"location": "westeurope",
                "properties": {"networkSecurityGroup": {"id": "/subscriptions/a/resourcegroups/rg/X"}}}
    assert compare(desired, observed, SUBNET) == []


def test_unordered_lists_match_by_key_and_ignore_server_fields_in_items():
    desired = {"properties": {"securityRules": [
        {"name": "b", "properties": {"priority": 200}}, {"name": "a", "properties": {"priority": 100}}]}}
    observed = {"properties": {"securityRules": [
        {"name": "a", "id": "/r/a", "properties": {"priority": 100, "provisioningState": "Succeeded"}},
        {"name": "b", "id": "/r/b", "properties": {"priority": 200}}]}}
    assert compare(desired, observed, NSG) == []
    observed["properties"]["securityRules"][1]["properties"]["priority"] = 300
    assert [f.path for f in compare(desired, observed, NSG)] == ["properties.securityRules"]


def test_ordered_lists_stay_ordered():
    desired = {"properties": {"securityRules": ["a", "b"]}}
    assert compare(desired, {"properties": {"securityRules": ["b", "a"]}}, SUBNET)


def test_autoscaler_node_count_is_ignored_only_under_autoscaling():
    desired = {"properties": {"count": 2, "enableAutoScaling": True, "minCount": 2, "maxCount": 5}}
    observed = {"properties": {"count": 4, "enableAutoScaling": True, "minCount": 2, "maxCount": 5}}
    assert decide(desired, observed, POOL).action == "noop"
    fixed = {"properties": {"count": 2, "enableAutoScaling": False}}
    assert decide(fixed, {"properties": {"count": 4, "enableAutoScaling": False}}, POOL).action == "update"


def test_aks_version_ignored_under_upgrade_channel():
    desired = {"properties": {"kubernetesVersion": "1.34.2", "autoUpgradeProfile": {"upgradeChannel": "patch"}}}
    observed = {"properties": {"kubernetesVersion": "1.34.5", "autoUpgradeProfile": {"upgradeChannel": "patch"}}}
    assert decide(desired, observed, AKS).action == "noop"
    desired["properties"]["autoUpgradeProfile"]["upgradeChannel"] = "none"
    observed["properties"]["autoUpgradeProfile"]["upgradeChannel"] = "none"
    assert decide(desired, observed, AKS).action == "update"


def test_write_only_fields_never_compared_nor_stored():
    desired = {"properties": {"administratorLogin": "pgadmin", "administratorLoginPassword": "s3cret!"}}
    observed = {"properties": {"administratorLogin": "pgadmin"}}
    assert decide(desired, observed, PG).action == "noop"
    assert "administratorLoginPassword" not in strip_write_only(desired, PG)["properties"]


def test_immutable_change_is_a_replace():
    desired = {"properties": {"roleDefinitionId": "/r/2", "principalId": "p"}}
    observed = {"properties": {"roleDefinitionId": "/r/1", "principalId": "p"}}
    assert decide(desired, observed, RA).action == "replace"


def test_create_and_delete():
    assert decide({"properties": {}}, None, SUBNET).action == "create"
    assert decide(None, {"id": "/x"}, SUBNET).action == "delete"
    assert decide(None, None, SUBNET).action == "noop"


def test_tags_keep_their_case():
    assert compare({"tags": {"env": "Prod"}}, {"tags": {"env": "prod"}}, SUBNET)


def test_keys_with_dots_are_single_path_steps():
    desired = {"properties": {"nodeLabels": {"codemie.ai/pool": "apps"}}}
    assert decide(desired, {"properties": {"nodeLabels": {"codemie.ai/pool": "apps"}}}, POOL).action == "noop"
    change = decide(desired, {"properties": {"nodeLabels": {"codemie.ai/pool": "other"}}}, POOL)
    assert [f.path for f in change.fields] == ["properties.nodeLabels.codemie.ai/pool"]
