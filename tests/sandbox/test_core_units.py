"""Pure parts of the sandbox core: id parsing, poll-delay headers, profiles, merge patches, faults, buckets."""

from __future__ import annotations

import json

import pytest

from codemie_provisioner.sandbox import Profile
from codemie_provisioner.sandbox.arm import merge_patch, patched
from codemie_provisioner.sandbox.faults import Faults
from codemie_provisioner.sandbox.ids import group_of, parse
from codemie_provisioner.sandbox.lro import delay_headers
from codemie_provisioner.sandbox.rules import Throttle

SUB = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"
RG = f"{SUB}/resourceGroups/Rg1"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet"


def test_parse_nested_child():
    t = parse(f"{VNET}/subnets/snet")
    assert (t.type_name, t.name, t.parent, t.nested, t.collection) == (
        "Microsoft.Network/virtualNetworks/subnets", "snet", VNET, True, False)
    assert t.group == RG


def test_parse_collections_and_groups():
    assert parse(f"{VNET}/subnets").collection and parse(f"{VNET}/subnets").parent == VNET
    group = parse(f"{SUB}/resourcegroups/Rg1")
    assert (group.path, group.type_name, group.parent, group.group) == (
        RG, "Microsoft.Resources/resourceGroups", SUB, None)
    assert parse(f"{SUB}/resourcegroups").collection
    assert parse(f"{SUB}/providers/Microsoft.Network") is None


def test_parse_extension_resource_under_any_scope():
    diag = parse(f"{VNET}/providers/Microsoft.Insights/diagnosticSettings/d1")
    assert (diag.type_name, diag.parent, diag.nested) == ("Microsoft.Insights/diagnosticSettings", VNET, False)
    ra = parse(f"{SUB}/providers/Microsoft.Authorization/roleAssignments/abc")
    assert (ra.parent, ra.group) == (SUB, None)
    assert group_of(f"{VNET}/providers/Microsoft.Insights/diagnosticSettings/d1") == RG


def test_parse_collapses_duplicate_slashes():
    assert parse("//" + VNET.lstrip("/")).path == VNET


@pytest.mark.parametrize(("seconds", "expected"), [
    (0.0, {"retry-after-ms": "1"}), (0.0004, {"retry-after-ms": "1"}), (0.25, {"retry-after-ms": "250"}),
    (1.0, {"Retry-After": "1"}), (1.4, {"Retry-After": "1"}), (2.6, {"Retry-After": "3"}),
    (600, {"Retry-After": "600"})])
def test_delay_headers_never_say_zero(seconds, expected):
    assert delay_headers(seconds) == expected


def test_poll_delay_follows_the_cadence_scaled_and_floored():
    real = Profile.named("realistic")
    assert [real.poll_delay(n, 600) for n in range(4)] == [1.0, 3.0, 10.0, 10.0]
    assert real.poll_delay(2, 2.5) == 2.5
    assert Profile.named("instant").poll_delay(0, 0) == 0.01
    assert Profile.named("realistic", time_scale=0.001).poll_delay(0, 600) == 0.01


def test_profile_durations_scale_and_instant_is_zero():
    assert Profile.named("realistic").duration("aks") == 600
    assert Profile.named("realistic", time_scale=0.1).duration("bastion_standard") == pytest.approx(180)
    assert Profile.named("instant").duration("aks") == 0
    assert Profile.named("realistic").duration(None) == 0
    assert Profile.named("realistic", time_scale=0.5).setting("principal_window_s") == 30


def test_profile_files_merge_onto_a_base(tmp_path):
    path = tmp_path / "chaos.yaml"
    path.write_text("base: realistic\ntime_scale: 0.01\nrules: {throttling: false}\ntransient_rate: 0.1\n"
                    "faults:\n  - {method: PUT, type: Microsoft.Network/virtualNetworks, status: 429}\n")
    prof = Profile.load(path)
    assert (prof.name, prof.time_scale, prof.transient_rate) == ("chaos", 0.01, 0.1)
    assert prof.rules["throttling"] is False and prof.rules["parent_locks"] is True
    assert prof.durations["aks"] == 600 and prof.faults[0]["status"] == 429
    again = tmp_path / "chaos.json"
    again.write_text(json.dumps(prof.to_dict()))
    assert Profile.load(again).to_dict() == {**prof.to_dict(), "name": "chaos"}


def test_profile_rejects_unknown_fields():
    with pytest.raises(ValueError, match="unknown profile fields"):
        Profile.named("instant").updated({"time_scael": 1})


def test_merge_patch_and_arm_patch():
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}}) == {"a": 1, "b": {"d": 3, "e": 4}}
    assert patched({"tags": {"a": "1"}, "p": 1}, {"tags": {"b": "2"}}) == {"tags": {"b": "2"}, "p": 1}


def test_faults_count_matching_calls_only():
    faults = Faults([{"method": "PUT", "type": "Microsoft.Network/*", "name": "vnet-*", "nth": 2, "times": 2}], 0, 0)
    hits = [faults.hit(m, t, n) is not None for m, t, n in [
        ("PUT", "Microsoft.Network/virtualNetworks", "vnet-a"), ("GET", "Microsoft.Network/virtualNetworks", "vnet-a"),
        ("PUT", "microsoft.network/VIRTUALNETWORKS", "VNET-b"), ("PUT", "Microsoft.Storage/storageAccounts", "vnet"),
        ("PUT", "Microsoft.Network/virtualNetworks", "vnet-c"), ("PUT", "Microsoft.Network/virtualNetworks", "vnet-d")]]
    assert hits == [False, False, True, False, True, False]


def test_transient_faults_are_a_pure_function_of_the_seed():
    def draws(seed):
        faults = Faults([], 0.5, seed)
        return [None if (e := faults.transient()) is None else e.status for _ in range(20)]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)


def test_throttle_bucket_empties_and_names_the_wait():
    bucket = Throttle({"writes": (2, 0.5)})
    assert bucket.take("writes")[1] is None and bucket.take("writes")[1] is None
    remaining, wait = bucket.take("writes")
    assert remaining == 0 and 1.5 < wait <= 2.0
    assert bucket.take("reads") == (int(1e9), None)
