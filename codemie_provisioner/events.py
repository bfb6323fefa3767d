"""Events: the engine's only way of saying anything.

Why: the engine never prints. Every command reports through an `EventSink` (any callable taking an `Event`),
so the same run can be shown as a live terminal view, as plain log lines, or as JSON lines for other tools,
and tests can assert on exactly what happened. Events carry no secret values: the engine only ever holds
references to generated secrets once they are stored.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    ts: float = field(default_factory=time.time, kw_only=True)

    @property
    def name(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["event"] = self.name
        return data


@dataclass(frozen=True)
class RunStarted(Event):
    command: str
    deployment: str
    resources: int
    parallelism: int = 0


@dataclass(frozen=True)
class ResourcePlanned(Event):
    address: str
    kind: str
    action: str                       # noop | create | update | replace | delete | read
    fields: list[dict] = field(default_factory=list)
    reason: str = ""


@dataclass(frozen=True)
class ResourceStarted(Event):
    address: str
    kind: str
    action: str


@dataclass(frozen=True)
class ResourceProgress(Event):
    address: str
    message: str


@dataclass(frozen=True)
class ResourceRetry(Event):
    address: str
    code: str
    attempt: int
    delay_s: float
    next_step: str                    # e.g. "will retry in 4.0 s (attempt 2 of 8)"


@dataclass(frozen=True)
class ResourceDone(Event):
    address: str
    kind: str
    action: str
    elapsed_s: float
    writes: int = 0


@dataclass(frozen=True)
class ResourceFailed(Event):
    address: str
    kind: str
    action: str
    code: str
    message: str
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class ResourceSkipped(Event):
    address: str
    kind: str
    reason: str


@dataclass(frozen=True)
class DriftFound(Event):
    address: str
    kind: str
    status: str                       # changed | missing
    fields: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class LockWaiting(Event):
    holder: str


@dataclass(frozen=True)
class Message(Event):
    level: str                        # info | warning
    text: str


@dataclass(frozen=True)
class RunFinished(Event):
    command: str
    ok: bool
    elapsed_s: float
    counts: dict[str, int] = field(default_factory=dict)


EventSink = Callable[[Event], None]


def null_sink(_event: Event) -> None:
    """A sink that drops everything (library callers that do not care)."""


class Recorder:
    """A sink that keeps every event, for tests and for callers that render afterwards."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]
