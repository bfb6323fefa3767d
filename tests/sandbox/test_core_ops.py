"""Sandbox operations beyond the protocol: throttling, fault injection, persistence, the request log,
out-of-band changes, the admin API and the `sandbox` CLI. Always through the real SDK clients over HTTPS."""

from __future__ import annotations

import json
import ssl
import threading
import urllib.error
import urllib.request

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources import ResourceManagementClient
from click.testing import CliRunner

from codemie_provisioner.sandbox import RemoteSandbox, Sandbox, attach
from codemie_provisioner.sandbox.cli import sandbox as sandbox_cli

from .test_core import API, NS, put, raw, res_id, rg_id


def client_with_group(box, rg: str = "rg", **kwargs) -> ResourceManagementClient:
    client = box.client(ResourceManagementClient, **kwargs)
    client.resource_groups.create_or_update(rg, {"location": "westeurope"})
    return client


def statuses(box, method: str) -> list[int]:
    return [r["status"] for r in box.requests() if r["method"] == method]


# ---------------------------------------------------------------- throttling


def test_throttled_writes_get_429_with_retry_after_and_the_sdk_recovers(sandbox_factory):
    box = sandbox_factory(throttling={"writes": [3, 50]})
    client = box.client(ResourceManagementClient)
    for i in range(8):
        client.resource_groups.create_or_update(f"rg-{i}", {"location": "westeurope"})
    assert len(list(client.resource_groups.list())) == 8
    puts = statuses(box, "PUT")
    assert 429 in puts and puts.count(201) == 8


def test_throttle_answer_names_the_wait(sandbox_factory):
    box = sandbox_factory(throttling={"reads": [1, 0.5]})
    client = box.client(ResourceManagementClient, retry_total=0)
    url = f"/subscriptions/{box.subscription_id}/resourcegroups?api-version=2025-04-01"
    assert raw(client, "GET", url).status_code == 200
    answer = raw(client, "GET", url)
    assert (answer.status_code, answer.json()["error"]["code"]) == (429, "SubscriptionRequestsThrottled")
    assert int(answer.headers["Retry-After"]) >= 1


def test_throttling_rule_off_never_answers_429(sandbox_factory):
    box = sandbox_factory(throttling={"writes": [1, 0.01]}, rules={"throttling": False})
    client = box.client(ResourceManagementClient)
    for i in range(4):
        client.resource_groups.create_or_update(f"rg-{i}", {"location": "westeurope"})
    assert 429 not in statuses(box, "PUT")


# ---------------------------------------------------------------- faults


def test_fault_hits_the_nth_matching_call_only(sandbox_factory):
    fault = {"method": "PUT", "type": f"{NS}/WIDGETS", "name": "w-*", "nth": 2, "status": 409, "code": "Conflict"}
    box = sandbox_factory(faults=[fault])
    client = client_with_group(box)
    put(client, res_id(box, "rg", "widgets", "w-1"), {"location": "westeurope"})
    with pytest.raises(ResourceExistsError) as err:
        put(client, res_id(box, "rg", "widgets", "w-2"), {"location": "westeurope"})
    assert err.value.error.code == "Conflict"
    assert put(client, res_id(box, "rg", "widgets", "w-2"), {"location": "westeurope"}).name == "w-2"


def test_fault_with_retry_after_is_retried_by_the_sdk(sandbox_factory):
    fault = {"method": "PUT", "type": f"{NS}/widgets", "status": 429, "code": "TooManyRequests", "retry_after": 0.02}
    box = sandbox_factory(faults=[fault])
    client = client_with_group(box)
    assert put(client, res_id(box, "rg", "widgets", "w-1"), {"location": "westeurope"}).name == "w-1"
    assert [s for s in statuses(box, "PUT")][-2:] == [429, 201]


def test_lro_fail_ends_the_async_operation_failed(sandbox_factory):
    box = sandbox_factory(faults=[{"type": f"{NS}/gadgets", "method": "PUT", "lro_fail": "InternalOperationError"}])
    client = client_with_group(box)
    rid = res_id(box, "rg", "gadgets", "g1")
    poller = client.resources.begin_create_or_update_by_id(rid, api_version=API, parameters={"location": "x"})
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert "InternalOperationError" in str(err.value)
    assert client.resources.get_by_id(rid, api_version=API).properties["provisioningState"] == "Failed"


