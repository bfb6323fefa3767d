"""State errors: one line each, naming what the user can do about it.

Why here and not only in the top-level errors module: `state` must stay importable without the engine or
the CLI, and the lock errors carry structured data (the holder) that the CLI renders and the engine reacts to.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..errors import ProvisionerError

if TYPE_CHECKING:
    from .lock import LockInfo


class StateError(ProvisionerError):
    """Anything wrong with reading or writing state."""


class StateConflict(StateError):
    """A conditional write lost: the latest serial or the lineage is not what the caller expected."""


class SnapshotNotFound(StateError, KeyError):
    """No snapshot with that serial."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "snapshot not found"


class LockLost(StateError):
    """The lease this process held was broken, taken over, or could not be renewed in time."""


def describe_lock(holder: LockInfo | None, expires_hint: float | None) -> str:
    """One line naming the holder and how the lock goes away."""
    who = holder.describe() if holder else "an unknown holder (no lock info)"
    if expires_hint is None:
        expiry = "the lease does not expire by itself"
    else:
        expiry = f"lease expires within {max(1, math.ceil(expires_hint))} s if that process is gone"
    return f"state is locked by {who}; {expiry}; run 'state unlock' to break it"


class LockHeld(StateError):
    """Someone else holds the state lock."""

    def __init__(self, holder: LockInfo | None, expires_hint: float | None):
        self.holder = holder
        self.expires_hint = expires_hint
        super().__init__(describe_lock(holder, expires_hint))
