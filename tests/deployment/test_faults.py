"""The reference deployment in a hostile cloud: it must finish with no manual step, and say what it met.

Why: a first deployment into a real subscription meets Azure's failure modes all at once: throttling, random
5xx answers, busy parents, a model deployment refused while its account is busy, role assignments refused
until a new identity has replicated, and names still reserved by soft-deleted resources from an earlier
attempt. Each has exactly one owner (transport policy, engine retry budget, or a hook), so this test checks
both that the run converges and that the right owner handled each fault: transport-owned answers never
reach the engine, engine-owned ones show as `ResourceRetry` events, recoveries as progress events. Permanent
errors are the opposite case: reported once, with Azure's code, never retried.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.loganalytics import LogAnalyticsManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from codemie_provisioner import Recorder, RunResult, Session, load
from codemie_provisioner import events as ev
from codemie_provisioner.sandbox import Sandbox

from .conftest import SPEC

SUBNET = "Microsoft.Network/virtualNetworks/subnets"
MODEL_DEPLOYMENT = "Microsoft.CognitiveServices/accounts/deployments"
OPENAI = 'openai_accounts["eastus-1"]'

# Azure's durations at 1/200 (Bastion's 30 minutes become 9 s); a three-minute replication window for new
# principals (shorter than the engine's replication budget, longer than the walk from identity to assignment);
# token buckets far below Azure's (bursts of parallel writes get throttled; ARM's whole-second Retry-After,
# one virtual second here, refills enough for the burst to pass); ARM's throttle answer injected on chosen calls
# too, so the run meets it whatever the timing; 3 % random 429/500/503 from a fixed seed; targeted conflicts.
VIRTUAL_SECOND = 0.005
THROTTLED = {"status": 429, "code": "SubscriptionRequestsThrottled", "retry_after": VIRTUAL_SECOND,
             "message": "Number of requests for subscription exceeded the limit. Please try again after 1 seconds."}
INJECTED_THROTTLES = [
    {"method": "PUT", "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "times": 3, **THROTTLED},
    {"method": "PUT", "type": "Microsoft.Network/networkSecurityGroups", "times": 2, **THROTTLED},
]
HOSTILE = {
    "base": "realistic", "time_scale": VIRTUAL_SECOND, "principal_window_s": 180, "seed": 11,
    "transient_rate": 0.03, "throttling": {"reads": [8, 8], "writes": [3, 3], "deletes": [3, 3]},
    "faults": [
        *INJECTED_THROTTLES,
        {"method": "PUT", "type": SUBNET, "name": "*Subnet", "nth": 2, "times": 2,
         "lro_fail": "AnotherOperationInProgress"},
        {"method": "PUT", "type": MODEL_DEPLOYMENT, "name": "gpt-*", "status": 409, "code": "RequestConflict",
         "retry_after": 1},
    ],
}
TRANSPORT_CODES = {"SubscriptionRequestsThrottled", "TooManyRequests", "InternalServerError", "ServiceUnavailable"}


SPECS = {r.address: r for r in load(SPEC).resources}


def name_of(resource_id: str) -> tuple[str, str]:
    """(resource group, name) of a resource id."""
    parts = resource_id.split("/")
    return parts[4], parts[-1]


def bury(sb: Sandbox, ids: dict[str, str]) -> None:
    """Leave the spec's vault, OpenAI account and workspace names in the soft-delete bins, as an earlier
    deployment that was deleted (not purged) does."""
    rg, vault = name_of(ids["kv"])
    sb.client(ResourceManagementClient).resource_groups.create_or_update(rg, {"location": "westeurope"})
    kv = sb.client(KeyVaultManagementClient)
    kv.vaults.begin_create_or_update(rg, vault, {"location": "westeurope", "properties": {
        "tenantId": sb.tenant_id, "sku": {"family": "A", "name": "standard"}, "enableSoftDelete": True}}).result()
    kv.vaults.delete(rg, vault)
    ai_rg, account = name_of(ids[OPENAI])
    sb.client(ResourceManagementClient).resource_groups.create_or_update(ai_rg, {"location": "westeurope"})
    cs = sb.client(CognitiveServicesManagementClient)
    cs.accounts.begin_create(ai_rg, account, {"location": SPECS[OPENAI].location, "kind": "OpenAI",
                                           "sku": {"name": "S0"},
                                           "properties": {"customSubDomainName": account}}).result()
    cs.accounts.begin_delete(ai_rg, account).result()
    la = sb.client(LogAnalyticsManagementClient)
    la.workspaces.begin_create_or_update(rg, name_of(ids["logs"])[1], {
        "location": "westeurope", "properties": {"sku": {"name": "PerGB2018"}}}).result()
    la.workspaces.begin_delete(rg, name_of(ids["logs"])[1]).result()


def in_bin(sb: Sandbox, ids: dict[str, str]) -> dict[str, bool]:
    """Which of the three names sits in its soft-delete bin."""
    rg, vault = name_of(ids["kv"])
    lookups = {
        "kv": lambda: sb.client(KeyVaultManagementClient).vaults.get_deleted(vault, "westeurope"),
        OPENAI: lambda: sb.client(CognitiveServicesManagementClient).deleted_accounts.get(
            SPECS[OPENAI].location, *name_of(ids[OPENAI])),
        "logs": lambda: next(w for w in sb.client(LogAnalyticsManagementClient).deleted_workspaces
                             .list_by_resource_group(rg) if w.name == name_of(ids["logs"])[1]),
    }
    out = {}
    for address, lookup in lookups.items():
        try:
            out[address] = lookup() is not None
        except (ResourceNotFoundError, StopIteration):
            out[address] = False
    return out


def live(sb: Sandbox, ids: dict[str, str]) -> dict[str, str]:
    """The names the three resources answer a plain GET with (through their own clients)."""
    rg, vault = name_of(ids["kv"])
    return {"kv": sb.client(KeyVaultManagementClient).vaults.get(rg, vault).name,
            OPENAI: sb.client(CognitiveServicesManagementClient).accounts.get(*name_of(ids[OPENAI])).name,
            "logs": sb.client(LogAnalyticsManagementClient).workspaces.get(rg, name_of(ids["logs"])[1]).name}


def retries(rec: Recorder) -> dict[str, set[str]]:
    """Azure code -> addresses the engine retried for it."""
    out: dict[str, set[str]] = {}
    for e in rec.of(ev.ResourceRetry):
        out.setdefault(e.code, set()).add(e.address)
    return out


@dataclass
class Run:
    sandbox: Sandbox
    session: Session
    events: Recorder
    result: RunResult
    ids: dict[str, str]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The reference spec applied once into a hostile cloud that still holds three soft-deleted names."""
    with Sandbox(HOSTILE) as sb:
        rec = Recorder()
        with Session(SPEC, sandbox=sb, state_dir=tmp_path_factory.mktemp("state"), sink=rec) as s:
            ids = {c.address: c.id for c in s.plan().changes}
            bury(sb, ids)
            assert in_bin(sb, ids) == {"kv": True, OPENAI: True, "logs": True}
            sb.clear_requests()
            yield Run(sb, s, rec, s.apply(), ids)


