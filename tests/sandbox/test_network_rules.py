"""Azure's network rules in the sandbox: one write at a time per VNet (a peering holds both VNets), address
rules for subnets, subnets in use, VNet PUTs with and without `subnets`, Bastion's subnet, Network naming.

Lock tests run on the sandbox clock: operations are given an hour and the clock is advanced by hand, so which
request meets a running operation is decided by the test, not by thread timing.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.network import NetworkManagementClient

from codemie_provisioner.sandbox.types.network_edge import BASTION_SUBNET_TOO_SMALL

from .test_network import (
    HOUR,
    LOC,
    RG,
    NetEnv,
    Recorder,
    bastion_body,
    code_of,
    finish,
    props,
    refused,
    vnet_body,
)

PREFIXES = [f"10.0.{i}.0/24" for i in range(8)]


@pytest.fixture
def env(sandbox) -> NetEnv:
    return NetEnv(sandbox)


@pytest.fixture
def slow(sandbox_factory) -> NetEnv:
    """Network writes take an hour of sandbox time; clients poll every 20 ms."""
    box = sandbox_factory("realistic", poll_cadence=[0.02],
                          durations={"vnet": HOUR, "subnet": HOUR, "peering": HOUR, "nic": HOUR})
    return NetEnv(box)




# ---------------------------------------------------------------- one write at a time per VNet


def start_subnet(env: NetEnv, vnet: str, name: str, prefix: str, rec: Recorder, client=None):
    body = {"properties": {"addressPrefix": prefix}}
    return (client or env.net).subnets.begin_create_or_update(RG, vnet, name, body, raw_response_hook=rec)


def operation_windows(env: NetEnv, rec: Recorder) -> list[tuple[dt.datetime, dt.datetime]]:
    """(start, end) of every operation the recorded PUTs started, read from their Azure-AsyncOperation URLs."""
    urls = [h["Azure-AsyncOperation"] for m, s, h, _ in rec.seen if m == "PUT" and s in (200, 201)]
    windows = []
    for url in urls:
        status = env.net.send_request(HttpRequest("GET", url)).json()
        assert status["status"] == "Succeeded"
        windows.append((dt.datetime.fromisoformat(status["startTime"]), dt.datetime.fromisoformat(status["endTime"])))
    return sorted(windows)


def test_eight_subnets_at_once_conflict_and_never_run_together(slow):
    finish(slow, slow.net.virtual_networks.begin_create_or_update(RG, "vnet1", vnet_body("10.0.0.0/16")))
    rec, gate, outcomes = Recorder(), threading.Barrier(8), {}

    def send(i: int) -> None:
        client = slow.box.client(NetworkManagementClient)
        gate.wait()
        try:
            outcomes[i] = start_subnet(slow, "vnet1", f"s{i}", PREFIXES[i], rec, client)
        except HttpResponseError as err:
            outcomes[i] = (err.status_code, code_of(err))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conflicts = [i for i, o in outcomes.items() if isinstance(o, tuple)]
    assert {outcomes[i] for i in conflicts} == {(409, "AnotherOperationInProgress")}
    assert len(conflicts) == 7
    winner = next(o for o in outcomes.values() if not isinstance(o, tuple))
    finish(slow, winner)
    for i in conflicts:
        assert finish(slow, start_subnet(slow, "vnet1", f"s{i}", PREFIXES[i], rec)).provisioning_state == "Succeeded"
    windows = operation_windows(slow, rec)
    assert len(windows) == 8
    assert all(later[0] >= earlier[1] for earlier, later in zip(windows, windows[1:], strict=False))


def test_eight_subnets_one_at_a_time_all_succeed(env):
    env.vnet("vnet1")
    for i, prefix in enumerate(PREFIXES):
        env.subnet("vnet1", f"s{i}", prefix)
    assert sorted(s.name for s in env.net.subnets.list(RG, "vnet1")) == [f"s{i}" for i in range(8)]


def test_vnet_write_waits_for_its_subnet_write(slow):
    finish(slow, slow.net.virtual_networks.begin_create_or_update(RG, "vnet1", vnet_body("10.0.0.0/16")))
    running = start_subnet(slow, "vnet1", "a", "10.0.1.0/24", Recorder())
    update = vnet_body("10.0.0.0/16") | {"tags": {"x": "1"}}
    assert refused(lambda: slow.net.virtual_networks.begin_create_or_update(RG, "vnet1", update)) == \
        (409, "AnotherOperationInProgress")
    finish(slow, running)
    assert finish(slow, slow.net.virtual_networks.begin_create_or_update(RG, "vnet1", update)).tags == {"x": "1"}


def test_peering_holds_both_vnets(slow):
    hub = finish(slow, slow.net.virtual_networks.begin_create_or_update(RG, "hub", vnet_body("10.0.0.0/16")))
    spoke = finish(slow, slow.net.virtual_networks.begin_create_or_update(RG, "spoke", vnet_body("10.1.0.0/16")))
    peering = slow.net.virtual_network_peerings.begin_create_or_update(
        RG, "hub", "hub-to-spoke", {"properties": {"remoteVirtualNetwork": {"id": spoke.id}}})
    for vnet, prefix in (("hub", "10.0.1.0/24"), ("spoke", "10.1.1.0/24")):
        assert refused(lambda v=vnet, p=prefix: start_subnet(slow, v, "late", p, Recorder())) == \
            (409, "AnotherOperationInProgress")
    back = {"properties": {"remoteVirtualNetwork": {"id": hub.id}}}
    assert refused(lambda: slow.net.virtual_network_peerings.begin_create_or_update(
        RG, "spoke", "spoke-to-hub", back))[0] == 409
    assert finish(slow, peering).peering_state == "Initiated"
    assert finish(slow, start_subnet(slow, "spoke", "late", "10.1.1.0/24", Recorder())).provisioning_state == \
        "Succeeded"


def test_a_nic_cannot_use_a_subnet_while_it_is_being_written(slow):
    finish(slow, slow.net.virtual_networks.begin_create_or_update(RG, "vnet1", vnet_body("10.0.0.0/16")))
    running = start_subnet(slow, "vnet1", "vm", "10.0.1.0/24", Recorder())
    nic = {"location": LOC, "properties": {"ipConfigurations": [
        {"name": "ipconfig1", "properties": {"subnet": {"id": f"{slow.rid('virtualNetworks', 'vnet1')}/subnets/vm"}}}]}}
    assert refused(lambda: slow.net.network_interfaces.begin_create_or_update(RG, "nic1", nic)) == \
        (409, "ReferencedResourceNotProvisioned")
    finish(slow, running)
    assert finish(slow, slow.net.network_interfaces.begin_create_or_update(RG, "nic1", nic)).name == "nic1"


def test_without_parent_locks_two_subnet_writes_may_run_together(sandbox_factory):
    env = NetEnv(sandbox_factory("realistic", poll_cadence=[0.02], durations={"vnet": 0, "subnet": HOUR},
                                 rules={"parent_locks": False}))
    env.vnet("vnet1")
    first = start_subnet(env, "vnet1", "a", "10.0.1.0/24", Recorder())
    second = start_subnet(env, "vnet1", "b", "10.0.2.0/24", Recorder())
    assert [finish(env, p).provisioning_state for p in (first, second)] == ["Succeeded", "Succeeded"]


# ---------------------------------------------------------------- address rules


@pytest.mark.parametrize("prefix, code", [
    ("10.1.0.0/24", "NetcfgSubnetRangeOutsideVnet"),
    ("10.0.0.0/8", "NetcfgSubnetRangeOutsideVnet"),
    ("10.0.1.128/25", "NetcfgSubnetRangesOverlap"),
    ("10.0.0.0/16", "NetcfgSubnetRangesOverlap"),
    ("10.0.2.5/24", "InvalidCIDRNotation"),
    ("not-a-prefix", "InvalidAddressPrefixFormat"),
])
def test_bad_subnet_prefixes_are_refused(env, prefix, code):
    env.vnet("vnet1", "10.0.0.0/16", {"taken": "10.0.1.0/24"})
    assert refused(lambda: env.subnet("vnet1", "new", prefix)) == (400, code)


def test_inline_subnets_that_overlap_each_other_are_refused(env):
    body = vnet_body("10.0.0.0/16", {"a": "10.0.0.0/24", "b": "10.0.0.128/25"})
    assert refused(lambda: env.net.virtual_networks.begin_create_or_update(RG, "vnet1", body).result()) == \
        (400, "NetcfgSubnetRangesOverlap")


def test_shrinking_the_address_space_under_a_subnet_is_refused(env):
    env.vnet("vnet1", "10.0.0.0/16", {"a": "10.0.200.0/24"})
    assert refused(lambda: env.vnet("vnet1", "10.0.0.0/17")) == (400, "NetcfgSubnetRangeOutsideVnet")


def test_without_validation_overlaps_pass(sandbox_factory):
    env = NetEnv(sandbox_factory(rules={"validation": False}))
    env.vnet("vnet1", "10.0.0.0/16", {"a": "10.0.1.0/24"})
    assert env.subnet("vnet1", "b", "10.0.1.0/24").provisioning_state == "Succeeded"


# ---------------------------------------------------------------- subnets in use, VNet PUT semantics


def make_nic(env: NetEnv, name: str, subnet_id: str):
    return env.net.network_interfaces.begin_create_or_update(RG, name, {"location": LOC, "properties": {
        "ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": subnet_id}}}]}}).result()


def test_subnet_in_use_cannot_be_deleted_until_the_nic_is_gone(env):
    env.vnet("vnet1", subnets={"vm": "10.0.1.0/24"})
    make_nic(env, "jump-nic", env.net.subnets.get(RG, "vnet1", "vm").id)
    assert refused(lambda: env.net.subnets.begin_delete(RG, "vnet1", "vm").result()) == \
        (400, "InUseSubnetCannotBeDeleted")
    assert refused(lambda: env.net.virtual_networks.begin_delete(RG, "vnet1").result()) == \
        (400, "InUseSubnetCannotBeDeleted")
    env.net.network_interfaces.begin_delete(RG, "jump-nic").result()
    env.net.subnets.begin_delete(RG, "vnet1", "vm").result()
    assert list(env.net.subnets.list(RG, "vnet1")) == []


def test_delegated_subnet_with_a_server_cannot_be_deleted(env):
    env.vnet("vnet1")
    sid = env.subnet("vnet1", "pg", "10.0.6.0/24", delegations=[
        {"name": "pg", "properties": {"serviceName": "Microsoft.DBforPostgreSQL/flexibleServers"}}]).id
    zone = env.dns.private_zones.begin_create_or_update(RG, "netrules.postgres.database.azure.com",
                                                        {"location": "global"}).result()
    server = {"location": LOC, "sku": {"name": "Standard_B1ms", "tier": "Burstable"}, "properties": {
        "administratorLogin": "pgadmin", "administratorLoginPassword": "Sandbox-Pass-1", "version": "16",
        "network": {"delegatedSubnetResourceId": sid, "privateDnsZoneArmResourceId": zone.id}}}
    env.arm.resources.begin_create_or_update_by_id(env.rid("flexibleServers", "pg-net-1", "Microsoft.DBforPostgreSQL"),
                                                   api_version="2026-10-01", parameters=server).result()
    assert refused(lambda: env.net.subnets.begin_delete(RG, "vnet1", "pg").result()) == \
        (400, "InUseSubnetCannotBeDeleted")


def test_vnet_put_without_subnets_keeps_them_and_with_subnets_is_authoritative(env):
    env.vnet("vnet1", subnets={"a": "10.0.1.0/24"})
    env.subnet("vnet1", "b", "10.0.2.0/24")
    kept = env.net.virtual_networks.begin_create_or_update(RG, "vnet1", vnet_body("10.0.0.0/16")).result()
    assert sorted(s["name"] for s in props(kept)["subnets"]) == ["a", "b"]
    make_nic(env, "nic-b", env.net.subnets.get(RG, "vnet1", "b").id)
    assert refused(lambda: env.vnet("vnet1", "10.0.0.0/16", {"a": "10.0.1.0/24"})) == \
        (400, "InUseSubnetCannotBeDeleted")
    env.net.network_interfaces.begin_delete(RG, "nic-b").result()
    only_a = env.vnet("vnet1", "10.0.0.0/16", {"a": "10.0.1.0/24"})
    assert [s["name"] for s in props(only_a)["subnets"]] == ["a"]
    assert [s.name for s in env.net.subnets.list(RG, "vnet1")] == ["a"]


# ---------------------------------------------------------------- Bastion's subnet


@pytest.mark.parametrize("subnet, prefix, code", [
    ("BastionSubnet", "10.0.0.0/26", "SubnetNameMustBeAzureBastionSubnet"),
    ("AzureBastionSubnet", "10.0.0.0/27", BASTION_SUBNET_TOO_SMALL),
])
def test_bastion_needs_an_azure_bastion_subnet_of_at_least_26(env, subnet, prefix, code):
    env.vnet("hub", subnets={subnet: prefix})
    sid, pip = env.net.subnets.get(RG, "hub", subnet).id, env.pip("bastion-ip")
    assert refused(lambda: env.net.bastion_hosts.begin_create_or_update(
        RG, "bastion1", bastion_body(sid, pip.id)).result()) == (400, code)


def test_bastion_in_a_25_subnet_is_accepted(env):
    env.vnet("hub", subnets={"AzureBastionSubnet": "10.0.0.0/25"})
    sid, pip = env.net.subnets.get(RG, "hub", "AzureBastionSubnet").id, env.pip("bastion-ip")
    host = env.net.bastion_hosts.begin_create_or_update(RG, "b1", bastion_body(sid, pip.id, "Basic")).result()
    assert host.sku.name == "Basic"


# ---------------------------------------------------------------- names and references


@pytest.mark.parametrize("name", ["v", "-vnet", "vnet-", "x" * 65])
def test_bad_vnet_names_are_refused(env, name):
    assert refused(lambda: env.vnet(name)) == (400, "InvalidResourceName")


def test_missing_nsg_reference_is_refused(env):
    env.vnet("vnet1")
    missing = {"id": env.rid("networkSecurityGroups", "nope")}
    assert refused(lambda: env.subnet("vnet1", "a", "10.0.1.0/24", networkSecurityGroup=missing)) == \
        (400, "InvalidResourceReference")


def test_nsg_rule_priorities(env):
    def rule(name: str, priority: int) -> dict:
        return {"name": name, "properties": {"protocol": "Tcp", "access": "Allow", "direction": "Inbound",
                                             "priority": priority, "destinationPortRange": "22"}}

    def nsg(*rules):
        body = {"location": LOC, "properties": {"securityRules": list(rules)}}
        return env.net.network_security_groups.begin_create_or_update(RG, "nsg1", body).result()

    assert refused(lambda: nsg(rule("a", 50))) == (400, "SecurityRuleInvalidPriority")
    assert refused(lambda: nsg(rule("a", 100), rule("b", 100))) == (400, "SecurityRuleConflict")
    assert len(props(nsg(rule("a", 100), rule("b", 101)))["securityRules"]) == 2


def test_in_use_nsg_and_public_ip_cannot_be_deleted(env):
    nsg = env.net.network_security_groups.begin_create_or_update(RG, "nsg1", {"location": LOC}).result()
    env.vnet("vnet1")
    env.subnet("vnet1", "a", "10.0.1.0/24", networkSecurityGroup={"id": nsg.id})
    assert refused(lambda: env.net.network_security_groups.begin_delete(RG, "nsg1").result()) == \
        (400, "InUseNetworkSecurityGroupCannotBeDeleted")
    pip = env.pip("nat-ip")
    env.net.nat_gateways.begin_create_or_update(RG, "nat1", {"location": LOC, "sku": {"name": "Standard"},
                                                             "properties": {"publicIpAddresses": [{"id": pip.id}]}}
                                                ).result()
    assert refused(lambda: env.net.public_ip_addresses.begin_delete(RG, "nat-ip").result()) == \
        (400, "PublicIPAddressCannotBeDeleted")
