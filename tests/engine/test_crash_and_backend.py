"""Crash safety and the state backend: an apply killed mid-way converges on rerun with no orphan; Phase 1's
container becomes the state store with no manual step; two applies at once, one fails naming the holder."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from codemie_provisioner import Recorder, Session
from codemie_provisioner import events as ev
from codemie_provisioner.engine.kinds import KINDS
from codemie_provisioner.state import BlobStateStore, LocalStateStore, LockHeld

SPECS = Path(__file__).parent / "specs"
REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout=60.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def cli(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "codemie_provisioner", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def test_sigkill_mid_apply_then_rerun_converges_without_orphans(sandbox_factory, tmp_path):
    sb = sandbox_factory("realistic", data_dir=tmp_path / "cloud", time_scale=0.1)
    state_dir = tmp_path / "state"
    proc = cli("apply", "--spec", str(SPECS / "network.yaml"), "--sandbox", "--sandbox-dir", str(tmp_path / "cloud"),
               "--state-dir", str(state_dir), "--yes", "--plain")
    subnet_puts = lambda: [r for r in sb.writes() if "/subnets/" in r["path"] and r["method"] == "PUT"]  # noqa: E731
    assert wait_for(lambda: len(subnet_puts()) >= 2), proc.communicate(timeout=5)[0]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    killed_state = LocalStateStore(state_dir / "nettest").latest().to_dict()
    assert killed_state["pending"], "a claim must be on disk before its PUT"

    with Session(SPECS / "network.yaml", sandbox=sb, state_dir=state_dir, sink=Recorder()) as s:
        assert s.apply().ok
        final = s.store.latest().to_dict()
        assert final["pending"] == []
        assert not s.plan().has_changes
    in_state = {r["id"].lower() for r in final["resources"].values()}
    managed_types = {KINDS[r["kind"]].arm_type.lower() for r in final["resources"].values()}
    in_cloud = {r["id"].lower() for r in sb.cloud.store.all() if r["type"].lower() in managed_types}
    assert len(final["resources"]) == 11
    assert in_cloud == in_state          # nothing orphaned, nothing duplicated


@pytest.mark.azurite
def test_backend_phase_moves_state_into_its_container(sandbox_factory, tmp_path, backend_settings):
    sb = sandbox_factory(settings=backend_settings)
    state_dir = tmp_path / "state"
    with Session(SPECS / "backend.yaml", sandbox=sb, state_dir=state_dir, sink=Recorder()) as s:
        assert s.apply().ok
        assert isinstance(s.store, BlobStateStore)
        moved_serial = s.store.latest().serial
    assert (state_dir / "backendtest" / "MOVED.json").exists()
    with Session(SPECS / "backend.yaml", sandbox=sb, state_dir=state_dir, sink=Recorder()) as s:
        assert isinstance(s.store, BlobStateStore)
        assert [h.serial for h in s.store.history()][-1] == moved_serial
        sb.clear_requests()
        assert s.apply().ok
        assert sb.writes() == []
        assert s.store.latest().serial == moved_serial


@pytest.mark.azurite
def test_two_applies_at_once_one_fails_naming_the_holder(sandbox_factory, tmp_path, azurite_backend,
                                                         backend_settings):
    az = azurite_backend
    sb = sandbox_factory(settings=backend_settings)
    state_dir = tmp_path / "state"
    base = tmp_path / "base.yaml"
    base.write_text((SPECS / "backend.yaml").read_text().replace("deployment: backendtest", "deployment: racetest"))
    with Session(base, sandbox=sb, state_dir=state_dir) as s:
        assert s.apply().ok
    sb.set_profile({"base": "realistic", "time_scale": 0.5, "settings": backend_settings})
    slow = tmp_path / "slow.yaml"            # one more storage account: about 12 s at this time scale
    slow.write_text(base.read_text() + """
      account2:
        kind: storage_account
        name: cmslowaccount
        resource_group: ${ref.rg}
        location: ${var.location}
        sku: {name: Standard_LRS}
        arm_kind: StorageV2
""")
    results = {}

    def first():
        with Session(slow, sandbox=sb, state_dir=state_dir) as s:
            results["first"] = s.apply()

    t = threading.Thread(target=first)
    t.start()
    assert wait_for(lambda: holder(az) is not None, timeout=20)
    started = time.monotonic()
    blocked = Recorder()
    with Session(slow, sandbox=sb, state_dir=state_dir, sink=blocked) as s, pytest.raises(LockHeld) as err:
        s.apply()
    assert time.monotonic() - started < 15
    [waiting] = blocked.of(ev.LockWaiting)
    assert f"pid {os.getpid()}" in waiting.holder
    assert f"pid {os.getpid()}" in str(err.value) and "apply" in str(err.value)
    t.join(timeout=60)
    assert results["first"].ok


def holder(az):
    store = BlobStateStore.from_account(az.account_url, az.credential, "tfstate", "racetest",
                                        api_version=az.api_version)
    return store.lock_holder()


@pytest.mark.azurite
def test_destroying_the_backend_moves_the_state_back_out_first(sandbox_factory, tmp_path, backend_settings):
    sb = sandbox_factory(settings=backend_settings)
    spec = tmp_path / "spec.yaml"
    spec.write_text((SPECS / "backend.yaml").read_text().replace("deployment: backendtest", "deployment: evacuate"))
    state_dir = tmp_path / "state"
    with Session(spec, sandbox=sb, state_dir=state_dir, sink=Recorder()) as s:
        assert s.apply().ok
        assert isinstance(s.store, BlobStateStore)
        result = s.destroy()
        assert result.ok, result.failed
        assert isinstance(s.store, LocalStateStore)
        assert Path(s.store.directory).parent == state_dir
        assert s.store.latest().to_dict()["resources"] == {}
        history = [h.serial for h in s.store.history()]
    assert not (state_dir / "evacuate" / "MOVED.json").exists()
    assert history == sorted(history) and len(history) > 2      # the whole history came back, then the destroy