def test_lro_fail_on_a_location_create_leaves_nothing_behind(sandbox_factory):
    box = sandbox_factory(faults=[{"type": f"{NS}/gizmos", "lro_fail": "GatewayTimeout"}])
    client = client_with_group(box)
    rid = res_id(box, "rg", "gizmos", "gz1")
    with pytest.raises(HttpResponseError) as err:
        client.resources.begin_create_or_update_by_id(rid, api_version=API, parameters={"location": "x"}).result()
    assert "GatewayTimeout" in str(err.value)
    with pytest.raises(ResourceNotFoundError):
        client.resources.get_by_id(rid, api_version=API)


def test_gateway_timeout_fault_fails_the_operation_but_the_resource_completes(sandbox_factory):
    box = sandbox_factory(faults=[{"type": f"{NS}/gadgets", "lro_fail": "GatewayTimeout", "completes": True}])
    client = client_with_group(box)
    rid = res_id(box, "rg", "gadgets", "g1")
    with pytest.raises(HttpResponseError):
        client.resources.begin_create_or_update_by_id(rid, api_version=API, parameters={"location": "x"}).result()
    assert client.resources.get_by_id(rid, api_version=API).properties["provisioningState"] == "Succeeded"


def test_stuck_fault_keeps_the_resource_updating(sandbox_factory):
    box = sandbox_factory(faults=[{"type": f"{NS}/gadgets", "method": "PUT", "stuck": True}])
    client = client_with_group(box)
    rid = res_id(box, "rg", "gadgets", "g1")
    poller = client.resources.begin_create_or_update_by_id(rid, api_version=API, parameters={"location": "x"})
    poller.wait(timeout=0.3)
    assert not poller.done()
    assert client.resources.get_by_id(rid, api_version=API).properties["provisioningState"] == "Creating"


def test_transient_faults_replay_with_the_same_seed(sandbox_factory):
    runs = []
    for _ in range(2):
        box = sandbox_factory(transient_rate=0.3, seed=11)
        client = client_with_group(box)
        for i in range(6):
            put(client, res_id(box, "rg", "widgets", f"w-{i}"), {"location": "westeurope"})
        runs.append([(r["method"], r["status"]) for r in box.requests()])
    assert runs[0] == runs[1]
    assert any(status >= 429 for _, status in runs[0])


def test_synchronous_writes_under_a_lock_conflict_while_they_overlap(sandbox_factory):
    box = sandbox_factory("realistic", time_scale=0.05, poll_cadence=[0.01])
    client = client_with_group(box)
    gadget = res_id(box, "rg", "gadgets", "g1")
    put(client, gadget, {"location": "westeurope"})
    put(client, f"{gadget}/labels/a", {"properties": {}})
    with pytest.raises(ResourceExistsError) as err:
        put(client, f"{gadget}/labels/b", {"properties": {}})
    assert err.value.error.code == "ConcurrentLabelWrites"
    box.advance(60)
    assert put(client, f"{gadget}/labels/b", {"properties": {}}).name == "b"


# ---------------------------------------------------------------- persistence


def test_cloud_persists_across_sandboxes_on_one_data_dir(tmp_path, sandbox_factory):
    first = sandbox_factory(data_dir=tmp_path)
    client = client_with_group(first)
    rid = res_id(first, "rg", "widgets", "w-1")
    put(client, rid, {"location": "westeurope", "tags": {"k": "v"}})
    first.stop()
    second = sandbox_factory(data_dir=tmp_path)
    assert second.subscription_id == first.subscription_id
    again = second.client(ResourceManagementClient)
    assert again.resources.get_by_id(rid, api_version=API).tags == {"k": "v"}
    logged = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert [e["method"] for e in logged].count("PUT") == 2 and again.resource_groups.get("rg").name == "rg"


