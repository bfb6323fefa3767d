"""The state store contract and everything both backends share.

Why this split: the backends (local directory, Azure blob container) differ only in a handful of storage
primitives: create a snapshot only if its name is free, read one, list summaries, move the `current` pointer
forward, and the four lock moves. Serial checks, lineage, history, diff, rollback and the lock wait loop are
written once here, so both backends behave the same and are tested with the same tests.

Commit point: a write is committed when its snapshot object is created under a name that was free
(`If-None-Match: *` / a hard link). The `current` pointer is only a shortcut: readers start from it and walk
forward over any snapshot a crashed writer created without moving the pointer. So no crash leaves the store
blocked, and no snapshot is ever overwritten.
"""

from __future__ import annotations

import abc
import dataclasses
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .errors import LockHeld, LockLost, SnapshotNotFound, StateConflict, StateError
from .lock import HeldLock, LockInfo, LockStatus
from .snapshot import Snapshot, SnapshotSummary, diff_snapshots, tool_version, utc_now_iso

SNAPSHOT_DIGITS = 8


def snapshot_name(serial: int) -> str:
    return f"{serial:0{SNAPSHOT_DIGITS}d}.json"


class StateStore(abc.ABC):
    """Snapshots with history, conditional writes and a lease lock; see the module docstring."""

    #: allowed lease durations in seconds (inclusive)
    lease_bounds: tuple[float, float] = (0.1, 3600.0)

    def __init__(self) -> None:
        self._held: HeldLock | None = None

    # -- storage primitives (per backend) -------------------------------------------------------------

    @abc.abstractmethod
    def _read_snapshot(self, serial: int) -> bytes | None: ...

    @abc.abstractmethod
    def _snapshot_exists(self, serial: int) -> bool: ...

    @abc.abstractmethod
    def _create_snapshot(self, serial: int, data: bytes, summary: SnapshotSummary) -> bool:
        """Create the snapshot only if the name is free; False when it already exists."""

    @abc.abstractmethod
    def _list_summaries(self) -> list[SnapshotSummary]: ...

    @abc.abstractmethod
    def _read_pointer(self) -> tuple[int, str | None]:
        """(serial, lineage) of the `current` pointer; (0, None) when there is none."""

    @abc.abstractmethod
    def _advance_pointer(self, serial: int, lineage: str) -> None:
        """Move the pointer to `serial` unless it already points there or later."""

    # -- lock primitives (per backend) ----------------------------------------------------------------

    @abc.abstractmethod
    def _try_lock(self, info: LockInfo) -> LockStatus | None:
        """Take the lock for `info.duration` seconds; None on success, else who holds it."""

    @abc.abstractmethod
    def _renew_lock(self, info: LockInfo) -> None:
        """Extend the lease; raise `LockLost` when it is gone, anything else counts as transient."""

    @abc.abstractmethod
    def _release_lock(self, info: LockInfo) -> None: ...

    @abc.abstractmethod
    def lock_status(self) -> LockStatus | None:
        """The current lock as others see it; None when free."""

    @abc.abstractmethod
    def break_lock(self) -> bool:
        """Break whatever lease is held, whoever holds it; True if there was one."""

    # -- snapshots ------------------------------------------------------------------------------------

    def latest(self) -> Snapshot | None:
        serial, _ = self._head()
        return self.get(serial) if serial else None

    def get(self, serial: int) -> Snapshot:
        data = self._read_snapshot(serial)
        if data is None:
            raise SnapshotNotFound(f"state snapshot {serial} does not exist")
        return Snapshot.from_json(data)

    @property
    def lineage(self) -> str | None:
        return self._head()[1]

    def history(self) -> list[SnapshotSummary]:
        return sorted(self._list_summaries(), key=lambda s: s.serial)

    def diff(self, a: int | Snapshot, b: int | Snapshot) -> dict:
        return diff_snapshots(self._resolve(a), self._resolve(b))

    def write(self, doc: Snapshot | Mapping[str, Any], expect_serial: int | None) -> Snapshot:
        """Write `doc` as serial `expect_serial + 1` (1 when None); refuse if the latest serial moved.

        The store stamps serial, lineage (kept from the first snapshot), created_at and created_by (from the
        lock holder); a plain dict is accepted in the snapshot's shape."""
        doc = doc if isinstance(doc, Snapshot) else Snapshot.from_dict(dict(doc))
        held = self._require_lock()
        serial, lineage = self._head()
        if serial != (expect_serial or 0):
            found = f"serial {serial}" if serial else "no state"
            raise StateConflict(f"state moved: expected serial {expect_serial}, found {found}; re-run to plan again")
        if lineage and doc.lineage and doc.lineage != lineage:
            raise StateConflict(f"state lineage is {lineage}, the document belongs to {doc.lineage}")
        new = dataclasses.replace(
            doc, serial=serial + 1, lineage=lineage or doc.lineage or str(uuid.uuid4()),
            created_at=utc_now_iso(), created_by=held.info.author(),
            tool_version=doc.tool_version or held.info.tool_version or tool_version(),
        )
        held.check()
        if not self._create_snapshot(new.serial, new.to_json().encode(), new.summary()):
            raise StateConflict(f"state snapshot {new.serial} was written by another process meanwhile")
        self._advance_pointer(new.serial, new.lineage)
        return new

    def rollback(self, serial: int) -> Snapshot:
        """Write a new serial whose content is snapshot `serial`'s; history stays as it is."""
        old = self.get(serial)
        doc = Snapshot(resources=old.resources, outputs=old.outputs, pending=old.pending,
                       spec_hash=old.spec_hash, lineage=old.lineage, reason=f"rollback of {serial}")
        return self.write(doc, expect_serial=self._head()[0] or None)

    def import_history(self, source: StateStore) -> int:
        """Copy the snapshots `source` has beyond this store's latest, verbatim (serials, authors, lineage).

        For moving a deployment's state between backends; needs this store's lock. Returns how many."""
        held = self._require_lock()
        serial, lineage = self._head()
        last, source_lineage = source._head()
        if serial and lineage != source_lineage:
            raise StateConflict(f"cannot import: lineage {source_lineage} is not this store's {lineage}")
        for n in range(serial + 1, last + 1):
            if (data := source._read_snapshot(n)) is None:
                raise SnapshotNotFound(f"state snapshot {n} is missing from {source!r}")
            held.check()
            if not self._create_snapshot(n, data, Snapshot.from_json(data).summary()):
                raise StateConflict(f"state snapshot {n} was written by another process meanwhile")
            self._advance_pointer(n, source_lineage or "")
        return max(0, last - serial)

    def _head(self) -> tuple[int, str | None]:
        serial, lineage = self._read_pointer()
        while self._snapshot_exists(serial + 1):
            serial += 1
        if serial and not lineage:
            lineage = self.get(serial).lineage
        return serial, lineage

    def _resolve(self, ref: int | Snapshot) -> Snapshot:
        return ref if isinstance(ref, Snapshot) else self.get(ref)

    # -- lock -----------------------------------------------------------------------------------------

    def lock_holder(self) -> LockInfo | None:
        """Who holds the lock, if its info is readable (see `lock_status()` for 'locked, holder unknown')."""
        status = self.lock_status()
        return status.holder if status else None

    @contextmanager
    def lock(self, info: LockInfo | Mapping[str, Any], duration: float = 30, wait: float = 0.0, *,
             heartbeat: float | None = None, on_lost: Callable[[LockLost], None] | None = None,
             on_wait: Callable[[LockStatus], None] | None = None) -> Iterator[HeldLock]:
        """Hold the state lock for the block; raise `LockHeld` if still taken after `wait` seconds.

        `info` may be a dict with LockInfo's fields (`operation` at least)."""
        low, high = self.lease_bounds
        if not low <= duration <= high:
            raise ValueError(f"lock duration must be between {low:g} and {high:g} s, got {duration:g}")
        if self._held is not None:
            raise StateError("this store object already holds the state lock")
        info = info if isinstance(info, LockInfo) else LockInfo.from_dict(dict(info))
        info = dataclasses.replace(info, duration=duration, since=utc_now_iso())
        self._acquire(info, wait, on_wait)
        held = HeldLock(info, lambda: self._renew_lock(info), heartbeat or duration / 3, on_lost)
        self._held = held
        try:
            yield held
        finally:
            self._held = None
            held.stop()
            if not held.lost:
                self._release_lock(info)

    def _acquire(self, info: LockInfo, wait: float, on_wait: Callable[[LockStatus], None] | None) -> None:
        deadline = time.monotonic() + wait
        waited = False
        while (status := self._try_lock(info)) is not None:
            if _abandoned_here(status.holder):
                self.break_lock()            # its holder ran on this machine and is gone: no need to wait
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockHeld(status.holder, status.expires_hint)
            if on_wait is not None and not waited:
                on_wait(status)
            waited = True
            time.sleep(min(1.0, remaining))

    def _require_lock(self) -> HeldLock:
        if self._held is None:
            raise StateError("state writes need the state lock: call them inside `with store.lock(...)`")
        self._held.check()
        return self._held


def _abandoned_here(holder: LockInfo | None) -> bool:
    """True when the holder ran on this host and its process no longer exists (killed, crashed)."""
    if holder is None or not holder.pid or holder.host != socket.gethostname() or holder.pid == os.getpid():
        return False
    try:
        os.kill(int(holder.pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, OverflowError):
        return False
    return False
