"""AKS managed clusters and agent pools in the sandbox, driven by the real azure-mgmt-containerservice client."""

from __future__ import annotations

import re

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from .test_identity_rbac import as_json, code_of, raw

GUID = r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}"
ADMINS = "5b15da40-59ed-401c-b5f6-09ac41c12d7e"


def cluster_body(version: str = "1.34", pools: list[dict] | None = None) -> dict:
    return {"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {
        "kubernetesVersion": version, "dnsPrefix": "codemie",
        "apiServerAccessProfile": {"enablePrivateCluster": True},
        "oidcIssuerProfile": {"enabled": True}, "securityProfile": {"workloadIdentity": {"enabled": True}},
        "aadProfile": {"managed": True, "enableAzureRBAC": True, "adminGroupObjectIDs": [ADMINS]},
        "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "outboundType": "loadBalancer",
                           "serviceCidr": "10.100.0.0/16", "dnsServiceIP": "10.100.0.10"},
        "agentPoolProfiles": pools or [{"name": "system", "mode": "System", "count": 2, "vmSize": "Standard_D4ds_v5",
                                        "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"]}]}}


POOL = {"properties": {"mode": "User", "vmSize": "Standard_D8ds_v5", "enableAutoScaling": True, "minCount": 1,
                       "maxCount": 5, "nodeLabels": {"workload": "codemie"},
                       "nodeTaints": ["dedicated=codemie:NoSchedule"]}}


class Cloud:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.aks = sandbox.client(ContainerServiceClient)
        sandbox.client(ResourceManagementClient).resource_groups.create_or_update("rg-aks", {"location": "westeurope"})

    def create(self, name: str = "CodeMieAks", body: dict | None = None) -> dict:
        return self.aks.managed_clusters.begin_create_or_update("rg-aks", name, raw(body or cluster_body()),
                                                                cls=as_json).result()

    def pool(self, name: str, body: dict = POOL, **kwargs):
        return self.aks.agent_pools.begin_create_or_update("rg-aks", "CodeMieAks", name, raw(body), cls=as_json,
                                                           **kwargs)


@pytest.fixture
def cloud(sandbox) -> Cloud:
    return Cloud(sandbox)


def test_private_cluster_create_fills_server_values(cloud, sandbox):
    made = cloud.create()
    props = made["properties"]
    assert props["provisioningState"] == "Succeeded" and props["currentKubernetesVersion"] == "1.34.2"
    assert re.fullmatch(rf"codemie-[0-9a-f]{{8}}\.{GUID}\.privatelink\.westeurope\.azmk8s\.io", props["privateFQDN"])
    assert "fqdn" not in props
    assert re.fullmatch(rf"https://westeurope\.oic\.prod-aks\.azure\.com/{sandbox.tenant_id}/{GUID}/",
                        props["oidcIssuerProfile"]["issuerURL"])
    assert props["aadProfile"]["tenantID"] == sandbox.tenant_id
    assert re.fullmatch(GUID, made["identity"]["principalId"]) and made["identity"]["tenantId"] == sandbox.tenant_id
    assert props["nodeResourceGroup"] == "MC_rg-aks_CodeMieAks_westeurope"
    assert [p["name"] for p in props["agentPoolProfiles"]] == ["system"]
    assert [p.name for p in cloud.aks.agent_pools.list("rg-aks", "CodeMieAks")] == ["system"]


def test_kubelet_identity_is_a_real_identity_in_the_node_resource_group(cloud, sandbox):
    kubelet = cloud.create()["properties"]["identityProfile"]["kubeletidentity"]
    identity = sandbox.client(ManagedServiceIdentityClient).user_assigned_identities.get(
        "MC_rg-aks_CodeMieAks_westeurope", "CodeMieAks-agentpool")
    assert (identity.id, identity.client_id, identity.principal_id) == \
        (kubelet["resourceId"], kubelet["clientId"], kubelet["objectId"])
    cloud.aks.managed_clusters.begin_delete("rg-aks", "CodeMieAks").result()
    assert sandbox.get(kubelet["resourceId"]) is None


def test_unsupported_kubernetes_version_is_refused(cloud):
    with pytest.raises(HttpResponseError) as err:
        cloud.create(body=cluster_body(version="1.29.0"))
    assert err.value.status_code == 400 and code_of(err.value) == "AgentPoolK8sVersionNotSupported"
    assert cloud.create(body=cluster_body(version="1.33.5"))["properties"]["currentKubernetesVersion"] == "1.33.5"


