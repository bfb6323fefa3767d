"""The reference deployment, read back through the real azure-mgmt clients after one full apply.

Why: the spec is only worth something if what lands in Azure is the CodeMie design (docs/ and
/work/shared/reference/codemie-reference-deployment.md): a private AKS platform in a hub/spoke network, every PaaS
service behind a private endpoint with its privatelink zone, least-privilege role assignments and workload identity.
These tests state that design independently of the spec (names, GUIDs and numbers written out here) and check
the sandbox's view of it, so a wrong reference, a lost property or an extra grant fails here.
"""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

import pytest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.loganalytics import LogAnalyticsManagementClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient

RG = "airun-codemie"
STATE_RG = "airun-codemie-state"
AI_RG = "airun-codemie-ai"
NODE_RG = "airun-codemie-aks-nodes"

# Built-in role definition GUIDs (the same in every tenant).
ROLE = {
    "Private DNS Zone Contributor": "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
}

HUB_SUBNETS = {"AzureBastionSubnet", "SharedEndpointsSubnet"}
AKS_SUBNETS = {"SystemSubnet", "UserSubnet", "VMSubnet", "ServicePostgresSubnet", "PrivateEndpointsSubnet"}
NAT_SUBNETS = {"SystemSubnet", "UserSubnet", "VMSubnet"}

# Private endpoint -> (privatelink zone its DNS zone group must use, sub-resource it connects to).
ENDPOINT_ZONES = {
    "pe-codemie-blob": ("privatelink.blob.core.windows.net", "blob"),
    "pe-codemie-vault": ("privatelink.vaultcore.azure.net", "vault"),
    "pe-codemie-registry": ("privatelink.azurecr.io", "registry"),
}
OPENAI_ZONE = "privatelink.openai.azure.com"
ZONES = {z for z, _ in ENDPOINT_ZONES.values()} | {
    OPENAI_ZONE, "privatelink.westeurope.azmk8s.io", "airun-codemie.private.postgres.database.azure.com",
    "airun.codemie.internal"}

# cognitive_regions default: eastus, 2 accounts, each model 200 units in all.
OPENAI_ACCOUNTS = 2
MODELS = {"gpt-4.1-2025-04-14": ("gpt-4.1", "2025-04-14"), "text-embedding-ada-002": ("text-embedding-ada-002", "2")}
MODEL_CAPACITY = 200

# Resources that answer publicNetworkAccess but are reachable from outside on purpose.
PUBLIC_BY_DESIGN = {
    "airuntfstate": "the state backend: the engine reads and writes snapshots from outside the VNets",
}
# publicNetworkAccess on a managed disk governs only SAS export (which needs an RBAC grant); the VM's OS disk
# is created by Azure, so the design cannot set it.
NOT_NETWORK_SERVICES = {"microsoft.compute/disks"}

DIAGNOSED = {("Microsoft.ContainerService/managedClusters", "CodeMieAks"), ("Microsoft.KeyVault/vaults", "airun-codemie-kv"),
             ("Microsoft.DBforPostgreSQL/flexibleServers", "airun-codemie-psql"),
             ("Microsoft.Network/bastionHosts", "bastion-codemie"),
             ("Microsoft.ContainerRegistry/registries", "airuncodemie")}


@pytest.fixture(scope="module")
def az(deployed):
    make = deployed.client
    return SimpleNamespace(
        rm=make(ResourceManagementClient), net=make(NetworkManagementClient), dns=make(PrivateDnsManagementClient),
        aks=make(ContainerServiceClient), vm=make(ComputeManagementClient), pg=make(PostgreSQLManagementClient),
        kv=make(KeyVaultManagementClient), st=make(StorageManagementClient),
        acr=make(ContainerRegistryManagementClient), cog=make(CognitiveServicesManagementClient),
        msi=make(ManagedServiceIdentityClient), authz=make(AuthorizationManagementClient),
        mon=make(MonitorManagementClient), logs=make(LogAnalyticsManagementClient))


def same(a: str | None, b: str | None) -> bool:
    """ARM ids compare case-insensitively."""
    return (a or "").lower() == (b or "").lower()


def subnets(az, vnet: str) -> dict:
    return {s.name: s for s in az.net.subnets.list(RG, vnet)}


def openai_accounts(az) -> list:
    return list(az.cog.accounts.list_by_resource_group(AI_RG))


def principal(az, identity: str) -> str:
    group = AI_RG if identity == "id-codemie-ai" else RG
    return az.msi.user_assigned_identities.get(group, identity).principal_id


def workspace_id(az) -> str:
    return az.logs.workspaces.get(RG, "airun-codemie-logs").id


