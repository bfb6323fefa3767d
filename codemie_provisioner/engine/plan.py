"""Plans: a serialisable list of changes, shown by `plan`, consumed by `apply`.

Why: a plan reviewed by a person must be the plan that runs. It records the state serial and lineage it was
made against and the spec's hash; `apply` refuses it when any of them moved. It never holds a secret value:
fields fed by generated secrets show as "(secret)".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ACTIONS = ("create", "update", "replace", "delete")


@dataclass
class PlannedChange:
    address: str
    kind: str
    id: str
    action: str                       # noop | create | update | replace | delete
    fields: list[dict] = field(default_factory=list)
    reason: str = ""
    phase: str = ""


@dataclass
class Plan:
    deployment: str
    lineage: str | None
    base_serial: int | None
    spec_hash: str
    changes: list[PlannedChange]
    destroy: bool = False
    targets: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(c.action in ACTIONS for c in self.changes)

    def counts(self) -> dict[str, int]:
        out = {a: 0 for a in ("noop", *ACTIONS)}
        for c in self.changes:
            out[c.action] = out.get(c.action, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"format": "codemie-plan/1", **asdict(self)}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, default=str))

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        if data.get("format") != "codemie-plan/1":
            raise ValueError("not a codemie-provisioner plan file")
        changes = [PlannedChange(**c) for c in data["changes"]]
        keep = {k: v for k, v in data.items() if k not in ("format", "changes")}
        return cls(changes=changes, **keep)

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        return cls.from_dict(json.loads(Path(path).read_text()))
