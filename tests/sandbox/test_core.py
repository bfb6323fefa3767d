"""The sandbox's generic ARM core, seen through the real azure-mgmt-resource client over HTTPS.

Test-only types under `Microsoft.SandboxTest` cover every LRO style the core offers, so these tests do not
depend on the per-type modules. Other core test files import them from here.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources import ResourceManagementClient

from codemie_provisioner.sandbox import ArmError, ResourceType, register

API = "2024-01-01"
NS = "Microsoft.SandboxTest"
WIDGETS = register(ResourceType(type=f"{NS}/widgets", api_versions=(API,), put="sync", patch="sync",
                                name_rule=r"[a-z0-9-]{3,24}", name_hint="3-24 lower-case letters, digits, '-'."))
GADGETS = register(ResourceType(type=f"{NS}/gadgets", api_versions=(API,), put="async_op", patch="async_op",
                                delete="async", duration="vnet", lock="self"))
PARTS = register(ResourceType(type=f"{NS}/gadgets/parts", api_versions=(API,), put="async_op", delete="async",
                              duration="subnet", lock=f"{NS}/gadgets", location=False))
GIZMOS = register(ResourceType(type=f"{NS}/gizmos", api_versions=(API,), put="location", delete="location",
                               duration="storage_account", global_name=True, global_name_code="GizmoNameTaken"))
KNICKS = register(ResourceType(type=f"{NS}/knicks", api_versions=(API,), put="body", duration="key_vault",
                               pending_state="RegisteringDns",
                               validate=lambda ctx, rid, body, old: ctx.use_duration(body.get("kind") or "key_vault")))
LABELS = register(ResourceType(type=f"{NS}/gadgets/labels", api_versions=(API,), put="sync", location=False,
                               lock=f"{NS}/gadgets", duration="identity", busy=(409, "ConcurrentLabelWrites")))
LINKS = register(ResourceType(type=f"{NS}/gadgets/links", api_versions=(API,), put="async_op", delete="async",
                              location=False, lock=f"{NS}/gadgets", duration="peering",
                              extra_locks=lambda ctx, rid, body: [body["properties"]["remote"]],
                              validate=lambda ctx, rid, body, old: require_remote(ctx, body["properties"]["remote"])))
WATCHERS = register(ResourceType(type=f"{NS}/watchers", api_versions=(API,), location=False,
                                 validate=lambda ctx, rid, body, old: require_settled(ctx, body["properties"]["target"])))
NOTES = register(ResourceType(type=f"{NS}/notes", api_versions=(API,), location=False, etag=False))
KEEPSAKES = register(ResourceType(
    type=f"{NS}/keepsakes", api_versions=(API,),
    validate=lambda ctx, rid, body, old: refuse_held(ctx, rid),
    after_delete=lambda ctx, rid, body: ctx.soft_deleted("keepsakes").update({rid.rsplit("/", 1)[-1]: body})))

# Real durations with fast polls: an operation runs until the test moves the sandbox clock.
SLOW = {"base": "realistic", "poll_cadence": [0.01]}


def require_remote(ctx, remote: str) -> None:
    if ctx.get(remote) is None:
        raise ArmError(400, "InvalidRemote", "remote gadget missing")


def require_settled(ctx, target: str) -> None:
    if ctx.in_progress(target):
        raise ArmError(409, "ReferencedResourceNotProvisioned", f"{target} is still being provisioned")


def refuse_held(ctx, rid: str) -> None:
    if rid.rsplit("/", 1)[-1] in ctx.soft_deleted("keepsakes"):
        raise ArmError(409, "NameHeld", "a deleted keepsake still holds this name")


def rg_id(sandbox, rg: str) -> str:
    return f"/subscriptions/{sandbox.subscription_id}/resourceGroups/{rg}"


def res_id(sandbox, rg: str, kind: str, name: str) -> str:
    return f"{rg_id(sandbox, rg)}/providers/{NS}/{kind}/{name}"


def put(client, rid: str, body: dict):
    return client.resources.begin_create_or_update_by_id(rid, api_version=API, parameters=body).result()


def raw(client, method: str, url: str, body: dict | None = None):
    """A request through the client's own pipeline (auth, retries) with nothing added."""
    return client.send_request(HttpRequest(method, url, json=body))


