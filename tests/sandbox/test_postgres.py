"""PostgreSQL Flexible Server in the sandbox, driven by the real azure-mgmt-postgresqlflexibleservers client (and
azure-mgmt-rdbms' older flexible-server client); the subnet and zone come from the network types."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.rdbms.postgresql_flexibleservers import PostgreSQLManagementClient as OldPostgreSQLClient
from azure.mgmt.resource.resources import ResourceManagementClient

from .test_identity_rbac import as_json, code_of, raw

PASSWORD = "Sandb0x-Secret!"
PG = "Microsoft.DBforPostgreSQL/flexibleServers"


class Cloud:
    """A resource group with a VNet, a delegated and a plain subnet, and two private DNS zones."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.pg = sandbox.client(PostgreSQLManagementClient)
        sandbox.client(ResourceManagementClient).resource_groups.create_or_update("rg-db", {"location": "westeurope"})
        self.rg = f"/subscriptions/{sandbox.subscription_id}/resourceGroups/rg-db"
        net = sandbox.client(NetworkManagementClient)
        net.virtual_networks.begin_create_or_update("rg-db", "AksVNet", raw({
            "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]}}})).result()
        delegation = [{"name": "pg", "properties": {"serviceName": PG}}]
        for name, prefix, delegations in (("ServicePostgresSubnet", "10.20.1.0/24", delegation),
                                          ("UserSubnet", "10.20.2.0/24", [])):
            net.subnets.begin_create_or_update("rg-db", "AksVNet", name, raw({"properties": {
                "addressPrefix": prefix, "delegations": delegations}})).result()
        dns = sandbox.client(PrivateDnsManagementClient)
        for zone in ("codemie.postgres.database.azure.com", "privatelink.database.windows.net",
                     "codemie-psql.postgres.database.azure.com"):
            dns.private_zones.begin_create_or_update("rg-db", zone, raw({"location": "global"})).result()

    def subnet(self, name: str) -> str:
        return f"{self.rg}/providers/Microsoft.Network/virtualNetworks/AksVNet/subnets/{name}"

    def zone(self, name: str) -> str:
        return f"{self.rg}/providers/Microsoft.Network/privateDnsZones/{name}"

    def server(self, subnet: str = "ServicePostgresSubnet", zone: str = "codemie.postgres.database.azure.com",
               sku: dict | None = None, **props):
        body = {"location": "westeurope", "sku": sku or {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
                "properties": {"administratorLogin": "pgadmin", "administratorLoginPassword": PASSWORD,
                               "version": "16", "storage": {"storageSizeGB": 64},
                               "network": {"delegatedSubnetResourceId": self.subnet(subnet),
                                           "privateDnsZoneArmResourceId": self.zone(zone)}, **props}}
        return self.pg.servers.begin_create_or_update("rg-db", "codemie-psql", raw(body), cls=as_json).result()


@pytest.fixture
def cloud(sandbox) -> Cloud:
    return Cloud(sandbox)


def test_private_server_create_and_password_never_returned(cloud, sandbox):
    cloud.server()
    got = cloud.pg.servers.get("rg-db", "codemie-psql", cls=as_json)
    props = got["properties"]
    assert props["fullyQualifiedDomainName"] == "codemie-psql.postgres.database.azure.com"
    assert props["state"] == "Ready" and props["network"]["publicNetworkAccess"] == "Disabled"
    assert props["storage"]["storageSizeGB"] == 64 and props["version"] == "16"
    assert "administratorLoginPassword" not in props and PASSWORD not in json.dumps(sandbox.get(got["id"]))
    assert [s.name for s in cloud.pg.servers.list_by_resource_group("rg-db")] == ["codemie-psql"]


def test_subnet_must_be_delegated_to_flexible_servers(cloud):
    with pytest.raises(HttpResponseError) as err:
        cloud.server(subnet="UserSubnet")
    assert err.value.status_code == 400 and code_of(err.value) == "SubnetMissingRequiredDelegation"


@pytest.mark.parametrize("zone", ["privatelink.database.windows.net", "codemie-psql.postgres.database.azure.com"])
def test_private_dns_zone_name_is_checked(cloud, zone):
    with pytest.raises(HttpResponseError) as err:
        cloud.server(zone=zone)
    assert code_of(err.value) == "PrivateDnsZoneNameNotValid"


def test_patch_changes_the_password_and_tags_without_returning_it(cloud, sandbox):
    made = cloud.server()
    cloud.pg.servers.begin_update("rg-db", "codemie-psql", raw({
        "tags": {"env": "dev"}, "properties": {"administratorLoginPassword": "An0ther-Secret!"}})).result()
    got = cloud.pg.servers.get("rg-db", "codemie-psql", cls=as_json)
    assert got["tags"] == {"env": "dev"} and got["properties"]["administratorLogin"] == "pgadmin"
    assert "An0ther-Secret!" not in json.dumps(sandbox.get(made["id"]))


def test_high_availability_needs_a_tier_above_burstable(cloud):
    with pytest.raises(HttpResponseError) as err:
        cloud.server(sku={"name": "Standard_B2s", "tier": "Burstable"}, highAvailability={"mode": "ZoneRedundant"})
    assert err.value.status_code == 400
    made = cloud.server(highAvailability={"mode": "ZoneRedundant"})
    assert made["properties"]["highAvailability"]["state"] == "Healthy"


def test_admin_password_must_be_complex(cloud):
    with pytest.raises(HttpResponseError) as err:
        cloud.server(administratorLoginPassword="short")
    assert err.value.status_code == 400


def test_database_crud_on_the_current_and_the_older_client(cloud, sandbox):
    cloud.server()
    dbs = cloud.pg.databases
    made = dbs.begin_create("rg-db", "codemie-psql", "codemie", raw({"properties": {"charset": "UTF8"}}),
                            cls=as_json).result()
    assert made["properties"]["collation"] == "en_US.utf8"
    assert {"codemie", "postgres"} <= {d.name for d in dbs.list_by_server("rg-db", "codemie-psql")}
    old = sandbox.client(OldPostgreSQLClient)
    old.databases.begin_create("rg-db", "codemie-psql", "keycloak", {"properties": {"charset": "UTF8"}}).result()
    assert old.databases.get("rg-db", "codemie-psql", "codemie").charset == "UTF8"
    dbs.begin_delete("rg-db", "codemie-psql", "keycloak").result()
    with pytest.raises(ResourceNotFoundError):
        dbs.get("rg-db", "codemie-psql", "keycloak")


def test_writes_on_a_busy_server_get_server_is_busy(cloud, sandbox):
    cloud.server()
    sandbox.set_profile({"time_scale": 1.0})
    cloud.pg.databases.begin_create("rg-db", "codemie-psql", "codemie", raw({"properties": {}}), polling=False)
    with pytest.raises(ResourceExistsError) as err:
        cloud.pg.databases.begin_create("rg-db", "codemie-psql", "litellm", raw({"properties": {}}))
    assert code_of(err.value) == "ServerIsBusy"
    sandbox.advance(30)
    sandbox.set_profile({"time_scale": 0.0})
    cloud.pg.databases.begin_create("rg-db", "codemie-psql", "litellm", raw({"properties": {}})).result()
    assert {"codemie", "litellm"} <= {d.name for d in cloud.pg.databases.list_by_server("rg-db", "codemie-psql")}


def test_server_parameters_have_defaults_and_validate_values(cloud):
    cloud.server()
    configs = cloud.pg.configurations
    assert configs.get("rg-db", "codemie-psql", "require_secure_transport").value == "on"
    updated = configs.begin_put("rg-db", "codemie-psql", "azure.extensions",
                                raw({"properties": {"value": "VECTOR,PG_TRGM", "source": "user-override"}}),
                                cls=as_json).result()
    assert updated["properties"]["value"] == "VECTOR,PG_TRGM" and updated["properties"]["source"] == "user-override"
    with pytest.raises(HttpResponseError) as err:
        configs.begin_put("rg-db", "codemie-psql", "max_connections", raw({"properties": {"value": "many"}})).result()
    assert err.value.status_code == 400


def test_network_settings_are_fixed_after_create(cloud):
    cloud.server()
    with pytest.raises(HttpResponseError) as err:
        cloud.server(subnet="ServicePostgresSubnet", zone="codemie.postgres.database.azure.com",
                     network={"delegatedSubnetResourceId": cloud.subnet("UserSubnet")})
    assert code_of(err.value) == "PropertyChangeNotAllowed"


def test_public_server_firewall_rules_and_delete(cloud):
    body = {"location": "westeurope", "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
            "properties": {"administratorLogin": "pgadmin", "administratorLoginPassword": PASSWORD, "version": "17",
                           "storage": {"storageSizeGB": 32}}}
    cloud.pg.servers.begin_create_or_update("rg-db", "codemie-pub", raw(body)).result()
    rules = cloud.pg.firewall_rules
    made = rules.begin_create_or_update("rg-db", "codemie-pub", "office", raw({"properties": {
        "startIpAddress": "203.0.113.1", "endIpAddress": "203.0.113.9"}}), cls=as_json).result()
    assert made["properties"]["endIpAddress"] == "203.0.113.9"
    with pytest.raises(HttpResponseError):
        rules.begin_create_or_update("rg-db", "codemie-pub", "bad", raw({"properties": {
            "startIpAddress": "203.0.113.9", "endIpAddress": "203.0.113.1"}})).result()
    cloud.pg.servers.begin_delete("rg-db", "codemie-pub").result()
    with pytest.raises(ResourceNotFoundError):
        cloud.pg.servers.get("rg-db", "codemie-pub")


def test_server_stays_invisible_until_created_under_a_time_scale(sandbox_factory):
    cloud = Cloud(sandbox_factory(time_scale=0.002))
    body = {"location": "westeurope", "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
            "properties": {"administratorLogin": "pgadmin", "administratorLoginPassword": PASSWORD, "version": "17"}}
    poller = cloud.pg.servers.begin_create_or_update("rg-db", "codemie-slow", raw(body))
    with pytest.raises(ResourceNotFoundError):
        cloud.pg.servers.get("rg-db", "codemie-slow")
    assert poller.result().fully_qualified_domain_name == "codemie-slow.postgres.database.azure.com"
