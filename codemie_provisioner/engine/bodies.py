"""Bodies: what of a desired body can be compared, stored, sent, or shown.

Why: secrets, values known only after apply, and write-only fields each remove something from a body, and the
engine asks for each view in several places (plan, apply, state records, outputs). Keeping these small pure
functions together keeps the rules in one place.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..spec.markers import SecretRef, is_known, iter_markers
from .diff import dotted, drop_path
from .kinds import Kind
from .resolve import Resolved, Resolver


def observed_from_record(rec: dict) -> dict:
    """What the snapshot knows of a resource's body: its managed fields plus the outputs kept."""
    body = copy.deepcopy(rec.get("managed", {}))
    for path, value in rec.get("outputs", {}).items():
        cur = body
        parts = path.split(".")
        for part in parts[:-1]:
            cur = cur.setdefault(part, {})
        cur[parts[-1]] = value
    body.setdefault("id", rec["id"])
    return body


def without_secrets(resolver: Resolver, spec: Any) -> Resolved:
    """The resolved body with secret fields left as markers (nothing is generated)."""
    saved, resolver.secret_value = resolver.secret_value, None
    try:
        return resolver.body(spec)
    finally:
        resolver.secret_value = saved


def known(resolved: Resolved) -> dict:
    """The desired body without unknown values and secret fields (what can be compared and stored)."""
    return drop(resolved.body, list(resolved.unknown) + list(resolved.secret_paths))


def unsent_on_update(k: Kind, secret_paths: list[tuple]) -> list:
    """What an update leaves out: every secret-fed field, and the whole immutable block around one (a VM's
    osProfile): Azure keeps that block as created, and a copy without its secret would read as a change."""
    out: list = []
    for path in secret_paths:
        block = next((imm for imm in k.immutable if dotted(path).startswith(imm + ".")), None)
        out.append(block or path)
    return out


def drop(body: dict, paths: list) -> dict:
    clean = copy.deepcopy(body)
    for path in paths:
        drop_path(clean, path)
    return strip_unknown(clean)


def strip_unknown(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_unknown(v) for k, v in value.items() if is_known(v)}
    return value


def plain(value: Any) -> Any:
    """JSON-safe copy (for state)."""
    return json.loads(json.dumps(value, default=str))


def phase(spec: Any) -> str:
    return getattr(spec, "phase", "") or ""


def secret_markers(value: Any) -> list[SecretRef]:
    return [m for m in iter_markers(value) if isinstance(m, SecretRef)]


def secret_name(marker: Any) -> str:
    return getattr(marker, "name", str(marker))