@pytest.fixture
def arm(mgmt) -> ResourceManagementClient:
    return mgmt(ResourceManagementClient)


@pytest.fixture
def rg(arm) -> str:
    arm.resource_groups.create_or_update("rg-core", {"location": "westeurope"})
    return "rg-core"


# ---------------------------------------------------------------- resource groups


def test_resource_group_create_get_update_list_delete(sandbox, arm):
    created = arm.resource_groups.create_or_update("Rg-One", {"location": "westeurope", "tags": {"a": "1"}})
    assert created.id == rg_id(sandbox, "Rg-One")
    assert created.properties.provisioning_state == "Succeeded"
    assert arm.resource_groups.get("rg-one").name == "Rg-One"          # case-insensitive, creation casing kept
    assert arm.resource_groups.check_existence("RG-ONE") is True
    arm.resource_groups.update("rg-one", {"tags": {"b": "2"}})
    assert arm.resource_groups.get("rg-one").tags == {"b": "2"}
    assert [g.name for g in arm.resource_groups.list()] == ["Rg-One"]
    arm.resource_groups.begin_delete("rg-one").result()
    assert arm.resource_groups.check_existence("rg-one") is False
    with pytest.raises(ResourceNotFoundError) as err:
        arm.resource_groups.get("rg-one")
    assert err.value.error.code == "ResourceGroupNotFound"


def test_resource_group_put_answers_201_then_200(sandbox, arm):
    url = f"{rg_id(sandbox, 'rg-codes')}?api-version=2025-04-01"
    assert raw(arm, "PUT", url, {"location": "westeurope"}).status_code == 201
    assert raw(arm, "PUT", url, {"location": "westeurope"}).status_code == 200
    moved = raw(arm, "PUT", url, {"location": "eastus"})
    assert (moved.status_code, moved.json()["error"]["code"]) == (409, "InvalidResourceGroupLocation")


def test_resource_group_delete_cascades(sandbox, arm, rg):
    gadget = res_id(sandbox, rg, "gadgets", "g1")
    put(arm, res_id(sandbox, rg, "widgets", "w-1"), {"location": "westeurope"})
    put(arm, gadget, {"location": "westeurope"})
    put(arm, f"{gadget}/parts/p1", {"properties": {}})
    poller = arm.resource_groups.begin_delete(rg)
    assert poller.result() is None
    arm.resource_groups.create_or_update(rg, {"location": "westeurope"})
    assert list(arm.resources.list_by_resource_group(rg)) == []
    with pytest.raises(ResourceNotFoundError):
        arm.resources.get_by_id(f"{gadget}/parts/p1", api_version=API)


def test_delete_of_missing_group_is_404_and_of_missing_resource_is_204(sandbox, arm, rg):
    with pytest.raises(ResourceNotFoundError) as err:
        arm.resource_groups.begin_delete("nope").result()
    assert err.value.error.code == "ResourceGroupNotFound"
    gone = raw(arm, "DELETE", f"{res_id(sandbox, rg, 'widgets', 'never')}?api-version={API}")
    assert gone.status_code == 204


def test_group_list_pages_with_absolute_next_link(sandbox_factory):
    box = sandbox_factory(page_size=2)
    client = box.client(ResourceManagementClient)
    for i in range(5):
        client.resource_groups.create_or_update(f"rg-{i}", {"location": "westeurope"})
    first = raw(client, "GET", f"/subscriptions/{box.subscription_id}/resourcegroups?api-version=2025-04-01").json()
    assert len(first["value"]) == 2
    assert first["nextLink"].startswith(box.base_url + "/subscriptions/")
    assert sorted(g.name for g in client.resource_groups.list()) == [f"rg-{i}" for i in range(5)]
    pages = [r for r in box.requests() if r["method"] == "GET" and r["path"].endswith("/resourcegroups")]
    assert len(pages) == 1 + 3


