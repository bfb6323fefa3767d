"""The engine against the sandbox, through the real azure-mgmt clients: apply, re-apply, drift, failures,
retries, plans, targets, destroy."""

from pathlib import Path

import pytest

from codemie_provisioner import PlanStale, Recorder, Session
from codemie_provisioner import events as ev

SPECS = Path(__file__).parent / "specs"
NETWORK = SPECS / "network.yaml"
BACKEND = SPECS / "backend.yaml"


def session(sb, tmp_path, spec=NETWORK, sink=None, **kw):
    return Session(spec, sandbox=sb, state_dir=tmp_path / "state", sink=sink or Recorder(), **kw)


def resources_in(sb) -> list[str]:
    return [r["id"] for r in sb.cloud_resources()] if hasattr(sb, "cloud_resources") else []


def test_apply_then_apply_again_sends_zero_writes(sandbox, tmp_path):
    with session(sandbox, tmp_path, BACKEND) as s:
        first = s.apply()
        assert first.ok and first.counts.get("create") == 4
        sandbox.clear_requests()
        second = s.apply()
        assert second.ok and set(second.counts) == {"noop"}
        assert sandbox.writes() == []
        assert not s.plan().has_changes


def test_drift_names_the_changed_field_and_the_missing_resource(sandbox, tmp_path):
    with session(sandbox, tmp_path, BACKEND) as s:
        assert s.apply().ok
        assert s.drift() == []
        account = next(r["id"] for r in s.store.latest().to_dict()["resources"].values()
                       if r["kind"] == "storage_account")
        sandbox.tamper(account, {"properties": {"minimumTlsVersion": "TLS1_0"}})
        container = s.store.latest().to_dict()["resources"]["scripts"]["id"]
        sandbox.remove(container)
        sandbox.clear_requests()
        found = {d.address: d for d in s.drift()}
        assert sandbox.writes() == []
    assert found["account"].status == "changed"
    assert [f["path"] for f in found["account"].fields] == ["properties.minimumTlsVersion"]
    assert found["account"].fields[0]["before"] == "TLS1_0"
    assert found["scripts"].status == "missing"
    assert set(found) == {"account", "scripts"}


def test_parent_serialization_by_the_engine_means_no_conflicts(sandbox, tmp_path):
    rec = Recorder()
    with session(sandbox, tmp_path, sink=rec, parallelism=8) as s:
        assert s.apply().ok
    assert [r for r in sandbox.requests() if r["status"] == 409] == []
    assert rec.of(ev.ResourceRetry) == []
    created = [e.address for e in rec.of(ev.ResourceDone) if e.action == "create"]
    assert len([a for a in created if a.startswith("subnets[")]) == 8


def test_a_failure_stops_only_what_depends_on_it(sandbox_factory, tmp_path):
    sb = sandbox_factory(faults=[{"method": "PUT", "type": "Microsoft.Network/virtualNetworks", "status": 400,
                                  "code": "InvalidParameter", "message": "bad address space"}])
    rec = Recorder()
    with session(sb, tmp_path, sink=rec) as s:
        result = s.apply()
    assert not result.ok
    assert list(result.failed) == ["vnet"]
    assert set(result.skipped) == {f"subnets[{i}]" for i in range(8)}
    assert all(r == "upstream failed: vnet" for r in result.skipped.values())
    failures = rec.of(ev.ResourceFailed)
    assert [(f.address, f.code) for f in failures] == [("vnet", "InvalidParameter")]
    done = {e.address for e in rec.of(ev.ResourceDone)}
    assert {"rg", "nsg"} <= done
    assert [r for r in sb.requests() if r["method"] == "PUT" and "virtualNetworks/" in r["path"]
            and r["status"] == 400] and len([r for r in sb.requests() if r["status"] == 400]) == 1


