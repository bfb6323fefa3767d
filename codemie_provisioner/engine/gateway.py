"""The gateway: the only module that calls the Azure SDK.

Why: one narrow door to Azure makes retries, clients and credentials one concern. The typed azure-mgmt
clients named in the kinds table are called with raw JSON bodies (bytes) and answer raw JSON (through `cls=`),
so the engine speaks ARM's REST shape end to end and never loses a field to a model class. Clients are built
once per (client, subscription) with our `TransportRetryPolicy`, pointed at Azure or at the sandbox.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from .ids import call_args
from .kinds import CLIENTS, Kind
from .retry import ThrottleGate, TransportRetryPolicy

TERMINAL = {"succeeded", "failed", "canceled", "cancelled"}


def raw_json(pipeline_response, *_args) -> Any:
    """`cls=` callback: the answer's JSON exactly as Azure sent it."""
    response = pipeline_response.http_response
    text = response.text()
    return json.loads(text) if text else {}


@dataclass
class Target:
    """Where the engine works: a subscription, a credential and (for the sandbox) an endpoint and CA."""

    subscription_id: str
    credential: Any
    base_url: str | None = None
    connection_verify: str | bool | None = None
    tenant_id: str | None = None
    time_scale: float = 1.0
    transport_retries: int = 10
    sandbox: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    gate: ThrottleGate = field(default_factory=ThrottleGate)

    def client_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"retry_policy": TransportRetryPolicy(
            retry_total=self.transport_retries, retry_status=self.transport_retries,
            retry_backoff_factor=0.8 * max(self.time_scale, 0.01), retry_backoff_max=60),
            "per_retry_policies": [self.gate.policy()]}
        if self.base_url:
            kw["base_url"] = self.base_url
            kw["credential_scopes"] = [self.base_url.rstrip("/") + "/.default"]
        if self.connection_verify is not None:
            kw["connection_verify"] = self.connection_verify
        return kw


def azure_target(subscription_id: str, tenant_id: str | None = None) -> Target:
    """Real Azure through DefaultAzureCredential (environment, managed identity, Azure CLI, ...).

    The tenant (Key Vault needs it) comes from the argument, AZURE_TENANT_ID, or the caller's own token."""
    import os

    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential()
    tenant = tenant_id or os.environ.get("AZURE_TENANT_ID") or tenant_of_token(
        credential.get_token("https://management.azure.com/.default").token)
    return Target(subscription_id=subscription_id, credential=credential, tenant_id=tenant)


def tenant_of_token(token: str) -> str | None:
    """The `tid` claim of an Entra ID access token (read, not verified: it only names our own tenant)."""
    import base64

    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    return claims.get("tid")


def subscription_of(resource_id: str) -> str | None:
    parts = resource_id.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else None


class Gateway:
    """Observe, put and delete resources by id through the typed SDK clients."""

    def __init__(self, target: Target):
        self.target = target
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, key: str, subscription_id: str | None = None) -> Any:
        sub = subscription_id or self.target.subscription_id
        with self._lock:
            if (key, sub) not in self._clients:
                module, cls_name = CLIENTS[key]
                cls = getattr(importlib.import_module(module), cls_name)
                self._clients[(key, sub)] = cls(self.target.credential, sub, **self.target.client_kwargs())
            return self._clients[(key, sub)]

    def operations(self, k: Kind, resource_id: str) -> Any:
        return getattr(self.client(k.client, subscription_of(resource_id)), k.group)

    def observe(self, k: Kind, resource_id: str) -> dict | None:
        """The resource's ARM body, or None when it (or its container) does not exist."""
        ops = self.operations(k, resource_id)
        try:
            return getattr(ops, k.get)(*call_args(k, resource_id), cls=raw_json)
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            if exc.status_code == 404:
                return None
            raise

    def put(self, k: Kind, resource_id: str, body: dict, *, exists: bool) -> dict:
        """Create or update; waits for a long-running operation to finish. Returns the final body."""
        method = k.update if (exists and k.update) else k.create
        ops = self.operations(k, resource_id)
        payload = json.dumps(body).encode()
        result = getattr(ops, method)(*call_args(k, resource_id), payload, cls=raw_json,
                                      content_type="application/json")
        if method.startswith("begin_"):
            result = result.result()
        return result if isinstance(result, dict) and result else (self.observe(k, resource_id) or {})

    def delete(self, k: Kind, resource_id: str) -> None:
        """Delete and wait; a resource that is already gone is a success."""
        if not k.delete:
            return
        ops = self.operations(k, resource_id)
        try:
            result = getattr(ops, k.delete)(*call_args(k, resource_id))
            if k.delete.startswith("begin_"):
                result.result()
        except ResourceNotFoundError:
            return
        except HttpResponseError as exc:
            if exc.status_code not in (404, 204):
                raise

    def wait_settled(self, k: Kind, resource_id: str, timeout_s: float = 3600.0) -> dict | None:
        """Observe until the provisioning state is terminal (a resource left mid-operation by a crash)."""
        deadline = time.monotonic() + timeout_s
        delay = max(0.05, 2.0 * self.target.time_scale)
        while True:
            body = self.observe(k, resource_id)
            state = str((body or {}).get("properties", {}).get("provisioningState", "Succeeded")).lower()
            if body is None or state in TERMINAL or time.monotonic() > deadline:
                return body
            time.sleep(delay)
            delay = min(delay * 2, 30.0 * max(self.target.time_scale, 0.01))