# ---------------------------------------------------------------- resources: sync style


def test_sync_resource_put_get_patch_delete(sandbox, arm, rg):
    rid = res_id(sandbox, rg, "widgets", "w-1")
    created = put(arm, rid, {"location": "westeurope", "properties": {"size": 1}})
    assert (created.id, created.type, created.properties) == (rid, f"{NS}/widgets",
                                                              {"size": 1, "provisioningState": "Succeeded"})
    upper = rid.replace("w-1", "W-1").replace("/resourceGroups/", "/RESOURCEGROUPS/")
    fetched = arm.resources.get_by_id(upper, api_version=API)
    assert fetched.id == rid
    patched = arm.resources.begin_update_by_id(rid, api_version=API,
                                               parameters={"properties": {"color": "red"}}).result()
    assert patched.properties == {"size": 1, "color": "red", "provisioningState": "Succeeded"}
    arm.resources.begin_delete_by_id(rid, api_version=API).result()
    with pytest.raises(ResourceNotFoundError) as err:
        arm.resources.get_by_id(rid, api_version=API)
    assert err.value.error.code == "ResourceNotFound"


def test_etag_is_weak_and_in_header_and_body(sandbox, arm, rg):
    rid = res_id(sandbox, rg, "widgets", "w-etag")
    first = raw(arm, "PUT", f"{rid}?api-version={API}", {"location": "westeurope"})
    second = raw(arm, "PUT", f"{rid}?api-version={API}", {"location": "westeurope"})
    assert (first.status_code, second.status_code) == (201, 200)
    for answer in (first, second):
        assert answer.headers["ETag"] == answer.json()["etag"]
        assert answer.headers["ETag"].startswith('W/"')
    assert first.headers["ETag"] != second.headers["ETag"]
    stale = arm.send_request(HttpRequest("PUT", f"{rid}?api-version={API}", json={"location": "x"},
                                                 headers={"If-Match": first.headers["ETag"]}))
    assert (stale.status_code, stale.json()["error"]["code"]) == (412, "PreconditionFailed")


def test_patch_of_missing_resource_is_404(sandbox, arm, rg):
    answer = raw(arm, "PATCH", f"{res_id(sandbox, rg, 'widgets', 'w-none')}?api-version={API}", {"tags": {}})
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "ResourceNotFound")


# ---------------------------------------------------------------- resources: LRO styles


def test_async_op_put_shows_creating_then_succeeded(sandbox_factory):
    box = sandbox_factory("realistic", time_scale=0.05)
    client = box.client(ResourceManagementClient)
    client.resource_groups.create_or_update("rg", {"location": "westeurope"})
    rid = res_id(box, "rg", "gadgets", "g1")
    poller = client.resources.begin_create_or_update_by_id(rid, api_version=API,
                                                           parameters={"location": "westeurope"})
    during = client.resources.get_by_id(rid, api_version=API)
    assert during.properties["provisioningState"] == "Creating"
    assert poller.result().properties["provisioningState"] == "Succeeded"
    polls = [r for r in box.requests() if "/operations/" in r["path"]]
    assert polls and all(r["status"] == 200 for r in polls)


def test_async_op_initial_answer_has_operation_url_and_nonzero_delay(sandbox, arm, rg):
    answer = raw(arm, "PUT", f"{res_id(sandbox, rg, 'gadgets', 'g1')}?api-version={API}",
                 {"location": "West Europe"})
    assert answer.status_code == 201
    assert answer.json()["properties"]["provisioningState"] == "Creating"
    assert answer.json()["location"] == "West Europe"
    op_url = answer.headers["Azure-AsyncOperation"]
    assert op_url.startswith(f"{sandbox.base_url}/subscriptions/{sandbox.subscription_id}/providers/{NS}/"
                             "locations/westeurope/operations/")
    assert "api-version=" in op_url
    assert_delay_header(answer.headers)
    status = raw(arm, "GET", op_url)
    assert (status.status_code, status.json()["status"]) == (200, "Succeeded")


