"""Fault injection: make chosen calls fail the way Azure fails, reproducibly.

Why: the engine's retry and recovery paths only count as tested if the failures they handle can be produced on
demand. A fault names the calls it hits (method, ARM type, name glob, which matching call) and what happens: an
error answer (status + code, optional Retry-After) or, with `lro_fail`, an accepted operation that later ends
Failed. `transient_rate` adds random 429/5xx answers from a seeded generator so a run replays exactly.

Fault fields: method ("PUT", "*"), type (ARM type, case-insensitive, "*" or a glob), name (glob), nth (first
matching call that fails, 1-based, default 1), times (how many calls from nth fail; 0 = all), status (default
409, or 500 for lro_fail on a synchronous type), code, message, retry_after (seconds), lro_fail (error code),
completes (with lro_fail: the operation reports Failed but the resource still ends Succeeded, like a
GatewayTimeout while the RP keeps working), stuck (the operation never finishes: a resource stuck Updating).
"""

from __future__ import annotations

import fnmatch
import random
import threading

from .model import ArmError

TRANSIENT = ((429, "TooManyRequests"), (500, "InternalServerError"), (503, "ServiceUnavailable"))


class Faults:
    def __init__(self, faults: list[dict], transient_rate: float, seed: int, transient_retry_after: float = 0.05):
        self.faults = [dict(f) for f in faults]
        self.counts = [0] * len(self.faults)
        self.rate = transient_rate
        self.rng = random.Random(seed)
        self.transient_retry_after = transient_retry_after
        self.lock = threading.Lock()

    def hit(self, method: str, type_name: str, name: str) -> dict | None:
        """The first fault this call triggers (counting the call against every fault it matches)."""
        found = None
        with self.lock:
            for i, fault in enumerate(self.faults):
                if not _matches(fault, method, type_name, name):
                    continue
                self.counts[i] += 1
                if found is None and _due(fault, self.counts[i]):
                    found = fault
        return found

    def transient(self) -> ArmError | None:
        if self.rate <= 0:
            return None
        with self.lock:
            if self.rng.random() >= self.rate:
                return None
            status, code = self.rng.choice(TRANSIENT)
        return ArmError(status, code, "Injected transient failure.", retry_after=self.transient_retry_after)


def _matches(fault: dict, method: str, type_name: str, name: str) -> bool:
    want_method = str(fault.get("method", "*")).upper()
    if want_method != "*" and want_method != method.upper():
        return False
    if not fnmatch.fnmatchcase(type_name.lower(), str(fault.get("type", "*")).lower()):
        return False
    return fnmatch.fnmatchcase(name.lower(), str(fault.get("name", "*")).lower())


def _due(fault: dict, count: int) -> bool:
    first, times = int(fault.get("nth", 1)), int(fault.get("times", 1))
    return count >= first and (times == 0 or count < first + times)


def shapes_operation(fault: dict | None) -> bool:
    """Whether the fault acts on the operation (`lro_fail`, `stuck`) rather than answering an error at once."""
    return bool(fault and (fault.get("lro_fail") or fault.get("stuck")))


def as_error(fault: dict) -> ArmError:
    """The error answer of a fault that is not an `lro_fail`."""
    code = fault.get("code", "Conflict")
    return ArmError(int(fault.get("status", 409)), code, fault.get("message", f"Injected fault {code}."),
                    retry_after=fault.get("retry_after"))


def failure(fault: dict) -> dict:
    """The `error` of an operation that ends Failed."""
    code = fault["lro_fail"]
    return {"code": code, "message": fault.get("message", f"Injected operation failure {code}.")}
