"""Container registry, Log Analytics workspaces (14-day name reservation, recovery by re-create, force delete)
and diagnostic settings as extension resources, through the real management clients."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.loganalytics import LogAnalyticsManagementClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

RG, LOC = "rg-ops", "westeurope"


@pytest.fixture
def groups(sandbox):
    rm = sandbox.client(ResourceManagementClient)
    for name in (RG, "rg-elsewhere"):
        rm.resource_groups.create_or_update(name, {"location": LOC})
    return rm


@pytest.fixture
def logs(sandbox, groups) -> LogAnalyticsManagementClient:
    return sandbox.client(LogAnalyticsManagementClient)


def workspace_body(**props) -> dict:
    return {"location": LOC, "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30, **props}}


def test_registry_crud(sandbox, groups):
    acr = sandbox.client(ContainerRegistryManagementClient)
    made = acr.registries.begin_create(RG, "codemieRegistry1", {
        "location": LOC, "sku": {"name": "Premium"},
        "properties": {"adminUserEnabled": False, "publicNetworkAccess": "Disabled"}}).result()
    assert made.properties.login_server == "codemieregistry1.azurecr.io"
    assert (made.sku.tier, made.properties.public_network_access) == ("Premium", "Disabled")
    with pytest.raises(HttpResponseError) as no_admin:
        acr.registries.list_credentials(RG, "codemieRegistry1")
    assert no_admin.value.error.code == "UnAuthorizedForCredentialOperations"
    acr.registries.begin_update(RG, "codemieRegistry1", {"properties": {"adminUserEnabled": True}}).result()
    creds = acr.registries.list_credentials(RG, "codemieRegistry1")
    assert creds.username == "codemieRegistry1" and len(creds.passwords) == 2
    acr.registries.begin_delete(RG, "codemieRegistry1").result()
    with pytest.raises(ResourceNotFoundError):
        acr.registries.get(RG, "codemieRegistry1")


def test_registry_name_is_global_and_validated(sandbox, groups):
    acr = sandbox.client(ContainerRegistryManagementClient)
    acr.registries.begin_create(RG, "sharedacr", {"location": LOC, "sku": {"name": "Basic"}}).result()
    with pytest.raises(HttpResponseError) as taken:
        acr.registries.begin_create("rg-elsewhere", "sharedacr", {"location": LOC, "sku": {"name": "Basic"}})
    assert (taken.value.status_code, taken.value.error.code) == (409, "AlreadyInUse")
    with pytest.raises(HttpResponseError) as bad:
        acr.registries.begin_create(RG, "a-b", {"location": LOC, "sku": {"name": "Basic"}})
    assert bad.value.status_code == 400


def test_workspace_crud(logs):
    made = logs.workspaces.begin_create_or_update(RG, "codemie-logs", workspace_body(retentionInDays=60)).result()
    assert made.properties.provisioning_state == "Succeeded"
    assert str(uuid.UUID(made.properties.customer_id)) == made.properties.customer_id
    assert (made.properties.sku.name, made.properties.retention_in_days) == ("PerGB2018", 60)
    logs.workspaces.update(RG, "codemie-logs", {"tags": {"team": "ops"}})
    assert logs.workspaces.get(RG, "codemie-logs").tags == {"team": "ops"}
    with pytest.raises(HttpResponseError) as bad:
        logs.workspaces.begin_create_or_update(RG, "short-retention", workspace_body(retentionInDays=3))
    assert bad.value.status_code == 400


def test_deleted_workspace_name_is_reserved_and_recovered(logs):
    made = logs.workspaces.begin_create_or_update(RG, "codemie-logs", workspace_body()).result()
    logs.workspaces.begin_delete(RG, "codemie-logs").result()
    with pytest.raises(ResourceNotFoundError):
        logs.workspaces.get(RG, "codemie-logs")
    assert [w.name for w in logs.deleted_workspaces.list()] == ["codemie-logs"]
    assert [w.name for w in logs.deleted_workspaces.list_by_resource_group(RG)] == ["codemie-logs"]
    with pytest.raises(HttpResponseError) as taken:
        logs.workspaces.begin_create_or_update("rg-elsewhere", "codemie-logs", workspace_body())
    assert (taken.value.status_code, taken.value.error.code) == (409, "Conflict")
    back = logs.workspaces.begin_create_or_update(RG, "codemie-logs", workspace_body()).result()
    assert back.properties.customer_id == made.properties.customer_id
    assert list(logs.deleted_workspaces.list()) == []


def test_workspace_name_is_released_after_fourteen_days(sandbox, logs):
    logs.workspaces.begin_create_or_update(RG, "expiring-logs", workspace_body()).result()
    logs.workspaces.begin_delete(RG, "expiring-logs").result()
    sandbox.advance(13 * 86400)
    assert [w.name for w in logs.deleted_workspaces.list()] == ["expiring-logs"]
    sandbox.advance(2 * 86400)
    assert list(logs.deleted_workspaces.list()) == []
    assert logs.workspaces.begin_create_or_update("rg-elsewhere", "expiring-logs", workspace_body()).result().name \
        == "expiring-logs"


def test_forced_workspace_delete_frees_the_name(logs):
    logs.workspaces.begin_create_or_update(RG, "throwaway-logs", workspace_body()).result()
    logs.workspaces.begin_delete(RG, "throwaway-logs", force=True).result()
    assert list(logs.deleted_workspaces.list()) == []
    made = logs.workspaces.begin_create_or_update("rg-elsewhere", "throwaway-logs", workspace_body()).result()
    assert made.id.lower().startswith(f"/subscriptions/{made.id.split('/')[2]}/resourcegroups/rg-elsewhere/")


def test_diagnostic_settings_on_a_registry(sandbox, logs):
    workspace = logs.workspaces.begin_create_or_update(RG, "diag-logs", workspace_body()).result()
    acr = sandbox.client(ContainerRegistryManagementClient)
    registry = acr.registries.begin_create(RG, "diagacr1", {"location": LOC, "sku": {"name": "Basic"}}).result()
    monitor = sandbox.client(MonitorManagementClient)
    body = {"properties": {"workspaceId": workspace.id,
                           "logs": [{"categoryGroup": "allLogs", "enabled": True}],
                           "metrics": [{"category": "AllMetrics", "enabled": True}]}}
    made = monitor.diagnostic_settings.create_or_update(registry.id, "to-logs", body)
    assert made.workspace_id == workspace.id and made.logs[0].category_group == "allLogs"
    again = monitor.diagnostic_settings.create_or_update(registry.id, "to-logs", body)
    assert again.id == made.id
    assert [d.name for d in monitor.diagnostic_settings.list(registry.id)] == ["to-logs"]
    monitor.diagnostic_settings.delete(registry.id, "to-logs")
    with pytest.raises(ResourceNotFoundError):
        monitor.diagnostic_settings.get(registry.id, "to-logs")


def test_diagnostic_setting_needs_a_live_workspace_and_target(sandbox, logs):
    monitor = sandbox.client(MonitorManagementClient)
    acr = sandbox.client(ContainerRegistryManagementClient)
    registry = acr.registries.begin_create(RG, "diagacr2", {"location": LOC, "sku": {"name": "Basic"}}).result()
    missing = registry.id.replace("diagacr2", "absent")
    workspace_id = registry.id.split("/providers/")[0] + "/providers/Microsoft.OperationalInsights/workspaces/none"
    body = {"properties": {"workspaceId": workspace_id, "logs": [{"categoryGroup": "allLogs", "enabled": True}]}}
    with pytest.raises(HttpResponseError) as no_workspace:
        monitor.diagnostic_settings.create_or_update(registry.id, "to-logs", body)
    assert no_workspace.value.status_code == 400
    with pytest.raises(ResourceNotFoundError):
        monitor.diagnostic_settings.create_or_update(missing, "to-logs", body)
