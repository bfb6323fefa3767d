"""Where the state lives: a local directory until the deployment's own backend exists, then its container.

Why: Phase 1 creates the storage account that holds the state of everything, including Phase 1 itself. The
chicken-and-egg is solved without a manual step: the spec names the backend (`state: {backend: ${ref.acct},
container: tfstate}`); before it exists the engine keeps snapshots in a local directory, and as soon as an
apply has created it the whole history moves into the container (serials and lineage kept) and the local
directory is marked as moved. Every later run, on any machine, finds the account by its spec-derived id and
uses the container. Destroying the backend moves the state back out first, so it is never lost with it.

In the sandbox the backend's blob endpoint is used only when it is on loopback (an Azurite started by tests);
otherwise the local directory serves, with the same semantics.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .. import events as ev
from .gateway import Target, raw_json
from .kinds import KINDS
from .resolve import Resolver

MOVED = "MOVED.json"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _local(deployment: Any, directory: Path) -> Any:
    from ..state import LocalStateStore

    return LocalStateStore(Path(directory) / deployment.name)


def backend_location(deployment: Any, target: Target) -> tuple[str, str, str] | None:
    """(storage account id, account name, container) named by the spec, or None."""
    state = getattr(deployment, "state", None)
    if state is None or not (state.backend or state.backend_id):
        return None
    resolver = Resolver({r.address: r for r in deployment.resources}, target.subscription_id)
    account_id = resolver.id_of(state.backend) if state.backend else str(resolver.value(state.backend_id))
    return account_id, account_id.rsplit("/", 1)[-1], state.container


def blob_store(deployment: Any, target: Target) -> Any | None:
    """The blob store of the deployment's backend, if the account and container exist and are reachable."""
    loc = backend_location(deployment, target)
    if loc is None:
        return None
    account_id, name, container = loc
    from .gateway import Gateway

    gw = Gateway(target)
    account = gw.observe(KINDS["storage_account"], account_id)
    endpoint = ((account or {}).get("properties", {}).get("primaryEndpoints") or {}).get("blob")
    if not endpoint or (target.sandbox and urlparse(endpoint).hostname not in LOOPBACK):
        return None
    if gw.observe(KINDS["blob_container"], f"{account_id}/blobServices/default/containers/{container}") is None:
        return None
    from ..state import BlobStateStore

    rg = account_id.split("/")[4]
    keys = gw.client("storage").storage_accounts.list_keys(rg, name, cls=raw_json)
    credential = {"account_name": name, "account_key": keys["keys"][0]["value"]}
    pinned = {"api_version": target.extra["blob_api_version"]} if target.extra.get("blob_api_version") else {}
    return BlobStateStore.from_account(endpoint, credential, container, deployment.name, create_container=True,
                                       **pinned)


def open_store(deployment: Any, target: Target, local_dir: Path, sink: ev.EventSink) -> Any:
    store = blob_store(deployment, target)
    if store is not None:
        return store
    return _local(deployment, local_dir)


def migrate_if_ready(deployment: Any, target: Target, store: Any, sink: ev.EventSink) -> Any:
    """After an apply: if the state still lives locally and the backend now exists, move it there."""
    from ..state import LocalStateStore

    if not isinstance(store, LocalStateStore):
        return store
    remote = blob_store(deployment, target)
    if remote is None:
        return store
    copy_history(store, remote)
    marker = Path(store.directory) / MOVED
    marker.write_text(json.dumps({"moved_to": "blob", "backend": backend_location(deployment, target)[0]}))
    sink(ev.Message("info", f"state moved into the deployment's backend container "
                            f"({backend_location(deployment, target)[1]}/{backend_location(deployment, target)[2]})"))
    return remote


def evacuate_backend(deployment: Any, target: Target, store: Any, targets: list[str] | None,
                     local_dir: Path, sink: ev.EventSink) -> Any:
    """Before a destroy that removes the backend: move the state back to the local directory."""
    from ..state import LocalStateStore

    if isinstance(store, LocalStateStore):
        return store
    loc = backend_location(deployment, target)
    if loc is None or (targets and deployment.state.backend not in targets):
        return store
    local = _local(deployment, local_dir)
    copy_history(store, local)
    (Path(local.directory) / MOVED).unlink(missing_ok=True)
    sink(ev.Message("info", f"state copied out of the backend container to {local.directory} before destroying it"))
    return local


def copy_history(src: Any, dst: Any) -> None:
    """Copy every snapshot the destination does not hold yet, verbatim, under the destination's lock."""
    from .core import who

    with dst.lock(who("migrate state"), wait=5.0):
        dst.import_history(src)
