"""The kinds table: every fact the engine knows about a resource kind, as data.

Why: one generic reconciler serves every kind, so the differences between kinds must live somewhere small
and reviewable. A `Kind` row says which azure-mgmt client and operation group serve it, which methods create,
read and delete it, where its id hangs (subscription, resource group, parent, or any scope), how its name must
look, which paths Azure owns (never diffed), which lists Azure keeps unordered, which changes force a
replacement, which fields are write-only (sent, never compared or stored), and which Azure parent serializes its
writes. Code lives in `engine/hooks.py` and is referenced here by name only where a kind really differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# SDK clients by short key: (module, class name).
CLIENTS: dict[str, tuple[str, str]] = {
    "resource": ("azure.mgmt.resource.resources", "ResourceManagementClient"),
    "network": ("azure.mgmt.network", "NetworkManagementClient"),
    "privatedns": ("azure.mgmt.privatedns", "PrivateDnsManagementClient"),
    "aks": ("azure.mgmt.containerservice", "ContainerServiceClient"),
    "postgres": ("azure.mgmt.postgresqlflexibleservers", "PostgreSQLManagementClient"),
    "keyvault": ("azure.mgmt.keyvault", "KeyVaultManagementClient"),
    "storage": ("azure.mgmt.storage", "StorageManagementClient"),
    "acr": ("azure.mgmt.containerregistry", "ContainerRegistryManagementClient"),
    "cognitive": ("azure.mgmt.cognitiveservices", "CognitiveServicesManagementClient"),
    "compute": ("azure.mgmt.compute", "ComputeManagementClient"),
    "msi": ("azure.mgmt.msi", "ManagedServiceIdentityClient"),
    "authorization": ("azure.mgmt.authorization", "AuthorizationManagementClient"),
    "loganalytics": ("azure.mgmt.loganalytics", "LogAnalyticsManagementClient"),
    "monitor": ("azure.mgmt.monitor", "MonitorManagementClient"),
}

# An ignore rule applies when its predicate holds on the desired body (None: always).
IgnoreRule = tuple[str, "Callable[[dict], bool] | None"]


@dataclass(frozen=True)
class Kind:
    name: str
    arm_type: str
    client: str
    group: str
    scope: str = "rg"                       # subscription | rg | parent | scope
    parent: str | None = None               # parent kind (scope == "parent")
    child_path: str | None = None           # id suffix under the parent, default "<last type segment>/{name}"
    create: str = "begin_create_or_update"
    update: str | None = None               # a different method for updates (e.g. PATCH-only kinds)
    delete: str | None = "begin_delete"     # None: removed with its parent, never deleted alone
    get: str = "get"
    args: str = "default"                   # how call args come from the id: see engine/ids.py ARG_STYLES
    name_pattern: str | None = None
    name_hint: str = ""
    requires_location: bool = True
    fixed_name: str | None = None           # e.g. blobServices are always "default"
    ignore: tuple[IgnoreRule, ...] = ()
    unordered: dict[str, str | None] = field(default_factory=dict)   # list path -> key field (None: scalars)
    immutable: tuple[str, ...] = ("location",)
    write_only: tuple[str, ...] = ()
    lock: str | None = None                 # kind of the ancestor whose writes Azure serializes; "self"
    hooks: tuple[str, ...] = ()             # names of hooks in engine/hooks.py
    soft_delete: str | None = None          # vault | cognitive | workspace
    outputs: tuple[str, ...] = ()           # observed paths kept in state (non-secret server values)
    typical_s: float = 5.0                  # typical create time on Azure (behaviours §14): schedules long work first

    @property
    def parent_kind(self) -> str | None:
        return self.parent

    def resolved_child_path(self) -> str:
        return self.child_path or self.arm_type.rsplit("/", 1)[-1] + "/{name}"


def _autoscaled(body: dict) -> bool:
    return bool(body.get("properties", {}).get("enableAutoScaling"))


def _upgrade_channel(body: dict) -> bool:
    channel = body.get("properties", {}).get("autoUpgradeProfile", {}).get("upgradeChannel", "none")
    return str(channel).lower() not in ("none", "")


_NET = "Microsoft.Network"
_NAME_NET = r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?"
_HINT_NET = "1-80 letters, digits, '_', '.', '-'; starts with a letter or digit"

KINDS_LIST: list[Kind] = [
    Kind("resource_group", "Microsoft.Resources/resourceGroups", "resource", "resource_groups",
         scope="subscription", create="create_or_update", args="subscription",
         name_pattern=r"[-\w.()]{0,89}[-\w()]", name_hint="1-90 letters, digits, '-', '_', '.', '(', ')'; not ending in '.'", typical_s=1),
    # Storage
    Kind("storage_account", "Microsoft.Storage/storageAccounts", "storage", "storage_accounts",
         create="begin_create", delete="delete", get="get_properties",
         name_pattern=r"[a-z0-9]{3,24}", name_hint="3-24 lowercase letters and digits",
         immutable=("location", "kind"), outputs=("properties.primaryEndpoints",),
         hooks=("storage_defaults",), typical_s=25),
    Kind("blob_service", "Microsoft.Storage/storageAccounts/blobServices", "storage", "blob_services",
         scope="parent", parent="storage_account", create="set_service_properties", delete=None,
         get="get_service_properties", args="skip_last", fixed_name="default", requires_location=False),
    Kind("blob_container", "Microsoft.Storage/storageAccounts/blobServices/containers", "storage",
         "blob_containers", scope="parent", parent="storage_account",
         child_path="blobServices/default/containers/{name}", create="create", update="update",
         delete="delete", args="skip_default", requires_location=False,
         name_pattern=r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]",
         name_hint="3-63 lowercase letters, digits and single hyphens"),
    # Networking
    Kind("virtual_network", f"{_NET}/virtualNetworks", "network", "virtual_networks",
         name_pattern=_NAME_NET, name_hint=_HINT_NET, hooks=("keep_subnets",),
         unordered={"properties.addressSpace.addressPrefixes": None}),
    Kind("subnet", f"{_NET}/virtualNetworks/subnets", "network", "subnets", scope="parent",
         parent="virtual_network", requires_location=False, name_pattern=_NAME_NET, name_hint=_HINT_NET,
         lock="virtual_network", immutable=(), unordered={"properties.delegations": "name"}),
    Kind("network_security_group", f"{_NET}/networkSecurityGroups", "network", "network_security_groups",
         name_pattern=_NAME_NET, name_hint=_HINT_NET, unordered={"properties.securityRules": "name"}),
    Kind("route_table", f"{_NET}/routeTables", "network", "route_tables",
         name_pattern=_NAME_NET, name_hint=_HINT_NET, unordered={"properties.routes": "name"}),
    Kind("public_ip", f"{_NET}/publicIPAddresses", "network", "public_ip_addresses",
         name_pattern=_NAME_NET, name_hint=_HINT_NET, immutable=("location", "sku"),
         outputs=("properties.ipAddress",)),
    Kind("nat_gateway", f"{_NET}/natGateways", "network", "nat_gateways",
         name_pattern=_NAME_NET, name_hint=_HINT_NET, unordered={"properties.publicIpAddresses": "id"}, typical_s=15),
    Kind("vnet_peering", f"{_NET}/virtualNetworks/virtualNetworkPeerings", "network",
         "virtual_network_peerings", scope="parent", parent="virtual_network", requires_location=False,
         name_pattern=_NAME_NET, name_hint=_HINT_NET, lock="virtual_network", hooks=("peering_locks",),
         immutable=("properties.remoteVirtualNetwork.id",), typical_s=30),
    Kind("bastion_host", f"{_NET}/bastionHosts", "network", "bastion_hosts",
         name_pattern=_NAME_NET, name_hint=_HINT_NET, typical_s=1800),
    Kind("network_interface", f"{_NET}/networkInterfaces", "network", "network_interfaces",
         name_pattern=_NAME_NET, name_hint=_HINT_NET, unordered={"properties.ipConfigurations": "name"},
         outputs=("properties.ipConfigurations",)),
    Kind("private_endpoint", f"{_NET}/privateEndpoints", "network", "private_endpoints",
         name_pattern=_NAME_NET, name_hint=_HINT_NET,
         immutable=("location", "properties.subnet.id", "properties.privateLinkServiceConnections"),
         hooks=("private_endpoint_locks",), outputs=("properties.customDnsConfigs",), typical_s=60),
    Kind("private_dns_zone_group", f"{_NET}/privateEndpoints/privateDnsZoneGroups", "network",
         "private_dns_zone_groups", scope="parent", parent="private_endpoint", requires_location=False,
         unordered={"properties.privateDnsZoneConfigs": "name"}),
    Kind("private_dns_zone", f"{_NET}/privateDnsZones", "privatedns", "private_zones",
         name_pattern=r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}",
         name_hint="a DNS domain name, e.g. privatelink.vaultcore.azure.net", typical_s=35),
    Kind("private_dns_link", f"{_NET}/privateDnsZones/virtualNetworkLinks", "privatedns",
         "virtual_network_links", scope="parent", parent="private_dns_zone", lock="private_dns_zone",
         name_pattern=r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?", name_hint=_HINT_NET,
         immutable=("location", "properties.virtualNetwork.id"), typical_s=50),
    Kind("private_dns_a_record", f"{_NET}/privateDnsZones/A", "privatedns", "record_sets", scope="parent",
         parent="private_dns_zone", child_path="A/{name}", create="create_or_update", delete="delete",
         args="record_set", requires_location=False, lock="private_dns_zone",
         unordered={"properties.aRecords": "ipv4Address"}),
    # Compute and AKS
    Kind("managed_cluster", "Microsoft.ContainerService/managedClusters", "aks", "managed_clusters",
         name_pattern=r"[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?", name_hint="1-63 letters, digits, '_', '-'",
         lock="self", ignore=(("properties.kubernetesVersion", _upgrade_channel),
                              ("properties.agentPoolProfiles", None)),
         unordered={"properties.aadProfile.adminGroupObjectIDs": None},
         immutable=("location", "properties.apiServerAccessProfile.enablePrivateCluster",
                    "properties.networkProfile.networkPlugin", "properties.dnsPrefix"),
         outputs=("properties.oidcIssuerProfile.issuerURL", "properties.privateFQDN",
                  "properties.identityProfile.kubeletidentity", "identity.principalId",
                  "properties.nodeResourceGroup"), typical_s=600),
    Kind("agent_pool", "Microsoft.ContainerService/managedClusters/agentPools", "aks", "agent_pools",
         scope="parent", parent="managed_cluster", requires_location=False, lock="managed_cluster",
         name_pattern=r"[a-z][a-z0-9]{0,11}", name_hint="1-12 lowercase letters and digits, starting with a letter",
         ignore=(("properties.count", _autoscaled),), immutable=("properties.vmSize", "properties.vnetSubnetID"),
         unordered={"properties.nodeTaints": None}, typical_s=270),
    Kind("disk", "Microsoft.Compute/disks", "compute", "disks",
         name_pattern=r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]", name_hint="1-80 letters, digits, '_', '.', '-'"),
    Kind("virtual_machine", "Microsoft.Compute/virtualMachines", "compute", "virtual_machines",
         name_pattern=r"[A-Za-z0-9][A-Za-z0-9-]{0,62}", name_hint="1-64 letters, digits and '-' (Linux)",
         immutable=("location", "properties.osProfile"), write_only=("properties.osProfile.customData",),
         ignore=(("properties.storageProfile.osDisk.managedDisk", None),), typical_s=50),
    # Identity and access
    Kind("user_identity", "Microsoft.ManagedIdentity/userAssignedIdentities", "msi", "user_assigned_identities",
         create="create_or_update", delete="delete",
         name_pattern=r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}", name_hint="3-128 letters, digits, '_', '-'",
         outputs=("properties.principalId", "properties.clientId", "properties.tenantId")),
    Kind("federated_credential", "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
         "msi", "federated_identity_credentials", scope="parent", parent="user_identity",
         create="create_or_update", delete="delete", requires_location=False, lock="user_identity",
         name_pattern=r"[A-Za-z0-9][A-Za-z0-9_-]{2,119}", name_hint="3-120 letters, digits, '_', '-'",
         unordered={"properties.audiences": None}),
    Kind("role_assignment", "Microsoft.Authorization/roleAssignments", "authorization", "role_assignments",
         scope="scope", create="create", delete="delete", args="scope", requires_location=False,
         name_pattern=r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", name_hint="a GUID",
         immutable=("properties.roleDefinitionId", "properties.principalId", "properties.principalType"),
         hooks=("adopt_role_assignment",)),
    # Data
    Kind("postgres_server", "Microsoft.DBforPostgreSQL/flexibleServers", "postgres", "servers",
         name_pattern=r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name_hint="3-63 lowercase letters, digits and '-'",
         lock="self", write_only=("properties.administratorLoginPassword",),
         ignore=(("properties.availabilityZone", None),
                 ("properties.highAvailability.standbyAvailabilityZone", None)),
         immutable=("location", "properties.network.delegatedSubnetResourceId",
                    "properties.network.privateDnsZoneArmResourceId", "properties.administratorLogin"),
         outputs=("properties.fullyQualifiedDomainName",), typical_s=480),
    Kind("postgres_database", "Microsoft.DBforPostgreSQL/flexibleServers/databases", "postgres", "databases",
         scope="parent", parent="postgres_server", create="begin_create", requires_location=False,
         lock="postgres_server", name_pattern=r"[A-Za-z_][A-Za-z0-9_$-]{0,62}", name_hint="1-63 characters", typical_s=20),
    Kind("key_vault", "Microsoft.KeyVault/vaults", "keyvault", "vaults", delete="delete",
         name_pattern=r"[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]",
         name_hint="3-24 letters, digits and single hyphens; starts with a letter",
         soft_delete="vault", hooks=("recover_soft_deleted",), lock="self",
         immutable=("location", "properties.tenantId"), outputs=("properties.vaultUri",), typical_s=15),
    Kind("key_vault_key", "Microsoft.KeyVault/vaults/keys", "keyvault", "keys", scope="parent",
         parent="key_vault", create="create_if_not_exist", delete=None, requires_location=False,
         lock="key_vault", name_pattern=r"[A-Za-z0-9-]{1,127}", name_hint="1-127 letters, digits, '-'",
         unordered={"properties.keyOps": None}, immutable=("properties.kty", "properties.keySize"),
         outputs=("properties.keyUri",)),
    Kind("key_vault_secret", "Microsoft.KeyVault/vaults/secrets", "keyvault", "secrets", scope="parent",
         parent="key_vault", create="create_or_update", delete=None, requires_location=False,
         lock="key_vault", write_only=("properties.value",),
         name_pattern=r"[A-Za-z0-9-]{1,127}", name_hint="1-127 letters, digits, '-'"),
    Kind("container_registry", "Microsoft.ContainerRegistry/registries", "acr", "registries",
         create="begin_create", update="begin_update",
         name_pattern=r"[A-Za-z0-9]{5,50}", name_hint="5-50 letters and digits",
         outputs=("properties.loginServer",), typical_s=40),
    Kind("log_analytics_workspace", "Microsoft.OperationalInsights/workspaces", "loganalytics", "workspaces",
         name_pattern=r"[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]", name_hint="4-63 letters, digits and '-'",
         soft_delete="workspace", hooks=("recover_soft_deleted",), outputs=("properties.customerId",), typical_s=25),
    Kind("diagnostic_setting", "Microsoft.Insights/diagnosticSettings", "monitor", "diagnostic_settings",
         scope="scope", create="create_or_update", delete="delete", args="scope", requires_location=False,
         name_pattern=r"[^<>*%&:\\?/+]{1,260}", name_hint="1-260 characters, none of <>*%&:\\?/+",
         unordered={"properties.logs": "categoryGroup", "properties.metrics": "category"}),
    Kind("cognitive_account", "Microsoft.CognitiveServices/accounts", "cognitive", "accounts",
         create="begin_create", update="begin_update", lock="self",
         name_pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{1,62}", name_hint="2-64 letters, digits, '_', '.', '-'",
         soft_delete="cognitive", hooks=("recover_soft_deleted",),
         immutable=("location", "kind", "properties.customSubDomainName"), outputs=("properties.endpoint",), typical_s=45),
    Kind("cognitive_deployment", "Microsoft.CognitiveServices/accounts/deployments", "cognitive", "deployments",
         scope="parent", parent="cognitive_account", requires_location=False, lock="cognitive_account",
         name_pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name_hint="1-64 letters, digits, '_', '.', '-'",
         immutable=("properties.model.name", "properties.model.format"), typical_s=90),
]

KINDS: dict[str, Kind] = {k.name: k for k in KINDS_LIST}
