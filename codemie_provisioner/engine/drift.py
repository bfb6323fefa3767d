"""Drift: live Azure against the last applied snapshot, on the fields the spec manages. Never writes.

Why: the peers either re-PUT blindly (ASO) or compare whole bodies and drown users in server defaults
(what-if). Here the snapshot holds exactly the managed fields as applied, so drift is that record compared with
a fresh GET, through the same normalising diff the plan uses; a missing resource is reported as such.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .diff import compare
from .gateway import Gateway
from .kinds import KINDS


@dataclass
class DriftItem:
    address: str
    kind: str
    id: str
    status: str                      # changed | missing
    fields: list[dict] = field(default_factory=list)


def check_one(gw: Gateway, address: str, record: dict) -> DriftItem | None:
    k = KINDS[record["kind"]]
    observed = gw.observe(k, record["id"])
    if observed is None:
        return DriftItem(address, k.name, record["id"], "missing")
    changes = compare(record.get("managed", {}), observed, k)
    if not changes:
        return None
    return DriftItem(address, k.name, record["id"], "changed", [c.to_dict() for c in changes])


def find_drift(gw: Gateway, snapshot: dict | None, targets: list[str] | None, parallelism: int) -> list[DriftItem]:
    records = (snapshot or {}).get("resources", {})
    wanted = [a for a in records if records[a].get("status") == "applied" and (not targets or a in targets)]
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        found = pool.map(lambda a: check_one(gw, a, records[a]), wanted)
        return [d for d in found if d is not None]