def assert_delay_header(headers) -> None:
    """Integer Retry-After >= 1, or only retry-after-ms >= 1; never a zero."""
    if "Retry-After" in headers:
        assert int(headers["Retry-After"]) >= 1
    else:
        assert int(headers["retry-after-ms"]) >= 1


def test_location_style_create_is_invisible_until_done(sandbox_factory):
    box = sandbox_factory("realistic", time_scale=0.02)
    client = box.client(ResourceManagementClient)
    client.resource_groups.create_or_update("rg", {"location": "westeurope"})
    rid = res_id(box, "rg", "gizmos", "gz1")
    poller = client.resources.begin_create_or_update_by_id(rid, api_version=API,
                                                           parameters={"location": "westeurope"})
    with pytest.raises(ResourceNotFoundError):
        client.resources.get_by_id(rid, api_version=API)
    assert list(client.resources.list_by_resource_group("rg")) == []
    assert poller.result().properties["provisioningState"] == "Succeeded"
    assert client.resources.get_by_id(rid, api_version=API).name == "gz1"
    first = next(r for r in box.requests() if r["method"] == "PUT" and r["path"].endswith("/gz1"))
    assert first["status"] == 202


def test_body_style_polls_the_resource(sandbox_factory):
    box = sandbox_factory("realistic", time_scale=0.02)
    client = box.client(ResourceManagementClient)
    client.resource_groups.create_or_update("rg", {"location": "westeurope"})
    rid = res_id(box, "rg", "knicks", "k1")
    first = raw(client, "PUT", f"{rid}?api-version={API}", {"location": "westeurope"})
    assert first.status_code == 201
    assert first.json()["properties"]["provisioningState"] == "RegisteringDns"
    assert "Azure-AsyncOperation" not in first.headers and "Location" not in first.headers
    done = client.resources.begin_create_or_update_by_id(rid, api_version=API,
                                                         parameters={"location": "westeurope"}).result()
    assert done.properties["provisioningState"] == "Succeeded"


def test_a_hook_can_choose_the_duration_class(sandbox_factory):
    box = sandbox_factory("realistic", time_scale=0.01, poll_cadence=[0.01])
    client = box.client(ResourceManagementClient)
    client.resource_groups.create_or_update("rg", {"location": "westeurope"})
    quick = raw(client, "PUT", f"{res_id(box, 'rg', 'knicks', 'k1')}?api-version={API}", {"location": "x"})
    slow = raw(client, "PUT", f"{res_id(box, 'rg', 'knicks', 'k2')}?api-version={API}",
               {"location": "x", "kind": "bastion_standard"})
    box.advance(5)                          # key_vault takes 0.15 s here, bastion_standard 18 s
    states = [raw(client, "GET", f"{res_id(box, 'rg', 'knicks', k)}?api-version={API}").json()
              ["properties"]["provisioningState"] for k in ("k1", "k2")]
    assert (quick.status_code, slow.status_code, states) == (201, 201, ["Succeeded", "RegisteringDns"])


def test_async_delete_answers_202_with_both_urls(sandbox, arm, rg):
    rid = res_id(sandbox, rg, "gadgets", "g-del")
    put(arm, rid, {"location": "westeurope"})
    answer = raw(arm, "DELETE", f"{rid}?api-version={API}")
    assert answer.status_code == 202
    assert "/operations/" in answer.headers["Azure-AsyncOperation"]
    assert "/operationResults/" in answer.headers["Location"]
    assert raw(arm, "GET", answer.headers["Location"]).status_code == 200
    assert raw(arm, "GET", f"{rid}?api-version={API}").status_code == 404


# ---------------------------------------------------------------- children, extensions, errors


def test_child_of_missing_parent_is_parent_resource_not_found(sandbox, arm, rg):
    with pytest.raises(ResourceNotFoundError) as err:
        put(arm, f"{res_id(sandbox, rg, 'gadgets', 'nope')}/parts/p1", {"properties": {}})
    assert err.value.error.code == "ParentResourceNotFound"


