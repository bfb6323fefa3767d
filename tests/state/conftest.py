"""Fixtures: every state test runs against the local store and against Azurite through the real blob client.

Why `backend` is a plain dict: the same description opens the store in this process and in the helper
processes that hold locks, so both sides really share one directory or one container.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from state_worker import container_client, open_store

from codemie_provisioner.state import LockInfo, StateStore
from tests.azurite import azurite_for_tests

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("state_worker.py")
# the shortest lease each backend allows, used where a test waits for a lease to run out
SHORT_LEASE = {"local": 3.0, "blob": 15.0}


@pytest.fixture(scope="session")
def azurite():
    with azurite_for_tests(accounts=["codemiestate"]) as server:
        yield server


@pytest.fixture
def blob_backend(azurite) -> dict:
    """A fresh container in the custom `codemiestate` account, state under a deployment prefix."""
    account = azurite.account("codemiestate")
    container = f"state-{uuid.uuid4().hex[:16]}"
    account.service_client().create_container(container)
    return {"kind": "blob", "connection_string": account.connection_string, "api_version": account.api_version,
            "container": container, "prefix": "deployments/codemie"}


@pytest.fixture(params=["local", "blob"])
def backend(request, tmp_path) -> dict:
    if request.param == "local":
        return {"kind": "local", "dir": str(tmp_path / "state")}
    return request.getfixturevalue("blob_backend")


@pytest.fixture
def store(backend) -> StateStore:
    return open_store(backend)


@pytest.fixture
def raw_snapshot(backend):
    """Read a snapshot's bytes straight from the directory or container, bypassing the store."""
    def read(serial: int) -> bytes:
        name = f"snapshots/{serial:08d}.json"
        if backend["kind"] == "local":
            return (Path(backend["dir"]) / name).read_bytes()
        return container_client(backend).get_blob_client(f"{backend['prefix']}/{name}").download_blob().readall()
    return read


@pytest.fixture
def short_lease(backend) -> float:
    return SHORT_LEASE[backend["kind"]]


@pytest.fixture
def locked(store):
    """The store with its lock held for the test (writes need it)."""
    with store.lock(LockInfo("test"), duration=SHORT_LEASE["blob"]):
        yield store


class Worker:
    """A helper process holding (or trying to take) the state lock; its output lines arrive on a queue."""

    def __init__(self, backend: dict, **job):
        backend = job.pop("backend_override", backend)
        job = {"operation": "apply", "duration": 15.0, "hold": 30.0, "wait": 0.0, **job, "backend": backend}
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        self.proc = subprocess.Popen([sys.executable, str(WORKER), json.dumps(job)], stdout=subprocess.PIPE,
                                     text=True, env=env, cwd=REPO)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def line(self, timeout: float = 20.0) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"worker {self.proc.pid} said nothing within {timeout} s") from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def spawn(backend):
    workers: list[Worker] = []

    def start(**job) -> Worker:
        workers.append(Worker(backend, **job))
        return workers[-1]

    yield start
    for worker in workers:
        worker.stop()
