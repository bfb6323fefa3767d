"""Open a state store from a JSON description, and (run as a script) hold its lock in another process.

Why a real second process: the lock must work between processes on different hosts; threads in one process
would share the store object and hide exactly the bugs (lease ids, stale info, SIGKILL) the tests look for.

Script protocol: argv[1] is JSON {"backend", "operation", "duration", "heartbeat", "hold", "start_at", "wait"}.
Prints `LOCKED <lock_id>` and holds the lock for `hold` seconds (checking it), `HELD <message>` (exit 3)
when someone else holds it, `LOST <message>` (exit 4) when the lease is lost while holding.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from azure.storage.blob import BlobServiceClient, ContainerClient

from codemie_provisioner.state import (
    BlobStateStore,
    LocalStateStore,
    LockHeld,
    LockInfo,
    LockLost,
    StateStore,
)


def container_client(backend: dict[str, Any]) -> ContainerClient:
    service = BlobServiceClient.from_connection_string(backend["connection_string"],
                                                       api_version=backend["api_version"])
    return service.get_container_client(backend["container"])


def open_store(backend: dict[str, Any]) -> StateStore:
    if backend["kind"] == "local":
        return LocalStateStore(backend["dir"])
    return BlobStateStore(container_client(backend), backend["prefix"])


def elsewhere(backend: dict[str, Any], suffix: str) -> dict[str, Any]:
    """Another deployment's state on the same backend (another directory or blob prefix)."""
    key = "dir" if backend["kind"] == "local" else "prefix"
    return {**backend, key: backend[key] + suffix}


def hold_lock(job: dict[str, Any]) -> int:
    store = open_store(job["backend"])
    if job.get("start_at"):
        time.sleep(max(0.0, job["start_at"] - time.time()))
    try:
        with store.lock(LockInfo(job["operation"]), job["duration"], job.get("wait", 0.0),
                        heartbeat=job.get("heartbeat")) as held:
            print("LOCKED", held.info.lock_id, flush=True)
            end = time.monotonic() + job["hold"]
            while time.monotonic() < end:
                held.check()
                time.sleep(0.1)
    except LockHeld as exc:
        print("HELD", exc, flush=True)
        return 3
    except LockLost as exc:
        print("LOST", exc, flush=True)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(hold_lock(json.loads(sys.argv[1])))