def test_resource_in_missing_group_is_resource_group_not_found(sandbox, arm):
    with pytest.raises(ResourceNotFoundError) as err:
        put(arm, res_id(sandbox, "rg-missing", "widgets", "w-1"), {"location": "westeurope"})
    assert err.value.error.code == "ResourceGroupNotFound"


def test_children_list_and_extension_resources(sandbox, arm, rg):
    gadget = res_id(sandbox, rg, "gadgets", "g1")
    put(arm, gadget, {"location": "westeurope"})
    for name in ("p1", "p2"):
        put(arm, f"{gadget}/parts/{name}", {"properties": {"n": name}})
    parts = raw(arm, "GET", f"{gadget}/parts?api-version={API}").json()["value"]
    assert [p["name"] for p in parts] == ["p1", "p2"]
    note = f"{gadget}/providers/{NS}/notes/n1"
    assert put(arm, note, {"properties": {"text": "hi"}}).id == note
    listed = raw(arm, "GET", f"{gadget}/providers/{NS}/notes?api-version={API}").json()["value"]
    assert [n["id"] for n in listed] == [note]
    arm.resources.begin_delete_by_id(gadget, api_version=API).result()
    assert raw(arm, "GET", f"{note}?api-version={API}").status_code == 404


def test_unknown_type_and_api_version_errors(sandbox, arm, rg):
    base = res_id(sandbox, rg, "widgets", "w-1")
    missing = raw(arm, "GET", base)
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "MissingApiVersionParameter")
    wrong = raw(arm, "GET", f"{base}?api-version=1999-01-01")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "InvalidApiVersionParameter")
    assert API in wrong.json()["error"]["message"]
    unknown = raw(arm, "GET", f"{rg_id(sandbox, rg)}/providers/{NS}/nothings/x?api-version={API}")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "NoRegisteredProviderFound")


def test_validation_name_location_and_global_names(sandbox, arm, rg):
    with pytest.raises(HttpResponseError) as bad_name:
        put(arm, res_id(sandbox, rg, "widgets", "Bad_Name"), {"location": "westeurope"})
    assert bad_name.value.error.code == "InvalidResourceName"
    with pytest.raises(HttpResponseError) as no_location:
        put(arm, res_id(sandbox, rg, "widgets", "w-1"), {"properties": {}})
    assert no_location.value.error.code == "LocationRequired"
    arm.resource_groups.create_or_update("rg-other", {"location": "westeurope"})
    put(arm, res_id(sandbox, rg, "gizmos", "shared"), {"location": "westeurope"})
    with pytest.raises(ResourceExistsError) as taken:
        put(arm, res_id(sandbox, "rg-other", "gizmos", "SHARED"), {"location": "westeurope"})
    assert taken.value.error.code == "GizmoNameTaken"


def test_validation_rule_can_be_switched_off(sandbox_factory):
    box = sandbox_factory(rules={"validation": False})
    client = box.client(ResourceManagementClient)
    client.resource_groups.create_or_update("rg", {"location": "westeurope"})
    assert put(client, res_id(box, "rg", "widgets", "Bad_Name"), {"properties": {}}).name == "Bad_Name"


def test_parent_lock_refuses_a_second_writer_until_the_first_is_done(sandbox, arm, rg):
    gadget = res_id(sandbox, rg, "gadgets", "g1")
    put(arm, gadget, {"location": "westeurope"})
    sandbox.set_profile(SLOW)
    first = arm.resources.begin_create_or_update_by_id(f"{gadget}/parts/p1", api_version=API,
                                                       parameters={"properties": {}})
    with pytest.raises(ResourceExistsError) as busy:
        put(arm, f"{gadget}/parts/p2", {"properties": {}})
    assert busy.value.error.code == "AnotherOperationInProgress"
    sandbox.advance(3600)
    first.result()
    sandbox.set_profile("instant")
    assert put(arm, f"{gadget}/parts/p2", {"properties": {}}).name == "p2"


