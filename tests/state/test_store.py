"""Snapshots: serials, conditional writes, immutability, history, diff and rollback, on both backends."""

from __future__ import annotations

import time

import pytest

from codemie_provisioner.state import (
    BlobStateStore,
    LocalStateStore,
    LockInfo,
    Snapshot,
    SnapshotNotFound,
    StateConflict,
    StateError,
)


def vnet(prefix: str = "10.0.0.0/16", tags: dict | None = None) -> dict:
    return {"kind": "vnet", "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
            "status": "applied", "managed": {"addressSpace": {"addressPrefixes": [prefix]}, "tags": tags or {}}}


def doc(resources: dict, reason: str = "apply", **outputs) -> Snapshot:
    return Snapshot(resources=resources, outputs=outputs, spec_hash="sha256:abc", reason=reason)


def test_write_latest_get(locked, store):
    assert store.latest() is None and store.lineage is None and store.history() == []
    first = locked.write(doc({"vnet": vnet()}), expect_serial=None)
    second = locked.write(doc({"vnet": vnet(), "rg": {"kind": "rg", "id": "/x"}}, reason="checkpoint"), 1)
    assert (first.serial, second.serial) == (1, 2)
    assert first.lineage and second.lineage == first.lineage == store.lineage
    latest = store.latest()
    assert latest == second and latest.reason == "checkpoint" and set(latest.resources) == {"vnet", "rg"}
    assert store.get(1) == first and store.get(1).resources == {"vnet": vnet()}
    assert latest.created_by["operation"] == "test" and latest.created_at and latest.tool_version
    with pytest.raises(SnapshotNotFound):
        store.get(3)


def test_stale_expect_serial_is_refused(locked, store):
    locked.write(doc({"vnet": vnet()}), None)
    with pytest.raises(StateConflict, match="expected serial None, found serial 1"):
        locked.write(doc({}), None)
    locked.write(doc({"vnet": vnet("10.1.0.0/16")}), 1)
    with pytest.raises(StateConflict, match="expected serial 1, found serial 2"):
        locked.write(doc({}), 1)
    with pytest.raises(StateConflict, match="lineage"):
        locked.write(Snapshot(lineage="another-deployment"), 2)
    assert store.latest().serial == 2 and store.latest().resources == {"vnet": vnet("10.1.0.0/16")}


def test_write_needs_the_lock(store):
    with pytest.raises(StateError, match="need the state lock"):
        store.write(doc({}), None)
    assert store.latest() is None


def test_snapshots_are_never_overwritten(locked, store, raw_snapshot):
    locked.write(doc({"vnet": vnet()}), None)
    before = raw_snapshot(1)
    # a writer that died after creating snapshot 2 but before moving the pointer
    orphan = doc({"vnet": vnet("10.9.0.0/16")}, reason="crashed")
    orphan.serial, orphan.lineage = 2, store.lineage
    assert store._create_snapshot(2, orphan.to_json().encode(), orphan.summary())
    orphan_bytes = raw_snapshot(2)
    assert not store._create_snapshot(1, b"{}", orphan.summary())
    assert store.latest().serial == 2 and store.latest().reason == "crashed"
    with pytest.raises(StateConflict):
        locked.write(doc({}), 1)   # planned against serial 1: refused, snapshot 2 kept
    third = locked.write(doc({}), 2)
    assert third.serial == 3
    assert raw_snapshot(1) == before and raw_snapshot(2) == orphan_bytes


