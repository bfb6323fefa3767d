"""Private DNS in the sandbox, driven by azure-mgmt-privatedns 2.0.0 over HTTPS: zones and VNet links (202 +
Location, invisible until done, one link write at a time per zone), record sets with conditional writes.
"""

from __future__ import annotations

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)

from .test_network import HOUR, RG, NetEnv, Recorder, finish, props, refused

ZONE = "privatelink.vaultcore.azure.net"


@pytest.fixture
def env(sandbox) -> NetEnv:
    return NetEnv(sandbox)


@pytest.fixture
def slow(sandbox_factory) -> NetEnv:
    """Zone and link writes take an hour of sandbox time; clients poll every 20 ms."""
    box = sandbox_factory("realistic", poll_cadence=[0.02], durations={"vnet": 0, "dns_zone": HOUR,
                                                                      "dns_link": HOUR})
    return NetEnv(box)




def zone(env: NetEnv, name: str = ZONE):
    return env.dns.private_zones.begin_create_or_update(RG, name, {"location": "global"}).result()


def link_body(vnet_id: str, registration: bool = False) -> dict:
    return {"location": "global", "properties": {"virtualNetwork": {"id": vnet_id},
                                                 "registrationEnabled": registration}}


def a_record(*addresses: str, ttl: int = 300) -> dict:
    return {"properties": {"ttl": ttl, "aRecords": [{"ipv4Address": a} for a in addresses]}}


# ---------------------------------------------------------------- zones


def test_zone_create_is_202_location_and_invisible_until_done(slow):
    rec = Recorder()
    poller = slow.dns.private_zones.begin_create_or_update(RG, ZONE, {"location": "global"}, raw_response_hook=rec)
    status, headers, body = rec.first("PUT")
    assert (status, body) == (202, None) and "Location" in headers
    with pytest.raises(ResourceNotFoundError):
        slow.dns.private_zones.get(RG, ZONE)
    created = finish(slow, poller)
    assert (created.location, created.properties.provisioning_state) == ("global", "Succeeded")


def test_zone_crud_with_soa_and_counters(env):
    created = zone(env)
    assert props(created)["numberOfRecordSets"] == 1
    soa = env.dns.record_sets.get(RG, ZONE, "SOA", "@")
    assert props(soa)["fqdn"] == f"{ZONE}."
    updated = env.dns.private_zones.begin_update(RG, ZONE, {"tags": {"team": "net"}}).result()
    assert updated.tags == {"team": "net"}
    assert [z.name for z in env.dns.private_zones.list_by_resource_group(RG)] == [ZONE]
    env.dns.private_zones.begin_delete(RG, ZONE).result()
    assert list(env.dns.private_zones.list_by_resource_group(RG)) == []


def test_zone_outside_global_is_refused(env):
    assert refused(lambda: env.dns.private_zones.begin_create_or_update(
        RG, ZONE, {"location": "westeurope"}).result()) == (400, "LocationNotAvailableForResourceType")


def test_single_label_zone_name_is_refused(env):
    assert refused(lambda: zone(env, "contoso"))[0] == 400


# ---------------------------------------------------------------- virtual network links


def test_link_crud_counters_and_zone_delete_order(env):
    zone(env)
    vnet = env.vnet("vnet1")
    link = env.dns.virtual_network_links.begin_create_or_update(RG, ZONE, "hub", link_body(vnet.id, True)).result()
    assert (props(link)["virtualNetworkLinkState"], props(link)["registrationEnabled"]) == ("Completed", True)
    counts = props(env.dns.private_zones.get(RG, ZONE))
    assert (counts["numberOfVirtualNetworkLinks"], counts["numberOfVirtualNetworkLinksWithRegistration"]) == (1, 1)
    assert refused(lambda: env.dns.virtual_network_links.begin_create_or_update(
        RG, ZONE, "again", link_body(vnet.id)).result()) == (409, "Conflict")
    assert refused(lambda: env.dns.private_zones.begin_delete(RG, ZONE).result()) == (400, "BadRequest")
    env.dns.virtual_network_links.begin_delete(RG, ZONE, "hub").result()
    assert props(env.dns.private_zones.get(RG, ZONE))["numberOfVirtualNetworkLinks"] == 0
    env.dns.private_zones.begin_delete(RG, ZONE).result()


def test_links_on_one_zone_are_written_one_at_a_time(slow):
    finish(slow, slow.dns.private_zones.begin_create_or_update(RG, ZONE, {"location": "global"}))
    hub, spoke = slow.vnet("hub", "10.0.0.0/16"), slow.vnet("spoke", "10.1.0.0/16")
    first = slow.dns.virtual_network_links.begin_create_or_update(RG, ZONE, "hub", link_body(hub.id))
    assert refused(lambda: slow.dns.virtual_network_links.begin_create_or_update(
        RG, ZONE, "spoke", link_body(spoke.id))) == (409, "Conflict")
    assert refused(lambda: slow.dns.private_zones.begin_update(RG, ZONE, {"tags": {"a": "b"}})) == \
        (409, "Conflict")
    finish(slow, first)
    finish(slow, slow.dns.virtual_network_links.begin_create_or_update(RG, ZONE, "spoke", link_body(spoke.id)))
    removing = slow.dns.virtual_network_links.begin_delete(RG, ZONE, "hub")
    assert refused(lambda: slow.dns.virtual_network_links.begin_delete(RG, ZONE, "spoke")) == (409, "Conflict")
    finish(slow, removing)
    assert [link.name for link in slow.dns.virtual_network_links.list(RG, ZONE)] == ["spoke"]


