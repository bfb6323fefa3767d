"""The reference spec loads, and its knobs shape it as deployment.conf would."""

import json
from pathlib import Path

import pytest

from codemie_provisioner import SpecError, load
from codemie_provisioner.spec.openai import openai_accounts, openai_deployments, split_capacity

SPEC = Path(__file__).resolve().parents[2] / "specs" / "codemie.yaml"
REGIONS = {"eastus": {"count": 3, "custom_domain_name": True, "available_models": [
    {"format": "OpenAI", "name": "gpt-4.1-2025-04-14", "model_name": "gpt-4.1", "version": "2025-04-14",
     "capacity": 200, "type": "GlobalStandard"}]},
    "eastus2": {"count": 1, "available_models": []}}


def test_capacity_split_keeps_the_total():
    assert [split_capacity(348, 3, i) for i in (1, 2, 3)] == [116, 116, 116]
    assert [split_capacity(200, 3, i) for i in (1, 2, 3)] == [67, 67, 66]
    assert sum(d["capacity"] for d in openai_deployments(REGIONS, "p").values()) == 200


def test_accounts_per_region_and_count():
    accounts = openai_accounts(REGIONS, "airun-codemie")
    assert sorted(accounts) == ["eastus-1", "eastus-2", "eastus-3", "eastus2-1"]
    assert accounts["eastus-2"]["name"] == "airun-codemie-openai-eastus-2"


def test_reference_spec_phases_and_counts():
    dep = load(SPEC, environ={})
    assert [p.name for p in dep.phases] == ["backend", "platform", "ai"]
    by_kind = {}
    for r in dep.resources:
        by_kind.setdefault(r.kind, []).append(r)
    assert {r.name for r in by_kind["virtual_network"]} == {"HubVNet", "AksVNet"}
    assert {r.name for r in by_kind["subnet"]} >= {"AzureBastionSubnet", "SystemSubnet", "UserSubnet",
                                                    "VMSubnet", "ServicePostgresSubnet"}
    assert dep.resource("aks").body["properties"]["kubernetesVersion"] == "1.34.2"
    assert len(by_kind["cognitive_account"]) == 2 and len(by_kind["cognitive_deployment"]) == 4


def test_knobs_from_environment_like_deployment_conf():
    env = {"TF_VAR_customer": "acme", "TF_VAR_resource_group_name": "", "DEPLOY_AI_MODELS": "false",
           "TF_VAR_cognitive_regions": json.dumps(REGIONS), "TF_VAR_kubernetes_version": "1.33.5"}
    dep = load(SPEC, environ=env)
    assert dep.resource("main_rg").name == "acme-codemie"          # empty = auto
    assert not [r for r in dep.resources if r.phase == "ai"]
    assert dep.resource("aks").body["properties"]["kubernetesVersion"] == "1.33.5"
    with_ai = load(SPEC, environ={**env, "DEPLOY_AI_MODELS": "true"})
    assert len([r for r in with_ai.resources if r.kind == "cognitive_account"]) == 4


def test_bad_knob_is_one_line_error_before_any_azure_call():
    with pytest.raises(SpecError) as err:
        load(SPEC, {"customer": "Acme-1"}, environ={})
    assert "\n" not in str(err.value) and "codemie.yaml" in str(err.value) and "customer" in str(err.value)