def test_create_needs_a_system_pool(cloud):
    with pytest.raises(HttpResponseError) as err:
        cloud.create(body=cluster_body(pools=[{"name": "user", "mode": "User", "count": 1}]))
    assert err.value.status_code == 400


def test_cluster_put_that_adds_a_pool_is_refused(cloud):
    body = cloud.create()
    update = cluster_body()
    update["properties"]["agentPoolProfiles"] = [{"name": "system", "mode": "System", "count": 2},
                                                 {"name": "extra", "mode": "User", "count": 1}]
    with pytest.raises(HttpResponseError) as err:
        cloud.create(body=update)
    assert err.value.status_code == 400 and "new agent pool" in err.value.message
    assert [p.name for p in cloud.aks.agent_pools.list("rg-aks", "CodeMieAks")] == ["system"]
    same = cloud.create(body=cluster_body())
    assert same["properties"]["privateFQDN"] == body["properties"]["privateFQDN"]
    assert same["properties"]["oidcIssuerProfile"]["issuerURL"] == body["properties"]["oidcIssuerProfile"]["issuerURL"]


def test_agent_pool_create_update_delete_is_mirrored_on_the_cluster(cloud):
    cloud.create()
    made = cloud.pool("user").result()
    props = made["properties"]
    assert props["count"] == 1 and props["currentOrchestratorVersion"] == "1.34.2"
    assert props["nodeTaints"] == ["dedicated=codemie:NoSchedule"] and props["nodeLabels"] == {"workload": "codemie"}
    cluster = cloud.aks.managed_clusters.get("rg-aks", "CodeMieAks", cls=as_json)
    assert sorted(p["name"] for p in cluster["properties"]["agentPoolProfiles"]) == ["system", "user"]
    scaled = {"properties": {**POOL["properties"], "count": 3}}
    assert cloud.pool("user", scaled).result()["properties"]["count"] == 3
    cloud.aks.agent_pools.begin_delete("rg-aks", "CodeMieAks", "user").result()
    with pytest.raises(ResourceNotFoundError):
        cloud.aks.agent_pools.get("rg-aks", "CodeMieAks", "user")
    cluster = cloud.aks.managed_clusters.get("rg-aks", "CodeMieAks", cls=as_json)
    assert [p["name"] for p in cluster["properties"]["agentPoolProfiles"]] == ["system"]


def test_agent_pool_rules(cloud):
    cloud.create()
    bad_autoscale = {"properties": {**POOL["properties"], "count": 9}}
    with pytest.raises(HttpResponseError) as err:
        cloud.pool("user", bad_autoscale)
    assert code_of(err.value) == "InvalidParameter"
    with pytest.raises(HttpResponseError) as err:
        cloud.pool("user", {"properties": {"count": 1, "nodeTaints": ["no-effect"]}})
    assert code_of(err.value) == "InvalidParameter"
    cloud.pool("user").result()
    with pytest.raises(HttpResponseError) as err:
        cloud.pool("user", {"properties": {**POOL["properties"], "vmSize": "Standard_E8ds_v5"}})
    assert code_of(err.value) == "PropertyChangeNotAllowed"
    with pytest.raises(HttpResponseError) as err:
        cloud.aks.agent_pools.begin_delete("rg-aks", "CodeMieAks", "system").result()
    assert err.value.status_code == 400


def test_concurrent_agent_pool_writes_are_refused_while_one_runs(cloud, sandbox):
    cloud.create()
    sandbox.set_profile({"time_scale": 1.0})
    cloud.pool("usera", polling=False)
    assert cloud.aks.agent_pools.get("rg-aks", "CodeMieAks", "usera").provisioning_state == "Creating"
    with pytest.raises(ResourceExistsError) as err:
        cloud.pool("userb")
    assert code_of(err.value) == "OperationNotAllowed"
    with pytest.raises(ResourceExistsError) as err:
        cloud.create(body=cluster_body())
    assert code_of(err.value) == "OperationNotAllowed"
    sandbox.advance(300)
    sandbox.set_profile({"time_scale": 0.0})
    assert cloud.pool("userb").result()["properties"]["provisioningState"] == "Succeeded"
    assert cloud.aks.agent_pools.get("rg-aks", "CodeMieAks", "usera").provisioning_state == "Succeeded"