# ---------------------------------------------------------------- groups and networks


def test_the_deployment_lives_in_its_two_groups_plus_the_aks_node_group(az):
    groups = {g.name: g for g in az.rm.resource_groups.list()}
    assert set(groups) == {RG, STATE_RG, AI_RG, NODE_RG}
    assert {g.location for g in groups.values()} == {"westeurope"}
    assert groups[RG].tags == {"createdWith": "codemie-provisioner", "environment": "production"}


def test_hub_vnet_holds_bastion_and_shared_endpoints(az):
    hub = az.net.virtual_networks.get(RG, "HubVNet")
    assert hub.address_space.address_prefixes == ["10.0.0.0/22"]
    found = subnets(az, "HubVNet")
    assert set(found) == HUB_SUBNETS
    assert ipaddress.ip_network(found["AzureBastionSubnet"].address_prefix).prefixlen <= 26


def test_aks_vnet_has_the_five_subnets_and_postgres_is_delegated(az):
    found = subnets(az, "AksVNet")
    assert set(found) == AKS_SUBNETS
    delegations = {n: [d.service_name for d in (s.delegations or [])] for n, s in found.items()}
    assert delegations.pop("ServicePostgresSubnet") == ["Microsoft.DBforPostgreSQL/flexibleServers"]
    assert all(d == [] for d in delegations.values())


@pytest.mark.parametrize("vnet", ["HubVNet", "AksVNet"])
def test_every_subnet_is_inside_its_vnet_and_none_overlap(az, vnet):
    space = [ipaddress.ip_network(p) for p in az.net.virtual_networks.get(RG, vnet).address_space.address_prefixes]
    nets = [ipaddress.ip_network(s.address_prefix) for s in subnets(az, vnet).values()]
    assert all(any(n.subnet_of(s) for s in space) for n in nets)
    assert not [(a, b) for i, a in enumerate(nets) for b in nets[i + 1:] if a.overlaps(b)]


def test_the_two_vnets_do_not_overlap(az):
    hub, aks = (ipaddress.ip_network(az.net.virtual_networks.get(RG, v).address_space.address_prefixes[0])
                for v in ("HubVNet", "AksVNet"))
    assert not hub.overlaps(aks)


def test_nat_gateway_gives_the_aks_and_vm_subnets_a_static_egress_address(az):
    nat = az.net.nat_gateways.get(RG, "nat-codemie")
    assert nat.sku.name == "Standard"
    [pip_ref] = nat.public_ip_addresses
    pip = az.net.public_ip_addresses.get(RG, pip_ref.id.rsplit("/", 1)[-1])
    assert (pip.sku.name, pip.public_ip_allocation_method) == ("Standard", "Static")
    behind_nat = {n for v in ("HubVNet", "AksVNet") for n, s in subnets(az, v).items()
                  if s.nat_gateway and same(s.nat_gateway.id, nat.id)}
    assert behind_nat == NAT_SUBNETS


def test_every_subnet_but_bastions_has_an_nsg_that_ends_in_deny_all_inbound(az):
    for vnet in ("HubVNet", "AksVNet"):
        for name, subnet in subnets(az, vnet).items():
            if name == "AzureBastionSubnet":
                assert subnet.network_security_group is None
                continue
            nsg = az.net.network_security_groups.get(RG, subnet.network_security_group.id.rsplit("/", 1)[-1])
            inbound = [r for r in nsg.security_rules if r.direction == "Inbound"]
            deny = [r for r in inbound if r.access == "Deny" and r.source_address_prefix == "*"
                    and r.destination_address_prefix == "*" and r.protocol == "*"
                    and r.destination_port_range == "*"]
            assert deny, f"{name}: {nsg.name} has no deny-all inbound rule"
            assert all(r.priority < deny[0].priority for r in inbound if r.access == "Allow"), nsg.name


def test_only_nat_and_bastion_have_public_addresses(az):
    assert sorted(p.name for p in az.net.public_ip_addresses.list_all()) == ["pip-codemie-bastion",
                                                                             "pip-codemie-nat"]


def test_hub_and_spoke_are_peered_both_ways_and_connected(az):
    vnets = {v: az.net.virtual_networks.get(RG, v).id for v in ("HubVNet", "AksVNet")}
    for local, remote in (("HubVNet", "AksVNet"), ("AksVNet", "HubVNet")):
        [peering] = az.net.virtual_network_peerings.list(RG, local)
        assert same(peering.remote_virtual_network.id, vnets[remote])
        assert peering.peering_state == "Connected" and peering.allow_virtual_network_access


