"""Pure diff: what the spec manages versus what Azure (or the last snapshot) holds.

Why: the peers' worst noise comes from comparing whole ARM bodies, so server defaults and read-only fields look
like changes (peer-lessons §3). Here the *desired* body decides what is compared: only the leaf paths the spec
sets are managed; Azure's extra fields never matter. Values are normalised first (ARM ids and regions compare
case-insensitively, region spellings fold "West Europe" into "westeurope", lists Azure keeps unordered are
matched by key), kind-level ignore rules drop fields Azure changes by itself (AKS version under an upgrade
channel, node count under the autoscaler), and write-only fields (passwords) are never compared or stored.
No I/O here: unit tests need no Azure.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from .kinds import Kind

MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        before = None if self.before is MISSING else self.before
        return {"path": self.path, "before": before, "after": self.after}


@dataclass
class Change:
    action: str                                  # noop | create | update | replace | delete
    fields: list[FieldChange] = field(default_factory=list)
    reason: str = ""


def get_path(body: Any, path: str | tuple) -> Any:
    """The value at a dotted path (or a tuple of keys, for keys that contain dots)."""
    cur = body
    for part in (path.split(".") if isinstance(path, str) else path):
        if not isinstance(cur, dict):
            return MISSING
        cur = _get_ci(cur, part)
        if cur is MISSING:
            return MISSING
    return cur


def _get_ci(d: dict, key: str) -> Any:
    if key in d:
        return d[key]
    lowered = key.lower()
    for k, v in d.items():
        if k.lower() == lowered:
            return v
    return MISSING


def drop_path(body: dict, path: str | tuple) -> None:
    parts = path.split(".") if isinstance(path, str) else list(path)
    cur: Any = body
    for part in parts[:-1]:
        cur = cur.get(part) if isinstance(cur, dict) else None
        if cur is None:
            return
    if isinstance(cur, dict):
        cur.pop(parts[-1], None)


def strip_write_only(body: dict, k: Kind) -> dict:
    """The body without write-only fields: what state and plans may hold."""
    clean = copy.deepcopy(body)
    for path in k.write_only:
        drop_path(clean, path)
    return clean


def norm_scalar(value: Any, key: str = "", path: str = "") -> Any:
    """ARM compares ids, regions and enum values case-insensitively; tags keep their case."""
    if not isinstance(value, str):
        return value
    if value.startswith("/subscriptions/") or key.lower() in ("location", "id"):
        return value.replace(" ", "").lower().rstrip("/")
    if path.startswith("tags."):
        return value
    return value.lower()


def _sort_key(item: Any, key: str | None) -> str:
    if key and isinstance(item, dict):
        return str(norm_scalar(_get_ci(item, key), key))
    return json.dumps(norm_scalar(item), sort_keys=True, default=str)


def matches(desired: Any, observed: Any, path: str, k: Kind) -> bool:
    """Does `observed` satisfy `desired`? Dicts: every desired key matches (extra observed keys are fine)."""
    if isinstance(desired, dict):
        if not isinstance(observed, dict):
            return False
        return all(matches(v, _get_ci(observed, key), f"{path}.{key}" if path else key, k)
                   for key, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(observed, list) or len(desired) != len(observed):
            return False
        if path in k.unordered:
            key = k.unordered[path]
            desired = sorted(desired, key=lambda x: _sort_key(x, key))
            observed = sorted(observed, key=lambda x: _sort_key(x, key))
        return all(matches(d, o, path, k) for d, o in zip(desired, observed, strict=True))
    if observed is MISSING:
        return desired is None
    leaf = path.rsplit(".", 1)[-1]
    return norm_scalar(desired, leaf, path) == norm_scalar(observed, leaf, path)


def managed_leaves(body: Any, prefix: tuple = ()) -> list[tuple]:
    """Leaf paths (tuples of keys) the desired body sets; lists are leaves (compared whole)."""
    if isinstance(body, dict) and body:
        out: list[tuple] = []
        for key, value in body.items():
            out += managed_leaves(value, (*prefix, key))
        return out
    return [prefix] if prefix else []


def dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def ignored_paths(k: Kind, desired: dict) -> set[str]:
    paths = {p for p, cond in k.ignore if cond is None or cond(desired)}
    return paths | set(k.write_only)


def _under(path: str, prefixes: set[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def compare(desired: dict, observed: dict, k: Kind) -> list[FieldChange]:
    """Field changes needed to make `observed` match `desired` on the managed paths."""
    skip = ignored_paths(k, desired)
    changes = []
    for path in managed_leaves(desired):
        text = dotted(path)
        if _under(text, skip):
            continue
        want, have = get_path(desired, path), get_path(observed, path)
        if not matches(want, have, text, k):
            changes.append(FieldChange(text, have, want))
    return changes


def decide(desired: dict | None, observed: dict | None, k: Kind) -> Change:
    """The action for one resource. desired None = not in the spec any more."""
    if desired is None:
        return Change("delete", reason="not in the spec") if observed is not None else Change("noop")
    if observed is None:
        return Change("create", reason="does not exist")
    changes = compare(desired, observed, k)
    if not changes:
        return Change("noop", reason="matches the spec on every managed field")
    if any(_under(c.path, set(k.immutable)) for c in changes):
        return Change("replace", changes, reason="an immutable field changed")
    return Change("update", changes)
