"""Microsoft.Network in the sandbox, driven by azure-mgmt-network 33.1.0 over HTTPS: create, read, update and
delete of every network type the stack uses, with the LRO choreography Azure's Network RP uses.

Helpers here (`net_env`, `vnet_body`, ...) are shared with test_network_rules.py and test_dns.py.
"""

from __future__ import annotations

import ipaddress

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

RG = "rg-net"
LOC = "westeurope"


class NetEnv:
    """Clients bound to one sandbox plus id builders for its resource group."""

    def __init__(self, box):
        self.box = box
        self.arm = box.client(ResourceManagementClient)
        self.net = box.client(NetworkManagementClient)
        self.dns = box.client(PrivateDnsManagementClient)
        self.arm.resource_groups.create_or_update(RG, {"location": LOC})

    def rid(self, kind: str, name: str, ns: str = "Microsoft.Network") -> str:
        return f"/subscriptions/{self.box.subscription_id}/resourceGroups/{RG}/providers/{ns}/{kind}/{name}"

    def vnet(self, name: str, space: str = "10.0.0.0/16", subnets: dict[str, str] | None = None):
        return self.net.virtual_networks.begin_create_or_update(RG, name, vnet_body(space, subnets)).result()

    def subnet(self, vnet: str, name: str, prefix: str, **props):
        body = {"properties": {"addressPrefix": prefix, **props}}
        return self.net.subnets.begin_create_or_update(RG, vnet, name, body).result()

    def pip(self, name: str):
        body = {"location": LOC, "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}
        return self.net.public_ip_addresses.begin_create_or_update(RG, name, body).result()


def vnet_body(space: str, subnets: dict[str, str] | None = None) -> dict:
    props: dict = {"addressSpace": {"addressPrefixes": [space]}}
    if subnets is not None:
        props["subnets"] = [{"name": n, "properties": {"addressPrefix": p}} for n, p in subnets.items()]
    return {"location": LOC, "properties": props}


def code_of(err: HttpResponseError) -> str:
    return err.error.code if err.error is not None else ""


def props(model) -> dict:
    return dict(model["properties"])


class Recorder:
    """raw_response_hook that keeps (method, status, headers, body) of every response."""

    def __init__(self):
        self.seen: list[tuple[str, int, dict, dict | None]] = []

    def __call__(self, response) -> None:
        http = response.http_response
        http.read()
        try:
            body = http.json() if http.text() else None
        except ValueError:
            body = None
        self.seen.append((http.request.method, http.status_code, dict(http.headers), body))

    def first(self, method: str) -> tuple[int, dict, dict | None]:
        return next((s, h, b) for m, s, h, b in self.seen if m == method)


@pytest.fixture
def env(sandbox) -> NetEnv:
    return NetEnv(sandbox)


# ---------------------------------------------------------------- LRO choreography



HOUR = 3600.0


def finish(env: NetEnv, poller):
    """Move the sandbox clock past an hour-long operation and collect the result."""
    env.box.advance(2 * HOUR)
    return poller.result()


def refused(call) -> tuple[int, str]:
    """(status, ARM code) of a call that must fail."""
    with pytest.raises(HttpResponseError) as err:
        call()
    return err.value.status_code, code_of(err.value)

def test_network_put_is_201_async_operation_updating_and_delete_is_202_with_both_headers(env):
    rec = Recorder()
    env.net.virtual_networks.begin_create_or_update(RG, "vnet-lro", vnet_body("10.1.0.0/16"),
                                                    raw_response_hook=rec).result()
    status, headers, body = rec.first("PUT")
    assert status == 201
    assert "/providers/Microsoft.Network/locations/westeurope/operations/" in headers["Azure-AsyncOperation"]
    assert body["properties"]["provisioningState"] == "Updating"
    assert env.net.virtual_networks.get(RG, "vnet-lro").properties.provisioning_state == "Succeeded"
    rec = Recorder()
    assert env.net.virtual_networks.begin_delete(RG, "vnet-lro", raw_response_hook=rec).result() is None
    status, headers, _ = rec.first("DELETE")
    assert status == 202 and "Location" in headers and "Azure-AsyncOperation" in headers
    with pytest.raises(ResourceNotFoundError):
        env.net.virtual_networks.get(RG, "vnet-lro")


# ---------------------------------------------------------------- VNets and subnets


def test_vnet_with_inline_subnets_creates_subnet_resources_and_tags_patch(env):
    vnet = env.vnet("vnet1", "10.0.0.0/16", {"a": "10.0.1.0/24", "b": "10.0.2.0/24"})
    assert [s["name"] for s in props(vnet)["subnets"]] == ["a", "b"]
    assert sorted(s.name for s in env.net.subnets.list(RG, "vnet1")) == ["a", "b"]
    assert env.net.subnets.get(RG, "vnet1", "a").address_prefix == "10.0.1.0/24"
    tagged = env.net.virtual_networks.update_tags(RG, "vnet1", {"tags": {"env": "test"}})
    assert tagged.tags == {"env": "test"}
    assert len(props(env.net.virtual_networks.get(RG, "vnet1"))["subnets"]) == 2


def test_subnet_crud_keeps_vnet_inline_copy_in_step(env):
    env.vnet("vnet1")
    created = env.subnet("vnet1", "apps", "10.0.4.0/24", privateEndpointNetworkPolicies="Enabled")
    assert created.properties.provisioning_state == "Succeeded"
    inline = {s["name"]: s for s in props(env.net.virtual_networks.get(RG, "vnet1"))["subnets"]}
    assert inline["apps"]["properties"]["addressPrefix"] == "10.0.4.0/24"
    env.subnet("vnet1", "apps", "10.0.5.0/24")
    assert env.net.subnets.get(RG, "vnet1", "apps").address_prefix == "10.0.5.0/24"
    env.net.subnets.begin_delete(RG, "vnet1", "apps").result()
    assert list(env.net.subnets.list(RG, "vnet1")) == []
    assert props(env.net.virtual_networks.get(RG, "vnet1"))["subnets"] == []


def test_delegated_subnet_lists_its_delegation_actions(env):
    env.vnet("vnet1")
    delegated = env.subnet("vnet1", "pg", "10.0.6.0/24", delegations=[
        {"name": "pg", "properties": {"serviceName": "Microsoft.DBforPostgreSQL/flexibleServers"}}])
    delegation = props(delegated)["delegations"][0]
    assert delegation["properties"]["actions"] == ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    assert delegation["id"].endswith("/subnets/pg/delegations/pg")


# ---------------------------------------------------------------- NSGs, route tables, associations


def test_nsg_with_rules_defaults_child_rules_and_subnet_association(env):
    env.vnet("vnet1")
    rule = {"name": "ssh", "properties": {"protocol": "Tcp", "access": "Allow", "direction": "Inbound",
                                          "priority": 100, "destinationPortRange": "22"}}
    nsg = env.net.network_security_groups.begin_create_or_update(
        RG, "nsg1", {"location": LOC, "properties": {"securityRules": [rule]}}).result()
    assert len(props(nsg)["defaultSecurityRules"]) == 6
    assert env.net.security_rules.get(RG, "nsg1", "ssh").destination_port_range == "22"
    env.net.security_rules.begin_create_or_update(RG, "nsg1", "https", {"properties": {
        "protocol": "Tcp", "access": "Allow", "direction": "Inbound", "priority": 110,
        "destinationPortRange": "443"}}).result()
    names = [r["name"] for r in props(env.net.network_security_groups.get(RG, "nsg1"))["securityRules"]]
    assert sorted(names) == ["https", "ssh"]
    env.subnet("vnet1", "vm", "10.0.1.0/24", networkSecurityGroup={"id": nsg.id})
    assert props(env.net.network_security_groups.get(RG, "nsg1"))["subnets"][0]["id"].endswith("/subnets/vm")
    env.net.security_rules.begin_delete(RG, "nsg1", "https").result()
    assert [r.name for r in env.net.security_rules.list(RG, "nsg1")] == ["ssh"]


def test_route_table_with_routes_and_child_route(env):
    table = env.net.route_tables.begin_create_or_update(RG, "rt1", {"location": LOC, "properties": {"routes": [
        {"name": "default", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"}}]}}).result()
    assert props(table)["disableBgpRoutePropagation"] is False
    env.net.routes.begin_create_or_update(RG, "rt1", "fw", {"properties": {
        "addressPrefix": "10.9.0.0/16", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}}).result()
    assert sorted(r["name"] for r in props(env.net.route_tables.get(RG, "rt1"))["routes"]) == ["default", "fw"]
    env.net.routes.begin_delete(RG, "rt1", "fw").result()
    assert [r.name for r in env.net.routes.list(RG, "rt1")] == ["default"]
    env.net.route_tables.begin_delete(RG, "rt1").result()
    assert list(env.net.route_tables.list(RG)) == []


def test_public_ip_static_gets_a_stable_address_from_the_pool(env):
    first = env.pip("pip1")
    address = ipaddress.ip_address(props(first)["ipAddress"])
    assert address in ipaddress.ip_network("20.0.0.0/8")
    again = env.net.public_ip_addresses.begin_create_or_update(RG, "pip1", {
        "location": LOC, "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"},
        "tags": {"x": "1"}}).result()
    assert props(again)["ipAddress"] == str(address)
    assert props(env.pip("pip2"))["ipAddress"] != str(address)


def test_nat_gateway_links_public_ip_and_subnets(env):
    pip = env.pip("nat-ip")
    nat = env.net.nat_gateways.begin_create_or_update(RG, "nat1", {
        "location": LOC, "sku": {"name": "Standard"},
        "properties": {"publicIpAddresses": [{"id": pip.id}]}}).result()
    assert props(nat)["publicIpAddresses"] == [{"id": pip.id}]
    assert props(env.net.public_ip_addresses.get(RG, "nat-ip"))["natGateway"]["id"] == nat.id
    env.vnet("vnet1")
    env.subnet("vnet1", "aks", "10.0.1.0/24", natGateway={"id": nat.id})
    assert [s["id"].rsplit("/", 1)[-1] for s in props(env.net.nat_gateways.get(RG, "nat1"))["subnets"]] == ["aks"]
    env.subnet("vnet1", "aks", "10.0.1.0/24")
    assert props(env.net.nat_gateways.get(RG, "nat1"))["subnets"] == []
    env.net.nat_gateways.begin_delete(RG, "nat1").result()
    assert "natGateway" not in props(env.net.public_ip_addresses.get(RG, "nat-ip"))


# ---------------------------------------------------------------- peering


def test_peering_is_initiated_then_connected_on_both_sides_then_disconnected(env):
    hub, spoke = env.vnet("hub", "10.0.0.0/16"), env.vnet("spoke", "10.1.0.0/16")
    first = env.net.virtual_network_peerings.begin_create_or_update(
        RG, "hub", "hub-to-spoke", {"properties": {"remoteVirtualNetwork": {"id": spoke.id}}}).result()
    assert first.peering_state == "Initiated"
    env.net.virtual_network_peerings.begin_create_or_update(
        RG, "spoke", "spoke-to-hub", {"properties": {"remoteVirtualNetwork": {"id": hub.id}}}).result()
    assert env.net.virtual_network_peerings.get(RG, "hub", "hub-to-spoke").peering_state == "Connected"
    assert env.net.virtual_network_peerings.get(RG, "spoke", "spoke-to-hub").peering_state == "Connected"
    inline = props(env.net.virtual_networks.get(RG, "hub"))["virtualNetworkPeerings"]
    assert inline[0]["properties"]["peeringState"] == "Connected"
    env.net.virtual_network_peerings.begin_delete(RG, "spoke", "spoke-to-hub").result()
    assert env.net.virtual_network_peerings.get(RG, "hub", "hub-to-spoke").peering_state == "Disconnected"


# ---------------------------------------------------------------- NICs, Bastion


def test_nic_gets_first_free_address_in_its_subnet_and_keeps_it(env):
    env.vnet("vnet1", subnets={"vm": "10.0.1.0/24"})
    sid = env.net.subnets.get(RG, "vnet1", "vm").id

    def nic(name: str):
        return env.net.network_interfaces.begin_create_or_update(RG, name, {"location": LOC, "properties": {
            "ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": sid}}}]}}).result()

    first, second = nic("jump-nic"), nic("other-nic")
    addresses = [props(n)["ipConfigurations"][0]["properties"]["privateIPAddress"] for n in (first, second)]
    assert addresses == ["10.0.1.4", "10.0.1.5"]
    assert props(nic("jump-nic"))["ipConfigurations"][0]["properties"]["privateIPAddress"] == "10.0.1.4"
    configs = props(env.net.subnets.get(RG, "vnet1", "vm"))["ipConfigurations"]
    assert sorted(c["id"].split("/")[8] for c in configs) == ["jump-nic", "other-nic"]
    env.net.network_interfaces.begin_delete(RG, "other-nic").result()
    assert len(props(env.net.subnets.get(RG, "vnet1", "vm"))["ipConfigurations"]) == 1


def bastion_body(subnet_id: str, pip_id: str, sku: str = "Standard") -> dict:
    return {"location": LOC, "sku": {"name": sku}, "properties": {"ipConfigurations": [
        {"name": "IpConf", "properties": {"subnet": {"id": subnet_id}, "publicIPAddress": {"id": pip_id}}}]}}


def test_bastion_create_read_delete(env):
    env.vnet("hub", subnets={"AzureBastionSubnet": "10.0.0.0/26"})
    sid, pip = env.net.subnets.get(RG, "hub", "AzureBastionSubnet").id, env.pip("bastion-ip")
    host = env.net.bastion_hosts.begin_create_or_update(RG, "bastion1", bastion_body(sid, pip.id)).result()
    assert host.sku.name == "Standard" and props(host)["dnsName"].endswith(".bastion.azure.com")
    assert props(env.net.public_ip_addresses.get(RG, "bastion-ip"))["ipConfiguration"]["id"].startswith(host.id)
    env.net.bastion_hosts.begin_delete(RG, "bastion1").result()
    assert list(env.net.bastion_hosts.list_by_resource_group(RG)) == []


# ---------------------------------------------------------------- private endpoints and DNS zone groups


def make_vault(env, name: str) -> str:
    vault_id = env.rid("vaults", name, "Microsoft.KeyVault")
    env.arm.resources.begin_create_or_update_by_id(vault_id, api_version="2026-05-15", parameters={
        "location": LOC, "properties": {"tenantId": env.box.tenant_id, "sku": {"family": "A", "name": "standard"},
                                        "enableRbacAuthorization": True}}).result()
    return vault_id


def test_private_endpoint_makes_a_nic_and_its_zone_group_writes_the_a_record(env):
    vault_id = make_vault(env, "kvpe1")
    env.vnet("vnet1", subnets={"pe": "10.0.3.0/24"})
    sid = env.net.subnets.get(RG, "vnet1", "pe").id
    zone = env.dns.private_zones.begin_create_or_update(RG, "privatelink.vaultcore.azure.net",
                                                        {"location": "global"}).result()
    pe = env.net.private_endpoints.begin_create_or_update(RG, "pe-kv", {"location": LOC, "properties": {
        "subnet": {"id": sid}, "privateLinkServiceConnections": [{"name": "kv", "properties": {
            "privateLinkServiceId": vault_id, "groupIds": ["vault"]}}]}}).result()
    nic_id = props(pe)["networkInterfaces"][0]["id"]
    nic = env.net.network_interfaces.get(RG, nic_id.rsplit("/", 1)[-1])
    address = props(nic)["ipConfigurations"][0]["properties"]["privateIPAddress"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network("10.0.3.0/24")
    assert props(pe)["customDnsConfigs"] == [{"fqdn": "kvpe1.vault.azure.net", "ipAddresses": [address]}]
    connection = props(pe)["privateLinkServiceConnections"][0]["properties"]
    assert connection["privateLinkServiceConnectionState"]["status"] == "Approved"
    env.net.private_dns_zone_groups.begin_create_or_update(RG, "pe-kv", "default", {"properties": {
        "privateDnsZoneConfigs": [{"name": "vault", "properties": {"privateDnsZoneId": zone.id}}]}}).result()
    record = env.dns.record_sets.get(RG, "privatelink.vaultcore.azure.net", "A", "kvpe1")
    assert [a["ipv4Address"] for a in props(record)["aRecords"]] == [address]
    assert props(env.dns.private_zones.get(RG, "privatelink.vaultcore.azure.net"))["numberOfRecordSets"] == 2
    group = env.net.private_dns_zone_groups.get(RG, "pe-kv", "default")
    assert props(group)["privateDnsZoneConfigs"][0]["properties"]["recordSets"][0]["fqdn"] == \
        "kvpe1.privatelink.vaultcore.azure.net"
    env.net.private_endpoints.begin_delete(RG, "pe-kv").result()
    with pytest.raises(ResourceNotFoundError):
        env.dns.record_sets.get(RG, "privatelink.vaultcore.azure.net", "A", "kvpe1")
    with pytest.raises(ResourceNotFoundError):
        env.net.network_interfaces.get(RG, nic_id.rsplit("/", 1)[-1])


def test_private_endpoint_refuses_an_unknown_group_id(env):
    vault_id = make_vault(env, "kvpe2")
    env.vnet("vnet1", subnets={"pe": "10.0.3.0/24"})
    sid = env.net.subnets.get(RG, "vnet1", "pe").id
    with pytest.raises(HttpResponseError) as err:
        env.net.private_endpoints.begin_create_or_update(RG, "pe-bad", {"location": LOC, "properties": {
            "subnet": {"id": sid}, "privateLinkServiceConnections": [{"name": "kv", "properties": {
                "privateLinkServiceId": vault_id, "groupIds": ["blob"]}}]}}).result()
    assert (err.value.status_code, code_of(err.value)) == (400, "PrivateEndpointBadRequest")


def test_registry_endpoint_publishes_both_registry_names(env):
    acr_id = env.rid("registries", "codemieacr", "Microsoft.ContainerRegistry")
    env.arm.resources.begin_create_or_update_by_id(acr_id, api_version="2025-11-01", parameters={
        "location": LOC, "sku": {"name": "Premium"}, "properties": {}}).result()
    env.vnet("vnet1", subnets={"pe": "10.0.3.0/24"})
    zone = env.dns.private_zones.begin_create_or_update(RG, "privatelink.azurecr.io", {"location": "global"}).result()
    env.net.private_endpoints.begin_create_or_update(RG, "pe-acr", {"location": LOC, "properties": {
        "subnet": {"id": env.net.subnets.get(RG, "vnet1", "pe").id},
        "privateLinkServiceConnections": [{"name": "acr", "properties": {
            "privateLinkServiceId": acr_id, "groupIds": ["registry"]}}]}}).result()
    env.net.private_dns_zone_groups.begin_create_or_update(RG, "pe-acr", "default", {"properties": {
        "privateDnsZoneConfigs": [{"name": "acr", "properties": {"privateDnsZoneId": zone.id}}]}}).result()
    records = {r.name: props(r)["aRecords"][0]["ipv4Address"]
               for r in env.dns.record_sets.list_by_type(RG, "privatelink.azurecr.io", "A")}
    assert set(records) == {"codemieacr", "codemieacr.westeurope.data"}
    assert sorted(records.values()) == ["10.0.3.4", "10.0.3.5"]


def test_static_nic_addresses_must_fit_and_be_free(env):
    env.vnet("vnet1", subnets={"vm": "10.0.1.0/24"})
    sid = env.net.subnets.get(RG, "vnet1", "vm").id

    def nic(name: str, address: str):
        return env.net.network_interfaces.begin_create_or_update(RG, name, {"location": LOC, "properties": {
            "ipConfigurations": [{"name": "ipconfig1", "properties": {
                "subnet": {"id": sid}, "privateIPAllocationMethod": "Static", "privateIPAddress": address}}]}}
        ).result()

    assert props(nic("a", "10.0.1.10"))["ipConfigurations"][0]["properties"]["privateIPAddress"] == "10.0.1.10"
    for name, address, code in (("b", "10.0.1.10", "PrivateIPAddressInUse"),
                                ("c", "10.0.2.10", "PrivateIPAddressNotInSubnet")):
        with pytest.raises(HttpResponseError) as err:
            nic(name, address)
        assert (err.value.status_code, code_of(err.value)) == (400, code)


def test_standard_public_ip_must_be_static(env):
    with pytest.raises(HttpResponseError) as err:
        env.net.public_ip_addresses.begin_create_or_update(RG, "pip-dyn", {
            "location": LOC, "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Dynamic"}}
        ).result()
    assert (err.value.status_code, code_of(err.value)) == (400, "StandardSkuPublicIPAddressesMustBeStatic")