def test_history_diff_rollback(locked, store, raw_snapshot):
    locked.write(doc({"vnet": vnet()}, endpoint="a"), None)
    locked.write(doc({"vnet": vnet("10.1.0.0/16", {"env": "dev"}), "kv": {"kind": "vault"}}, endpoint="b"), 1)
    locked.write(doc({"kv": {"kind": "vault"}}, reason="destroy vnet"), 2)
    originals = [raw_snapshot(n) for n in (1, 2, 3)]

    diff = store.diff(1, 2)
    assert diff["resources"] == {"added": ["kv"], "removed": [], "changed": {
        "vnet": ["managed.addressSpace.addressPrefixes[0]", "managed.tags.env"]}}
    assert diff["outputs"] == {"added": [], "removed": [], "changed": ["endpoint"]}
    assert store.diff(2, 3)["resources"]["removed"] == ["vnet"]
    assert store.diff(3, 3)["resources"] == {"added": [], "removed": [], "changed": {}}

    restored = locked.rollback(1)
    assert restored.serial == 4 and restored.reason == "rollback of 1"
    assert (restored.resources, restored.outputs) == (store.get(1).resources, store.get(1).outputs)
    assert store.latest() == restored and restored.lineage == store.get(1).lineage

    history = store.history()
    assert [h.serial for h in history] == [1, 2, 3, 4]
    assert [h.reason for h in history] == ["apply", "apply", "destroy vnet", "rollback of 1"]
    assert [h.resources for h in history] == [1, 2, 1, 1]
    assert all("(pid " in h.created_by and ", test)" in h.created_by for h in history)
    assert [raw_snapshot(n) for n in (1, 2, 3)] == originals


def test_rollback_needs_an_existing_serial(locked):
    locked.write(doc({}), None)
    with pytest.raises(SnapshotNotFound):
        locked.rollback(7)


def test_write_after_lost_lock_is_refused(store):
    with store.lock(LockInfo("apply"), duration=15, heartbeat=0.2) as held:
        store.write(doc({}), None)
        assert store.break_lock()
        deadline = time.monotonic() + 10
        while not held.lost and time.monotonic() < deadline:   # the next heartbeat notices
            time.sleep(0.05)
        with pytest.raises(StateError, match="lost|broken"):
            store.write(doc({}), 1)
    assert store.latest().serial == 1


def test_blob_store_from_account_creates_its_container(azurite):
    account = azurite.account("codemiestate")
    store = BlobStateStore.from_account(account.account_url, account.credential, "tfstate", "codemie/dev",
                                        create_container=True, api_version=account.api_version)
    with store.lock(LockInfo("apply"), duration=15):
        store.write(doc({"vnet": vnet()}), None)
    again = BlobStateStore.from_account(account.account_url, account.credential, "tfstate", "codemie/dev",
                                        create_container=True, api_version=account.api_version)
    assert again.latest().resources == {"vnet": vnet()}
    names = [b.name for b in account.service_client().get_container_client("tfstate").list_blobs()]
    assert names == ["codemie/dev/current.json", "codemie/dev/snapshots/00000001.json"]


def test_import_history_moves_state_between_backends(store, raw_snapshot, tmp_path):
    source = LocalStateStore(tmp_path / "bootstrap")
    with source.lock({"operation": "apply", "user": "alice"}):   # a plain dict works as lock info and document
        source.write({"resources": {"vnet": vnet()}, "outputs": {}, "reason": "apply"}, None)
        source.write(doc({}, reason="destroy"), 1)
    with store.lock(LockInfo("migrate")):
        assert store.import_history(source) == 2
        assert store.import_history(source) == 0
        store.write(doc({"rg": {"kind": "rg"}}), 2)
    assert [(h.serial, h.reason) for h in store.history()] == [(1, "apply"), (2, "destroy"), (3, "apply")]
    assert raw_snapshot(1) == (tmp_path / "bootstrap/snapshots/00000001.json").read_bytes()
    assert store.get(1).created_by["user"] == "alice" and store.lineage == source.lineage

    other = LocalStateStore(tmp_path / "other")
    with other.lock(LockInfo("apply")):
        other.write(doc({}), None)
        other.write(doc({}), 1)
        other.write(doc({}), 2)
        other.write(doc({}), 3)
    with store.lock(LockInfo("migrate")), pytest.raises(StateConflict, match="lineage"):
        store.import_history(other)
