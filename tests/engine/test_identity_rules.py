"""Identity rules: an existing equal role assignment is adopted; a new principal's replication window is waited
out (bounded) rather than failed; values known only after apply show as such in the plan."""

import uuid
from pathlib import Path

from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource.resources import ResourceManagementClient

from codemie_provisioner import Recorder, Session
from codemie_provisioner import events as ev

SPEC = Path(__file__).parent / "specs" / "identity.yaml"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def test_an_equal_assignment_under_another_name_is_adopted(sandbox, tmp_path):
    rg = sandbox.client(ResourceManagementClient).resource_groups.create_or_update("id-rg", {"location": "westeurope"})
    ident = sandbox.client(ManagedServiceIdentityClient).user_assigned_identities.create_or_update(
        "id-rg", "id-app", {"location": "westeurope"})
    other_name = str(uuid.uuid4())
    auth = sandbox.client(AuthorizationManagementClient)
    existing = auth.role_assignments.create(rg.id, other_name, {"properties": {
        "roleDefinitionId": f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Authorization/"
                            f"roleDefinitions/{READER}",
        "principalId": ident.principal_id, "principalType": "ServicePrincipal"}})
    rec = Recorder()
    with Session(SPEC, sandbox=sandbox, state_dir=tmp_path, sink=rec) as s:
        result = s.apply()
        assert result.ok, result.failed
        record = s.store.latest().to_dict()["resources"]["reader"]
    assert record["id"].lower() == existing.id.lower()
    assert [r for r in sandbox.requests() if r["status"] == 409] == []
    assert len(list(auth.role_assignments.list_for_scope(rg.id))) == 1


def test_new_principal_window_is_waited_out(sandbox_factory, tmp_path):
    sb = sandbox_factory("realistic", time_scale=0.02, principal_window_s=60)   # 1.2 s after the identity
    rec = Recorder()
    with Session(SPEC, sandbox=sb, state_dir=tmp_path, sink=rec) as s:
        plan = s.plan()
        reader = next(c for c in plan.changes if c.address == "reader")
        assert reader.action == "create"
        assert s.apply().ok
    retries = [r for r in rec.of(ev.ResourceRetry) if r.address == "reader"]
    assert retries and {r.code for r in retries} == {"PrincipalNotFound"}
    assert all(r.next_step.startswith("will retry in") for r in retries)