def test_workload_identity_needs_the_oidc_issuer(cloud):
    body = cluster_body()
    body["properties"]["oidcIssuerProfile"] = {"enabled": False}
    with pytest.raises(HttpResponseError) as err:
        cloud.create(body=body)
    assert err.value.status_code == 400


def test_monitoring_addon_needs_its_workspace_and_gets_an_identity(cloud, sandbox):
    workspace = f"/subscriptions/{sandbox.subscription_id}/resourceGroups/rg-aks/providers/" \
                "Microsoft.OperationalInsights/workspaces/codemie-logs"
    body = cluster_body()
    body["properties"]["addonProfiles"] = {"omsagent": {"enabled": True, "config": {
        "logAnalyticsWorkspaceResourceID": workspace}}}
    with pytest.raises(HttpResponseError) as err:
        cloud.create(body=body)
    assert code_of(err.value) == "InvalidParameter"
    sandbox.client(ResourceManagementClient).resources.begin_create_or_update_by_id(
        workspace, api_version="2025-07-01", parameters={"location": "westeurope"}).result()
    oms = cloud.create(body=body)["properties"]["addonProfiles"]["omsagent"]
    assert oms["identity"]["resourceId"].endswith("/userAssignedIdentities/omsagent-CodeMieAks")
    assert re.fullmatch(GUID, oms["identity"]["objectId"])


def test_user_credentials_point_at_the_private_fqdn(cloud):
    fqdn = cloud.create()["properties"]["privateFQDN"]
    creds = cloud.aks.managed_clusters.list_cluster_user_credentials("rg-aks", "CodeMieAks")
    kubeconfig = creds.kubeconfigs[0].value.decode()
    assert f"server: https://{fqdn}:443" in kubeconfig


def test_supported_versions_are_listed_per_location(cloud):
    listed = cloud.aks.managed_clusters.list_kubernetes_versions("westeurope", cls=as_json)["values"]
    patches = {v for minor in listed for v in minor["patchVersions"]}
    assert {"1.33.5", "1.34.2"} <= patches


def test_tags_patch_keeps_the_cluster(cloud):
    fqdn = cloud.create()["properties"]["privateFQDN"]
    patched = cloud.aks.managed_clusters.begin_update_tags("rg-aks", "CodeMieAks", {"tags": {"env": "dev"}}).result()
    assert patched.tags == {"env": "dev"} and patched.private_fqdn == fqdn


# ---------------------------------------------------------------- with network and identity resources


