"""Pure parts of the state package: field-path diffs, the document's JSON form, the lock messages."""

from __future__ import annotations

from datetime import UTC, datetime

from codemie_provisioner.state import LockHeld, LockInfo, Snapshot, changed_paths, diff_snapshots


def test_changed_paths_walks_dicts_and_equal_length_lists():
    before = {"a": {"b": 1, "c": [1, {"d": 2}]}, "gone": 1, "list": [1, 2]}
    after = {"a": {"b": 1, "c": [1, {"d": 3}]}, "new": 1, "list": [1, 2, 3]}
    assert changed_paths(before, after) == ["a.c[1].d", "gone", "list", "new"]
    assert changed_paths(before, before) == []
    assert changed_paths(1, 2) == ["."]


def test_snapshot_json_round_trip_ignores_unknown_fields():
    snap = Snapshot(resources={"vnet": {"kind": "vnet"}}, outputs={"x": 1}, serial=3, lineage="L", reason="apply",
                    created_by={"user": "alice", "host": "h", "pid": 7, "operation": "apply"})
    text = snap.to_json().replace('"serial": 3', '"serial": 3, "from_a_newer_tool": true')
    back = Snapshot.from_json(text)
    assert back == snap
    assert back.summary().to_dict() == {"serial": 3, "created_at": "", "created_by": "alice@h (pid 7, apply)",
                                        "reason": "apply", "resources": 1}


def test_diff_reports_outputs_by_name():
    a = Snapshot(outputs={"kept": 1, "changed": {"v": 1}, "removed": 0}, serial=1)
    b = Snapshot(outputs={"kept": 1, "changed": {"v": 2}, "added": 0}, serial=2)
    assert diff_snapshots(a, b)["outputs"] == {"added": ["added"], "removed": ["removed"], "changed": ["changed"]}


def test_lock_held_message_names_the_holder():
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    holder = LockInfo("apply", user="alice", host="host", pid=4242, since=f"{today}T12:01:03.000Z", duration=30)
    assert str(LockHeld(holder, 30)) == ("state is locked by alice@host (pid 4242, apply) since 12:01:03Z; "
                                         "lease expires within 30 s if that process is gone; "
                                         "run 'state unlock' to break it")
    older = LockInfo("plan", user="bob", host="h2", pid=1, since="2020-01-02T03:04:05Z")
    assert "since 2020-01-02 03:04:05Z" in str(LockHeld(older, 2.2)) and "within 3 s" in str(LockHeld(older, 2.2))
    assert str(LockHeld(None, None)).startswith("state is locked by an unknown holder (no lock info); "
                                                "the lease does not expire by itself")