def test_bastion_is_standard_in_its_subnet_with_a_static_standard_address(az):
    bastion = az.net.bastion_hosts.get(RG, "bastion-codemie")
    assert bastion.sku.name == "Standard"
    [ipconf] = bastion.ip_configurations
    assert same(ipconf.subnet.id, subnets(az, "HubVNet")["AzureBastionSubnet"].id)
    pip = az.net.public_ip_addresses.get(RG, ipconf.public_ip_address.id.rsplit("/", 1)[-1])
    assert (pip.sku.name, pip.public_ip_allocation_method) == ("Standard", "Static")


# ---------------------------------------------------------------- AKS and the jumpbox


def test_aks_is_a_private_entra_cluster_with_workload_identity(az):
    cluster = az.aks.managed_clusters.get(RG, "CodeMieAks")
    zone = az.dns.private_zones.get(RG, "privatelink.westeurope.azmk8s.io")
    api = cluster.api_server_access_profile
    assert api.enable_private_cluster and same(api.private_dns_zone, zone.id)
    assert cluster.kubernetes_version == "1.34.2"
    assert cluster.aad_profile.managed and cluster.aad_profile.enable_azure_rbac
    assert cluster.disable_local_accounts
    assert cluster.oidc_issuer_profile.enabled and cluster.oidc_issuer_profile.issuer_url.startswith("https://")
    assert cluster.security_profile.workload_identity.enabled
    assert cluster.network_profile.outbound_type == "userAssignedNATGateway"
    oms = cluster.addon_profiles["omsagent"]
    assert oms.enabled and same(oms.config["logAnalyticsWorkspaceResourceID"], workspace_id(az))


def test_aks_runs_as_its_own_identities(az):
    cluster = az.aks.managed_clusters.get(RG, "CodeMieAks")
    control = az.msi.user_assigned_identities.get(RG, "id-codemie-aks")
    kubelet = az.msi.user_assigned_identities.get(RG, "id-codemie-aks-kubelet")
    assert [same(i, control.id) for i in cluster.identity.user_assigned_identities] == [True]
    used = cluster.identity_profile["kubeletidentity"]
    assert same(used.resource_id, kubelet.id) and used.object_id == kubelet.principal_id


def test_system_pool_in_system_subnet_and_user_pool_in_user_subnet(az):
    aks_subnets = subnets(az, "AksVNet")
    pools = {p.name: p for p in az.aks.agent_pools.list(RG, "CodeMieAks")}
    assert set(pools) == {"system", "user"}
    assert pools["system"].mode == "System" and same(pools["system"].vnet_subnet_id, aks_subnets["SystemSubnet"].id)
    user = pools["user"]
    assert user.mode == "User" and same(user.vnet_subnet_id, aks_subnets["UserSubnet"].id)
    assert user.node_labels == {"codemie.ai/pool": "apps"}
    assert user.node_taints == ["codemie.ai/pool=apps:PreferNoSchedule"]
    assert (user.enable_auto_scaling, user.min_count, user.max_count) == (True, 2, 6)


def test_jumpbox_has_no_public_ip_and_only_key_login(az):
    vm = az.vm.virtual_machines.get(RG, "CodeMieVM")
    assert vm.os_profile.admin_username == "azadmin"
    linux = vm.os_profile.linux_configuration
    assert linux.disable_password_authentication and linux.ssh.public_keys[0].key_data.startswith("ssh-")
    [nic_ref] = vm.network_profile.network_interfaces
    nic = az.net.network_interfaces.get(RG, nic_ref.id.rsplit("/", 1)[-1])
    assert [c.public_ip_address for c in nic.ip_configurations] == [None]
    assert same(nic.ip_configurations[0].subnet.id, subnets(az, "AksVNet")["VMSubnet"].id)


# ---------------------------------------------------------------- data services


def test_postgres_uses_private_access_and_holds_the_codemie_database(az):
    server = az.pg.servers.get(RG, "airun-codemie-psql")
    network = server.network
    assert same(network.delegated_subnet_resource_id, subnets(az, "AksVNet")["ServicePostgresSubnet"].id)
    zone_name = network.private_dns_zone_arm_resource_id.rsplit("/", 1)[-1]
    assert zone_name.endswith(".postgres.database.azure.com")
    assert same(az.dns.private_zones.get(RG, zone_name).id, network.private_dns_zone_arm_resource_id)
    assert network.public_network_access == "Disabled"
    assert az.pg.databases.get(RG, server.name, "codemie").name == "codemie"


