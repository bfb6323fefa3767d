"""What one request sees of the cloud: the request itself and the `model.Ctx` that hooks and routes receive.

Why: hooks must stay ignorant of storage and HTTP; they get this narrow view (lookups that return GET-shaped
bodies, rules, settings, the clock, soft-delete bins that are written back when the request succeeds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import ids, records
from .model import lookup
from .rules import in_progress

if TYPE_CHECKING:
    from .core import Cloud


class Answer:
    """An HTTP answer: status, JSON body (or None) and extra headers."""

    def __init__(self, status: int, body=None, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, dict(headers or {})


@dataclass
class Request:
    method: str
    path: str
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)      # lower-case names
    raw: bytes = b""


class RequestCtx:
    """What hooks and routes see of the cloud while one request is served (implements `model.Ctx`)."""

    def __init__(self, cloud: Cloud, req: Request):
        self.cloud, self.store, self.profile = cloud, cloud.store, cloud.profile
        self.method, self.path, self.query, self.headers = req.method, ids.clean(req.path), req.query, req.headers
        self.subscription_id, self.tenant_id, self.base_url = cloud.subscription_id, cloud.tenant_id, cloud.base_url
        self.target = ids.parse(self.path)
        self.fault: dict | None = None
        self.request_class = "reads"
        self.remaining: int | None = None
        self._bins: dict[str, tuple[str, dict]] = {}
        self.duration_key: str | None = None

    @property
    def now(self) -> float:
        return self.cloud.now()

    def get(self, resource_id: str) -> dict | None:
        rec = self.store.get(ids.clean(resource_id))
        return rec["body"] if rec else None

    def children(self, parent_id: str, type_name: str | None = None) -> list[dict]:
        return [r["body"] for r in self.store.children(ids.clean(parent_id))
                if r["visible"] and (type_name is None or r["type"].lower() == type_name.lower())]

    def find(self, type_name: str) -> list[dict]:
        return [r["body"] for r in self.store.of_type(type_name) if r["visible"]]

    def rule(self, name: str) -> bool:
        return self.profile.rule(name)

    def put_internal(self, resource_id: str, body: dict) -> None:
        target = ids.parse(resource_id)
        if target is None or target.collection:
            raise ValueError(f"not a resource id: {resource_id}")
        rt, old = lookup(target.type_name), self.store.get(target.key)
        rid = old["id"] if old else target.path
        full = records.stamp(self, rt, rid, rt.type if rt else target.type_name, body,
                             records.state_of(body) or "Succeeded")
        self.store.put(records.make_record(self, target, full, True, old))

    def delete_internal(self, resource_id: str) -> None:
        rec = self.store.get(ids.clean(resource_id))
        if rec is not None:
            records.remove(self, rec, hooks=False)

    def soft_deleted(self, kind: str) -> dict[str, dict]:
        if kind not in self._bins:
            stored = self.store.meta(f"bin:{kind}", {})
            self._bins[kind] = (json.dumps(stored, sort_keys=True), stored)
        return self._bins[kind][1]

    def flush_bins(self) -> None:
        for kind, (before, current) in self._bins.items():
            if json.dumps(current, sort_keys=True) != before:
                self.store.set_meta(f"bin:{kind}", current)
        self._bins.clear()

    def new_guid(self) -> str:
        return self.cloud.new_guid()

    def created_at(self, resource_id: str) -> float | None:
        rec = self.store.get(ids.clean(resource_id))
        return rec["created"] if rec else None

    def setting(self, name: str, default=None):
        return self.profile.setting(name, default)

    def scaled(self, seconds: float) -> float:
        return self.profile.scaled(seconds)

    def use_duration(self, key: str) -> None:
        self.duration_key = key

    def in_progress(self, resource_id: str) -> bool:
        return in_progress(ids.clean(resource_id), self.store.pending_ops())