def test_an_operation_that_ends_failed_with_a_busy_parent_is_retried(sandbox_factory, tmp_path):
    sb = sandbox_factory(faults=[{"method": "PUT", "type": "Microsoft.Network/virtualNetworks/subnets",
                                  "name": "subnet-3", "lro_fail": "AnotherOperationInProgress"}])
    rec = Recorder()
    with session(sb, tmp_path, sink=rec) as s:
        assert s.apply().ok
    retries = rec.of(ev.ResourceRetry)
    assert [(r.address, r.code) for r in retries] == [("subnets[3]", "AnotherOperationInProgress")]
    assert retries[0].next_step.startswith("will retry in")


def test_permanent_errors_are_not_retried(sandbox_factory, tmp_path):
    sb = sandbox_factory(faults=[{"method": "PUT", "type": "Microsoft.Network/networkSecurityGroups",
                                  "status": 403, "code": "AuthorizationFailed", "times": 0}])
    rec = Recorder()
    with session(sb, tmp_path, sink=rec) as s:
        assert not s.apply().ok
    nsg_puts = [r for r in sb.requests() if r["method"] == "PUT" and "networkSecurityGroups" in r["path"]]
    assert len(nsg_puts) == 1 and rec.of(ev.ResourceRetry) == []


def test_a_saved_plan_is_refused_once_the_state_moved(sandbox, tmp_path):
    with session(sandbox, tmp_path) as s:
        stale = s.plan()
        assert stale.has_changes
        assert s.apply(s.plan()).ok
        with pytest.raises(PlanStale):
            s.apply(stale)


def test_targets_take_what_they_need_and_nothing_else(sandbox, tmp_path):
    with session(sandbox, tmp_path) as s:
        plan = s.plan(targets=["subnets[2]"])
        assert sorted(c.address for c in plan.changes) == ["nsg", "rg", "subnets[2]", "vnet"]
        assert s.apply(targets=["subnets[2]"]).ok
        assert sorted(s.store.latest().to_dict()["resources"]) == ["nsg", "rg", "subnets[2]", "vnet"]


def test_destroy_walks_in_reverse_and_leaves_nothing(sandbox, mgmt, tmp_path):
    from azure.mgmt.resource.resources import ResourceManagementClient

    rec = Recorder()
    with session(sandbox, tmp_path, sink=rec) as s:
        assert s.apply().ok
        assert s.destroy().ok
        assert s.store.latest().to_dict()["resources"] == {}
    client = mgmt(ResourceManagementClient)
    assert list(client.resources.list()) == [] and list(client.resource_groups.list()) == []
    deleted = [e.address for e in rec.of(ev.ResourceDone) if e.action == "delete"]
    assert deleted.index("subnets[0]") < deleted.index("vnet") < deleted.index("rg")


def test_removed_from_the_spec_means_deleted(sandbox, tmp_path):
    with session(sandbox, tmp_path) as s:
        assert s.apply().ok
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(NETWORK.read_text().replace("count: 8", "count: 6"))
    with session(sandbox, tmp_path, smaller) as s:
        plan = s.plan()
        assert sorted(c.address for c in plan.changes if c.action == "delete") == ["subnets[6]", "subnets[7]"]
        assert s.apply(plan).ok
        assert not s.plan().has_changes


def test_throttling_slows_the_whole_run_instead_of_starving_workers(sandbox_factory, tmp_path):
    sb = sandbox_factory(throttling={"writes": [2, 4], "reads": [4, 8], "deletes": [50, 10]})
    rec = Recorder()
    with session(sb, tmp_path, sink=rec, parallelism=8) as s:
        result = s.apply()
    assert result.ok, result.failed
    throttled = [r for r in sb.requests() if r["status"] == 429]
    assert throttled, "the buckets are smaller than the workers: Azure must have throttled"
    assert [m for m in rec.of(ev.Message) if "throttling" in m.text]
    assert rec.of(ev.ResourceRetry) == []          # the transport owns 429s; the engine never stacks a retry
