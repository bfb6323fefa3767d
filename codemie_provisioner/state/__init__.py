"""State: immutable snapshots with history, conditional writes and a finite, heartbeat-renewed lock.

Why a package of its own: the engine checkpoints through this API only, and the CLI's `state` commands
(history, diff, rollback, unlock) use the same objects, whichever backend holds the deployment.
"""

from .blob import BlobStateStore
from .errors import LockHeld, LockLost, SnapshotNotFound, StateConflict, StateError
from .local import LocalStateStore
from .lock import HeldLock, LockInfo, LockStatus
from .snapshot import Snapshot, SnapshotSummary, changed_paths, diff_snapshots
from .store import StateStore

__all__ = [
    "BlobStateStore",
    "HeldLock",
    "LocalStateStore",
    "LockHeld",
    "LockInfo",
    "LockLost",
    "LockStatus",
    "Snapshot",
    "SnapshotNotFound",
    "SnapshotSummary",
    "StateConflict",
    "StateError",
    "StateStore",
    "changed_paths",
    "diff_snapshots",
]
