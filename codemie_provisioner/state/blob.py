"""State in an Azure Blob container, guarded by conditional requests and a finite blob lease.

Why this lock protocol: Terraform's azurerm backend leases first and writes the lock info afterwards, so a
crash in between leaves a lease nobody can attribute and force-unlock cannot clear. Here the lock blob is
created with our info as its content (`If-None-Match: *`) and only then leased (`If-Match` on the ETag we
created), so a leased lock blob always names its holder. A lock blob without a lease (holder crashed before
leasing, lease expired or broken) is free: a contender deletes it by ETag and creates its own. The lease is
finite (15-60 s) and renewed by the heartbeat, so it expires by itself when the holder dies.

Snapshots are immutable blobs created with `If-None-Match: *` carrying a summary in their metadata (history is
one listing); `current.json` is a pointer moved forward with `If-Match`. Blob versioning is not relied on
(Azurite has none).

Layout under `prefix`: `snapshots/00000007.json`, `current.json`, `lock.json`.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import (
    BlobClient,
    BlobLeaseClient,
    BlobServiceClient,
    ContainerClient,
    ContentSettings,
)

from .errors import LockLost
from .lock import LockInfo, LockStatus
from .snapshot import SnapshotSummary
from .store import StateStore, snapshot_name

JSON = ContentSettings(content_type="application/json")
LOST_LEASE_STATUSES = (404, 409, 412)   # blob gone, lease broken or replaced, lease id mismatch


@dataclass(frozen=True)
class _LockBlob:
    etag: str
    leased: bool
    infinite: bool
    holder: LockInfo | None


def _download(blob: BlobClient) -> bytes | None:
    try:
        return blob.download_blob().readall()
    except ResourceNotFoundError:
        return None


def _parse_info(data: bytes) -> LockInfo | None:
    try:
        return LockInfo.from_dict(json.loads(data))
    except (ValueError, TypeError):
        return None


class BlobStateStore(StateStore):
    """State kept in one container under `prefix`."""

    lease_bounds = (15.0, 60.0)
    #: how long a contender waits before treating an unleased lock blob as abandoned
    settle_seconds = 0.5
    acquire_attempts = 5

    def __init__(self, container: ContainerClient, prefix: str = ""):
        super().__init__()
        self.container = container
        self.prefix = prefix.strip("/")
        self._pointer = container.get_blob_client(self._name("current.json"))
        self._lock_blob = container.get_blob_client(self._name("lock.json"))

    @classmethod
    def from_account(cls, account_url: str, credential: Any, container: str, prefix: str = "", *,
                     create_container: bool = False, **client_kwargs: Any) -> BlobStateStore:
        """Build from an account URL; `client_kwargs` go to `BlobServiceClient` (e.g. `api_version`)."""
        service = BlobServiceClient(account_url, credential=credential, **client_kwargs)
        client = service.get_container_client(container)
        if create_container:
            with contextlib.suppress(ResourceExistsError):
                client.create_container()
        return cls(client, prefix)

    def __repr__(self) -> str:
        return f"BlobStateStore({self.container.url!r}, prefix={self.prefix!r})"

    def _name(self, *parts: str) -> str:
        return "/".join([self.prefix, *parts] if self.prefix else parts)

    def _snapshot_blob(self, serial: int) -> BlobClient:
        return self.container.get_blob_client(self._name("snapshots", snapshot_name(serial)))

    # -- snapshots ------------------------------------------------------------------------------------

    def _read_snapshot(self, serial: int) -> bytes | None:
        return _download(self._snapshot_blob(serial))

    def _snapshot_exists(self, serial: int) -> bool:
        return self._snapshot_blob(serial).exists()

    def _create_snapshot(self, serial: int, data: bytes, summary: SnapshotSummary) -> bool:
        metadata = {"summary": json.dumps(summary.to_dict())}
        try:
            self._snapshot_blob(serial).upload_blob(data, overwrite=False, metadata=metadata, content_settings=JSON)
        except ResourceExistsError:
            return False
        return True

    def _list_summaries(self) -> list[SnapshotSummary]:
        summaries = []
        for item in self.container.list_blobs(name_starts_with=self._name("snapshots", ""), include=["metadata"]):
            stem = item.name.rsplit("/", 1)[-1].removesuffix(".json")
            if not stem.isdigit():
                continue
            raw = (item.metadata or {}).get("summary")
            summaries.append(SnapshotSummary.from_dict(json.loads(raw)) if raw else self.get(int(stem)).summary())
        return summaries

    def _pointer_with_etag(self) -> tuple[dict[str, Any] | None, str | None]:
        try:
            download = self._pointer.download_blob()
        except ResourceNotFoundError:
            return None, None
        return json.loads(download.readall()), download.properties.etag

    def _read_pointer(self) -> tuple[int, str | None]:
        pointer, _ = self._pointer_with_etag()
        return (pointer["serial"], pointer["lineage"]) if pointer else (0, None)

    def _advance_pointer(self, serial: int, lineage: str) -> None:
        body = json.dumps({"serial": serial, "lineage": lineage}).encode()
        for _ in range(self.acquire_attempts):   # a lagging pointer is harmless: readers walk forward
            pointer, etag = self._pointer_with_etag()
            if pointer and pointer["serial"] >= serial:
                return
            guard = {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}
            try:
                self._pointer.upload_blob(body, overwrite=bool(etag), content_settings=JSON, **guard)
                return
            except (ResourceModifiedError, ResourceExistsError):
                continue

    # -- lock -----------------------------------------------------------------------------------------

    def _read_lock(self) -> _LockBlob | None:
        try:
            download = self._lock_blob.download_blob()
        except ResourceNotFoundError:
            return None
        lease = download.properties.lease
        return _LockBlob(download.properties.etag, lease.status == "locked", lease.duration == "infinite",
                         _parse_info(download.readall()))

    def _status(self, lock: _LockBlob) -> LockStatus:
        if lock.infinite:
            return LockStatus(lock.holder, None)
        bound = lock.holder.duration if lock.holder and lock.holder.duration else self.lease_bounds[1]
        return LockStatus(lock.holder, bound)

    def lock_status(self) -> LockStatus | None:
        lock = self._read_lock()
        return self._status(lock) if lock and lock.leased else None

    def _try_lock(self, info: LockInfo) -> LockStatus | None:
        for _ in range(self.acquire_attempts):
            try:
                created = self._lock_blob.upload_blob(info.to_json().encode(), overwrite=False, content_settings=JSON)
            except ResourceExistsError:
                status = self._held_or_cleared()
                if status is not None:
                    return status
                continue
            try:
                BlobLeaseClient(self._lock_blob, lease_id=info.lock_id).acquire(
                    int(info.duration), etag=created["etag"], match_condition=MatchConditions.IfNotModified)
                return None
            except HttpResponseError as exc:   # a contender cleared our blob as abandoned before we leased it
                if exc.status_code not in LOST_LEASE_STATUSES:
                    raise
        lock = self._read_lock()
        return self._status(lock) if lock else LockStatus(None, self.lease_bounds[1])

    def _held_or_cleared(self) -> LockStatus | None:
        """Status of a leased lock blob; None after clearing an abandoned one (or when it vanished)."""
        first = self._read_lock()
        if first is None or first.leased:
            return self._status(first) if first else None
        time.sleep(self.settle_seconds)   # a live acquirer leases the blob right after creating it
        second = self._read_lock()
        if second is None or second.leased:
            return self._status(second) if second else None
        if second.etag == first.etag:
            with contextlib.suppress(ResourceModifiedError, ResourceNotFoundError):
                self._lock_blob.delete_blob(etag=second.etag, match_condition=MatchConditions.IfNotModified)
        return None

    def _renew_lock(self, info: LockInfo) -> None:
        try:
            BlobLeaseClient(self._lock_blob, lease_id=info.lock_id).renew()
        except HttpResponseError as exc:
            if exc.status_code in LOST_LEASE_STATUSES:
                raise LockLost(f"the state lock lease was lost ({exc.error_code or exc.status_code}); "
                               "another process may hold it now") from exc
            raise

    def _release_lock(self, info: LockInfo) -> None:
        with contextlib.suppress(HttpResponseError):   # already broken or expired: nothing of ours to release
            self._lock_blob.delete_blob(lease=info.lock_id)

    def break_lock(self) -> bool:
        try:
            BlobLeaseClient(self._lock_blob).break_lease(lease_break_period=0)
        except HttpResponseError as exc:
            if exc.status_code in (404, 409):   # no blob, or no lease on it
                return False
            raise
        return True
