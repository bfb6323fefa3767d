"""Retries: each failure class has exactly one owner and a bounded budget.

Why: stacking retries (SDK policy under a provider retry under a user's re-run) turns one wrong principal into
half an hour of waiting (peer-lessons §2.11). The split here:

* HTTP-level transient answers to a single request (408, 429, 500, 502, 503, 504) belong to azure-core's retry
  policy, which honours Retry-After. `TransportRetryPolicy` restricts it to exactly those statuses (plain
  azure-core would also retry any answer carrying Retry-After, e.g. a 409), so nothing is retried twice.
* Azure-level classes belong to the engine (`RetryBudget`): a busy parent, replication lag after a new
  identity or role grant, and long-running operations that *ended* Failed with a transient code.
* Everything permanent (authorization, quota, invalid parameters, policy) fails at once.

The class of an error comes from its ARM code first and its HTTP status second (unknown 400 = permanent,
other unknown = transient), as one table below.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import HTTPPolicy, RetryPolicy

TRANSPORT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class TransportRetryPolicy(RetryPolicy):
    """azure-core's retry policy, limited to the statuses it owns (see the module docstring)."""

    def is_retry(self, settings, response):  # type: ignore[override]
        if response.http_response.status_code not in TRANSPORT_STATUSES:
            return False
        return super().is_retry(settings, response)


class ThrottleGate:
    """Slows the whole run, not one request, when Azure throttles.

    ARM's buckets are per subscription, so when one request gets a 429 every other worker would get one too:
    each retrying on its own wakes at the same moment and starves the rest. The gate (one per target) holds
    every request of every client until the Retry-After has passed, with a little jitter so the herd does not
    return at once. It never retries anything itself. Each client gets its own `policy()` (a pipeline policy
    object belongs to exactly one pipeline); they share this gate's state.
    """

    def __init__(self, on_throttle: Callable[[float], None] | None = None, rng: random.Random | None = None):
        self._resume = 0.0
        self._mu = threading.Lock()
        self._rng = rng or random.Random()
        self.on_throttle = on_throttle
        self.hits = 0

    def policy(self) -> HTTPPolicy:
        return _GatePolicy(self)

    def wait(self) -> None:
        with self._mu:
            wait = self._resume - time.monotonic()
            if wait > 0:
                wait += self._rng.uniform(0, 0.2 * wait)
        if wait > 0:
            time.sleep(wait)

    def hold(self, seconds: float) -> None:
        with self._mu:
            now = time.monotonic()
            new_pause = self._resume <= now
            self._resume = max(self._resume, now + seconds)
            self.hits += 1
        if new_pause and self.on_throttle is not None:
            self.on_throttle(seconds)


class _GatePolicy(HTTPPolicy):
    """One client's door through the shared gate (runs inside the retry loop, before authentication)."""

    def __init__(self, gate: ThrottleGate):
        super().__init__()
        self.gate = gate

    def send(self, request):
        self.gate.wait()
        response = self.next.send(request)
        if response.http_response.status_code == 429:
            self.gate.hold(retry_after_s(response.http_response.headers) or 1.0)
        return response