def test_reference_apply_survives_every_fault_without_a_manual_step(hostile):
    result, rec, ids = hostile.result, hostile.events, hostile.ids
    assert result.ok, (result.failed, result.skipped)
    assert sum(result.counts.values()) == len(ids) == len(SPECS) == 97
    assert rec.of(ev.ResourceFailed) == [] and rec.of(ev.ResourceSkipped) == []
    log = hostile.sandbox.requests()
    codes = Counter(r["code"] for r in log if r["code"])
    seen = retries(rec)
    # (a) throttling and (b) transient 5xx happened and were absorbed by the transport policy alone.
    assert codes["SubscriptionRequestsThrottled"] >= sum(f["times"] for f in INJECTED_THROTTLES)
    assert codes["InternalServerError"] + codes["ServiceUnavailable"] > 0
    assert not TRANSPORT_CODES & set(seen)
    # (c) busy parents: the engine retried the two failed subnet operations and the refused model
    # deployment.
    assert codes["AnotherOperationInProgress"] == 0          # it ended an accepted operation, never a 4xx
    busy = [e.address for e in rec.of(ev.ResourceRetry) if e.code == "AnotherOperationInProgress"]
    assert len(busy) == 2 and {SPECS[a].kind for a in busy} == {"subnet"}   # one retry per failed operation
    conflicts = [r for r in log if r["code"] == "RequestConflict"]
    assert len(conflicts) == 1 and conflicts[0]["method"] == "PUT" and "/deployments/gpt-" in conflicts[0]["path"]
    assert [SPECS[a].kind for a in seen.get("RequestConflict", ())] == ["cognitive_deployment"]
    # (d) new identities: role assignments were refused, retried, and all created in the end.
    refused = seen.get("PrincipalNotFound", set())
    assignments = {a for a in ids if SPECS[a].kind == "role_assignment"}
    assert refused and refused <= assignments
    refusals = {r["code"] for r in log if r["method"] == "PUT" and "/roleAssignments/" in r["path"] and r["code"]}
    assert "PrincipalNotFound" in refusals and refusals <= {"PrincipalNotFound", *TRANSPORT_CODES}
    assert assignments <= {e.address for e in rec.of(ev.ResourceDone)}