def test_other_zones_are_not_held(slow):
    finish(slow, slow.dns.private_zones.begin_create_or_update(RG, ZONE, {"location": "global"}))
    other = "privatelink.blob.core.windows.net"
    finish(slow, slow.dns.private_zones.begin_create_or_update(RG, other, {"location": "global"}))
    hub = slow.vnet("hub")
    first = slow.dns.virtual_network_links.begin_create_or_update(RG, ZONE, "hub", link_body(hub.id))
    second = slow.dns.virtual_network_links.begin_create_or_update(RG, other, "hub", link_body(hub.id))
    assert [finish(slow, p).name for p in (first, second)] == ["hub", "hub"]


def test_one_registration_zone_per_vnet(env):
    zone(env)
    zone(env, "corp.internal")
    vnet = env.vnet("vnet1")
    env.dns.virtual_network_links.begin_create_or_update(RG, ZONE, "l1", link_body(vnet.id, True)).result()
    assert refused(lambda: env.dns.virtual_network_links.begin_create_or_update(
        RG, "corp.internal", "l1", link_body(vnet.id, True)).result()) == (400, "BadRequest")


# ---------------------------------------------------------------- record sets


def test_a_and_cname_record_sets_crud_and_lists(env):
    zone(env)
    created = env.dns.record_sets.create_or_update(RG, ZONE, "A", "kv1", a_record("10.0.3.4"))
    assert (props(created)["fqdn"], props(created)["isAutoRegistered"]) == (f"kv1.{ZONE}.", False)
    env.dns.record_sets.update(RG, ZONE, "A", "kv1", {"properties": {"ttl": 60}})
    got = env.dns.record_sets.get(RG, ZONE, "A", "kv1")
    assert (props(got)["ttl"], props(got)["aRecords"]) == (60, [{"ipv4Address": "10.0.3.4"}])
    alias = env.dns.record_sets.create_or_update(RG, ZONE, "CNAME", "www", {"properties": {
        "ttl": 300, "cnameRecord": {"cname": f"kv1.{ZONE}"}}})
    assert props(alias)["cnameRecord"] == {"cname": f"kv1.{ZONE}"}
    assert [r.name for r in env.dns.record_sets.list_by_type(RG, ZONE, "A")] == ["kv1"]
    assert sorted(r.name for r in env.dns.record_sets.list(RG, ZONE)) == ["@", "kv1", "www"]
    assert props(env.dns.private_zones.get(RG, ZONE))["numberOfRecordSets"] == 3
    env.dns.record_sets.delete(RG, ZONE, "CNAME", "www")
    assert sorted(r.name for r in env.dns.record_sets.list(RG, ZONE)) == ["@", "kv1"]
    assert props(env.dns.private_zones.get(RG, ZONE))["numberOfRecordSets"] == 2


def test_cname_cannot_share_a_name_or_sit_at_the_apex(env):
    zone(env)
    env.dns.record_sets.create_or_update(RG, ZONE, "A", "kv1", a_record("10.0.3.4"))
    cname = {"properties": {"ttl": 300, "cnameRecord": {"cname": "elsewhere.example.com"}}}
    assert refused(lambda: env.dns.record_sets.create_or_update(RG, ZONE, "CNAME", "kv1", cname)) == \
        (409, "Conflict")
    assert refused(lambda: env.dns.record_sets.create_or_update(RG, ZONE, "CNAME", "@", cname)) == \
        (400, "BadRequest")


def test_a_record_with_a_bad_address_is_refused(env):
    zone(env)
    assert refused(lambda: env.dns.record_sets.create_or_update(RG, ZONE, "A", "x", a_record("10.0.300.4"))) == \
        (400, "BadRequest")


def test_record_set_conditional_writes(env):
    zone(env)
    first = env.dns.record_sets.create_or_update(RG, ZONE, "A", "kv1", a_record("10.0.3.4"),
                                                 match_condition=MatchConditions.IfMissing)
    with pytest.raises(ResourceExistsError) as err:
        env.dns.record_sets.create_or_update(RG, ZONE, "A", "kv1", a_record("10.0.3.9"),
                                             match_condition=MatchConditions.IfMissing)
    assert err.value.status_code == 412
    second = env.dns.record_sets.create_or_update(RG, ZONE, "A", "kv1", a_record("10.0.3.5"), etag=first.etag,
                                                  match_condition=MatchConditions.IfNotModified)
    assert second.etag != first.etag
    with pytest.raises(ResourceModifiedError) as err:
        env.dns.record_sets.create_or_update(RG, ZONE, "A", "kv1", a_record("10.0.3.6"), etag=first.etag,
                                             match_condition=MatchConditions.IfNotModified)
    assert err.value.status_code == 412
    assert props(env.dns.record_sets.get(RG, ZONE, "A", "kv1"))["aRecords"] == [{"ipv4Address": "10.0.3.5"}]


def test_soa_record_set_cannot_be_deleted(env):
    zone(env)
    assert refused(lambda: env.dns.record_sets.delete(RG, ZONE, "SOA", "@")) == (400, "BadRequest")


def test_vnet_link_needs_an_existing_vnet(env):
    zone(env)
    missing = env.rid("virtualNetworks", "nope")
    assert refused(lambda: env.dns.virtual_network_links.begin_create_or_update(
        RG, ZONE, "l1", link_body(missing)).result()) == (400, "BadRequest")

