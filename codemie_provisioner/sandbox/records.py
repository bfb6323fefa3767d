"""Resource records: how a resource body is stored, stamped and removed.

Why: the protocol code (arm.py) and the operation clock (lro.py) both create, finish and delete resources; one
module owns what a stored record looks like so the two can never disagree.
"""

from __future__ import annotations

from . import ids
from .model import lookup

SERVER_FIELDS = ("id", "name", "type", "etag", "systemData")


def make_record(ctx, target: ids.Target, body: dict, visible: bool, old: dict | None = None) -> dict:
    group = target.group
    return {"key": target.key, "id": old["id"] if old else target.path, "type": body.get("type", target.type_name),
            "parent": target.parent.lower(), "group": (group or "").lower(), "body": body,
            "created": old["created"] if old else ctx.now, "visible": visible}


def stamp(ctx, rt, rid: str, type_name: str, content: dict, state: str) -> dict:
    """The body GET returns: server identity fields first, a fresh weak ETag, and the provisioning state."""
    body = {"id": rid, "name": rid.rsplit("/", 1)[-1], "type": type_name}
    body.update({k: v for k, v in content.items() if k not in SERVER_FIELDS})
    if rt is None or rt.etag:
        body["etag"] = f'W/"{ctx.new_guid()}"'
    if ctx.setting("system_data"):
        body["systemData"] = system_data(ctx, rid)
    return with_state(body, state)


def system_data(ctx, rid: str) -> dict:
    """ARM's `systemData` (profile setting `system_data`; off by default since few RPs send it)."""
    from .lro import iso

    created = ctx.created_at(rid)
    who = {"By": "sandbox", "ByType": "Application"}
    return {**{f"created{k}": v for k, v in who.items()}, "createdAt": iso(created if created else ctx.now),
            **{f"lastModified{k}": v for k, v in who.items()}, "lastModifiedAt": iso(ctx.now)}


def with_state(body: dict, state: str) -> dict:
    props = body.get("properties")
    props = dict(props) if isinstance(props, dict) else {}
    props["provisioningState"] = state
    return {**body, "properties": props}


def state_of(body: dict) -> str | None:
    props = body.get("properties")
    return props.get("provisioningState") if isinstance(props, dict) else None


def remove(ctx, rec: dict, hooks: bool = True) -> None:
    """Delete a resource and everything under it (children, extension resources), deepest first; each
    removed resource gets its type's `after_delete` hook (soft-delete bins)."""
    for victim in [*ctx.store.under(rec["key"]), rec]:
        ctx.store.delete(victim["key"])
        rt = lookup(victim["type"])
        if hooks and rt is not None and rt.after_delete is not None and victim.get("visible", True):
            rt.after_delete(ctx, victim["id"], victim["body"])
