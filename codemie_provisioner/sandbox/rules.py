"""Azure's rules the core enforces on every type: throttling, names, locations, global names, parent locks.

Why: these are the behaviours that break naive deployers (azure-behaviours.md §6, §10), and they are the same
for every type apart from a few facts held in `ResourceType`; each can be switched off in the profile.
"""

from __future__ import annotations

import math
import re
import threading
import time

from . import ids
from .model import ArmError, ResourceType


def request_class(method: str) -> str:
    return {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(method, "writes")


class Throttle:
    """ARM's token buckets: one per request class, refilled continuously on the sandbox's clock.

    Under a time scale below 1 (a realistic run compressed, e.g. 100x) the buckets refill that much faster, so
    a compressed deployment meets the same pressure per virtual second as a real one; `instant` keeps real rates.
    """

    def __init__(self, limits: dict[str, tuple[float, float]], time_scale: float = 1.0):
        speed = 1.0 / time_scale if 0 < time_scale < 1 else 1.0
        self.speed = speed
        self.limits = {cls: (size, rate * speed) for cls, (size, rate) in limits.items()}
        self.tokens = {cls: float(size) for cls, (size, _) in limits.items()}
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self, cls: str) -> tuple[int, float | None]:
        """Spend one token: (remaining, None), or (0, seconds to wait) when empty.

        The wait is what ARM says: whole seconds, at least one (of virtual time under a time scale). An exact
        sub-second wait would send every waiting client back at the same instant for the one token refilled.
        """
        with self.lock:
            self._refill()
            size, rate = self.limits.get(cls, (math.inf, math.inf))
            have = self.tokens.get(cls, math.inf)
            if have >= 1:
                self.tokens[cls] = have - 1
                return int(min(have - 1, 1e9)), None
            wait = (1 - have) / rate if rate > 0 else 60.0
            return 0, max(1, math.ceil(wait * self.speed)) / self.speed

    def remaining(self, cls: str) -> int:
        with self.lock:
            return int(min(self.tokens.get(cls, 1e9), 1e9))

    def _refill(self) -> None:
        now = time.monotonic()
        elapsed, self.stamp = now - self.stamp, now
        for cls, (size, rate) in self.limits.items():
            self.tokens[cls] = min(float(size), self.tokens.get(cls, 0.0) + elapsed * rate)


def throttled(wait: float) -> ArmError:
    return ArmError(429, "SubscriptionRequestsThrottled", "Number of requests for subscription exceeded the "
                    f"limit. Please try again after {max(1, math.ceil(wait))} seconds.", retry_after=wait)


def check_name(rt: ResourceType, name: str) -> None:
    if rt.name_rule and not re.fullmatch(rt.name_rule, name):
        raise ArmError(400, rt.name_code, f"Resource name '{name}' is invalid. {rt.name_hint}".strip(),
                       target="name")


def check_location(rt: ResourceType, body: dict) -> None:
    if rt.location and not body.get("location"):
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.",
                       target="location")


def check_global_name(rt: ResourceType, target: ids.Target, others: list[dict]) -> None:
    """Names unique across the cloud: anyone else holding the name (case-insensitively) wins."""
    for rec in others:
        if rec["key"] != target.key and rec["id"].rsplit("/", 1)[-1].lower() == target.name.lower():
            raise ArmError(409, rt.global_name_code, f"The name '{target.name}' is already in use. Names of "
                           f"{rt.type} are global; choose another name.", target="name")


def lock_keys(rt: ResourceType, target: ids.Target) -> list[str]:
    """Lower-case ids of the resources whose write lock this resource takes."""
    if rt.lock is None:
        return []
    if rt.lock == "self":
        return [target.key]
    node = ids.parse(target.parent)
    while node is not None and not node.collection:
        if node.type_name.lower() == rt.lock.lower():
            return [node.key]
        if node.parent == node.path:
            break
        node = ids.parse(node.parent)
    return []


def check_busy(rt: ResourceType, target: ids.Target, pending: list[dict], locks_on: bool,
               extra: list[str] = ()) -> None:
    """With parent locks on, refuse a write while an operation runs on a locked resource (the ancestor named by
    `lock`, or `extra` ones) or while anything else holds the same lock (a type locking "self" also refuses
    writes to itself while busy)."""
    keys = {*lock_keys(rt, target), *lock_ids(extra)} if locks_on else set()
    for op in pending:
        if keys and (op["key"] in keys or keys & set(op.get("locks", ()))):
            raise busy_error(rt, op)


def lock_ids(resource_ids) -> list[str]:
    return [ids.clean(r).lower() for r in resource_ids]


def in_progress(key: str, pending: list[dict]) -> bool:
    key = key.lower()
    return any(op["key"] == key or key in op.get("locks", ()) for op in pending)


def busy_error(rt: ResourceType, op: dict) -> ArmError:
    status, code = rt.busy
    message = (f"Another operation on this or a dependent resource is in progress (operation {op['id']} on "
               f"{op['rid']}). Retry the request after it completes.")
    details = [{"code": "RetryableErrorDueToAnotherOperation", "message": message}] if status == 429 else None
    return ArmError(status, code, message, details=details, retry_after=rt.busy_retry_after)