def test_app_storage_is_private(az):
    account = az.st.storage_accounts.get_properties(RG, "airuncodemie")
    assert account.public_network_access == "Disabled" and account.allow_blob_public_access is False
    assert account.network_rule_set.default_action == "Deny"
    assert account.minimum_tls_version == "TLS1_2"


def test_key_vault_is_rbac_soft_deleting_purge_protected_and_private(az):
    props = az.kv.vaults.get(RG, "airun-codemie-kv").properties
    assert props.enable_rbac_authorization and props.enable_soft_delete and props.enable_purge_protection
    assert props.public_network_access == "Disabled"


def test_registry_is_premium_and_private(az):
    registry = az.acr.registries.get(RG, "airuncodemie")
    assert registry.sku.name == "Premium" and registry.public_network_access == "Disabled"
    assert registry.admin_user_enabled is False


# ---------------------------------------------------------------- private endpoints and DNS


def endpoint_table(az) -> dict:
    """Every private endpoint of the design: name -> (target resource id, sub-resource, privatelink zone)."""
    targets = {"pe-codemie-blob": az.st.storage_accounts.get_properties(RG, "airuncodemie").id,
               "pe-codemie-vault": az.kv.vaults.get(RG, "airun-codemie-kv").id,
               "pe-codemie-registry": az.acr.registries.get(RG, "airuncodemie").id}
    table = {pe: (targets[pe], group, zone) for pe, (zone, group) in ENDPOINT_ZONES.items()}
    table.update({f"pe-{a.name}": (a.id, "account", OPENAI_ZONE) for a in openai_accounts(az)})
    return table


def test_every_private_endpoint_reaches_its_service_and_registers_in_its_zone(az):
    table = endpoint_table(az)
    assert len(table) == len(ENDPOINT_ZONES) + OPENAI_ACCOUNTS
    assert {pe.name for pe in az.net.private_endpoints.list(RG)} == set(table)
    for name, (target, group, zone) in table.items():
        pe = az.net.private_endpoints.get(RG, name)
        [conn] = pe.private_link_service_connections
        assert same(conn.private_link_service_id, target) and conn.group_ids == [group], name
        assert conn.private_link_service_connection_state.status == "Approved", name
        [zone_group] = az.net.private_dns_zone_groups.list(name, RG)
        [config] = zone_group.private_dns_zone_configs
        assert same(config.private_dns_zone_id, az.dns.private_zones.get(RG, zone).id), name
        ips = {ip for c in pe.custom_dns_configs for ip in c.ip_addresses}
        records = {r.ipv4_address for rs in az.dns.record_sets.list(RG, zone) for r in (rs.a_records or [])}
        assert ips and ips <= records, name


def test_openai_endpoints_sit_in_the_user_subnet_and_the_others_in_the_endpoints_subnet(az):
    aks_subnets = subnets(az, "AksVNet")
    for name, (_target, group, _zone) in endpoint_table(az).items():
        expected = "UserSubnet" if group == "account" else "PrivateEndpointsSubnet"
        assert same(az.net.private_endpoints.get(RG, name).subnet.id, aks_subnets[expected].id), name


def test_the_private_zones_are_the_design_and_each_is_linked_to_both_vnets(az):
    vnets = sorted(az.net.virtual_networks.get(RG, v).id.lower() for v in ("HubVNet", "AksVNet"))
    zones = [z.name for z in az.dns.private_zones.list_by_resource_group(RG)]
    assert set(zones) == ZONES
    for zone in zones:
        links = list(az.dns.virtual_network_links.list(RG, zone))
        assert sorted(link.virtual_network.id.lower() for link in links) == vnets, zone
        assert not any(link.registration_enabled for link in links), zone


# ---------------------------------------------------------------- identities and access


def expected_assignments(az) -> set[tuple[str, str, str]]:
    control, kubelet = principal(az, "id-codemie-aks"), principal(az, "id-codemie-aks-kubelet")
    api, ai = principal(az, "id-codemie-api"), principal(az, "id-codemie-ai")
    grants = [
        (az.dns.private_zones.get(RG, "privatelink.westeurope.azmk8s.io").id, "Private DNS Zone Contributor", control),
        (az.net.virtual_networks.get(RG, "AksVNet").id, "Network Contributor", control),
        (az.msi.user_assigned_identities.get(RG, "id-codemie-aks-kubelet").id, "Managed Identity Operator", control),
        (az.acr.registries.get(RG, "airuncodemie").id, "AcrPull", kubelet),
        (az.kv.vaults.get(RG, "airun-codemie-kv").id, "Key Vault Crypto User", api),
        (az.st.storage_accounts.get_properties(RG, "airuncodemie").id, "Storage Blob Data Contributor", api),
    ] + [(a.id, "Cognitive Services OpenAI User", ai) for a in openai_accounts(az)]
    return {(scope.lower(), ROLE[role], who) for scope, role, who in grants}