def test_soft_delete_bins_persist_and_group_deletes_fill_them(tmp_path, sandbox_factory):
    first = sandbox_factory(data_dir=tmp_path)
    client = client_with_group(first)
    put(client, res_id(first, "rg", "keepsakes", "k1"), {"location": "westeurope"})
    client.resource_groups.begin_delete("rg").result()
    first.stop()
    second = sandbox_factory(data_dir=tmp_path)
    client = client_with_group(second)
    with pytest.raises(ResourceExistsError) as err:
        put(client, res_id(second, "rg", "keepsakes", "k1"), {"location": "westeurope"})
    assert err.value.error.code == "NameHeld"


def test_operation_in_flight_survives_a_restart(tmp_path):
    first = Sandbox("realistic", data_dir=tmp_path).start()
    port = int(first.base_url.rsplit(":", 1)[1])
    try:
        client = client_with_group(first)
        rid = res_id(first, "rg", "gadgets", "g1")
        token = client.resources.begin_create_or_update_by_id(rid, api_version=API, parameters={
            "location": "westeurope"}).continuation_token()
    finally:
        first.stop()
    with Sandbox({"base": "realistic", "poll_cadence": [0.01]}, data_dir=tmp_path, port=port) as second:
        second.advance(60)
        client = second.client(ResourceManagementClient)
        done = client.resources.begin_create_or_update_by_id(rid, api_version=API, parameters={},
                                                             continuation_token=token).result()
        assert done.properties["provisioningState"] == "Succeeded"


def test_clock_advance_finishes_long_operations(sandbox_factory):
    box = sandbox_factory("realistic", poll_cadence=[0.01])
    client = client_with_group(box)
    rid = res_id(box, "rg", "gadgets", "g1")
    poller = client.resources.begin_create_or_update_by_id(rid, api_version=API, parameters={"location": "x"})
    assert client.resources.get_by_id(rid, api_version=API).properties["provisioningState"] == "Creating"
    box.advance(3600)
    assert poller.result().properties["provisioningState"] == "Succeeded"


# ---------------------------------------------------------------- request log and out-of-band changes


def test_request_log_counts_writes(sandbox, mgmt):
    client = client_with_group(sandbox)
    sandbox.clear_requests()
    rid = res_id(sandbox, "rg", "widgets", "w-1")
    put(client, rid, {"location": "westeurope"})
    put(client, rid, {"location": "westeurope"})
    client.resources.get_by_id(rid, api_version=API)
    client.resources.begin_delete_by_id(rid, api_version=API).result()
    assert [(r["method"], r["status"]) for r in sandbox.writes()] == [("PUT", 201), ("PUT", 200), ("DELETE", 200)]
    entry = sandbox.requests()[0]
    assert entry["api_version"] == API and entry["path"] == rid and entry["client_request_id"]


def test_tamper_and_remove_are_out_of_band(sandbox, mgmt):
    client = client_with_group(sandbox)
    rid = res_id(sandbox, "rg", "widgets", "w-1")
    put(client, rid, {"location": "westeurope", "properties": {"size": 1}})
    before = raw(client, "GET", f"{rid}?api-version={API}").json()
    sandbox.clear_requests()
    sandbox.tamper(rid, {"properties": {"size": 2}, "tags": {"who": "portal"}})
    after = raw(client, "GET", f"{rid}?api-version={API}").json()
    assert (after["properties"]["size"], after["tags"]) == (2, {"who": "portal"})
    assert after["etag"] != before["etag"]
    sandbox.remove(rg_id(sandbox, "rg"))
    with pytest.raises(ResourceNotFoundError):
        client.resources.get_by_id(rid, api_version=API)
    assert sandbox.writes() == []


def test_admin_api_drives_a_running_sandbox(sandbox):
    remote = RemoteSandbox(sandbox.info())
    client = client_with_group(remote)
    remote.set_profile({"faults": [{"method": "PUT", "type": f"{NS}/widgets", "status": 409, "code": "Busy"}]})
    with pytest.raises(ResourceExistsError):
        put(client, res_id(remote, "rg", "widgets", "w-1"), {"location": "westeurope"})
    assert remote.profile.faults[0]["code"] == "Busy"
    assert remote.tamper(rg_id(remote, "rg"), {"tags": {"a": "b"}})["tags"] == {"a": "b"}
    assert any(r["method"] == "PUT" for r in remote.requests())
    remote.reset()
    assert list(client.resource_groups.list()) == []


