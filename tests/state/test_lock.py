"""The state lock between real processes: one winner, named holders, expiry after SIGKILL, heartbeat, break."""

from __future__ import annotations

import os
import time

import pytest
from state_worker import container_client, elsewhere, open_store

from codemie_provisioner.state import LockHeld, LockInfo


def wait_until(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def test_two_processes_race_for_the_lock(spawn):
    start_at = time.time() + 2.5   # both past their imports, then go together
    workers = [spawn(start_at=start_at, hold=20.0) for _ in range(2)]
    lines = [w.line() for w in workers]
    assert sorted(line.split()[0] for line in lines) == ["HELD", "LOCKED"]
    winner, loser = (workers if lines[0].startswith("LOCKED") else workers[::-1])
    message = lines[workers.index(loser)]
    assert f"(pid {winner.proc.pid}, apply)" in message and "run 'state unlock'" in message
    assert loser.proc.wait(timeout=10) == 3


def test_holder_is_named_and_wait_gives_up(spawn, store):
    holder = spawn(hold=20.0)
    assert holder.line().startswith("LOCKED")
    assert store.lock_holder().pid == holder.proc.pid
    seen = []
    with pytest.raises(LockHeld) as raised, store.lock(LockInfo("plan"), wait=1.5, on_wait=seen.append):
        pass
    assert raised.value.holder.pid == holder.proc.pid and raised.value.holder.operation == "apply"
    assert str(raised.value).startswith(f"state is locked by {raised.value.holder.user}@")
    assert [status.holder.pid for status in seen] == [holder.proc.pid]


def test_waiting_lock_gets_it_when_the_holder_finishes(spawn, store):
    holder = spawn(hold=1.0)
    assert holder.line().startswith("LOCKED")
    with store.lock(LockInfo("apply"), wait=20.0) as held:
        assert store.lock_holder().lock_id == held.info.lock_id
    assert holder.proc.wait(timeout=10) == 0
    assert store.lock_status() is None


def test_break_lock_frees_it_and_the_holder_learns(spawn, store):
    assert store.break_lock() is False
    holder = spawn(hold=30.0, heartbeat=0.3)
    assert holder.line().startswith("LOCKED")
    assert store.break_lock() is True
    with store.lock(LockInfo("state unlock"), wait=0.0) as held:
        assert store.lock_holder().lock_id == held.info.lock_id
        assert holder.line().startswith("LOST")
        assert holder.proc.wait(timeout=10) == 4
        held.check()


def test_sigkilled_holder_expires_while_a_live_holder_is_kept_by_its_heartbeat(backend, spawn, store, short_lease):
    """The one slow test per backend: waits for a lease of the minimum length to run out."""
    other = elsewhere(backend, "-killed")
    victim = spawn(backend_override=other, duration=short_lease, hold=120.0)
    assert victim.line().startswith("LOCKED")
    killed_store = open_store(other)
    with store.lock(LockInfo("apply"), duration=short_lease) as held:
        taken = time.monotonic()
        victim.stop()   # SIGKILL: no release, no cleanup
        assert killed_store.lock_holder().pid == victim.proc.pid
        assert wait_until(lambda: killed_store.lock_status() is None, timeout=2 * short_lease + 10)
        with killed_store.lock(LockInfo("apply")):
            assert killed_store.lock_holder().pid == os.getpid()
        time.sleep(max(0.0, taken + short_lease + 1 - time.monotonic()))   # past our own lease duration
        held.check()
        with pytest.raises(LockHeld) as raised, open_store(backend).lock(LockInfo("plan")):
            pass
        assert raised.value.holder.lock_id == held.info.lock_id


@pytest.mark.parametrize("pick", [lambda low, high: high + 1, lambda low, high: low / 2])
def test_lease_bounds_are_enforced(store, pick):
    with pytest.raises(ValueError, match="lock duration"), store.lock(LockInfo("apply"), pick(*store.lease_bounds)):
        pass
    assert store.lock_status() is None


def test_blob_lease_without_info_is_reported_and_breakable(blob_backend):
    """What Terraform's backend leaves after a crash between lease and metadata: a lease with no info."""
    store = open_store(blob_backend)
    lock_blob = container_client(blob_backend).get_blob_client(f"{blob_backend['prefix']}/lock.json")
    lock_blob.upload_blob(b"")
    lock_blob.acquire_lease(-1)
    with pytest.raises(LockHeld, match="unknown holder .*does not expire by itself"), store.lock(LockInfo("apply")):
        pass
    assert store.lock_status().holder is None
    assert store.break_lock() is True
    with store.lock(LockInfo("apply")) as held:
        assert store.lock_holder().lock_id == held.info.lock_id


def test_abandoned_lock_records_are_taken_over(backend, store):
    """A holder that died before leasing (blob) or whose expiry passed (local) leaves a free lock."""
    dead = LockInfo("apply", pid=999999, duration=15)
    if backend["kind"] == "blob":
        container_client(backend).get_blob_client(f"{backend['prefix']}/lock.json").upload_blob(dead.to_json())
    else:
        os.makedirs(backend["dir"], exist_ok=True)
        record = f'{{"info": {dead.to_json()}, "expires_at": {time.time() - 1}}}'
        with open(os.path.join(backend["dir"], "lock.json"), "w") as fh:
            fh.write(record)
    assert store.lock_status() is None
    with store.lock(LockInfo("apply")) as held:
        assert store.lock_holder().lock_id == held.info.lock_id