def test_soft_deleted_names_are_recovered_and_the_result_is_stable(hostile):
    sb, s, rec, ids = hostile.sandbox, hostile.session, hostile.events, hostile.ids
    assert hostile.result.ok, (hostile.result.failed, hostile.result.skipped)
    assert in_bin(sb, ids) == {"kv": False, OPENAI: False, "logs": False}
    names = {a: name_of(ids[a])[1] for a in ("kv", OPENAI, "logs")}
    assert live(sb, ids) == names
    progress = {e.address: e.message for e in rec.of(ev.ResourceProgress)}
    for address, name in names.items():
        assert f"{name} is soft-deleted; recovering it" in progress[address]
        assert "{" not in progress[address]                  # the way out names the real resource
    assert s.drift() == []
    sb.clear_requests()
    again = s.apply()
    assert again.ok and set(again.counts) == {"noop"}
    assert sb.writes() == []


# Two resources Azure refuses for good: a quota the subscription does not have, a policy that forbids the SKU.
PERMANENT = [
    {"method": "PUT", "type": "Microsoft.DBforPostgreSQL/flexibleServers", "times": 0, "status": 409,
     "code": "QuotaExceeded", "message": "Operation results in exceeding quota limits of Core."},
    {"method": "PUT", "type": "Microsoft.ContainerRegistry/registries", "times": 0, "status": 403,
     "code": "RequestDisallowedByPolicy", "message": "Resource was disallowed by policy deny-premium-acr."},
]


def test_permanent_errors_are_reported_once_with_azures_code(sandbox_factory, tmp_path):
    sb = sandbox_factory(faults=PERMANENT)
    rec = Recorder()
    with Session(SPEC, sandbox=sb, state_dir=tmp_path / "state", sink=rec) as s:
        result = s.apply()
    assert not result.ok and set(result.failed) == {"postgres", "acr"}
    failed = [(e.address, e.code, e.message) for e in rec.of(ev.ResourceFailed)]
    assert sorted(failed) == [("acr", "RequestDisallowedByPolicy", PERMANENT[1]["message"]),
                              ("postgres", "QuotaExceeded", PERMANENT[0]["message"])]
    assert not {e.address for e in rec.of(ev.ResourceRetry)} & {"postgres", "acr"}
    refused = [r for r in sb.requests() if r["code"] in ("QuotaExceeded", "RequestDisallowedByPolicy")]
    assert len(refused) == 2                                     # one PUT each: neither owner retried
    assert {"postgres_db", "diag_postgres", "pe_acr", "kubelet_acr_pull", "diag_acr"} <= set(result.skipped)
    assert all(reason.startswith("upstream failed") for reason in result.skipped.values())
    done = {e.address for e in rec.of(ev.ResourceDone)}
    assert done | set(result.failed) | set(result.skipped) == set(SPECS)