def test_requests_without_a_bearer_token_are_refused(sandbox):
    context = ssl.create_default_context(cafile=sandbox.ca_file)
    url = f"{sandbox.base_url}/subscriptions/{sandbox.subscription_id}/resourcegroups?api-version=2025-04-01"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, context=context, timeout=10)
    assert err.value.code == 401
    assert json.loads(err.value.read())["error"]["code"] == "AuthenticationFailed"


def test_existence_checks_use_head(sandbox):
    client = client_with_group(sandbox)
    rid = res_id(sandbox, "rg", "widgets", "w-1")
    assert client.resources.check_existence_by_id(rid, api_version=API) is False
    put(client, rid, {"location": "westeurope"})
    assert client.resources.check_existence_by_id(rid, api_version=API) is True


def test_streamed_bodies_and_concurrent_clients(sandbox):
    client_with_group(sandbox)
    answers: list[int] = []

    def create(worker: int) -> None:
        client = sandbox.client(ResourceManagementClient)
        for i in range(5):
            chunks = iter([b'{"location": ', json.dumps("westeurope").encode(), b"}"])
            url = f"{res_id(sandbox, 'rg', 'widgets', f'w-{worker}-{i}')}?api-version={API}"
            answers.append(client.send_request(HttpRequest("PUT", url, content=chunks)).status_code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [201] * 40
    names = {r.name for r in sandbox.client(ResourceManagementClient).resources.list_by_resource_group("rg")}
    assert names == {f"w-{n}-{i}" for n in range(8) for i in range(5)}
    assert {r["path"].rsplit("/", 1)[-1] for r in sandbox.writes()} >= names


# ---------------------------------------------------------------- CLI


def test_cli_tamper_remove_and_requests_on_a_stopped_sandbox(tmp_path):
    with Sandbox(data_dir=tmp_path) as box:
        client = client_with_group(box)
        rid = res_id(box, "rg", "widgets", "w-1")
        put(client, rid, {"location": "westeurope"})
    assert attach(tmp_path) is None
    runner = CliRunner()
    changed = runner.invoke(sandbox_cli, ["tamper", "--data-dir", str(tmp_path), rid, '{"tags": {"x": "1"}}'])
    assert changed.exit_code == 0 and json.loads(changed.output)["tags"] == {"x": "1"}
    assert runner.invoke(sandbox_cli, ["remove", "--data-dir", str(tmp_path), rid]).exit_code == 0
    missing = runner.invoke(sandbox_cli, ["remove", "--data-dir", str(tmp_path), rid])
    assert missing.exit_code != 0 and "no such resource" in missing.output
    log = runner.invoke(sandbox_cli, ["requests", "--data-dir", str(tmp_path), "--writes"])
    assert log.exit_code == 0 and len(log.output.splitlines()) == 2
    with Sandbox(data_dir=tmp_path) as box:
        assert box.get(rid) is None and box.get(rg_id(box, "rg")) is not None


def test_cli_tamper_goes_through_a_running_sandbox(tmp_path):
    with Sandbox(data_dir=tmp_path) as box:
        client_with_group(box)
        result = CliRunner().invoke(sandbox_cli, ["tamper", "--data-dir", str(tmp_path), rg_id(box, "rg"),
                                                  '{"tags": {"via": "admin"}}'])
        assert result.exit_code == 0
        assert box.client(ResourceManagementClient).resource_groups.get("rg").tags == {"via": "admin"}
        changed = CliRunner().invoke(sandbox_cli, ["profile", "--data-dir", str(tmp_path), "--set",
                                                   '{"transient_rate": 0.5}'])
        assert changed.exit_code == 0 and box.profile.transient_rate == 0.5
        again = CliRunner().invoke(sandbox_cli, ["serve", "--data-dir", str(tmp_path)])
        assert again.exit_code != 0 and "already served" in again.output
