"""Sandbox profiles: how fast, how strict and how hostile the local cloud is.

Why: one emulator serves unit-speed tests (`instant`: every operation completes on the first poll), realistic
rehearsals (`realistic`: Azure's create durations, optionally shrunk by `time_scale`) and chaos runs (faults,
transient errors from a seeded generator so a failing run replays). A profile is plain data so it can live in a
JSON/YAML file, travel over the admin API, and be swapped on a running sandbox.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Realistic create durations in seconds (azure-behaviours.md §14), keyed by ResourceType.duration.
REALISTIC_DURATIONS: dict[str, float] = {
    "resource_group": 1, "vnet": 5, "subnet": 7, "nsg": 4, "public_ip": 2, "nat_gateway": 15, "peering": 20,
    "bastion_basic": 600, "bastion_standard": 1800, "dns_zone": 35, "dns_link": 50, "dns_record": 2,
    "private_endpoint": 60, "storage_account": 25, "key_vault": 15, "acr": 40, "log_analytics": 25,
    "identity": 2, "role_assignment": 1, "aks": 600, "agent_pool": 270, "postgres": 480,
    "postgres_database": 20, "nic": 5, "disk": 5, "vm": 50, "cognitive_account": 45,
    "cognitive_deployment": 90, "route_table": 4,
}

RULES = ("parent_locks", "throttling", "validation", "soft_delete", "principal_window", "role_assignment_unique")

# ARM token buckets (azure-behaviours.md §6): class -> (bucket size, refill per second).
THROTTLING: dict[str, tuple[float, float]] = {"reads": (250, 25), "writes": (200, 10), "deletes": (200, 10)}

# Real resource providers answer Retry-After 1, then 3, then 10 seconds.
POLL_CADENCE = (1.0, 3.0, 10.0)
MIN_POLL_S = 0.01


@dataclass
class Profile:
    """Everything that tunes the sandbox. `time_scale` multiplies every realistic duration (0 = instant)."""

    name: str = "instant"
    time_scale: float = 0.0
    durations: dict[str, float] = field(default_factory=lambda: dict(REALISTIC_DURATIONS))
    rules: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(RULES, True))
    throttling: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(THROTTLING))
    faults: list[dict] = field(default_factory=list)
    transient_rate: float = 0.0
    seed: int = 0
    page_size: int = 50
    principal_window_s: float = 60.0
    poll_cadence: tuple[float, ...] = POLL_CADENCE
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def named(cls, name: str, **overrides: Any) -> Profile:
        """`instant` (durations 0) or `realistic` (time_scale 1 unless overridden)."""
        if name not in ("instant", "realistic"):
            raise ValueError(f"unknown sandbox profile {name!r} (instant, realistic, or a file path)")
        base = {"name": name, "time_scale": 0.0 if name == "instant" else 1.0}
        return cls.from_dict({**base, **overrides})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        """A profile from plain data; `base: instant|realistic` starts from a named one. Dicts merge."""
        data = dict(data)
        base = data.pop("base", None)
        prof = cls.named(base) if base else cls()
        return prof.updated(data)

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        """Read a JSON or YAML profile file."""
        text = Path(path).read_text()
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
        data.setdefault("name", Path(path).stem)
        return cls.from_dict(data)

    @classmethod
    def resolve(cls, spec: Profile | str | dict | None) -> Profile:
        """Profile, a named profile, a file path, or a dict."""
        if isinstance(spec, Profile):
            return spec
        if isinstance(spec, dict):
            return cls.from_dict(spec)
        if spec in (None, "instant", "realistic"):
            return cls.named(spec or "instant")
        return cls.load(spec)

    def updated(self, changes: dict[str, Any]) -> Profile:
        """A copy with `changes` applied; dict-valued fields (rules, durations, settings, ...) are merged."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown profile fields: {sorted(unknown)}")
        out = dataclasses.replace(self)
        for key, value in changes.items():
            current = getattr(self, key)
            if isinstance(current, dict) and isinstance(value, dict):
                value = {**current, **value}
            if key == "throttling":
                value = {k: tuple(v) for k, v in value.items()}
            if key == "poll_cadence":
                value = tuple(value)
            setattr(out, key, value)
        return out

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def rule(self, name: str) -> bool:
        return bool(self.rules.get(name, True))

    def scaled(self, seconds: float) -> float:
        return float(seconds) * self.time_scale

    def duration(self, key: str | None) -> float:
        """Sandbox seconds an operation of this duration class takes."""
        return self.scaled(self.durations.get(key, 0.0)) if key else 0.0

    def poll_delay(self, polls: int, remaining: float) -> float:
        """Seconds the client should wait before its next poll: the real cadence, scaled, never past the end
        of the operation by much, never below 10 ms."""
        cadence = self.scaled(self.poll_cadence[min(polls, len(self.poll_cadence) - 1)])
        return max(MIN_POLL_S, min(cadence, max(remaining, 0.0)))

    def setting(self, name: str, default: Any = None) -> Any:
        """A setting; names ending in `_s` are seconds and come back scaled."""
        value = self.settings.get(name, getattr(self, name, default))
        if name.endswith("_s") and isinstance(value, int | float):
            return self.scaled(value)
        return value
