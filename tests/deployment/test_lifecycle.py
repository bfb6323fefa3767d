"""The reference deployment's whole life in a sandbox: apply, drift, re-apply, destroy; the AI phase switched off;
and the AI phase starting while the slow platform resources are still being built.

Why: these are the promises the README makes for the real thing (an idempotent second run sends nothing, drift
is quiet after an apply, destroy leaves an empty subscription, `deploy_ai_models=false` means no OpenAI at all,
and the phases are one graph rather than three sequential runs), checked on the full 97-resource spec.
"""

from __future__ import annotations

from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.resource.resources import ResourceManagementClient

from codemie_provisioner import Recorder, Session, load
from codemie_provisioner import events as ev

from .conftest import SPEC, apply_reference


def phase_addresses() -> dict[str, set[str]]:
    """Address sets per phase of the reference spec with its defaults (every phase enabled)."""
    return {phase.name: set(phase.addresses) for phase in load(SPEC).phases}


def event_positions(events: Recorder, kind: type, action: str) -> dict[str, int]:
    """Address -> position in the event stream of its first event of `kind` with `action`."""
    found: dict[str, int] = {}
    for i, event in enumerate(events.events):
        if isinstance(event, kind) and event.action == action:
            found.setdefault(event.address, i)
    return found


def dependencies(state: dict, address: str) -> set[str]:
    """Everything `address` depends on, directly or not, as recorded in the state."""
    seen: set[str] = set()
    todo = list(state["resources"][address].get("depends_on", []))
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo.extend(state["resources"][dep].get("depends_on", []))
    return seen


def test_apply_is_quiet_afterwards_and_destroy_leaves_nothing(sandbox, mgmt, tmp_path):
    events = Recorder()
    with Session(SPEC, sandbox=sandbox, state_dir=tmp_path, sink=events) as s:
        assert s.apply().ok
        state = s.store.latest().to_dict()
        assert set(state["resources"]) == set().union(*phase_addresses().values())
        assert s.drift() == []
        sandbox.clear_requests()
        again = s.apply()
        assert again.ok and set(again.counts) == {"noop"}
        assert sandbox.writes() == []
        assert s.destroy().ok
        assert s.store.latest().to_dict()["resources"] == {}
    client = mgmt(ResourceManagementClient)
    assert list(client.resources.list()) == [] and list(client.resource_groups.list()) == []
    deleted = event_positions(events, ev.ResourceDone, "delete")
    started = event_positions(events, ev.ResourceStarted, "delete")
    assert set(deleted) == set(state["resources"])
    too_early = [(dep, address) for address, rec in state["resources"].items() for dep in rec.get("depends_on", [])
                 if started[dep] < deleted[address]]
    assert too_early == []


def test_without_ai_models_nothing_cognitive_exists(sandbox, mgmt, tmp_path):
    done = apply_reference(sandbox, tmp_path, deploy_ai_models=False)
    assert done.result.ok
    phases = phase_addresses()
    assert set(done.state["resources"]) == phases["backend"] | phases["platform"]
    assert list(mgmt(CognitiveServicesManagementClient).accounts.list()) == []
    namespaces = {r.type.split("/")[0].lower() for r in mgmt(ResourceManagementClient).resources.list()}
    assert "microsoft.cognitiveservices" not in namespaces
    zones = [r.name for r in mgmt(ResourceManagementClient).resources.list()
             if r.type == "Microsoft.Network/privateDnsZones"]
    assert "privatelink.openai.azure.com" not in zones
    roles = {ra.role_definition_id.rsplit("/", 1)[-1]
             for ra in mgmt(AuthorizationManagementClient).role_assignments.list_for_subscription()}
    assert "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd" not in roles    # Cognitive Services OpenAI User
    assert mgmt(ContainerServiceClient).managed_clusters.get("airun-codemie", "CodeMieAks").name == "CodeMieAks"


def test_the_ai_phase_waits_only_for_what_it_references(sandbox_factory, tmp_path):
    sandbox = sandbox_factory("realistic", time_scale=0.003)
    done = apply_reference(sandbox, tmp_path)
    assert done.result.ok
    started = event_positions(done.events, ev.ResourceStarted, "create")
    finished = event_positions(done.events, ev.ResourceDone, "create")
    ai = phase_addresses()["ai"]
    early = ["openai_zone", 'openai_accounts["eastus-1"]', 'openai_accounts["eastus-2"]']
    slow = ["bastion", "postgres"]
    assert set(early) <= ai and not set(slow) & ai
    for address in early:
        assert not set(slow) & dependencies(done.state, address), address
        assert all(started[address] < finished[platform] for platform in slow), address
