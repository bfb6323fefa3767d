"""Spec functions for Azure OpenAI layouts (`cognitive_regions`, as deployment.conf shapes it).

Why: the reference setting is a map of regions, each with an account count and a model list whose capacity is
split across the region's accounts. Expressing that flattening as two pure functions keeps the spec declarative
(`for_each: ${openai_accounts(var.cognitive_regions, "airun-codemie")}`) and the arithmetic testable.
Capacity rounding (the docs leave it open): each account gets `capacity // count`, and the remainder goes one
unit at a time to the first accounts, so the region's total is exactly the requested capacity.
"""

from __future__ import annotations

from typing import Any

MODEL_FIELDS = ("format", "name", "model_name", "version", "capacity", "type")


class OpenAIError(ValueError):
    pass


def _regions(regions: Any) -> dict[str, dict]:
    if not isinstance(regions, dict):
        raise OpenAIError(f"cognitive_regions must be a map of region -> settings, got {type(regions).__name__}")
    for region, cfg in regions.items():
        if not isinstance(cfg, dict) or not isinstance(cfg.get("count", 1), int) or cfg.get("count", 1) < 1:
            raise OpenAIError(f"cognitive_regions.{region}: needs a positive integer 'count'")
        for i, model in enumerate(cfg.get("available_models", [])):
            missing = [f for f in MODEL_FIELDS if f not in model]
            if missing:
                raise OpenAIError(f"cognitive_regions.{region}.available_models[{i}]: missing {', '.join(missing)}")
    return regions


def openai_accounts(regions: Any, prefix: Any) -> dict[str, dict]:
    """region x count -> {"<region>-<n>": {region, index, name, custom_subdomain}} (n from 1)."""
    out = {}
    for region, cfg in _regions(regions).items():
        for n in range(1, cfg.get("count", 1) + 1):
            name = f"{prefix}-openai-{region}-{n}"
            out[f"{region}-{n}"] = {"region": region, "index": n, "name": name,
                                    "custom_subdomain": name if cfg.get("custom_domain_name", True) else None}
    return out


def split_capacity(total: int, count: int, index: int) -> int:
    """The share of account `index` (1-based) when `total` is split over `count` accounts."""
    base, extra = divmod(int(total), count)
    return base + (1 if index <= extra else 0)


def openai_deployments(regions: Any, prefix: Any) -> dict[str, dict]:
    """One deployment per model per account: {"<region>-<n>/<name>": {account, model fields, capacity}}."""
    out = {}
    for key, acct in openai_accounts(regions, prefix).items():
        cfg = regions[acct["region"]]
        for model in cfg.get("available_models", []):
            capacity = split_capacity(model["capacity"], cfg.get("count", 1), acct["index"])
            out[f"{key}/{model['name']}"] = {"account": key, "name": model["name"], "format": model["format"],
                                             "model_name": model["model_name"], "version": str(model["version"]),
                                             "sku": model["type"], "capacity": capacity}
    return out


def network_acls(acls: Any) -> dict:
    """deployment.conf's {"default_action", "ip_rules"} -> ARM's {"defaultAction", "ipRules": [{"value"}]}."""
    if not isinstance(acls, dict) or acls.get("default_action", "Deny") not in ("Allow", "Deny"):
        raise OpenAIError("network ACLs need default_action Allow or Deny and an ip_rules list")
    rules = acls.get("ip_rules", [])
    if not isinstance(rules, list):
        raise OpenAIError("ip_rules must be a list of addresses or CIDRs")
    return {"defaultAction": acls.get("default_action", "Deny"), "ipRules": [{"value": r} for r in rules]}


def enabled(flag: Any) -> str:
    """true -> "Enabled", false -> "Disabled" (ARM's spelling of switches)."""
    if not isinstance(flag, bool):
        raise OpenAIError(f"enabled() needs true or false, got {flag!r}")
    return "Enabled" if flag else "Disabled"
