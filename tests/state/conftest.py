"""Fixtures: every state test runs against the local store and against Azurite through the real blob client.

Why `backend` is a plain dict: the same description opens the store in this process and in the helper
processes that hold locks, so both sides really share one directory or one container.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient
from state_worker import open_store

from codemie_provisioner.state import LockInfo, StateStore
from tests.azurite import AzuriteMissing, azurite_server, find_azurite_blob

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("state_worker.py")
# the shortest lease each backend allows, used where a test waits for a lease to run out
SHORT_LEASE = {"local": 1.0, "blob": 15.0}


@pytest.fixture(scope="session")
def azurite():
    try:
        binary = find_azurite_blob()
    except AzuriteMissing as exc:
        pytest.fail(str(exc))
    with azurite_server(accounts=["codemiestate"], binary=binary) as server:
        yield server


@pytest.fixture(params=["local", "blob"])
def backend(request, tmp_path) -> dict:
    if request.param == "local":
        return {"kind": "local", "dir": str(tmp_path / "state")}
    account = request.getfixturevalue("azurite").account("codemiestate")
    container = f"state-{uuid.uuid4().hex[:16]}"
    account.service_client().create_container(container)
    return {"kind": "blob", "connection_string": account.connection_string, "api_version": account.api_version,
            "container": container, "prefix": "deployments/codemie"}


@pytest.fixture
def store(backend) -> StateStore:
    return open_store(backend)


def elsewhere(backend: dict, suffix: str) -> dict:
    """Another deployment's state on the same backend (another directory or blob prefix)."""
    key = "dir" if backend["kind"] == "local" else "prefix"
    return {**backend, key: backend[key] + suffix}


def container_client(backend: dict):
    return BlobServiceClient.from_connection_string(
        backend["connection_string"], api_version=backend["api_version"]).get_container_client(backend["container"])


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
    """A helper process holding (or trying to take) the state lock."""

    def __init__(self, backend: dict, **job):
        backend = job.pop("backend_override", backend)
        job = {"operation": "apply", "duration": 15.0, "hold": 30.0, "wait": 0.0, **job, "backend": backend}
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        self.proc = subprocess.Popen([sys.executable, str(WORKER), json.dumps(job)], stdout=subprocess.PIPE,
                                     text=True, env=env, cwd=REPO)

    def line(self, timeout: float = 20.0) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"worker {self.proc.pid} said nothing within {timeout} s"
        return self.proc.stdout.readline().strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


@pytest.fixture
def spawn(backend):
    workers: list[Worker] = []

    def start(**job) -> Worker:
        workers.append(Worker(backend, **job))
        return workers[-1]

    yield start
    for worker in workers:
        worker.stop()
