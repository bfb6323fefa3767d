"""Lock info and the held-lock handle with its heartbeat.

Why finite leases with a heartbeat: an infinite lease (Terraform's azurerm backend) outlives a crashed holder
until someone breaks it by hand. A lease of 15-60 s renewed every third of its duration expires by itself when
the holder dies, while a live holder keeps it as long as it runs. The engine calls `HeldLock.check()` before
each state write, so a holder that lost its lease stops writing instead of racing the next holder.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import LockLost, describe_lock
from .snapshot import utc_now_iso


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class LockInfo:
    """Who holds (or wants) the lock; stored where a blocked user can read it."""

    operation: str
    user: str = field(default_factory=_user)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    since: str = field(default_factory=utc_now_iso)
    tool_version: str = ""
    lock_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    duration: float = 0.0

    def describe(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid}, {self.operation}) since {_short_time(self.since)}"

    __str__ = describe

    def author(self) -> dict[str, Any]:
        return {"user": self.user, "host": self.host, "pid": self.pid, "operation": self.operation}

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LockInfo:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _short_time(iso: str) -> str:
    """`12:01:03Z` for today (UTC), the full date otherwise; the raw text when it does not parse."""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return iso
    text = when.strftime("%H:%M:%SZ")
    return text if when.date() == datetime.now(UTC).date() else f"{when:%Y-%m-%d} {text}"


@dataclass(frozen=True)
class LockStatus:
    """A lock as seen from outside: the holder if its info is readable, and an upper bound on its expiry."""

    holder: LockInfo | None
    expires_hint: float | None

    def describe(self) -> str:
        return describe_lock(self.holder, self.expires_hint)


class HeldLock:
    """The lock this process holds: renews it in the background and says when it is lost."""

    def __init__(self, info: LockInfo, renew: Callable[[], None], interval: float,
                 on_lost: Callable[[LockLost], None] | None = None):
        self.info = info
        self._renew = renew
        self._interval = interval
        self._on_lost = on_lost
        self._lost: LockLost | None = None
        self._last_renewed = time.monotonic()
        self._stop = threading.Event()
        self._mark_guard = threading.Lock()
        self._thread = threading.Thread(target=self._beat, name="state-lock-heartbeat", daemon=True)
        self._thread.start()

    @property
    def lost(self) -> bool:
        return self._lost is not None or self._overdue()

    def check(self) -> None:
        """Raise `LockLost` if the lease was lost or has not been renewed within its duration."""
        if self._lost is None and self._overdue():
            self._mark_lost(self._overdue_error())
        if self._lost is not None:
            raise self._lost

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _overdue(self) -> bool:
        return time.monotonic() - self._last_renewed > self.info.duration

    def _overdue_error(self) -> LockLost:
        return LockLost(f"state lock not renewed for {self.info.duration:g} s; another process may hold it now")

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            started = time.monotonic()
            try:
                self._renew()
            except LockLost as exc:
                self._mark_lost(exc)
                return
            except Exception:  # transient: keep trying until the lease would have run out
                if self._overdue():
                    self._mark_lost(self._overdue_error())
                    return
                continue
            self._last_renewed = started

    def _mark_lost(self, exc: LockLost) -> None:
        with self._mark_guard:
            if self._lost is not None:
                return
            self._lost = exc
        if self._on_lost is not None:
            self._on_lost(exc)
