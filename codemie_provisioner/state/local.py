"""State in a local directory, with the same guarantees as the blob store.

Why these file moves: a snapshot is written to a temporary file and hard-linked to its final name, which
fails if the name exists, so a snapshot appears complete or not at all and is never overwritten. The pointer
and the lock file are replaced by atomic renames. Every lock move runs under `flock` on a guard file, which
the kernel drops when the process dies, while the lock itself carries an expiry renewed by the heartbeat, so a
SIGKILLed holder's lock frees itself once the expiry passes.

Layout: `snapshots/00000007.json`, `summaries/00000007.json`, `current.json`, `lock.json`, `lock.guard`.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LockLost
from .lock import LockInfo, LockStatus
from .snapshot import Snapshot, SnapshotSummary
from .store import StateStore, snapshot_name


def _temp_beside(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def create_exclusive(path: Path, data: bytes) -> bool:
    """Make `path` hold `data` unless it exists; readers never see a partial file."""
    tmp = _temp_beside(path, data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()


def replace_atomic(path: Path, data: bytes) -> None:
    os.replace(_temp_beside(path, data), path)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


class LocalStateStore(StateStore):
    """State kept under one directory (created on first use)."""

    def __init__(self, directory: str | os.PathLike[str]):
        super().__init__()
        self.directory = Path(directory)
        self._snapshots = self.directory / "snapshots"
        self._summaries = self.directory / "summaries"
        self._pointer = self.directory / "current.json"
        self._lock_file = self.directory / "lock.json"

    def __repr__(self) -> str:
        return f"LocalStateStore({str(self.directory)!r})"

    # -- snapshots ------------------------------------------------------------------------------------

    def _read_snapshot(self, serial: int) -> bytes | None:
        return _read(self._snapshots / snapshot_name(serial))

    def _snapshot_exists(self, serial: int) -> bool:
        return (self._snapshots / snapshot_name(serial)).exists()

    def _create_snapshot(self, serial: int, data: bytes, summary: SnapshotSummary) -> bool:
        self._snapshots.mkdir(parents=True, exist_ok=True)
        self._summaries.mkdir(exist_ok=True)
        if not create_exclusive(self._snapshots / snapshot_name(serial), data):
            return False
        create_exclusive(self._summaries / snapshot_name(serial), json.dumps(summary.to_dict()).encode())
        return True

    def _list_summaries(self) -> list[SnapshotSummary]:
        if not self._snapshots.is_dir():
            return []
        return [self._summary(path) for path in self._snapshots.glob("[0-9]*.json")]

    def _summary(self, snapshot_path: Path) -> SnapshotSummary:
        cached = _read(self._summaries / snapshot_path.name)
        if cached is not None:  # a writer killed between the two links leaves no summary: read the snapshot
            return SnapshotSummary.from_dict(json.loads(cached))
        return Snapshot.from_json(snapshot_path.read_bytes()).summary()

    def _read_pointer(self) -> tuple[int, str | None]:
        data = _read(self._pointer)
        if data is None:
            return 0, None
        pointer = json.loads(data)
        return pointer["serial"], pointer["lineage"]

    def _advance_pointer(self, serial: int, lineage: str) -> None:
        with self._guard():
            if self._read_pointer()[0] < serial:
                replace_atomic(self._pointer, json.dumps({"serial": serial, "lineage": lineage}).encode())

    # -- lock -----------------------------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "lock.guard", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def _read_lock(self) -> tuple[LockInfo | None, float] | None:
        data = _read(self._lock_file)
        if data is None:
            return None
        try:
            record = json.loads(data)
            return LockInfo.from_dict(record["info"]), float(record["expires_at"])
        except (ValueError, KeyError, TypeError):  # hand-edited: held for a minute after its last change
            return None, self._lock_file.stat().st_mtime + 60

    def _write_lock(self, info: LockInfo) -> None:
        record = {"info": json.loads(info.to_json()), "expires_at": time.time() + info.duration}
        replace_atomic(self._lock_file, json.dumps(record, indent=2).encode())

    def _try_lock(self, info: LockInfo) -> LockStatus | None:
        with self._guard():
            status = self.lock_status()
            if status is not None:
                return status
            self._write_lock(info)
            return None

    def _renew_lock(self, info: LockInfo) -> None:
        with self._guard():
            current = self._read_lock()
            if current is None or current[0] is None or current[0].lock_id != info.lock_id:
                raise LockLost("the state lock was broken or taken over by another process")
            self._write_lock(info)

    def _release_lock(self, info: LockInfo) -> None:
        with self._guard():
            current = self._read_lock()
            if current is not None and current[0] is not None and current[0].lock_id == info.lock_id:
                self._lock_file.unlink()

    def lock_status(self) -> LockStatus | None:
        current = self._read_lock()
        if current is None:
            return None
        holder, expires_at = current
        remaining = expires_at - time.time()
        return LockStatus(holder, remaining) if remaining > 0 else None

    def break_lock(self) -> bool:
        with self._guard():
            try:
                self._lock_file.unlink()
                return True
            except FileNotFoundError:
                return False
