"""The pure functions an expression may call, and the built-in role table behind `role()`.

Why: role assignment names must be stable GUIDs (a re-run must find the same assignment), subnet ranges are
easier to read as `cidrsubnet(vnet, 8, 2)`, and role definition ids are long GUIDs nobody should type. Each
function is pure, so the engine can run the same one later when its arguments were markers at load time.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Callable
from typing import Any

from .markers import ContextRef, Template

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "codemie-provisioner")

# Built-in Azure role definitions (names as Azure spells them -> role definition GUID).
ROLES: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Private DNS Zone Contributor": "b12aa53e-6015-4669-85d0-8515ebb3ae7f",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}
_ROLES_LOWER = {k.lower(): v for k, v in ROLES.items()}


class FunctionError(ValueError):
    """A function called with arguments it cannot use (message is one line)."""


def to_text(value: Any) -> str:
    """How a known value appears inside an interpolated string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise FunctionError(f"cannot put a {'map' if isinstance(value, dict) else 'list'} inside a string: "
                            f"{json.dumps(value)[:60]}")
    return str(value)


def _guid(*args: Any) -> str:
    return str(uuid.uuid5(_NAMESPACE, "\n".join(to_text(a) for a in args)))


def _lower(value: Any) -> str:
    return to_text(value).lower()


def _join(sep: Any, items: Any) -> str:
    if not isinstance(items, list):
        raise FunctionError(f"join() needs a list as its second argument, got {type(items).__name__}")
    return to_text(sep).join(to_text(i) for i in items)


def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    try:
        net = ipaddress.ip_network(to_text(prefix), strict=True)
    except ValueError as exc:
        raise FunctionError(f"cidrsubnet(): {exc}") from None
    if not isinstance(newbits, int) or not isinstance(netnum, int) or newbits < 0 or netnum < 0:
        raise FunctionError("cidrsubnet() needs non-negative integers for newbits and netnum")
    new_len = net.prefixlen + newbits
    if new_len > net.max_prefixlen:
        raise FunctionError(f"cidrsubnet(): {net} has no room for {newbits} more bits")
    if netnum >= 2 ** newbits:
        raise FunctionError(f"cidrsubnet(): netnum {netnum} does not fit in {newbits} bits")
    first = int(net.network_address) + netnum * 2 ** (net.max_prefixlen - new_len)
    return f"{ipaddress.ip_address(first) if net.version == 4 else ipaddress.IPv6Address(first)}/{new_len}"


def _role(name: Any, subscription: Any = "") -> Template:
    """A built-in role's definition id, in the target's subscription or (second argument) another one."""
    guid = _ROLES_LOWER.get(to_text(name).lower())
    if guid is None:
        raise FunctionError(f"role(): unknown built-in role '{name}' (known: {', '.join(sorted(ROLES))})")
    sub = to_text(subscription) or ContextRef("subscription_id")
    return Template(("/subscriptions/", sub, "/providers/Microsoft.Authorization/roleDefinitions/", guid))


# name -> (function, minimum args, maximum args or None)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "guid": (_guid, 1, None),
    "lower": (_lower, 1, 1),
    "join": (_join, 2, 2),
    "cidrsubnet": (_cidrsubnet, 3, 3),
    "role": (_role, 1, 2),
}


def _register_domain_functions() -> None:
    """Functions for the CodeMie layout live beside this table (openai.py) and join it here."""
    from . import openai

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except openai.OpenAIError as exc:
                raise FunctionError(f"{fn.__name__}(): {exc}") from None
        return call

    FUNCTIONS.update({"openai_accounts": (wrap(openai.openai_accounts), 2, 2),
                      "openai_deployments": (wrap(openai.openai_deployments), 2, 2),
                      "network_acls": (wrap(openai.network_acls), 1, 1),
                      "enabled": (wrap(openai.enabled), 1, 1)})


_register_domain_functions()


def check_arity(name: str, count: int) -> None:
    if name not in FUNCTIONS:
        raise FunctionError(f"unknown function '{name}' (known: {', '.join(sorted(FUNCTIONS))})")
    _, low, high = FUNCTIONS[name]
    if count < low or (high is not None and count > high):
        want = f"{low}" if low == high else f"at least {low}" if high is None else f"{low} to {high}"
        raise FunctionError(f"{name}() takes {want} argument{'s' if want != '1' else ''}, got {count}")


def call_function(name: str, args: list[Any]) -> Any:
    check_arity(name, len(args))
    return FUNCTIONS[name][0](*args)