def test_role_assignments_are_exactly_the_design(az):
    found = list(az.authz.role_assignments.list_for_subscription())
    actual = {(ra.scope.lower(), ra.role_definition_id.rsplit("/", 1)[-1], ra.principal_id) for ra in found}
    assert len(found) == len(actual) == 6 + OPENAI_ACCOUNTS
    assert actual == expected_assignments(az)
    assert {ra.principal_type for ra in found} == {"ServicePrincipal"}


@pytest.mark.parametrize("identity", ["id-codemie-api", "id-codemie-ai"])
def test_workload_identities_trust_the_cluster_issuer(az, identity):
    issuer = az.aks.managed_clusters.get(RG, "CodeMieAks").oidc_issuer_profile.issuer_url
    group = AI_RG if identity == "id-codemie-ai" else RG
    [cred] = az.msi.federated_identity_credentials.list(group, identity)
    assert cred.issuer == issuer
    assert cred.audiences == ["api://AzureADTokenExchange"]
    assert cred.subject.startswith("system:serviceaccount:codemie:")


# ---------------------------------------------------------------- Azure OpenAI


def test_openai_accounts_are_private_s0_with_custom_subdomains(az):
    accounts = openai_accounts(az)
    assert len(accounts) == OPENAI_ACCOUNTS
    for account in accounts:
        props = account.properties
        assert (account.kind, account.sku.name, account.location) == ("OpenAI", "S0", "eastus")
        assert props.custom_sub_domain_name == account.name
        assert props.public_network_access == "Disabled" and props.network_acls.default_action == "Deny"
        assert props.disable_local_auth


def test_model_capacity_is_split_evenly_across_the_accounts(az):
    per_model: dict[str, list[int]] = {}
    for account in openai_accounts(az):
        for dep in az.cog.deployments.list(AI_RG, account.name):
            model = dep.properties.model
            assert MODELS[dep.name] == (model.name, model.version) and model.format == "OpenAI"
            assert dep.sku.name == "GlobalStandard"
            assert dep.properties.version_upgrade_option == "NoAutoUpgrade"
            per_model.setdefault(dep.name, []).append(dep.sku.capacity)
    share = MODEL_CAPACITY // OPENAI_ACCOUNTS
    assert per_model == {name: [share] * OPENAI_ACCOUNTS for name in MODELS}


# ---------------------------------------------------------------- cross-cutting


def public_network_access(properties) -> list[str]:
    """Every publicNetworkAccess value anywhere in a resource's properties (e.g. PostgreSQL's is nested)."""
    if isinstance(properties, dict):
        found = [properties["publicNetworkAccess"]] if "publicNetworkAccess" in properties else []
        return found + [v for sub in properties.values() for v in public_network_access(sub)]
    if isinstance(properties, list):
        return [v for item in properties for v in public_network_access(item)]
    return []


def test_nothing_private_by_design_accepts_public_network_access(az):
    versions: dict[str, dict[str, str]] = {}
    checked, public = set(), {}
    for res in az.rm.resources.list():
        namespace, rtype = res.type.split("/", 1)
        if namespace not in versions:
            versions[namespace] = {t.resource_type.lower(): t.api_versions[0]
                                   for t in az.rm.providers.get(namespace).resource_types}
        body = az.rm.resources.get_by_id(res.id, api_version=versions[namespace][rtype.lower()])
        values = public_network_access(body.properties)
        if not values or res.type.lower() in NOT_NETWORK_SERVICES:
            continue
        checked.add(res.type)
        if res.name not in PUBLIC_BY_DESIGN and values != ["Disabled"]:
            public[res.id] = values
    assert public == {}
    assert {"Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults", "Microsoft.ContainerRegistry/registries",
            "Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.CognitiveServices/accounts"} <= checked


def test_diagnostics_of_every_audited_service_go_to_the_workspace(az):
    ids = {r.name: r.id for r in az.rm.resources.list_by_resource_group(RG) if (r.type, r.name) in DIAGNOSED}
    ids |= {a.name: a.id for a in openai_accounts(az)}
    assert len(ids) == len(DIAGNOSED) + OPENAI_ACCOUNTS
    workspace = workspace_id(az)
    for name, rid in ids.items():
        [setting] = az.mon.diagnostic_settings.list(rid)
        assert same(setting.workspace_id, workspace), name
        assert setting.logs and all(entry.enabled for entry in setting.logs), name