def test_extra_locks_hold_the_remote_parent_too(sandbox, arm, rg):
    near, far = res_id(sandbox, rg, "gadgets", "near"), res_id(sandbox, rg, "gadgets", "far")
    for gadget in (near, far):
        put(arm, gadget, {"location": "westeurope"})
    sandbox.set_profile(SLOW)
    link = arm.resources.begin_create_or_update_by_id(f"{near}/links/to-far", api_version=API,
                                                      parameters={"properties": {"remote": far}})
    with pytest.raises(ResourceExistsError) as busy:
        put(arm, f"{far}/parts/p1", {"properties": {}})
    assert busy.value.error.code == "AnotherOperationInProgress"
    sandbox.advance(3600)
    link.result()
    sandbox.set_profile("instant")
    assert put(arm, f"{far}/parts/p1", {"properties": {}}).name == "p1"


def test_hooks_see_operations_in_progress(sandbox_factory):
    box = sandbox_factory("realistic", time_scale=0.05)
    client = box.client(ResourceManagementClient)
    client.resource_groups.create_or_update("rg", {"location": "westeurope"})
    gadget = res_id(box, "rg", "gadgets", "g1")
    poller = client.resources.begin_create_or_update_by_id(gadget, api_version=API,
                                                           parameters={"location": "westeurope"})
    watcher = res_id(box, "rg", "watchers", "w1")
    with pytest.raises(ResourceExistsError) as err:
        put(client, watcher, {"properties": {"target": gadget}})
    assert err.value.error.code == "ReferencedResourceNotProvisioned"
    poller.result()
    assert put(client, watcher, {"properties": {"target": gadget}}).name == "w1"


def test_generic_resource_lists(sandbox, arm, rg):
    put(arm, res_id(sandbox, rg, "widgets", "w-1"), {"location": "westeurope"})
    put(arm, res_id(sandbox, rg, "gadgets", "g-1"), {"location": "westeurope"})
    arm.resource_groups.create_or_update("rg-two", {"location": "westeurope"})
    put(arm, res_id(sandbox, "rg-two", "widgets", "w-2"), {"location": "westeurope"})
    put(arm, f"{rg_id(sandbox, rg)}/providers/{NS}/notes/on-the-group", {"properties": {}})
    assert sorted(r.name for r in arm.resources.list_by_resource_group(rg)) == ["g-1", "w-1"]
    assert sorted(r.name for r in arm.resources.list()) == ["g-1", "w-1", "w-2"]
    only = arm.resources.list(filter=f"resourceType eq '{NS}/widgets'")
    assert sorted(r.name for r in only) == ["w-1", "w-2"]


def test_providers_are_registered(arm):
    registered = arm.providers.register(NS)
    assert registered.registration_state == "Registered"
    got = arm.providers.get(NS)
    assert {t.resource_type for t in got.resource_types} >= {"widgets", "gadgets", "gadgets/parts"}
    assert NS in {p.namespace for p in arm.providers.list()}


def test_every_answer_carries_arm_headers(sandbox, arm, rg):
    answer = raw(arm, "GET", f"{rg_id(sandbox, rg)}?api-version=2025-04-01")
    for name in ("x-ms-request-id", "x-ms-correlation-request-id", "x-ms-ratelimit-remaining-subscription-reads"):
        assert answer.headers[name]
    write = raw(arm, "PUT", f"{rg_id(sandbox, rg)}?api-version=2025-04-01", {"location": "westeurope"})
    assert int(write.headers["x-ms-ratelimit-remaining-subscription-writes"]) >= 0


def test_system_data_on_request(sandbox_factory):
    box = sandbox_factory(settings={"system_data": True})
    client = box.client(ResourceManagementClient)
    created = raw(client, "PUT", f"{rg_id(box, 'rg')}?api-version=2025-04-01", {"location": "westeurope"}).json()
    assert created["systemData"]["createdByType"] == "Application"
    assert created["systemData"]["createdAt"].endswith("Z")


def test_wrong_subscription_is_not_found(sandbox, arm):
    answer = raw(arm, "GET", "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/x"
                             "?api-version=2025-04-01")
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "SubscriptionNotFound")
    assert answer.headers["x-ms-failure-cause"] == "gateway"
