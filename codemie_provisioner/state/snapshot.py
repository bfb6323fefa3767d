"""The snapshot document: everything one deployment knows about itself at one serial.

Why a small dataclass and not a schema: the store is content-agnostic (it never looks inside `resources`),
it only needs the envelope (serial, lineage, who, why) to order, guard and summarise snapshots. Secrets never
reach this document: the engine stores `{"secretRef": ...}` values only.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tool_version() -> str:
    try:
        return metadata.version("codemie-provisioner")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass
class Snapshot:
    """One immutable state snapshot; the store stamps serial, lineage, created_at and created_by."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    pending: list[Any] = field(default_factory=list)
    spec_hash: str = ""
    reason: str = ""
    serial: int = 0
    lineage: str = ""
    tool_version: str = ""
    created_at: str = ""
    created_by: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        """Build from a plain dict; keys this version does not know are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Snapshot:
        return cls.from_dict(json.loads(text))

    def author(self) -> str:
        by = self.created_by
        if not by:
            return "unknown"
        return f"{by.get('user', '?')}@{by.get('host', '?')} (pid {by.get('pid', '?')}, {by.get('operation', '?')})"

    def summary(self) -> SnapshotSummary:
        return SnapshotSummary(self.serial, self.created_at, self.author(), self.reason, len(self.resources))


@dataclass(frozen=True)
class SnapshotSummary:
    """One line of `history()`: enough to choose a serial to inspect or roll back to."""

    serial: int
    created_at: str
    created_by: str
    reason: str
    resources: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SnapshotSummary:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths where two JSON values differ; lists of equal length are compared item by item."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key in before and key in after:
                paths += changed_paths(before[key], after[key], path)
            else:
                paths.append(path)
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [p for i, (b, a) in enumerate(zip(before, after, strict=True)) for p in changed_paths(b, a, f"{prefix}[{i}]")]
    return [] if before == after else [prefix or "."]


def _diff_maps(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    common = sorted(set(before) & set(after))
    changed = {key: changed_paths(before[key], after[key]) for key in common}
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": {key: paths for key, paths in changed.items() if paths},
    }


def diff_snapshots(a: Snapshot, b: Snapshot) -> dict[str, Any]:
    """What changed from snapshot `a` to snapshot `b` (resources by address, outputs by name)."""
    outputs = _diff_maps(a.outputs, b.outputs)
    outputs["changed"] = sorted(outputs["changed"])
    return {
        "from": a.serial,
        "to": b.serial,
        "resources": _diff_maps(a.resources, b.resources),
        "outputs": outputs,
    }