class Networked(Cloud):
    """A VNet with a node subnet (optionally behind a NAT gateway) and a private DNS zone for the API server."""

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.rg = f"/subscriptions/{sandbox.subscription_id}/resourceGroups/rg-aks"
        self.net = sandbox.client(NetworkManagementClient)
        self.net.virtual_networks.begin_create_or_update("rg-aks", "AksVNet", raw({
            "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}}})).result()
        self.subnet_id = f"{self.rg}/providers/Microsoft.Network/virtualNetworks/AksVNet/subnets/SystemSubnet"

    def subnet(self, nat: str | None = None) -> None:
        props = {"addressPrefix": "10.10.1.0/24", **({"natGateway": {"id": nat}} if nat else {})}
        self.net.subnets.begin_create_or_update("rg-aks", "AksVNet", "SystemSubnet", raw({"properties": props})
                                                ).result()

    def nat(self) -> str:
        ip = self.net.public_ip_addresses.begin_create_or_update("rg-aks", "nat-ip", raw({
            "location": "westeurope", "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static"}})).result()
        return self.net.nat_gateways.begin_create_or_update("rg-aks", "aks-nat", raw({
            "location": "westeurope", "sku": {"name": "Standard"},
            "properties": {"publicIpAddresses": [{"id": ip.id}]}})).result().id

    def body(self, outbound: str = "loadBalancer", service_cidr: str = "10.100.0.0/16") -> dict:
        body = cluster_body(pools=[{"name": "system", "mode": "System", "count": 2, "vnetSubnetID": self.subnet_id}])
        body["properties"]["networkProfile"].update(outboundType=outbound, serviceCidr=service_cidr,
                                                    dnsServiceIP=service_cidr.replace("0/16", "10"))
        return body


@pytest.fixture
def networked(sandbox) -> Networked:
    return Networked(sandbox)


def test_nat_gateway_outbound_needs_the_subnet_behind_a_nat_gateway(networked):
    networked.subnet()
    with pytest.raises(HttpResponseError) as err:
        networked.create(body=networked.body(outbound="userAssignedNATGateway"))
    assert code_of(err.value) == "InvalidParameter"
    networked.subnet(nat=networked.nat())
    made = networked.create(body=networked.body(outbound="userAssignedNATGateway"))
    assert made["properties"]["networkProfile"]["outboundType"] == "userAssignedNATGateway"
    assert made["properties"]["agentPoolProfiles"][0]["vnetSubnetID"] == networked.subnet_id


def test_service_cidr_may_not_overlap_a_node_subnet(networked):
    networked.subnet()
    with pytest.raises(HttpResponseError) as err:
        networked.create(body=networked.body(service_cidr="10.10.0.0/16"))
    assert code_of(err.value) == "ServiceCidrOverlapExistingSubnetsCidr"


def test_pool_subnet_must_exist(networked):
    with pytest.raises(HttpResponseError) as err:
        networked.create(body=networked.body())
    assert code_of(err.value) == "InvalidParameter"


def test_custom_private_zone_needs_a_user_identity_allowed_to_write_it(networked, sandbox):
    zone = "privatelink.westeurope.azmk8s.io"
    zone_id = sandbox.client(PrivateDnsManagementClient).private_zones.begin_create_or_update(
        "rg-aks", zone, raw({"location": "global"})).result().id
    msi = sandbox.client(ManagedServiceIdentityClient)
    ident = msi.user_assigned_identities.create_or_update("rg-aks", "aks-cp", raw({"location": "westeurope"}))
    body = cluster_body()
    body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {ident.id: {}}}
    body["properties"]["apiServerAccessProfile"]["privateDNSZone"] = zone_id
    with pytest.raises(HttpResponseError) as err:
        networked.create(body=body)
    assert code_of(err.value) == "CustomPrivateDNSZoneMissingPermission"
    contributor = f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/" \
                  "b12aa53e-6015-4669-85d0-8515ebb3ae7f"
    sandbox.client(AuthorizationManagementClient).role_assignments.create(
        zone_id, "0e3c5d4a-54c6-4fd4-9d5b-2b2c6f1f3a11", raw({"properties": {
            "roleDefinitionId": contributor, "principalId": ident.principal_id, "principalType": "ServicePrincipal"}}))
    made = networked.create(body=body)
    assert made["properties"]["privateFQDN"].endswith(f".{zone}")
    assert made["identity"]["userAssignedIdentities"][ident.id]["principalId"] == ident.principal_id


def test_malformed_service_cidr_is_a_bad_request(cloud):
    body = cluster_body()
    body["properties"]["networkProfile"]["serviceCidr"] = "10.100.0.0/33"
    with pytest.raises(HttpResponseError) as err:
        cloud.create(body=body)
    assert err.value.status_code == 400 and code_of(err.value) == "InvalidParameter"


def test_pool_version_may_not_pass_the_control_plane(cloud):
    cloud.create(body=cluster_body(version="1.33"))
    with pytest.raises(HttpResponseError) as err:
        cloud.pool("user", {"properties": {**POOL["properties"], "orchestratorVersion": "1.34.2"}})
    assert code_of(err.value) == "InvalidParameter"
    made = cloud.pool("user", {"properties": {**POOL["properties"], "orchestratorVersion": "1.32"}}).result()
    assert made["properties"]["currentOrchestratorVersion"] == "1.32.7"


def test_cluster_and_pool_polls_reach_succeeded_under_a_time_scale(sandbox_factory):
    cloud = Cloud(sandbox_factory(time_scale=0.002))
    poller = cloud.aks.managed_clusters.begin_create_or_update("rg-aks", "CodeMieAks", raw(cluster_body()))
    assert cloud.aks.managed_clusters.get("rg-aks", "CodeMieAks").provisioning_state == "Creating"
    assert poller.result().provisioning_state == "Succeeded"
    assert cloud.pool("user").result()["properties"]["provisioningState"] == "Succeeded"