def retry_after_s(headers) -> float | None:
    """Seconds from Retry-After (seconds) or retry-after-ms / x-ms-retry-after-ms, as azure-core reads them."""
    for name, scale in (("retry-after", 1.0), ("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001)):
        value = headers.get(name)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                return None
    return None


CLASSES: dict[str, frozenset[str]] = {
    "parent_busy": frozenset({
        "AnotherOperationInProgress", "RetryableError", "OperationNotAllowed", "RequestConflict",
        "ServerIsBusy", "StorageAccountOperationInProgress", "ConflictError", "Conflict",
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
        "ReferencedResourceNotProvisioned", "InUseSubnetCannotBeDeleted_Transient",
    }),
    "replication": frozenset({
        "PrincipalNotFound", "ForbiddenByRbac", "DeploymentNotFound", "PrincipalNotFoundInDirectory",
    }),
    "throttled": frozenset({"Throttled", "TooManyRequestsReceived", "SubscriptionRequestsThrottled"}),
    "transient": frozenset({"InternalServerError", "GatewayTimeout", "ServiceUnavailable", "InternalError"}),
    "permanent": frozenset({
        "AuthorizationFailed", "QuotaExceeded", "BadRequest", "InvalidParameter", "SkuNotAvailable",
        "RequestDisallowedByPolicy", "PropertyChangeNotAllowed", "RoleAssignmentUpdateNotPermitted",
        "InvalidResourceName", "LinkedAuthorizationFailed", "InvalidTemplate",
    }),
}


@dataclass(frozen=True)
class AzureFailure:
    status: int
    code: str
    message: str
    in_lro: bool                # True when a long-running operation ended Failed (status of the poll is 2xx)

    def __str__(self) -> str:
        return f"{self.code} ({self.status}): {self.message}"


def failure_of(exc: BaseException) -> AzureFailure:
    """Azure's status, code and message from an SDK exception (codes, never message text, decide)."""
    if not isinstance(exc, HttpResponseError):
        return AzureFailure(0, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "", False)
    status = exc.status_code or (exc.response.status_code if exc.response is not None else 0) or 0
    code, message = _code_and_message(exc)
    return AzureFailure(status, code, message, in_lro=200 <= status < 300)


def _code_and_message(exc: HttpResponseError) -> tuple[str, str]:
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    message = getattr(err, "message", None)
    if not code and exc.response is not None:
        try:
            body = json.loads(exc.response.text() or "{}")
        except (ValueError, TypeError):
            body = {}
        inner = body.get("error", body) if isinstance(body, dict) else {}
        code, message = inner.get("code"), inner.get("message")
    first = (message or exc.reason or str(exc)).splitlines()[0]
    return code or f"HTTP{exc.status_code}", first


def classify(failure: AzureFailure) -> str:
    """-> parent_busy | replication | throttled | transient | permanent."""
    if failure.status in TRANSPORT_STATUSES:
        return "permanent"          # azure-core's policy owned this answer and has spent its budget
    for name, codes in CLASSES.items():
        if failure.code in codes:
            return name
    if 400 <= failure.status < 500 and failure.status != 409:
        return "permanent"
    return "transient"


@dataclass(frozen=True)
class Budget:
    attempts: int
    base_s: float
    cap_s: float


BUDGETS: dict[str, Budget] = {
    "parent_busy": Budget(attempts=12, base_s=2.0, cap_s=30.0),
    "replication": Budget(attempts=14, base_s=5.0, cap_s=30.0),    # about five minutes, never thirty
    "throttled": Budget(attempts=5, base_s=10.0, cap_s=60.0),
    "transient": Budget(attempts=4, base_s=5.0, cap_s=60.0),
}


class RetryBudget:
    """Attempts left per class for one resource operation; says what happens next."""

    def __init__(self, time_scale: float = 1.0, rng: random.Random | None = None,
                 budgets: dict[str, Budget] | None = None):
        self.time_scale = time_scale
        self.rng = rng or random.Random()
        self.budgets = budgets or BUDGETS
        self.used: dict[str, int] = {}

    def next_delay(self, cls: str) -> float | None:
        """Seconds to wait before the next attempt, or None when the class is not retryable or spent."""
        budget = self.budgets.get(cls)
        if budget is None:
            return None
        n = self.used.get(cls, 0) + 1
        if n >= budget.attempts:
            return None
        self.used[cls] = n
        delay = min(budget.cap_s, budget.base_s * (2 ** (n - 1))) * (0.75 + 0.5 * self.rng.random())
        return max(delay * self.time_scale, 0.01)

    def describe(self, cls: str, delay: float | None) -> str:
        budget = self.budgets.get(cls)
        if delay is None:
            if budget is None:
                return "not retryable: stopping"
            return f"stopping: would exceed {budget.attempts} attempts"
        return f"will retry in {delay:.1f} s (attempt {self.used[cls] + 1} of {budget.attempts})"
