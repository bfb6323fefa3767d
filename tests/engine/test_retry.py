"""One table decides each failure's class; budgets are bounded and say what happens next."""

import random

import pytest

from codemie_provisioner.engine.retry import AzureFailure, RetryBudget, classify


@pytest.mark.parametrize(("status", "code", "in_lro", "expected"), [
    (409, "AnotherOperationInProgress", False, "parent_busy"),
    (409, "OperationNotAllowed", False, "parent_busy"),
    (409, "RequestConflict", False, "parent_busy"),
    (409, "ServerIsBusy", False, "parent_busy"),
    (409, "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity", False, "parent_busy"),
    (200, "AnotherOperationInProgress", True, "parent_busy"),
    (400, "PrincipalNotFound", False, "replication"),
    (403, "ForbiddenByRbac", False, "replication"),
    (200, "InternalServerError", True, "transient"),
    (200, "GatewayTimeout", True, "transient"),
    (429, "SubscriptionRequestsThrottled", False, "permanent"),   # the transport policy owned it
    (503, "ServiceUnavailable", False, "permanent"),
    (429, "RetryableError", False, "permanent"),
    (403, "AuthorizationFailed", False, "permanent"),
    (409, "QuotaExceeded", False, "permanent"),
    (400, "InvalidParameter", False, "permanent"),
    (400, "SomethingNew", False, "permanent"),                    # unknown 400: permanent
    (409, "SomethingNew", False, "transient"),                    # unknown other: retryable
])
def test_classification(status, code, in_lro, expected):
    assert classify(AzureFailure(status, code, "m", in_lro)) == expected


def test_budget_is_bounded_and_scaled():
    budget = RetryBudget(time_scale=0.5, rng=random.Random(1))
    delays = []
    while (d := budget.next_delay("parent_busy")) is not None:
        delays.append(d)
    assert len(delays) == 11
    assert all(0.01 <= d <= 30 * 1.25 * 0.5 for d in delays)
    assert budget.describe("parent_busy", None) == "stopping: would exceed 12 attempts"
    assert budget.next_delay("permanent") is None


def test_describe_says_next_step():
    budget = RetryBudget(time_scale=1.0, rng=random.Random(2))
    delay = budget.next_delay("replication")
    assert budget.describe("replication", delay).startswith(f"will retry in {delay:.1f} s (attempt 2 of")
