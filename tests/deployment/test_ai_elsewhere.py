"""Phase 3 in another resource group and another subscription (as the reference's tenant layouts allow):
the OpenAI accounts and the AI identity land there, the endpoints and the zone stay beside the VNet, and the
role definitions are those of the accounts' subscription."""

from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.network import NetworkManagementClient

from codemie_provisioner import Recorder, Session

from .conftest import SPEC

OTHER = "0f0e0d0c-0b0a-4999-8888-777766665555"


def test_ai_models_in_another_subscription(sandbox_factory, tmp_path):
    sb = sandbox_factory(settings={"subscriptions": [OTHER]})
    with Session(SPEC, sandbox=sb, state_dir=tmp_path, sink=Recorder(),
                 variables={"ai_subscription_id": OTHER, "ai_resource_group_name": "ai-elsewhere"}) as s:
        result = s.apply()
        assert result.ok, result.failed
        records = s.store.latest().to_dict()["resources"]
        assert s.drift() == []
    accounts = [r for r in records.values() if r["kind"] == "cognitive_account"]
    assert len(accounts) == 2
    assert all(r["id"].lower().startswith(f"/subscriptions/{OTHER}/resourcegroups/ai-elsewhere/") for r in accounts)
    assert records["ai_identity"]["id"].lower().startswith(f"/subscriptions/{OTHER}/")
    grants = [r for r in records.values() if r["kind"] == "role_assignment" and "openai" in r["id"].lower()]
    assert grants and all(g["managed"]["properties"]["roleDefinitionId"].lower().startswith(
        f"/subscriptions/{OTHER}/providers/microsoft.authorization/roledefinitions/") for g in grants)
    endpoints = [r for r in records.values() if r["kind"] == "private_endpoint" and "openai" in r["id"].lower()]
    assert endpoints and all(sb.subscription_id in e["id"] for e in endpoints)
    cog = CognitiveServicesManagementClient(sb.credential, OTHER, **sb.client_kwargs())
    assert len(list(cog.accounts.list_by_resource_group("ai-elsewhere"))) == 2
    net = sb.client(NetworkManagementClient)
    pe = net.private_endpoints.get("airun-codemie", endpoints[0]["id"].rsplit("/", 1)[-1])
    assert pe.private_link_service_connections[0].private_link_service_id.lower().startswith(
        f"/subscriptions/{OTHER}/")
